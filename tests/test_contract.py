"""The network contract: required minutes (pro rata weeks, bank holidays under each policy),
delivered minutes, the Network Standard Hours minute by minute, readiness, the commissioner's
return, the rota.toml keys, and one requirement shared by model, checker and report."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from scheduler.checker import check, objective_parts
from scheduler.contract import (
    COMMISSIONER_COLUMNS,
    contract_weeks,
    gaps,
    nsh_window,
    readiness,
    write_commissioner_csv,
)
from scheduler.domain import (
    Assignment,
    SkippedSession,
    SolveStatus,
    Weights,
    base_minutes,
    contract_requirements,
    following_weeks,
    spread,
)
from scheduler.io.load import InputErrors, load_problem
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve
from tests import builders as b

MON = b.MONDAY  # 2027-03-01, W09
SAT = b.SATURDAY
BANK_HOLIDAY = date(2027, 5, 3)  # early May bank holiday, a Monday: 2027-W18


def a(s, cid: str = "C1", post_index: int = 0) -> Assignment:
    """An assignment of `cid` to post `post_index` of session `s`."""
    return Assignment(s.session_id, post_index, cid)


def week_of_cover(monday: date, hub_id: str = "H1") -> list:
    """Mon–Fri 18:30–20:00 and Sat 09:00–17:00: the whole default NSH window of one week."""
    return [b.evening(monday + timedelta(days=i), hub_id) for i in range(5)] + [
        b.saturday(monday + timedelta(days=5), hub_id)
    ]


def lost_on_bank_holiday(minutes: int) -> SkippedSession:
    """A session from 17:00 lasting `minutes`, one required post, skipped on 3 May."""
    end = 17 * 60 + minutes
    return SkippedSession("H1", BANK_HOLIDAY, time(17), time(end // 60, end % 60), 1)


def bank_holiday_problem(
    policy: str, weeks: int = 3, make_up_weeks: int = 2, minutes: int = 185, sessions=()
):
    """Population 12,345 (741 a week) from Mon 3 May 2027 for `weeks` weeks; the bank holiday
    skipped a session of `minutes` with one required post."""
    p = b.problem(
        sessions=list(sessions),
        practices=[b.practice("P1", 12_345)],
        period=(BANK_HOLIDAY, BANK_HOLIDAY + timedelta(days=7 * weeks - 1)),
        bank_holidays=frozenset({BANK_HOLIDAY}),
        skipped_for_bank_holidays=(lost_on_bank_holiday(minutes),),
    )
    return b.with_rules(p, bank_holiday_policy=policy, make_up_weeks=make_up_weeks)


# ---- required minutes ------------------------------------------------------------------


def test_contract_required_minutes_round_up_for_a_whole_week():
    """Adjusted population 12,345 at 60 minutes per 1,000: 740.7 → 741 minutes a week."""
    p = b.problem(sessions=[], practices=[b.practice("P1", 12_345)])
    assert contract_requirements(p) == {("default", "2027-W09"): 741}
    assert base_minutes(60, 12_345) == 741


def test_contract_required_minutes_use_adjusted_population_summed_per_network():
    """Two practices of network N (adjusted 4,000 + 2,500 = 6,500 → 390) and one of M
    (list 9,000 but adjusted 1,234 → 74.04 → 75): each network has its own figure."""
    practices = [
        b.practice("P1", 5_000, adjusted_population=4_000, network="N"),
        b.practice("P2", 2_000, adjusted_population=2_500, network="N"),
        b.practice("P3", 9_000, adjusted_population=1_234, network="M"),
    ]
    p = b.problem(sessions=[], practices=practices, hubs=[b.hub("H1", network="N")])
    assert contract_requirements(p) == {("M", "2027-W09"): 75, ("N", "2027-W09"): 390}


def test_contract_required_minutes_follow_minutes_per_1000():
    """30 minutes per 1,000 (the older Extended Hours rate): 12,345 → 370.35 → 371; a
    fractional 62.5 → 771.56 → 772."""
    p = b.problem(sessions=[], practices=[b.practice("P1", 12_345)])
    assert (
        contract_requirements(b.with_rules(p, minutes_per_1000=30))[("default", "2027-W09")] == 371
    )
    assert (
        contract_requirements(b.with_rules(p, minutes_per_1000=62.5))[("default", "2027-W09")]
        == 772
    )


def test_contract_part_weeks_are_pro_rata_by_days():
    """Period Wed 3 – Fri 12 Mar: W09 has 5 days inside (741 × 5/7 = 529.3 → 530), W10 has
    5 too (530); a Mon–Wed week would ask ceil(317.4) = 318."""
    p = b.problem(
        sessions=[],
        practices=[b.practice("P1", 12_345)],
        period=(MON + timedelta(days=2), MON + timedelta(days=11)),
    )
    weeks = p.week_requirements
    assert [(w.week, w.days, w.minutes) for w in weeks.values()] == [
        ("2027-W09", 5, 530),
        ("2027-W10", 5, 530),
    ]
    assert base_minutes(60, 12_345, 3) == 318


# ---- bank holidays under each policy ---------------------------------------------------


def test_contract_bank_holiday_skip_takes_the_lost_minutes_off_the_week():
    """skip: the Monday session lost 185 required minutes, so W18 asks 741 − 185 = 556; the
    following weeks are untouched and the bank holiday has no NSH window."""
    p = bank_holiday_problem("skip")
    weeks = p.week_requirements
    w18 = weeks["default", "2027-W18"]
    assert (w18.bank_holiday_minutes, w18.relief_minutes, w18.minutes) == (185, 185, 556)
    assert [w.minutes for w in weeks.values()] == [556, 741, 741]
    assert nsh_window(p, BANK_HOLIDAY) is None
    assert nsh_window(p, BANK_HOLIDAY + timedelta(days=1)) == (18 * 60 + 30, 20 * 60)


def test_contract_bank_holiday_relief_never_exceeds_the_week():
    """A one-day period (the bank holiday only) asks ceil(741/7) = 106; 185 lost minutes take
    it to 0, not below."""
    p = b.problem(
        sessions=[],
        practices=[b.practice("P1", 12_345)],
        period=(BANK_HOLIDAY, BANK_HOLIDAY),
        bank_holidays=frozenset({BANK_HOLIDAY}),
        skipped_for_bank_holidays=(lost_on_bank_holiday(185),),
    )
    week = p.week_requirements["default", "2027-W18"]
    assert (week.base_minutes, week.relief_minutes, week.minutes) == (106, 106, 0)


def test_contract_bank_holiday_make_up_spreads_the_minutes_over_the_next_weeks():
    """make_up over 2 weeks: W18 asks 556 as under skip; its 185 minutes go 93 to W19 (the
    earlier week takes the odd minute) and 92 to W20: 834 and 833; the report says where."""
    weeks = bank_holiday_problem("make_up").week_requirements
    assert [w.minutes for w in weeks.values()] == [556, 741 + 93, 741 + 92]
    assert weeks["default", "2027-W18"].made_up_in == (("2027-W19", 93), ("2027-W20", 92))
    assert weeks["default", "2027-W19"].made_up_from == (("2027-W18", 93),)
    assert weeks["default", "2027-W20"].made_up_minutes == 92


def test_contract_bank_holiday_make_up_in_one_week():
    """make_up_weeks = 1: all 185 minutes land on W19 (741 + 185 = 926)."""
    weeks = bank_holiday_problem("make_up", make_up_weeks=1).week_requirements
    assert [w.minutes for w in weeks.values()] == [556, 926, 741]


def test_contract_bank_holiday_make_up_past_the_period_is_reported_not_required():
    """A two-week period: W19 takes its 93; the 92 meant for W20 lie after the period and are
    reported on W18 as make_up_after_period_minutes."""
    weeks = bank_holiday_problem("make_up", weeks=2).week_requirements
    assert [w.minutes for w in weeks.values()] == [556, 834]
    assert weeks["default", "2027-W18"].make_up_after_period_minutes == 92


def test_contract_bank_holiday_run_keeps_the_week_and_its_window():
    """run: nothing is taken off (741 every week) and the bank holiday has its NSH window, so
    an empty bank-holiday evening is 90 minutes uncovered."""
    p = bank_holiday_problem("run", weeks=1, sessions=week_of_cover(BANK_HOLIDAY)[1:])
    assert [w.minutes for w in p.week_requirements.values()] == [741]
    assert nsh_window(p, BANK_HOLIDAY) == (18 * 60 + 30, 20 * 60)
    rota = tuple(a(s) for s in p.sessions)
    (week,) = contract_weeks(p, rota)
    assert week.nsh_uncovered_minutes == 90
    assert [str(s) for s in week.nsh_uncovered] == ["Mon 03 May 18:30-20:00"]


def test_contract_bank_holiday_skip_needs_no_cover_on_the_holiday():
    """skip: with Tuesday to Saturday covered, W18's window (4 × 90 + 480 = 840 minutes) has
    no gap; delivered 4 × 90 + 480 = 840 ≥ 556, so the week passes."""
    p = bank_holiday_problem("skip", weeks=1, sessions=week_of_cover(BANK_HOLIDAY)[1:])
    (week,) = contract_weeks(p, tuple(a(s) for s in p.sessions))
    assert (week.nsh_minutes, week.nsh_uncovered_minutes, week.delivered_minutes) == (840, 0, 840)
    assert week.required_minutes == 556 and week.passed


def test_contract_spread_and_following_weeks():
    """10 minutes over 3 weeks: 4, 3, 3; 1 minute over 2: only the first week; the weeks after
    2027-W52 run into 2028-W01."""
    assert spread(10, ["A", "B", "C"]) == [("A", 4), ("B", 3), ("C", 3)]
    assert spread(1, ["A", "B"]) == [("A", 1)]
    assert spread(0, ["A"]) == []
    assert following_weeks("2027-W52", 2) == ["2028-W01", "2028-W02"]


# ---- delivered minutes and the NSH window -------------------------------------------------


def test_contract_delivered_counts_clinician_minutes_at_the_networks_hubs():
    """Two people on one evening (2 × 90) and one on a Saturday (480) at N's hub: 660; a
    session at M's hub counts for M only; 3 sessions run for N."""
    s1 = b.evening(MON, "H1", b.post("GP", 2))
    s2 = b.saturday(SAT, "H1")
    s3 = b.evening(MON, "H2")
    p = b.problem(
        clinicians=[b.clinician("C1"), b.clinician("C2"), b.clinician("C3")],
        sessions=[s1, s2, s3],
        practices=[b.practice("P1", network="N"), b.practice("P2", network="M")],
        hubs=[b.hub("H1", network="N"), b.hub("H2", network="M")],
    )
    weeks = {
        w.network: w
        for w in contract_weeks(p, (a(s1, "C1"), a(s1, "C2"), a(s2, "C3"), a(s3, "C3")))
    }
    assert (weeks["N"].delivered_minutes, weeks["N"].sessions) == (660, 2)
    assert (weeks["M"].delivered_minutes, weeks["M"].sessions) == (90, 1)
    assert weeks["N"].delivered_in_nsh_minutes == 660


