"""The fair-share floor: the exact minimum of its relaxation (checked against enumeration), never
above a rota's value, and tight where rounding each practice alone is not."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import numpy as np
import pytest

from scheduler.checker import check, objective_parts
from scheduler.domain import SolveStatus
from scheduler.solver.bounds import fair_share_floor, reachable_sums
from scheduler.solver.model import build_model
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve
from tests import builders as b


def enumerated(shares, total, lengths):
    """min Σ|W·m_p − w_p·T| by trying every combination of sessions (None: none sums to T)."""
    weight, options = sum(shares), []
    for per in lengths:
        sums = {0}
        for length, count in per.items():
            for _ in range(count):
                sums |= {s + length for s in sums}
        options.append(sorted(sums))
    values = [
        sum(abs(weight * m - w * total) for m, w in zip(combo, shares, strict=True))
        for combo in itertools.product(*options)
        if sum(combo) == total
    ]
    return min(values) if values else None


def test_reachable_sums_of_evenings_and_a_saturday():
    reach = reachable_sums({90: 2, 480: 1}, 30)
    assert np.nonzero(reach)[0].tolist() == [0, 3, 6, 16, 19, 22]  # 0, 90, 180, 480, 570, 660


@pytest.mark.parametrize("seed", range(4))
def test_floor_is_the_exact_minimum_of_the_relaxation(seed):
    rng = random.Random(seed)
    checked = 0
    for _ in range(120):
        practices = rng.randint(1, 4)
        shares = [rng.randint(0, 500) for _ in range(practices)]
        lengths = [
            {length: rng.randint(0, 3) for length in rng.sample([60, 90, 240, 480], 2)}
            for _ in range(practices)
        ]
        total = rng.randrange(0, 3000, 30)
        exact = enumerated(shares, total, lengths)
        if exact is None:  # no rota works that total; the floor may say anything
            continue
        cap = rng.choice([10**12, 10**6, 10**5, 5_000])
        assert fair_share_floor(shares, total, lengths, cap) == min(exact, cap)
        checked += 1
    assert checked > 20


def test_floor_needs_the_minutes_to_add_up():
    """Shares 1:1 of 270 minutes from 90-minute evenings: each rounded alone would be 135 → 90
    or 180 (cost 45·2 each way); together one practice works 90 and the other 180."""
    assert fair_share_floor([500, 500], 270, [{90: 3}, {90: 3}], 10**12) == 2 * 1000 * 45


def test_floor_is_capped_by_a_known_value():
    assert fair_share_floor([500, 500], 270, [{90: 3}, {90: 3}], 1_000) == 1_000


def test_floor_is_tight_where_rounding_each_practice_is_not():
    """Three practices of equal size (333‰ each), four evenings, two GPs each: the ideal is 120
    minutes each, but minutes come in 90s, so two practices work 90 and one 180: 2·|999·90 −
    333·360| + |999·180 − 333·360| = 119,880. Each rounded alone would say 3·29,970 only."""
    practices = [b.practice(code, 10_000) for code in ("P1", "P2", "P3")]
    clinicians = [b.clinician(f"C{i}{j}", practice_code=f"P{i}") for i in (1, 2, 3) for j in (1, 2)]
    days = [b.MONDAY + timedelta(days=k) for k in range(4)]
    p = b.problem(clinicians=clinicians, practices=practices, sessions=[b.evening(d) for d in days])
    rm = build_model(p)
    assert rm.objective.tighten_fair_share(360, 10**12) == 119_880
    result = solve(p, SolveParams(time_limit=20, workers=1))
    assert check(p, result.rota) == []
    assert result.parts == objective_parts(p, result.rota)
    fair = next(ph for ph in result.phases if ph.tier == ("fair_share",))
    assert (fair.status, fair.value, fair.bound) == (SolveStatus.OPTIMAL, 119_880, 119_880)
