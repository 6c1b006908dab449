"""Inline SVG charts drawn on the server: no script, no build step, nothing fetched."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from markupsafe import Markup, escape

from scheduler.domain import Problem, Rota

FULL, PART, NONE, EMPTY = "#2e9e5b", "#f0b429", "#d5281b", "#eef2f4"
BLUE, GREY, INK, MUTED = "#005eb8", "#aeb7bd", "#212b32", "#4c6272"
BANK = "#fff1cc"


def svg_text(
    x: float,
    y: float,
    text: object,
    size: int = 12,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
) -> str:
    """One SVG <text> element, its text escaped."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(str(text))}</text>'
    )


def svg_chart(width: float, height: float, body: list[str], label: str) -> Markup:
    """The chart's SVG around the elements of `body`, labelled for screen readers."""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )


def _wrap(text: str, most: int) -> list[str]:
    """`text` over at most `most` lines of about 16 characters, breaking between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= 16:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[: most - 1] + [" ".join(lines[most - 1 :])]
    return lines or [text]


def _text_width(texts: list[str], size: int) -> int:
    """A generous width of the longest text in the app's sans-serif at `size` px."""
    return int(max((len(t) for t in texts), default=0) * size * 0.58) + 4


def coverage(problem: Problem, rota: Rota) -> dict[tuple[date, str], tuple[int, int]]:
    """(day, hub) → (required places filled, required places), counting each post up to min."""
    filled: dict[tuple[str, int], int] = defaultdict(int)
    for a in rota:
        filled[(a.session_id, a.post_index)] += 1
    out: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for s in problem.sessions:
        cell = out[(s.date, s.hub_id)]
        for i, post in enumerate(s.posts):
            cell[0] += min(filled.get((s.session_id, i), 0), post.min)
            cell[1] += post.min
    return {k: (v[0], v[1]) for k, v in out.items()}


