"""How pages name people and sessions: one label per clinician, told apart where names repeat.

A name alone is the label while no one else in the federation has it. People who share a name
(compared without case or extra spaces) get their practice's name after it; where the practice
does not tell them apart either, their ID as well. Exports keep IDs; pages use these labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, g

from scheduler.checker import describe_session
from scheduler.domain import Clinician, Problem


def init_app(app: Flask) -> None:
    """`{{ c|who(problem) }}` (a Clinician or an ID) and `{{ id|session_label(problem) }}`."""
    app.jinja_env.filters["who"] = _who
    app.jinja_env.filters["session_label"] = lambda sid, problem: session_label(problem, sid)
    app.jinja_env.filters["role"] = role_label
    app.jinja_env.filters["roles"] = roles_label
    app.jinja_env.filters["skill"] = skill_label


def _who(person: Clinician | str, problem: Problem | None) -> str:
    if problem is None:
        return person if isinstance(person, str) else person.name
    return people(problem)(person)


def name_key(name: str) -> str:
    """Names that read the same compare equal: 'Sam  Patel' and 'sam patel'."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class People:
    """The labels of one federation's clinicians, by clinician ID."""

    labels: dict[str, str]
    repeated: tuple[tuple[str, tuple[str, ...]], ...]  # (name, IDs) of names held by several

    def __call__(self, who: Clinician | str) -> str:
        clinician_id = who if isinstance(who, str) else who.clinician_id
        if clinician_id in self.labels:
            return self.labels[clinician_id]
        return who.name if isinstance(who, Clinician) else clinician_id


def people_of(
    clinicians: Iterable[Clinician], practice_name: Callable[[str], str] | None = None
) -> People:
    """Labels for `clinicians`; `practice_name(code)` gives a practice's name (default: code)."""
    practice_name = practice_name or (lambda code: code)
    groups: dict[str, list[Clinician]] = defaultdict(list)
    for c in clinicians:
        groups[name_key(c.name)].append(c)
    labels: dict[str, str] = {}
    repeated = []
    for members in groups.values():
        if len(members) == 1:
            labels[members[0].clinician_id] = members[0].name
            continue
        repeated.append((members[0].name, tuple(c.clinician_id for c in members)))
        places = [practice_name(c.practice_code) for c in members]
        by_place = len(set(places)) == len(places)
        for c, place in zip(members, places, strict=True):
            extra = place if by_place else f"{place}, {c.clinician_id}"
            labels[c.clinician_id] = f"{c.name} ({extra})"
    return People(labels, tuple(sorted(repeated)))


def people(problem: Problem) -> People:
    """The labels of `problem`'s clinicians, made once per request and Problem."""
    made: dict[int, tuple[Problem, People]] = g.setdefault("people_labels", {}) if g else {}
    found = made.get(id(problem))
    if found is not None and found[0] is problem:
        return found[1]
    labels = people_of(problem.clinicians, lambda code: _practice_name(problem, code))
    made[id(problem)] = (problem, labels)
    return labels


def _practice_name(problem: Problem, code: str) -> str:
    try:
        return problem.practice(code).name
    except KeyError:
        return code


def with_labels(text: str, problem: Problem) -> str:
    """`text` from the engine with clinician IDs as their labels and hub IDs as hub names, for
    lines the engine words with IDs ('pin C1042 → RMC Sat 6 Mar 09:00: ...')."""
    who = people(problem)
    names = {c.clinician_id: who(c.clinician_id) for c in problem.clinicians}
    names.update({h.hub_id: h.name for h in problem.hubs})
    if not names:
        return text
    pattern = re.compile(
        r"(?<![\w-])("
        + "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
        + r")(?![\w-])"
    )
    return pattern.sub(lambda m: names[m.group(1)], text)


def session_label(problem: Problem, session_id: str) -> str:
    """'Fri 5 Mar 18:30–20:00 at Kingsway Health Centre', or the ID of an unknown session."""
    try:
        return describe_session(problem, problem.session(session_id))
    except KeyError:
        return session_id


# The roles of DESIGN.md's clinicians.csv, as a person writes them; any case matches.
ROLES = (
    "GP",
    "ANP",
    "Practice Nurse",
    "HCA",
    "Clinical Pharmacist",
    "Physiotherapist",
    "Paramedic",
    "Receptionist",
)
_ROLE_BY_KEY = {name.casefold(): name for name in ROLES}


def role_label(role: str) -> str:
    """'gp' → 'GP', 'practice  nurse' → 'Practice Nurse'; another role with its first letter
    capitalised, as the input compares roles without case."""
    text = " ".join(role.split())
    known = _ROLE_BY_KEY.get(text.casefold())
    if known:
        return known
    return text[:1].upper() + text[1:] if text.islower() else text


def roles_label(roles_text: str) -> str:
    """A post's roles as written ('gp;anp') → 'GP / ANP'."""
    names = [role_label(r) for r in roles_text.split(";") if r.strip()]
    return " / ".join(names) if names else roles_text


def skill_label(skill: str | None) -> str:
    """'CHILDHOOD_IMMUNISATIONS' or 'childhood immunisations' → 'Childhood immunisations'."""
    text = " ".join((skill or "").replace("_", " ").split()).lower()
    return text[:1].upper() + text[1:]