def test_contract_week_passes_with_minutes_and_the_whole_window_under_a_gp():
    """Every evening and the Saturday with a GP: 930 delivered ≥ 600 (list 10,000), no gap, no
    minute without a GP, GP share 100 %."""
    sessions = week_of_cover(MON)
    p = b.problem(sessions=sessions)
    (week,) = contract_weeks(p, tuple(a(s) for s in sessions))
    assert (week.required_minutes, week.delivered_minutes, week.nsh_minutes) == (600, 930, 930)
    assert (week.nsh_uncovered_minutes, week.nsh_without_gp_minutes) == (0, 0)
    assert week.passed and week.failures == () and week.gp_share_of_nsh == 1.0
    assert week.as_dict()["pass"] is True


def test_contract_gap_in_the_window():
    """Saturday split 09:00–12:00 and 13:00–17:00 leaves 12:00–13:00: 60 minutes with no one
    (and so no GP); the week fails on `nsh_uncovered` though its minutes are met."""
    sessions = week_of_cover(MON)[:5] + [
        b.session(SAT, "09:00", "12:00"),
        b.session(SAT, "13:00", "17:00"),
    ]
    p = b.problem(sessions=sessions)
    (week,) = contract_weeks(p, tuple(a(s) for s in sessions))
    assert (week.nsh_uncovered_minutes, week.nsh_without_gp_minutes) == (60, 60)
    assert [span.as_dict() for span in week.nsh_uncovered] == [
        {"date": "2027-03-06", "start": "12:00", "end": "13:00", "minutes": 60}
    ]
    assert not week.passed and week.failures == ("nsh_uncovered", "nsh_without_gp")


