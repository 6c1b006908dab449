"""People's labels: the name alone while unique, told apart by practice, then by ID."""

from __future__ import annotations

from tests.builders import clinician
from web.services.labels import people_of, role_label, skill_label

PRACTICES = {"P1": "Orchard Surgery", "P2": "Millbrook Practice"}


def test_unique_names_stay_bare_and_repeated_ones_get_the_practice():
    labels = people_of(
        [
            clinician("C1", name="Sam Patel", practice_code="P1"),
            clinician("C2", name="sam  patel", practice_code="P2"),
            clinician("C3", name="Ann Able", practice_code="P1"),
        ],
        PRACTICES.__getitem__,
    )
    assert labels("C1") == "Sam Patel (Orchard Surgery)"
    assert labels("C2") == "sam  patel (Millbrook Practice)"
    assert labels("C3") == "Ann Able"
    assert labels.repeated == (("Sam Patel", ("C1", "C2")),)


def test_people_of_one_name_at_one_practice_get_their_id_too():
    labels = people_of(
        [
            clinician("C1", name="Sam Patel", practice_code="P1"),
            clinician("C2", name="Sam Patel", practice_code="P1"),
            clinician("C3", name="Sam Patel", practice_code="P2"),
        ],
        PRACTICES.__getitem__,
    )
    shown = [labels(c) for c in ("C1", "C2", "C3")]
    assert shown == [
        "Sam Patel (Orchard Surgery, C1)",
        "Sam Patel (Orchard Surgery, C2)",
        "Sam Patel (Millbrook Practice, C3)",
    ]
    assert labels("C9") == "C9"  # an ID the data does not know stays as it is


def test_roles_and_skills_have_one_label_whatever_their_case():
    assert [role_label(r) for r in ("gp", "HCA", "practice  nurse", "anp")] == [
        "GP",
        "HCA",
        "Practice Nurse",
        "ANP",
    ]
    assert role_label("dietitian") == "Dietitian" and role_label("Mental Health Nurse") == (
        "Mental Health Nurse"
    )
    assert skill_label("CHILDHOOD_IMMUNISATIONS") == "Childhood immunisations"
    assert skill_label("cytology") == "Cytology"