def heatmap(problem: Problem, rota: Rota) -> Markup:
    """Days down, hubs across; each cell the required places filled out of those required."""
    cells = coverage(problem, rota)
    in_period = {
        d for d in problem.bank_holidays if problem.period_start <= d <= problem.period_end
    }
    days = sorted({d for d, _ in cells} | in_period)  # a bank holiday shows, sessions or not
    hubs = problem.hubs
    # Hub names whole, over up to three lines of the column head (a cut name hides which hub).
    heads = [_wrap(h.name, 3) for h in hubs]
    longest = max((len(line) for lines in heads for line in lines), default=0)
    cw = max(64, min(160, int(longest * 11 * 0.6) + 10))
    lines = max((len(h) for h in heads), default=1)
    labels = {
        day: f"{day:%a} {day.day} {day:%b}" + (" · bank hol." if day in in_period else "")
        for day in days
    }
    left, top, ch = 12 + _text_width(list(labels.values()), 11), 16 + 13 * lines, 20
    width = max(left + cw * len(hubs) + 8, left + 2 * 130)
    height = top + ch * len(days) + 48
    body = [
        svg_text(left + cw * i + cw / 2, 14 + 13 * j, line, 11, "middle", MUTED, "600")
        for i, head in enumerate(heads)
        for j, line in enumerate(head)
    ]
    for row, day in enumerate(days):
        y = top + row * ch
        weekend = day.weekday() >= 5
        bank = day in problem.bank_holidays
        if bank:
            body.append(
                f'<rect x="2" y="{y + 1}" width="{left - 6}" height="{ch - 2}" rx="3" '
                f'fill="{BANK}"><title>bank holiday</title></rect>'
            )
        body.append(
            svg_text(
                left - 8,
                y + 14,
                labels[day],
                11,
                "end",
                BLUE if weekend or bank else INK,
                "600" if weekend or bank else "normal",
            )
        )
        for col, hub in enumerate(hubs):
            x = left + col * cw
            found = cells.get((day, hub.hub_id))
            if found is None:
                colour, label, ink = EMPTY, "", MUTED
            else:
                got, need = found
                ratio = got / need if need else 1.0
                colour = FULL if ratio >= 1 else PART if ratio >= 0.5 else NONE
                label, ink = f"{got}/{need}", "#ffffff" if colour != PART else INK
            tip = f"{hub.name}, {day:%a %d %b}" + (" (bank holiday)" if bank else "")
            tip += ": " + (label or "no session")
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" '
                f'rx="3" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
            if label:
                body.append(svg_text(x + cw / 2, y + 14, label, 11, "middle", ink, "600"))
    for i, (colour, word) in enumerate(
        (
            (FULL, "all required filled"),
            (PART, "half or more"),
            (NONE, "under half"),
            (EMPTY, "no session"),
        )
    ):
        lx, ly = left + (i % 2) * 130, top + ch * len(days) + 18 + (i // 2) * 18
        body.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" rx="2" fill="{colour}"/>')
        body.append(svg_text(lx + 17, ly, word, 11, fill=MUTED))
    return svg_chart(width, height, body, "Coverage of required posts by day and hub")


def fair_share(rows: list[dict]) -> Markup:
    """Each practice: its share of the list size (grey) against its share of the minutes (blue)."""
    left, bar, gap, plot = max(190, 8 + _text_width([r["name"] for r in rows], 12)), 11, 12, 420
    top = 30
    height = top + len(rows) * (2 * bar + gap) + 10
    biggest = max(
        [r["share_of_list"] for r in rows] + [r["share_of_minutes"] for r in rows] + [0.01]
    )
    body = [
        f'<rect x="{left}" y="6" width="12" height="10" fill="{GREY}"/>',
        svg_text(left + 16, 15, "share of list size", 11, fill=MUTED),
        f'<rect x="{left + 140}" y="6" width="12" height="10" fill="{BLUE}"/>',
        svg_text(left + 156, 15, "share of hub minutes", 11, fill=MUTED),
    ]
    for i, r in enumerate(rows):
        y = top + i * (2 * bar + gap)
        body.append(svg_text(left - 8, y + bar + 4, r["name"], 12, "end"))
        for j, (value, colour) in enumerate(
            ((r["share_of_list"], GREY), (r["share_of_minutes"], BLUE))
        ):
            w = plot * value / biggest
            body.append(
                f'<rect x="{left}" y="{y + j * bar}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{colour}"><title>{escape(r["name"])}: {value:.1%}</title></rect>'
            )
            body.append(
                svg_text(left + w + 4, y + j * bar + bar - 2, f"{value:.1%}", 10, fill=MUTED)
            )
    return svg_chart(left + plot + 60, height, body, "Share of minutes against share of list size")


def load(rows: list[dict]) -> Markup:
    """Sessions per clinician, busiest first; the darker part is Saturdays."""
    rows = sorted(rows, key=lambda r: (-r["sessions"], r["name"]))
    labels = [f"{r['name']} · {r['role']}" for r in rows]
    # Whole labels (a cut one could hide what tells two people of one name apart).
    left, rh, plot = max(190, 8 + _text_width(labels, 11)), 17, 400
    top = 26
    most = max([r["sessions"] for r in rows] + [1])
    body = [
        f'<rect x="{left}" y="6" width="12" height="10" fill="{BLUE}"/>',
        svg_text(left + 16, 15, "sessions", 11, fill=MUTED),
        f'<rect x="{left + 90}" y="6" width="12" height="10" fill="#003087"/>',
        svg_text(left + 106, 15, "of which Saturdays", 11, fill=MUTED),
    ]
    for i, r in enumerate(rows):
        y = top + i * rh
        body.append(svg_text(left - 8, y + 12, labels[i], 11, "end"))
        w = plot * r["sessions"] / most
        ws = plot * r["saturdays"] / most
        tip = f"{r['name']}: {r['sessions']} sessions, {r['saturdays']} Saturdays"
        body.append(
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{rh - 4}" rx="2" '
            f'fill="{BLUE}"><title>{escape(tip)}</title></rect>'
        )
        if ws:
            body.append(
                f'<rect x="{left}" y="{y + 2}" width="{ws:.1f}" height="{rh - 4}" rx="2" '
                f'fill="#003087"/>'
            )
        body.append(svg_text(left + w + 4, y + 12, r["sessions"], 10, fill=MUTED))
    return svg_chart(left + plot + 40, top + len(rows) * rh + 8, body, "Sessions per clinician")