def test_contract_unstaffed_session_leaves_its_window_uncovered():
    """Sessions exist every evening but nobody works Wednesday's: 90 minutes uncovered."""
    sessions = week_of_cover(MON)
    p = b.problem(sessions=sessions)
    rota = tuple(a(s) for s in sessions if s.date != MON + timedelta(days=2))
    (week,) = contract_weeks(p, rota)
    assert week.nsh_uncovered_minutes == 90
    assert str(week.nsh_uncovered[0]) == "Wed 03 Mar 18:30-20:00"


def test_contract_window_without_a_gp():
    """Saturday: an ANP 09:00–17:00 and a GP 09:00–13:00 cover the window, but 13:00–17:00
    (240 minutes) has no GP; GP share (930 − 240) / 930. With gp_cover off the week passes."""
    sat_anp = b.session(SAT, "09:00", "17:00", posts=(b.post("ANP"),))
    sat_gp = b.session(SAT, "09:00", "13:00")
    sessions = week_of_cover(MON)[:5] + [sat_anp, sat_gp]
    p = b.problem(clinicians=[b.clinician("C1"), b.clinician("N1", "ANP")], sessions=sessions)
    rota = tuple(a(s) for s in sessions if s is not sat_anp) + (a(sat_anp, "N1"),)
    (week,) = contract_weeks(p, rota)
    assert (week.nsh_uncovered_minutes, week.nsh_without_gp_minutes) == (0, 240)
    assert [str(span) for span in week.nsh_without_gp] == ["Sat 06 Mar 13:00-17:00"]
    assert week.gp_share_of_nsh == pytest.approx(690 / 930)
    assert week.failures == ("nsh_without_gp",)
    (relaxed,) = contract_weeks(b.with_rules(p, gp_cover=False), rota)
    assert relaxed.passed


def test_contract_sessions_at_two_hubs_cover_the_window_together():
    """Saturday 09:00–13:00 at H1 with a GP and 12:00–17:00 at H2 with a GP: no gap, no
    minute without a GP, as both hubs are the network's."""
    sessions = week_of_cover(MON)[:5] + [
        b.session(SAT, "09:00", "13:00", "H1"),
        b.session(SAT, "12:00", "17:00", "H2"),
    ]
    p = b.problem(sessions=sessions)
    (week,) = contract_weeks(p, tuple(a(s) for s in sessions))
    assert (week.nsh_uncovered_minutes, week.nsh_without_gp_minutes) == (0, 0)


def test_contract_window_is_configurable():
    """nsh_weekday 18:00–20:00: the evening sessions 18:30–20:00 leave 30 minutes a day, 150
    in the week; only the part inside the window counts as delivered in it."""
    sessions = week_of_cover(MON)
    p = b.with_rules(b.problem(sessions=sessions), nsh_weekday=(time(18), time(20)))
    (week,) = contract_weeks(p, tuple(a(s) for s in sessions))
    assert (week.nsh_minutes, week.nsh_uncovered_minutes) == (1080, 150)
    p = b.with_rules(b.problem(sessions=sessions), nsh_saturday=(time(10), time(12)))
    (week,) = contract_weeks(p, tuple(a(s) for s in sessions))
    assert (week.nsh_minutes, week.delivered_in_nsh_minutes, week.delivered_minutes) == (
        570,
        570,
        930,
    )


def test_contract_gaps_of_a_window():
    """Gaps of 0–100 with spans 10–20, 15–30 and 90–120: 0–10, 30–90; none when covered."""
    assert gaps((0, 100), [(90, 120), (10, 20), (15, 30)]) == [(0, 10), (30, 90)]
    assert gaps((0, 100), [(-5, 200)]) == []
    assert gaps((0, 100), []) == [(0, 100)]


# ---- one definition for model, checker and report -------------------------------------------


def test_contract_checker_part_is_the_reports_shortfall():
    """With make_up the checker's `contract` part equals the report's summed shortfall: W18
    0 (556 − 840 < 0), W19 834 − 90 = 744, W20 833 − 0 = 833 → 1577."""
    sessions = week_of_cover(BANK_HOLIDAY)[1:] + [b.evening(BANK_HOLIDAY + timedelta(days=8))]
    p = bank_holiday_problem("make_up", sessions=sessions)
    rota = tuple(a(s) for s in p.sessions)
    shortfall = sum(w.shortfall_minutes for w in contract_weeks(p, rota))
    assert shortfall == objective_parts(p, rota)["contract"] == 744 + 833


def test_contract_make_up_minutes_reach_the_optimiser():
    """Two ANPs may each take an optional place (min 0, target 2) on one W19 evening; cost
    makes the solver take no one it does not need, and unfilled_target is off. Population
    1,500 asks 90 a week. skip: W19 needs 90, one ANP. make_up over 1 week: the bank holiday's
    90 lost minutes move to W19 (180): both ANPs."""
    w19 = b.evening(BANK_HOLIDAY + timedelta(days=8), "H1", b.post("ANP", 0, 2))
    clinicians = [
        b.clinician("N1", "ANP", cost_per_hour_pence=100),
        b.clinician("N2", "ANP", cost_per_hour_pence=100),
    ]
    lost = SkippedSession("H1", BANK_HOLIDAY, time(18, 30), time(20), 1)
    base = b.problem(
        clinicians=clinicians,
        sessions=[w19],
        practices=[b.practice("P1", 1_500)],
        period=(BANK_HOLIDAY, BANK_HOLIDAY + timedelta(days=13)),
        bank_holidays=frozenset({BANK_HOLIDAY}),
        skipped_for_bank_holidays=(lost,),
        weights=Weights(unfilled_target=0),
    )
    for policy, people in (("skip", 1), ("make_up", 2)):
        p = b.with_rules(base, bank_holiday_policy=policy, make_up_weeks=1)
        result = solve(p, SolveParams(time_limit=20, workers=1))
        assert result.status is SolveStatus.OPTIMAL
        assert check(p, result.rota) == []
        assert len(result.rota) == people, policy
        assert result.parts["contract"] == 0


# ---- readiness -----------------------------------------------------------------------------


def test_readiness_lists_required_places_without_a_name_in_the_next_14_days():
    """From Mon 1 Mar the window runs to Sun 14 Mar. 1 Mar is named; 8 Mar's GP post wants 2
    and names 1 (1 missing), its optional nurse post (min 0) is not required; 15 Mar is
    empty but outside the window. Not ready."""
    s1 = b.evening(MON)
    s2 = b.evening(MON + timedelta(days=7), "H1", b.post("GP", 2), b.post("Practice Nurse", 0, 1))
    s3 = b.evening(MON + timedelta(days=14))
    p = b.problem(clinicians=[b.clinician("C1"), b.clinician("C2")], sessions=[s1, s2, s3])
    r = readiness(p, (a(s1), a(s2, "C2")), MON)
    assert (r.start, r.end, r.sessions, r.ready) == (MON, date(2027, 3, 14), 2, False)
    assert [m.as_dict() for m in r.missing] == [
        {
            "session_id": "H1-20270308-1830-2000",
            "hub_id": "H1",
            "date": "2027-03-08",
            "start": "18:30",
            "end": "20:00",
            "post": 0,
            "roles": "GP",
            "min": 2,
            "named": 1,
            "missing": 1,
        }
    ]
    d = r.as_dict()
    assert (d["from"], d["to"], d["ready"], d["people_missing"]) == (
        "2027-03-01",
        "2027-03-14",
        False,
        1,
    )


def test_readiness_is_ready_when_every_required_place_is_named():
    """From Tue 2 Mar: 8 Mar (named) is inside, 1 Mar is before the window, 16 Mar is past
    Mon 15 Mar, the last day: ready."""
    s1, s2 = b.evening(MON), b.evening(MON + timedelta(days=7))
    s3 = b.evening(MON + timedelta(days=15))
    p = b.problem(sessions=[s1, s2, s3])
    r = readiness(p, (a(s2),), MON + timedelta(days=1))
    assert (r.ready, r.sessions, r.end, r.inside_period) == (True, 1, date(2027, 3, 15), True)


def test_readiness_says_when_the_window_runs_past_the_period():
    """The period ends Sun 7 Mar; from 1 Mar the 14 days run to 14 Mar: inside_period false."""
    p = b.problem(sessions=[b.evening(MON)])
    assert readiness(p, (), MON).as_dict()["inside_period"] is False


# ---- the commissioner's return ------------------------------------------------------------


def test_contract_commissioner_csv_has_one_row_per_network_and_week():
    """Columns network, week, required, delivered, sessions, GP share of the NSH; the
    Saturday's 480 of 930 minutes without a GP give 0.4839."""
    sessions = week_of_cover(MON)
    p = b.problem(sessions=sessions)
    rota = tuple(a(s) for s in sessions if not s.is_saturday)
    out = io.StringIO()
    write_commissioner_csv(contract_weeks(p, rota), out)
    assert out.getvalue().splitlines() == [
        ",".join(COMMISSIONER_COLUMNS),
        "default,2027-W09,600,450,5,0.4839",
    ]


# ---- rota.toml and the loader ----------------------------------------------------------------


FOLDER = {
    "practices.csv": "practice_code,name,list_size\nP1,One,12345\n",
    "hubs.csv": "hub_id,name\nH1,Hub\n",
    "clinicians.csv": "clinician_id,name,practice_code,role\nC1,Dr One,P1,GP\n",
    "patterns.csv": (
        "hub_id,weekday,start,end,roles,min,bank_holidays\n"
        "H1,Mon,18:30,20:00,GP,1,\n"
        "H1,Mon,17:00,18:30,GP,2,skip\n"
    ),
    "availability.csv": "clinician_id,date,status\nC1,2027-05-03,A\n",
}


def folder(tmp_path: Path, rules: str) -> Path:
    """A rota folder over W18 (Mon 3 May 2027 is a bank holiday) with `rules` in rota.toml."""
    for name, text in FOLDER.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "rota.toml").write_text(
        f"[period]\nstart = 2027-05-03\nend = 2027-05-09\n\n[rules]\n{rules}\n", encoding="utf-8"
    )
    return tmp_path


def test_contract_rules_read_from_rota_toml(tmp_path):
    """nsh_weekday, nsh_saturday, bank_holiday_policy (make-up spelt with a hyphen too) and
    make_up_weeks reach Rules; without them the defaults hold."""
    p = load_problem(
        folder(
            tmp_path,
            'nsh_weekday = "18:00-20:00"\nnsh_saturday = "09:00 – 13:00"\n'
            'bank_holiday_policy = "make-up"\nmake_up_weeks = 3',
        )
    )
    assert p.rules.nsh_weekday == (time(18), time(20))
    assert p.rules.nsh_saturday == (time(9), time(13))
    assert (p.rules.bank_holiday_policy, p.rules.make_up_weeks) == ("make_up", 3)
    defaults = load_problem(folder(tmp_path, ""))
    assert defaults.rules.nsh_weekday == (time(18, 30), time(20))
    assert (defaults.rules.bank_holiday_policy, defaults.rules.make_up_weeks) == ("skip", 2)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('nsh_weekday = "20:00-18:30"', "ends (18:30) before it starts (20:00)"),
        ('nsh_saturday = "nine to five"', 'expected a window like "18:30-20:00"'),
        ('bank_holiday_policy = "sometimes"', "expected skip, make_up or run"),
        ("make_up_weeks = 0", "expected a whole number ≥ 1"),
    ],
)
def test_contract_rules_bad_values_are_named_by_file_and_line(tmp_path, rules, message):
    """Each bad contract key is reported as rota.toml:line:rules.key with what is wrong."""
    with pytest.raises(InputErrors) as caught:
        load_problem(folder(tmp_path, rules))
    (error,) = caught.value.errors
    key = rules.split(" =")[0]
    assert str(error).startswith(f"rota.toml:6:rules.{key}: ") and message in str(error)


def test_contract_loader_skips_bank_holiday_rows_under_skip_and_make_up(tmp_path):
    """skip (default): both Monday rows skip 3 May: 90 × 1 + 90 × 2 = 270 minutes lost; W18
    asks 741 − 270 = 471."""
    for rules in ("", 'bank_holiday_policy = "make_up"'):
        p = load_problem(folder(tmp_path, rules))
        assert p.sessions == ()
        assert sum(s.min_minutes for s in p.skipped_for_bank_holidays) == 270
        assert contract_requirements(p) == {("default", "2027-W18"): 471}


def test_contract_loader_runs_blank_rows_under_run(tmp_path):
    """run: the row with a blank bank_holidays cell runs on 3 May; the row that says skip still
    skips (180 minutes lost), but nothing is taken off the week (741)."""
    p = load_problem(folder(tmp_path, 'bank_holiday_policy = "run"'))
    assert [s.session_id for s in p.sessions] == ["H1-20270503-1830-2000"]
    assert sum(s.min_minutes for s in p.skipped_for_bank_holidays) == 180
    assert contract_requirements(p) == {("default", "2027-W18"): 741}


def test_contract_week_requirements_are_computed_once_and_stay_out_of_equality():
    """The frozen problem keeps its requirements after the first look-up; a copy made with
    `replace` computes its own, and the cache takes no part in equality."""
    p = b.problem(sessions=[], practices=[b.practice("P1", 12_345)])
    first = p.week_requirements
    assert p.week_requirements is first
    copy = replace(p)
    assert copy == p and "week_requirements" not in copy.__dict__
    assert replace(p, practices=(b.practice("P1", 6_000),)).week_requirements != first
