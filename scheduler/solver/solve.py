"""solve(problem, params) -> SolveResult: the goal tiers as lexicographic CP-SAT phases."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

from ortools.sat.python import cp_model

from scheduler.checker import objective_parts
from scheduler.domain import (
    GOALS,
    PARTS,
    Assignment,
    Network,
    PhaseResult,
    Problem,
    Rota,
    SolveResult,
    SolveStatus,
)
from scheduler.solver import columns
from scheduler.solver.decompose import network_cost_rota, network_rota, networks_of
from scheduler.solver.lns import improve
from scheduler.solver.lp import DualBound, Relaxation
from scheduler.solver.model import Practices, RotaModel, build_model
from scheduler.solver.params import SolveParams
from scheduler.solver.swap import cost_swaps, fair_share_swaps

log = logging.getLogger(__name__)

# The phases leave this much of the time limit unplanned, per model variable, for the search to
# stop and the rota to be read and checked: CP-SAT takes seconds to stop on a big model (the
# generated ics's cost phase, 176,000 variables, ran 67.1-68.2 s on a budget of 62-63 s, and its
# solves ended at 305.7-306.2 s of 300).
CLOSING_SECONDS_PER_VARIABLE = 3e-5
# A phase gets at least this share of the time left, so the top goals are not starved by the
# number of tiers below them; a phase that proves its optimum early leaves the rest to later ones.
MIN_PHASE_SHARE = 0.25
# ... and at least this long, if that much is left: a light tier's share can be too short to
# prove it even on a small model (the generated pcn, seed 0: preferences, 41 against a bound of
# 40, had 0.6 s of a 10 s run, so the run ended unproven in one run of nine, though cost, the
# tier after it, was proven in under a second). A phase that proves its tier sooner ends then.
MIN_PHASE_SECONDS = 2.0
# Once a rota exists, the time left is shared by what each tier weighs in it (see _phase_share),
# each tier at least this share. (Generated federation: fair share weighs about 100 M, cost
# 22.7 M, even load and preferences under 15,000; an even split gave fair share 14 s, where it
# needs about 30 s to come within 0.01 % of its LP bound, and even load 14 s to move the total
# by 8,000.)
MIN_STAKE_SHARE = 0.1
# ... and at most this share while tiers remain below it: a tier's weight overstates what its
# phase can gain (the federation's cost, 22.7 M, can fall by 1-2 M at most), and with 70 % fair
# share ran its 38 s out at 4.56-4.65 M while cost, left 8 s, had no time for its LP.
MAX_STAKE_SHARE = 0.5
# ... or this on a model past LP_MOST_VARIABLES (the ics), where no tier below has an LP to
# solve and fair share, far above its bound, still fell fast when its phase ended. (Generated
# ics, seed 0, stop 20: with 0.5 fair share ended at 37.5-38.5 M, cost's bound at 105.7 M, the
# gap at 30.44 %; with 0.7, 20.3-22.1 M, 101.6-101.9 M, 24.37-25.17 %. Fair share fell about
# 0.4 M a second at the end; cost's bound grew about 0.05 M a second in its last 10 s.) Stop 22,
# cost bounded by DualBound: with 0.7 fair share still fell 0.15 M a second as its phase ended
# (13.13 M) where cost's LNS gained 0.03 M a second as its own did; with 0.8, fair share 10.87 M,
# cost 114.80 M against 114.38 M, the gap 11.74 % against 13.00 % (a repeat: fair share 13.38 M,
# 13.62 %; fair share's end varies that much between runs of the same code). Stop 23, fair share
# started by swaps (SWAP_SHARE): fair share gains slowly after them (0.19 M in its last 56 s)
# where cost's LNS still gained 0.5 M in its last 20 s; with 0.5 instead of 0.8, seed 0 ended
# at 9.01 % against 10.05 % (fair share 7.99 M against 8.24 M, cost 113.69 M against 114.82 M).
MAX_STAKE_SHARE_BIG = 0.5
# ... and on such a model the tiers that fill posts get at least this share: "every post that
# any rota could fill is filled" needs their phases proven, and fair share's floor needs the
# total of minutes they fix. Their stake is small beside fair share's, so they had
# MIN_STAKE_SHARE; on a slow machine (2026-12-05) unfilled target's phase took 22 s to its first
# rota on the ics and ended unproven at 32,460 against 27,300 after 27 s (on a faster one it
# is proven about 15 s into its phase, and a proven phase ends there, whatever its share).
FILL_SHARE_BIG = 0.2
FILL_TIERS = {("unfilled_min",), ("unfilled_target",)}
# A phase whose best rota is within this share of its bound stops and hands the rest of its
# time on (fair share on the federation: 4,463,160 against an LP bound of 4,463,116).
PHASE_GAP = 1e-4
# ... or, in a phase above the last, within this share of the whole objective (its own value and
# the other tiers' weighted parts in the rota it starts from): what it could still gain is then too small
# to show in the whole, and its time goes to the tiers below. (Generated federation, seed 1:
# fair share reached 338,400 against a bound of 319,917 at 23 s of 60, then searched 10 s more
# for 7,000, while cost, about 26 M, ended 0.5 M above its bound.)
NEGLIGIBLE = 1e-3
# ... in these tiers, on models too big to presolve every phase (a small one is proven instead:
# the generated pcn, optimal in 2.6 s, ended 0.01 % short of a proof with it), and not above fair
# share: the rota a phase starts from weighs in fair share far
# from its end (the federation's upper tiers start from rotas at 100 M, unfilled_target then
# stopped at 4,560 minutes against 4,470 proven).
NEGLIGIBLE_TIERS = {"fair_share", "even_load", "preferences"}
# A phase that has not improved for this share of its budget (at least MIN_STALL_SECONDS) stops.
STALL_SHARE = 0.25
MIN_STALL_SECONDS = 2.0
# With LNS on, CP-SAT searches a phase until it stalls (see STALL_SHARE); if it has not proved
# the tier by then, the rest goes to large-neighbourhood search (scheduler.solver.lns) from its best
# solution. (Handing over at half time instead lost the LP-guided search where it was still
# improving: Curtois 8 and 10 ended 1.1 % and 1.9 % worse.)
UNPRESOLVED = {"fair_share", "even_load", "preferences", "cost"}
# ... unless the model is this small (in variables): presolve then takes a fraction of a
# second and the LP of the presolved model proves the lower tiers where the raw one cannot
# (the generated pcn: even load, preferences and cost each proven in under a second instead of
# 7, 25 and 63 s; the sample: 1.7 % from optimal after 60 s instead of 2.9 %). A federation
# (26,000 variables) spends 4 s a phase presolving and ends worse.
PRESOLVE_ALWAYS = 10_000
# With few workers CP-SAT gives its full-problem threads to `default_lp` first, whose LP keeps
# only the linear constraints it must; `max_lp` (linearization level 2) also relaxes the
# at-most-ones and Boolean clauses, and on these models its bound and its LP-guided search are
# far stronger (Curtois Instance6: proven optimal in 16 s instead of 9 % away after 60 s, both
# on 2 workers). Its other threads still run CP-SAT's interleaved LNS. With more workers
# CP-SAT's own portfolio already includes max_lp.
FEW_WORKERS_SUBSOLVERS = ("max_lp", "default_lp", "core")
# ... and a solve on one worker, whose single search would otherwise run at CP-SAT's default
# level, gets max_lp's: the generated ics's network parts (scheduler.solver.decompose), one worker
# each, proved a network's fair share in 2.1 s at this level, where the default level had it at
# 11.1 M against an optimum of 2.26 M after 10 s (two workers, max_lp among them: 3.4 s).
ONE_WORKER_LINEARIZATION = 2
# The same big models prove little in those tiers through CP-SAT's LP, which takes half a
# minute to solve there; GLOP solves the LP relaxation (scheduler.solver.lp) in a second or two, and
# its bound is added as a cut. It gets at most this share of the phase (the federation's cost
# LP, with even load and preferences held, takes 4-6 s of a 14 s phase).
LP_SHARE = 0.4
# ... on models up to this size: on the generated ics (176,000 variables) GLOP takes 21-74 s
# for the fair-share LP, and with it let in the ics ended at 75.6 % instead of 63.7 %: the time
# came out of fair share's search and cost's.
LP_MOST_VARIABLES = 100_000
# In these tiers GLOP's relaxation serves only as the phase's bound (and, in fair share, to aim
# LNS's practice neighbourhood, which aims at the fair shares themselves until it is solved), so
# it is solved in a thread beside the phase's search (GLOP releases the interpreter lock), for at
# most this share of the phase, instead of before it: on two cores the LP alone left one idle for
# the 5-8 s it takes on a federation's cost phase, a third of the phase, and 4 s of fair share's. LNS runs one thread until the LP is done:
# with a thread per core beside it, GLOP took 14.5 s there, and once ran out of time (the phase
# was then left with CP-SAT's bound of 0).
LP_ALONGSIDE = {"fair_share", "cost"}
LP_ALONGSIDE_SHARE = 0.8
# ... and in these also on a model past LP_MOST_VARIABLES: on the generated ics (176,000
# variables) GLOP now solves fair share's LP in 12.5 s beside the search and lifts its bound
# from the floor of scheduler.solver.bounds, 2.02 M, to 3.11 M (the ics from 17.84 % to 17.38 %, peak
# memory 2,420 to 2,575 MB). Not cost: its LP there took 122.8 s alone (bound 109.3 M, against
# CP-SAT's 105.7-107.9 M), about all the time the phase has.
LP_ALONGSIDE_ANY_SIZE = {"fair_share"}
# On those models the last phase, cost, gets its bound from an LP solved while fair share is
# searched instead (scheduler.solver.lp.DualBound: HiGHS in a thread from fair share's start, every tier
# from fair share down held at the rota's values then, its row prices taken at the values held
# when cost starts). Its phase then goes to the network parts and LNS like a federation's, where
# it used to search with CP-SAT to the end for CP-SAT's own bound.
DUAL_BOUND_VARIABLES = LP_MOST_VARIABLES
# A phase from fair share down (which searches from a complete hint, unpresolved on big models)
# whose search has found no rota at all, not even the hinted one, by this share of its time stops and hands the rest to LNS from the rota held from the tier above. (A generated ics,
# seed 1: CP-SAT never returned the hinted rota in the cost phase's 94 s, busy with its root LP
# on 176,000 variables, and the phase gained nothing.)
NO_ROTA_SHARE = 0.5
# The fair-share phase of a model bigger than this (in variables) starts with posts changing
# hands between practices (scheduler.solver.swap), in at most SWAP_SHARE of the phase, the swaps
# themselves in SWAP_PARTS_SHARE of that. On the generated ics (seed 0) they take the
# contract's rota from 575 M to 10.4 M in 11 s, where the network parts had reached 140 M in
# 90 s (and the whole-model search from there 10.9 M by the phase's end); from the swaps' rota
# the search ends at 8.2 M. After the swaps the network parts gained nothing the search would
# not (9.63 M at the phase's end with them, 9.57 M without; direct swaps only, no chains).
# With fair share's phase at half the time (MAX_STAKE_SHARE_BIG) a share of 0.2 cut the swaps
# off at 19 s, short of their end (11.6 M in one run); at 0.35 they end by themselves (9.38 M
# in 15 s, where 20 passes alternate with 14 of chains).
DECOMPOSE_VARIABLES = LP_MOST_VARIABLES
SWAP_SHARE = 0.35
SWAP_PARTS_SHARE = 0.8
# ... and leave at least this many times the solve's last completion of a rota into a solution
# of the model (RotaModel.completion_seconds) for that, or are not started with less than
# MIN_SWAP_SECONDS (_swap_seconds)
COMPLETION_RESERVE = 1.5
MIN_SWAP_SECONDS = 0.5
# The swaps first wait, for at most this share of the phase, for fair share's LP (GLOP, beside
# them), and steer each network's minutes towards the LP optimum's (scheduler.solver.swap,
# network_aim): on the ics GLOP takes 10-17 s, and the aimed swaps then end in about 11 s where
# the swaps by practices alone took 18-20 s, from which LNS ends lower (see NETWORK_WEIGHT).
NETWORK_AIM_WAIT = 0.25
# Where the swaps move nothing (a re-run: every post is published), the phase re-solves the rota
# network by network (scheduler.solver.decompose) instead, in at most DECOMPOSE_SHARE of the phase, the
# parts themselves in DECOMPOSE_PARTS_SHARE of that (the rest completes the joined rota's
# solution).
DECOMPOSE_SHARE = 0.5
DECOMPOSE_PARTS_SHARE = 0.85
# The same models' last phase, cost, starts by lowering cost network by network
# (scheduler.solver.decompose.network_cost_rota, every goal above held) for this share of the phase,
# then goes to LNS on the whole model, bounded by DUAL_BOUND_VARIABLES's prices (without them,
# when HiGHS has not solved in time, CP-SAT searches the rest for its own bound). CP-SAT's search itself gained 0.01 M of
# 118.3 M in the ics's 75 s; the parts, two at a time, 2.55 M in 20 s from the same rota. (ics,
# seed 0: cost 116.41 M, bound 105.96 M, gap 13.47 %, against 117.80-118.31 M, 105.74-106.64 M
# and 15.37-16.13 % without.) Not beside CP-SAT's search: sharing the cores with it, the parts
# slowed its bound to 98.6 M.
COST_PARTS_SHARE = 0.25
# ... and before the parts, for this share of the phase, posts go to cheaper clinicians by swaps
# (scheduler.solver.swap.cost_swaps, every tier above cost no worse). On the rota that cost's phase had
# left (ics seed 0, after its parts and LNS, 114.28 M), they gained 0.70 M in 10 s, 1.31 M in
# 25 s and 1.41 M in 60 s, where LNS gained about 0.01 M a second at that point.
COST_SWAP_SHARE = 0.2
# Cost's swaps take a move that raises even load's tier when it lowers cost by more than this
# much (pence) per unit of it, within what the holds leave (scheduler.solver.swap.cost_swaps).
COST_SWAP_PRICE = 150
# ... and the same swaps end cost's phase, in this share of what the swaps and parts leave of it,
# before fair share's closing swaps (below): LNS leaves moves that trade cost against even load
# (the ics, seed 0, the rota after cost's phase: 0.26 M in 5 s, 0.56 M in 15 s at that price,
# where LNS gains 0.015-0.035 M a second at the end).
COST_TAIL_SHARE = 0.25
# On the largest models cost's second LP (solved from the rota after fair share's swaps, for the
# bound at the holds cost will have) waits until this share of fair share's phase has passed:
# HiGHS holds a core for 65-95 s, which fair share's LNS (two threads) otherwise shares with it
# from the swaps on. Generated ics seed 0, forked at fair share's start, run to the end: fair
# share 7.91 M and cost 111.69 M (bound 109.25 M) started at once; 7.81 M and 111.48 M (bound
# 109.28 M) at 0.6; 7.81 M and 111.66 M (109.27 M) at the cost phase's start, where it solved
# 25 s before the end: 0.5 leaves it more room.
SECOND_LP_AT = 0.5
# ... or this share when the phase is bounded by DUAL_BOUND_VARIABLES's prices and the rest
# goes to LNS: from the rota left by a quarter of the phase on parts (ics, 117.30 M), 20 s more
# of parts gained 1.38 M, where LNS on the whole model gained about 0.035 M a second (and a
# third round of parts 0.18 M). Still so with cost's LNS freeing practices with partners
# (scheduler.solver.lns): 100 s of LNS alone took the ics (seed 0) from 117.66 to 115.10 M; 35 s of
# parts and 65 s of LNS to 113.35 M; 52 s of parts and 48 s of LNS, from 117.73 M, to 112.95 M.
# Since cost's swaps come first (COST_SWAP_SHARE), LNS on the whole model gains little after
# the parts (0.07 M in 36 s), and the parts' own bounds were still 1.6 M below them: so nearly
# all of it. From one state at cost's start (forked, each variant on the same clock): ics seed
# 0, cost 113.65 M at 0.5, 113.53 M at 0.8, 113.30 M at 0.95; seed 1, 110.84 M at 0.5 and
# 110.06 M at 0.95. From the same rota alone, the parts for 75 s gained 0.34 M more than for
# 39 s; two rounds (39 s, cost's swaps, 26 s) less (0.14 M more), and pairs of networks, whose
# clinicians crossing between the two are freed too, less than single networks (114.03 M
# against 113.35 M in 75 s).
COST_PARTS_SHARE_PRICED = 0.95
# In these tiers (on models GLOP solves, above), the phase first searches the neighbourhood where
# the LP's optimum and the rota from the tier above disagree (every assignment on which they
# agree, to within LP_AGREE, fixed) for at most LP_RINS_SHARE of the phase; its rota hints
# CP-SAT. Cost did too while LNS's sub-solves ran at CP-SAT's default linearization; at level 2
# (scheduler.solver.lns) LNS gains more in the same time (federation, cost, 10 s from the same rota:
# RINS 22.61 to 22.15 M, LNS 21.69 M; two 60 s runs without it ended at 1.9 % and 3.5 %,
# cost 21.50 and 21.71 M, against 3.3 % and 3.2 %, cost 21.89 and 21.65 M, with it).
LP_RINS = {"even_load", "preferences"}
LP_AGREE = 0.01
LP_RINS_SHARE = 0.6
# On a big model (more than PRESOLVE_ALWAYS variables) CP-SAT's own search in the fair-share
# phase improves steadily but slowly; LNS and its practice neighbourhood (scheduler.solver.lns) move
# minutes between practices far faster. The same goes for cost once GLOP bounds it (CP-SAT's own
# bound would take longer than the phase has): there the practice neighbourhood draws practices
# evenly, so that their clinicians trade sessions among themselves and fair share stays where it
# is held (federation: 22.66 M to 22.32 M in 8 s, where CP-SAT's search took 14 s for 0.06 M).
# These phases go to LNS straight away, from the rota held from the tier above (every variable
# besides the assignments at its best for them). They used to search with CP-SAT for 5 % of the
# phase first, but on a federation CP-SAT took 1.3 s (fair share) and 5 s (cost, on the core
# GLOP leaves it) just to return that rota.
HAND_OVER = {"fair_share", "cost"}
# In these tiers, LNS breaks ties by the last tier (cost), more often the longer its own goal has
# not improved (scheduler.solver.lns, `then`): the time a phase spends before it is judged stalled then
# lowers cost instead of waiting. (Generated federation, 60 s: seed 1 ended at 3.03 %, cost
# 25.81 M, where it ended at 4.28 %, cost 26.25 M; seed 0 at 2.13 %, against 2.38 and 2.91 %.
# With ties always broken by cost, fair share's own search slowed: 4.73 M against 4.47 M.)
# Not on models too big for GLOP, where a sub-solve takes about 2 s and fair share stays far from
# its bound (two ics runs with it ended fair share at 48.7 and 50.0 M, against 38.5 and 43.3 M).
TIE_BREAK = {"fair_share", "even_load", "preferences"}
# On those models the last phase, cost, ends with posts changing hands for fair share again
# (scheduler.solver.swap), in at most FINAL_SWAP_SECONDS or FINAL_SWAP_SHARE of the phase, kept from
# the network parts and taken from its LNS (stop 35: taken from what the parts left, 0.95 of
# the phase since stop 34, it was under a second, and the swaps were skipped; on seed 0's final
# rota 2 s of them lower fair share by 0.16 M): cost's reshuffling opens swaps that fair share's own phase had used up. (Generated
# ics, the final rotas of four 300 s runs, seeds 0 and 1: swaps lowered fair share by
# 0.19-0.32 M in 1-14 s, where cost's LNS gains about 0.015 M a second at its end; from the
# rota at fair share's end, 10 s of swaps found nothing. In the engine, 300 s: seed 0, fair
# share 7.85 to 7.77 M and cost 3,000 lower, 6.83 %; seed 1, 3.88 to 3.53 M, cost 9,600
# higher, 5.73 %.) The swaps move even load and preferences a little, so their holds are let
# go for the rota the swaps make (a lexicographic gain: fair share is the higher goal).
FINAL_SWAP_SECONDS = 6.0
FINAL_SWAP_SHARE = 0.05
# A first tier that splits by clinician (scheduler.solver.columns: weighted cover and requests) first
# gets column generation for at most this share of the phase: its bound is cut into the model,
# and its LP's mix of rotas seeds the search (below).
COLUMN_SHARE = 0.5
# From that mix, a dive (scheduler.solver.columns) until DIVE_END of the phase has gone; where it gives
# up, a sub-solve fixes every assignment the LP puts at or below RINS_LOW to 0 and at or above
# RINS_HIGH to 1, and searches the rest for at most RINS_SHARE of the phase. (Instance8: 1,304
# from the dive, where the sub-solve found 1,397-1,691; Instance12: the sub-solve 4,044-4,141,
# the dive gives up at once.) Its rota is the phase's starting hint. (The LP's mix of Instance8
# after 25 s of columns, fixed at 0.1/0.9, leaves a problem CP-SAT solves to optimality in 4 s
# at 1,405, where the whole model's search takes 30 s to reach 1,600.)
RINS_LOW, RINS_HIGH = 0.1, 0.9
RINS_SHARE = 0.15
DIVE_END = 0.75


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives: after each improving solution and each phase."""

    phase: str  # e.g. "unfilled_min"
    phase_number: int  # 1-based
    phases: int
    elapsed: float
    objective: int | None  # the phase's objective, best so far
    bound: int | None  # the phase's best bound
    done: bool = False  # the phase has ended


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution to the progress callback and the monitor."""

    def __init__(self, report: Callable[[int, int], None], monitor: _Monitor):
        super().__init__()
        self._report, self._monitor = report, monitor

    def on_solution_callback(self) -> None:
        objective, bound = round(self.objective_value), math.ceil(self.best_objective_bound - 1e-6)
        self._monitor.improved(objective, bound)
        self._report(objective, bound)


class _Monitor:
    """Stops a phase's search when the caller cancels, or when it has a solution but has not
    improved it for `stall` seconds (then the time is better spent on the next tiers), or when
    its solution is within PHASE_GAP of the bound (CP-SAT's, or `floor` proven before), or when
    it has found no solution at all in `give_up` seconds."""

    def __init__(
        self,
        solver: cp_model.CpSolver,
        should_stop: Callable[[], bool] | None,
        stall: float | None,
        floor: int | None = None,
        rest: int | None = None,
        give_up: float | None = None,
    ):
        self.solver, self.should_stop, self.stall, self.rest = solver, should_stop, stall, rest
        self.give_up = None if give_up is None else time.perf_counter() + give_up
        self.floor = floor
        self.cancelled = self.stalled = self.near = self.gave_up = False
        self._last: float | None = None
        self._done = threading.Event()

    def improved(self, objective: int, bound: int) -> None:
        self._last = time.perf_counter()
        self.near = self.near or _near(
            objective, bound if self.floor is None else max(bound, self.floor), self.rest
        )

    def __enter__(self) -> _Monitor:
        threading.Thread(target=self._poll, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _poll(self) -> None:
        while not self._done.wait(0.1):
            if self.should_stop is not None and self.should_stop():
                self.cancelled = True
            elif self.near:
                pass
            elif (
                self._last is None
                and self.give_up is not None
                and time.perf_counter() > self.give_up
            ):
                self.gave_up = True
            elif (
                self._last is not None
                and self.stall
                and time.perf_counter() - self._last > self.stall
            ):
                self.stalled = True
            else:
                continue
            self.solver.stop_search()
            return


_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
    cp_model.MODEL_INVALID: SolveStatus.INVALID,
}


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    start: Iterable[Assignment] | None = None,
    free_days: set[date] | None = None,
) -> SolveResult:
    """Allocate clinicians to posts. Never raises for an infeasible or unfillable problem: the
    status says so. `should_stop` is polled during the search (for cancelling a run).

    `start` (e.g. the published rota) hints the first phase; with `free_days`, assignments on
    every other day are fixed to `start`, so only those days are re-planned (a re-run).
    """
    params = params or SolveParams()
    started = time.perf_counter()
    start = None if start is None else list(start)
    rm = build_model(problem)
    tiers = _active_tiers(problem, rm)
    if start is not None:
        on = _hint_rota(problem, rm, start)
        if free_days is not None:
            _fix_outside(problem, rm, on, free_days)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    if 2 <= params.workers <= len(FEW_WORKERS_SUBSOLVERS) + 1:
        solver.parameters.subsolvers.extend(FEW_WORKERS_SUBSOLVERS[: params.workers - 1])
    if params.workers <= 1:
        solver.parameters.linearization_level = ONE_WORKER_LINEARIZATION
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log

    phases: list[PhaseResult] = []
    hold_rows: dict[tuple[str, ...], int] = {}  # each held tier's row "tier ≤ its value"
    best_values: list[int] | None = None
    parts: dict[str, int] = {}
    solver_parts: dict[str, int] = {}
    rota: Rota = ()
    stopped = False
    relaxation: Relaxation | None = None
    floor = 0  # the fair-share phase's bound before its search (see tighten_fair_share)
    phase_over = threading.Event()  # set as the phase under way ends
    dual: tuple[list[tuple[str, ...]], DualBound] | None = None  # cost's bound, solved early
    # cost's LPs whose prices are taken at the cost phase's end: the one solved early, if it
    # had not solved by the phase's start, and the one solved again after fair share's swaps
    at_end: list[tuple[list[tuple[str, ...]], DualBound]] = []
    held = _held_tiers(problem, tiers, start, params.hold_above)
    if held and start is not None:
        parts = objective_parts(problem, start)  # the phases' shares of the time follow its stakes
    for number, tier in enumerate(tiers, start=1):
        if tier in held:
            rm.model.add(
                sum(problem.weights.of(part) * rm.parts[part] for part in tier) <= held[tier]
            )
            hold_rows[tier] = len(rm.model.proto.constraints) - 1
            phases.append(PhaseResult(tier, SolveStatus.FEASIBLE, held[tier], 0, 0.0))
            continue
        elapsed = time.perf_counter() - started
        left = _time_left(params, elapsed, len(rm.model.proto.variables))
        if best_values is not None and (left <= 0.05 or stopped):
            break
        budget = _budget(
            left,
            _phase_share(
                problem,
                tiers[number - 1 :],
                parts if best_values is not None or held else None,
                len(rm.model.proto.variables) > LP_MOST_VARIABLES,
            ),
        )
        if tier == ("fair_share",):
            rm.objective.scale_fair_share()
        if (
            tier == ("fair_share",)
            and best_values is not None
            and _total_minutes_fixed(problem, rm, phases)
        ):
            floor = problem.weights.of("fair_share") * rm.objective.tighten_fair_share(
                best_values[rm.objective.total_minutes.index], parts["fair_share"]
            )
        if (
            tier == ("fair_share",)
            and best_values is not None
            and params.lns
            and tiers[-1] == ("cost",)
            and len(rm.model.proto.variables) > DUAL_BOUND_VARIABLES
        ):
            below = tiers[
                number - 1 : -1
            ]  # fair share and the tiers down to cost, held as they stand
            # by cost's start (the phases between are quick on such models). On the largest
            # models it has the rest of the solve, and its prices are taken at the cost phase's
            # end if not before. (Generated ics, this machine, 2026-12-04: the LP takes 34-62 s
            # alone; made to solve within fair share's phase it never did in two runs of two,
            # and cost's bound was CP-SAT's own, 40-71 M against 107 M. Started earlier, with
            # the contract's phase, it lacked fair share's rows, which only scale_fair_share
            # below puts in a form the LP keeps: cost's bound from it was 75 M.)
            seconds = budget
            if len(rm.model.proto.variables) > DECOMPOSE_VARIABLES:
                seconds = _time_left(
                    params, time.perf_counter() - started, len(rm.model.proto.variables)
                )
            dual = (below, _dual_bound(problem, rm, below, tiers[-1], parts, seconds))
        phase_started = time.perf_counter()
        phase_end = phase_started + budget  # what each step before the search leaves is up to it
        name = "+".join(tier)
        expr = sum(problem.weights.of(part) * rm.parts[part] for part in tier)
        rm.model.minimize(expr)
        # a phase above the last may stop within NEGLIGIBLE of the whole objective: the tiers
        # below it as they stand, and its own value
        rest = (
            None
            if (
                number == len(tiers)
                or not parts
                or tier[0] not in NEGLIGIBLE_TIERS
                or len(rm.model.proto.variables) <= PRESOLVE_ALWAYS
            )
            else sum(problem.weights.of(part) * parts[part] for part in PARTS if part not in tier)
        )
        # on a big model, a tier already at 0 in the rota so far is proven (every part is at
        # least 0), and one already within NEGLIGIBLE of 0 has nothing to gain: either is held
        # without a search (on a federation the rota of the first tier leaves GP cover at 0,
        # and its phase took 1.2 s to prove it; even load and preferences, about 5,000 and 900
        # against 26 M, stopped at their first rota after 3 s of GLOP running out of time and
        # CP-SAT's start). A small model searches them all the same: its searches are quick, and
        # they leave the model's own penalty variables without slack at a proven optimum.
        value = sum(problem.weights.of(part) * parts.get(part, 0) for part in tier)
        if (
            best_values is not None
            and len(rm.model.proto.variables) > PRESOLVE_ALWAYS
            and (value == 0 or rest is not None and _near(value, 0, rest))
        ):
            rm.model.add(expr <= value)
            hold_rows[tier] = len(rm.model.proto.constraints) - 1
            status = SolveStatus.OPTIMAL if value == 0 else SolveStatus.FEASIBLE
            phases.append(PhaseResult(tier, status, value, 0, time.perf_counter() - phase_started))
            _emit(
                params,
                Progress(
                    name, number, len(tiers), time.perf_counter() - started, value, 0, done=True
                ),
            )
            continue
        priced = None  # cost's bound from the prices of the LP solved early (DualBound)
        closing: float | None = None  # the last phase's closing swaps' time, set at its start
        early: _Alongside | None = None  # the phase's LP, started before its swaps
        if dual is not None and number == len(tiers):
            value_of = {
                ph.tier: ph.value for ph in phases
            }  # each phase holds its tier at its value
            if all(t in value_of for t in dual[0]):
                priced = dual[1].bound([value_of[t] for t in dual[0]])
            if priced is None and len(rm.model.proto.variables) > DECOMPOSE_VARIABLES:
                at_end.append(dual)
            dual = None
        if best_values is not None:
            if (
                tier == ("fair_share",)
                and params.lns
                and len(rm.model.proto.variables) > DECOMPOSE_VARIABLES
            ):
                if tier[0] in LP_ALONGSIDE and tier[0] in LP_ALONGSIDE_ANY_SIZE:
                    # GLOP's LP from now, beside the swaps: they are Python and leave the second
                    # core idle, and GLOP's solve lets go of the interpreter. The rows are read
                    # here (a few seconds), before anything writes to the model again. (Generated
                    # ics, this machine, 2026-12-04: started after the swaps, the LP had not
                    # solved by the phase's end in two runs of two, and the phase's bound was 0;
                    # started before them it solved in 26 s, 3.11 M.)
                    relaxation = Relaxation(rm.model, keep_rows=True)
                    relaxation.load()
                    early = _Alongside(relaxation, LP_ALONGSIDE_SHARE * budget, presolved=True)
                aim = None
                if early is not None and free_days is None and networks_of(problem):
                    early.done.wait(NETWORK_AIM_WAIT * budget)
                    if early.values is not None:
                        aim = _network_minutes(problem, rm, early.values)
                    budget = max(0.1, phase_end - time.perf_counter())
                swapped, best_values = _by_swaps(
                    problem, rm, rota, best_values, SWAP_SHARE * budget, params, free_days, aim
                )
                if swapped is rota:  # nothing moved (e.g. a re-run, where every post is published)
                    best_values = _by_network(
                        problem,
                        rm,
                        rota,
                        best_values,
                        DECOMPOSE_SHARE * budget,
                        params,
                        should_stop,
                    )
                elif dual is not None:  # cost's LP again, held nearer where the phases will end
                    # (SECOND_LP_AT into the phase, and after the first)
                    go = _later(
                        dual[1].done,
                        phase_started + SECOND_LP_AT * (phase_end - phase_started),
                        phase_over,
                    )
                    at_end.append(
                        (
                            dual[0],
                            _dual_bound(
                                problem,
                                rm,
                                dual[0],
                                tiers[-1],
                                objective_parts(problem, swapped),
                                _time_left(
                                    params,
                                    time.perf_counter() - started,
                                    len(rm.model.proto.variables),
                                ),
                                go,
                            ),
                        )
                    )
                rota = swapped
                budget = max(0.1, phase_end - time.perf_counter())
            elif (
                tier == ("cost",)
                and number == len(tiers)
                and params.lns
                and len(rm.model.proto.variables) > DECOMPOSE_VARIABLES
            ):
                if ("fair_share",) in tiers:  # the closing swaps' time, kept from the parts
                    closing = min(FINAL_SWAP_SECONDS, FINAL_SWAP_SHARE * budget)
                rota, best_values = _by_cost_swaps(
                    problem,
                    rm,
                    rota,
                    best_values,
                    COST_SWAP_SHARE * budget,
                    params,
                    free_days,
                    _slack(problem, phases, rota),
                )
                budget = max(0.1, phase_end - time.perf_counter())
                share = COST_PARTS_SHARE if priced is None else COST_PARTS_SHARE_PRICED
                best_values = _by_network(
                    problem,
                    rm,
                    rota,
                    best_values,
                    share * max(0.1, budget - (closing or 0.0)),
                    params,
                    should_stop,
                    goal="cost",
                )
                budget = max(0.1, phase_end - time.perf_counter())
            _hint(rm.model, best_values)
        # The fill and cover tiers gain much from presolve; the tiers from fair share down start
        # from a complete hint, and re-presolving a big model for them can cost more than the
        # phase has (seconds on a federation), so there they search the model as it is.
        solver.parameters.cp_model_presolve = (
            best_values is None
            or tier[0] not in UNPRESOLVED
            or len(rm.model.proto.variables) <= PRESOLVE_ALWAYS
        )
        lp = lp_values = None
        alongside: _Alongside | None = None
        if params.columns and columns.applies(
            problem, rm, tier, best_values is None and start is None
        ):
            lp = _column_start(
                problem,
                rm,
                tier,
                expr,
                budget,
                params,
                should_stop,
                partial(_emit_bound, params, name, number, len(tiers), started),
            )
            budget = max(0.1, phase_end - time.perf_counter())
        size = len(rm.model.proto.variables)
        glop = (
            best_values is not None
            and tier[0] in UNPRESOLVED
            and size > PRESOLVE_ALWAYS
            and (size <= LP_MOST_VARIABLES or params.lns and tier[0] in LP_ALONGSIDE_ANY_SIZE)
        )
        if early is not None and not glop:  # (not so today: fair share's phase on a big model)
            early.relaxation.interrupt()
            early = None
        if glop and early is not None:
            alongside, early = early, None
        elif glop and params.lns and tier[0] in LP_ALONGSIDE:
            # from scratch: cost's LP started from the basis fair share's left returned
            # ABNORMAL in about one run in ten (the from-scratch retry then ran out of time, and
            # the phase was left with a bound of 0), and saved only 1.7 s of 8
            relaxation = Relaxation(rm.model)
            alongside = _Alongside(relaxation, LP_ALONGSIDE_SHARE * budget)
        elif glop:
            relaxation = relaxation or Relaxation(rm.model)
            lp_started = time.perf_counter()
            relaxed = relaxation.solve(LP_SHARE * budget)
            lp, lp_values = (None, None) if relaxed is None else (relaxed.bound, relaxed.values)
            if lp is not None:
                rm.model.add(expr >= lp)
            budget = max(0.1, budget - (time.perf_counter() - lp_started))
            if lp_values is not None and tier[0] in LP_RINS:
                rins_started = time.perf_counter()
                found = _lp_rins(rm, expr, lp_values, best_values, LP_RINS_SHARE * budget, params)
                if found is not None:
                    _hint(rm.model, found)
                budget = max(0.1, budget - (time.perf_counter() - rins_started))
        if priced is not None and lp is None:
            lp = priced
            rm.model.add(expr >= lp)
        phase_deadline = time.perf_counter() + budget
        solver.parameters.max_time_in_seconds = budget

        def report(
            obj: int, bound: int, name=name, number=number, lp=lp, alongside=alongside
        ) -> None:
            if lp is None and alongside is not None:
                lp = alongside.bound  # None until GLOP has solved
            bound = bound if lp is None else max(bound, lp)  # CP-SAT's own may lag behind the cut
            _emit(
                params,
                Progress(name, number, len(tiers), time.perf_counter() - started, obj, bound),
            )

        # a stalled phase hands its time to LNS, else to the tiers below; the last one without
        # LNS has nobody to hand to, nor has the last one of a model too big for GLOP (its
        # bound then grows only while CP-SAT searches: on the ics, cost's from 63 M to 105 M
        # over the phase, where a hand-over to LNS froze it at 85 M to gain 1 M of cost)
        last_alone = number == len(tiers) and (
            not params.lns or (lp is None and len(rm.model.proto.variables) > LP_MOST_VARIABLES)
        )
        stall = (
            0
            if last_alone
            else (
                max(MIN_STALL_SECONDS, STALL_SHARE * budget)
                if params.stall_seconds is None
                else params.stall_seconds
            )
        )
        direct = (
            best_values is not None
            and params.lns
            and tier[0] in HAND_OVER
            and len(rm.model.proto.variables) > PRESOLVE_ALWAYS
            and (lp is not None or alongside is not None or tier[0] == "fair_share")
        )
        give_up = (
            NO_ROTA_SHARE * budget
            if params.lns and best_values is not None and tier[0] in UNPRESOLVED
            else None
        )
        monitor = _Monitor(solver, should_stop, stall, lp, rest, give_up)
        if direct:
            assert best_values is not None
            status = _complete(solver, rm, best_values, budget)
            # the completed rota's bound is its own value: the phase's is only what was proven
            # before its search (the LP, the fair-share floor), and every part is at least 0
            bound = max(0, lp or 0, floor if tier == ("fair_share",) else 0)
        if not direct or status is not SolveStatus.FEASIBLE:
            with monitor:
                status = _STATUS[solver.solve(rm.model, _Watcher(report, monitor))]
            bound = math.ceil(solver.best_objective_bound - 1e-6)  # CP-SAT's proof; LNS proves none
        stopped = monitor.cancelled or (should_stop is not None and should_stop())
        seconds = time.perf_counter() - phase_started  # the phase's whole time: LP, columns, search
        if lp is not None:
            bound = max(bound, lp)
            if status is SolveStatus.FEASIBLE and round(solver.objective_value) <= bound:
                status = SolveStatus.OPTIMAL
        # LNS starts from CP-SAT's rota or, where CP-SAT found none in time, from the held one
        begin = begin_value = None
        if status is SolveStatus.FEASIBLE:
            begin, begin_value = list(solver.response_proto.solution), round(solver.objective_value)
        elif status is SolveStatus.UNKNOWN and monitor.gave_up and best_values is not None:
            begin, begin_value = best_values, round(_objective_value(rm.model, best_values))
            bound = max(0, bound) if bound <= begin_value else max(0, lp or 0)  # trusted as below
        if (
            begin is not None
            and begin_value is not None
            and params.lns
            and not stopped
            and not _near(begin_value, bound, rest)
        ):
            near = threading.Event()

            def improved(
                obj: int,
                bound: int = bound,
                report=report,
                near=near,
                alongside=alongside,
                rest=rest,
            ) -> None:
                if alongside is not None and alongside.bound is not None:
                    bound = max(bound, alongside.bound)
                if _near(obj, bound, rest):
                    near.set()
                report(obj, bound)

            def stop(near=near) -> bool:
                return near.is_set() or (should_stop is not None and should_stop())

            groups = (
                rm.objective.practice_groups(lp_values)
                if "fair_share" in tier
                else rm.objective.practice_groups(aim=False)
                if tier[0] in HAND_OVER
                else None
            )
            if alongside is not None and groups is not None and groups.aim:
                alongside.aim(groups)
            swaps_after = (
                tier == ("cost",)
                and number == len(tiers)
                and ("fair_share",) in tiers
                and len(rm.model.proto.variables) > DECOMPOSE_VARIABLES
            )
            tail = (
                (closing or min(FINAL_SWAP_SECONDS, FINAL_SWAP_SHARE * budget))
                if swaps_after
                else 0.0
            )
            cost_tail = COST_TAIL_SHARE * budget if swaps_after else 0.0
            outcome = improve(
                problem,
                rm,
                expr,
                begin,
                begin_value,
                phase_deadline - tail - cost_tail,
                params.seed + number,
                stop,
                improved,
                params.workers,
                groups,
                stall if number < len(tiers) else None,
                _tie_break(problem, rm, solver, tier, tiers)
                if status is SolveStatus.FEASIBLE
                else None,
                None if alongside is None else alongside.done,
            )
            if cost_tail and not (should_stop is not None and should_stop()):
                values = outcome.values if outcome.improvements else begin
                rota = _values_rota(problem, rm, values)
                _, found = _by_cost_swaps(
                    problem,
                    rm,
                    rota,
                    values,
                    phase_deadline - tail - time.perf_counter(),
                    params,
                    free_days,
                    _slack(problem, phases, rota),
                )
                if found is not values:
                    outcome = replace(
                        outcome,
                        values=found,
                        objective=round(_objective_value(rm.model, found)),
                        improvements=outcome.improvements + 1,
                    )
                    report(outcome.objective, bound)
            if tail and not (should_stop is not None and should_stop()):
                below = [
                    hold_rows[t]
                    for t in tiers[tiers.index(("fair_share",)) + 1 : number - 1]
                    if t in hold_rows
                ]
                found = _swapped_after(
                    problem,
                    rm,
                    outcome.values if outcome.improvements else begin,
                    below,
                    phase_deadline,
                    params,
                    free_days,
                )
                if found is not None:
                    outcome = replace(
                        outcome,
                        values=found,
                        objective=round(_objective_value(rm.model, found)),
                        improvements=outcome.improvements + 1,
                    )
                    report(outcome.objective, bound)
            if outcome.improvements:
                _replay(solver, rm, outcome.values)
                status = SolveStatus.FEASIBLE
                if outcome.objective <= bound:
                    status = SolveStatus.OPTIMAL
            seconds = time.perf_counter() - phase_started
            stopped = stopped or (should_stop is not None and should_stop())
        if alongside is not None:
            if stopped:
                alongside.relaxation.interrupt()
            lp = alongside.result()
            if lp is not None:
                bound = max(bound, lp)
                if status is SolveStatus.FEASIBLE and round(solver.objective_value) <= bound:
                    status = SolveStatus.OPTIMAL
            seconds = time.perf_counter() - phase_started
        for below, late in at_end if number == len(tiers) else ():
            value_of = {ph.tier: ph.value for ph in phases}
            later = (
                late.bound([value_of[t] for t in below])
                if all(t in value_of for t in below)
                else None
            )
            if later is not None and later > bound:
                bound = later
                if status is SolveStatus.FEASIBLE and round(solver.objective_value) <= bound:
                    status = SolveStatus.OPTIMAL
        if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            best_values = list(solver.response_proto.solution)
            solver_parts = {part: int(solver.value(rm.parts[part])) for part in PARTS}
            rota = _rota(problem, rm, solver)
            # Penalty variables are floors (dev ≥ gap): a search stopped early may leave slack
            # above the rota's true value, so the rota's own parts (the checker's) are what is
            # reported and held; the solver's never fall below them.
            parts = objective_parts(problem, rota)
            value = sum(problem.weights.of(part) * parts[part] for part in tier)
            rm.model.add(expr <= value)  # hold this tier while the next ones are minimised
            hold_rows[tier] = len(rm.model.proto.constraints) - 1
            phases.append(PhaseResult(tier, status, value, min(bound, value), seconds))
            report(value, min(bound, value))
        else:
            if best_values is None:
                phases.append(PhaseResult(tier, status, 0, 0, seconds))
                return _no_rota(problem, status, phases, time.perf_counter() - started)
            if stopped:
                break
            # no better rota in this phase's time (a big model may not finish presolve): keep
            # the last one, hold the tier at its value there and go on to the next tier. CP-SAT's
            # bound still holds (the last rota meets this phase's model, so a valid bound never
            # exceeds its value; one that does is not trusted), and every part is at least 0.
            value = sum(problem.weights.of(part) * parts[part] for part in tier)
            rm.model.add(expr <= value)
            hold_rows[tier] = len(rm.model.proto.constraints) - 1
            proven = max(0, lp or 0, bound if bound <= value else 0)
            phases.append(PhaseResult(tier, status, value, min(proven, value), seconds))
        _emit(
            params,
            Progress(
                name,
                number,
                len(tiers),
                time.perf_counter() - started,
                phases[-1].value,
                phases[-1].bound,
                done=True,
            ),
        )
        phase_over.set()  # (a phase that ends early lets cost's second LP start, SECOND_LP_AT)
        phase_over = threading.Event()

    if best_values is None:  # nothing to minimise: one plain feasibility solve
        status = _STATUS[solver.solve(rm.model)]
        if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            return _no_rota(problem, status, phases, time.perf_counter() - started)
        solver_parts = {part: int(solver.value(rm.parts[part])) for part in PARTS}
        rota = _rota(problem, rm, solver)
        parts = objective_parts(problem, rota)

    phases = _met_bounds(problem, phases, parts)
    objective = sum(problem.weights.of(p) * parts[p] for p in PARTS)
    all_proven = len(phases) == len(tiers) and all(
        ph.status is SolveStatus.OPTIMAL for ph in phases
    )
    # The bound of the weighted total: proven tiers at their value, the rest at their bound
    # (each given the tiers above held at the values found), tiers never run at 0.
    bound = sum(ph.bound for ph in phases) + sum(
        problem.weights.of(p) * parts[p] for tier in GOALS if tier not in tiers for p in tier
    )
    return SolveResult(
        status=SolveStatus.OPTIMAL if all_proven else SolveStatus.FEASIBLE,
        rota=rota,
        objective=objective,
        parts=parts,
        bound=bound,
        gap=(objective - bound) / max(1, objective),
        seconds=time.perf_counter() - started,
        phases=tuple(phases),
        message="cancelled" if stopped else "",
        solver_parts=solver_parts,
    )


class _Alongside:
    """GLOP's bound on a phase (scheduler.solver.lp), solved in a thread beside the phase's search."""

    def __init__(self, relaxation: Relaxation, seconds: float, presolved: bool = False):
        """`presolved`: once GLOP has solved, a tighter bound from the same rows through HiGHS's
        MIP presolve (Relaxation.presolved_bound, the relaxation made with keep_rows), within
        the same `seconds`; `done` is set when GLOP's own solve ends, result() waits for both."""
        self.bound: int | None = None
        self.presolved = presolved
        self.values: list[float] | None = None
        self.relaxation = relaxation
        self.done = threading.Event()
        self._practices: Practices | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(relaxation, seconds), daemon=True)
        self._thread.start()

    def _run(self, relaxation: Relaxation, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        try:
            solved = relaxation.solve(seconds)
            with self._lock:
                if solved is not None:
                    self.bound, self.values = solved.bound, solved.values
                    self._aim()
        finally:
            self.done.set()
        if not self.presolved:
            return
        try:
            tighter = relaxation.presolved_bound(deadline - time.perf_counter())
        except Exception:  # the bound is optional: GLOP's own stands
            log.warning("no presolved bound for this phase", exc_info=True)
            tighter = None
        finally:
            relaxation.rows = None  # (hundreds of MB on an ics)
        if tighter is not None:
            with self._lock:
                if self.bound is None or tighter > self.bound:
                    self.bound = tighter

    def aim(self, practices: Practices | None) -> None:
        """Aim the practice neighbourhood at the LP's minutes (Practices.targets) once GLOP has
        solved; until then it aims at the fair shares themselves."""
        with self._lock:
            self._practices = practices
            self._aim()

    def _aim(self) -> None:
        if self._practices is not None and self.values is not None:
            self._practices.aim_at(self.values)

    def result(self) -> int | None:
        """The bound, once GLOP has finished (None: no optimum in its time)."""
        self._thread.join()
        return self.bound


def _tie_break(
    problem: Problem,
    rm: RotaModel,
    solver: cp_model.CpSolver,
    tier: tuple[str, ...],
    tiers: list[tuple[str, ...]],
) -> tuple[object, int] | None:
    """The last tier's expression and its value in the solver's rota, for LNS to break ties
    in `tier` by (TIE_BREAK), or None."""
    last = tiers[-1]
    if (
        tier[0] not in TIE_BREAK
        or last == tier
        or len(rm.model.proto.variables) > LP_MOST_VARIABLES
    ):
        return None
    expr = sum(problem.weights.of(part) * rm.parts[part] for part in last)
    return expr, round(solver.value(expr))


def _near(objective: int, bound: int, rest: int | None = None) -> bool:
    """Whether a phase's rota is close enough to its bound to stop searching: within PHASE_GAP
    of it, or (given `rest`, the weighted parts of the other tiers) within NEGLIGIBLE of the
    whole objective."""
    slack = 0.0 if rest is None else NEGLIGIBLE * (rest + objective)
    return objective - bound <= max(PHASE_GAP * abs(objective), slack)


def _budget(left: float, share: float) -> float:
    """A phase's time: its share of what is left, but at least MIN_PHASE_SECONDS of it."""
    return max(max(left, 0.1) * share, min(MIN_PHASE_SECONDS, left))


def _time_left(params: SolveParams, elapsed: float, variables: int) -> float:
    """What the phases may still plan to use: the time limit less what has gone and the
    closing reserve (CLOSING_SECONDS_PER_VARIABLE)."""
    return params.time_limit - elapsed - CLOSING_SECONDS_PER_VARIABLE * variables


def _phase_share(
    problem: Problem, tiers: list[tuple[str, ...]], parts: dict[str, int] | None, big: bool = False
) -> float:
    """The share of the time left that the first of `tiers` gets. Before any rota, each tier
    an even share (at least MIN_PHASE_SHARE); after, in proportion to what each tier weighs in
    the rota so far (its weighted parts; a tier's value is what its phase can lower), each at
    least MIN_STAKE_SHARE, so that no tier is starved, and at most MAX_STAKE_SHARE."""
    if len(tiers) == 1:
        return 1.0
    if parts is None:
        return max(1 / len(tiers), MIN_PHASE_SHARE)
    stakes = [
        max(1, sum(problem.weights.of(part) * parts.get(part, 0) for part in tier))
        for tier in tiers
    ]
    most = MAX_STAKE_SHARE_BIG if big else MAX_STAKE_SHARE
    least = FILL_SHARE_BIG if big and tiers[0] in FILL_TIERS else MIN_STAKE_SHARE
    return max(least, min(stakes[0] / sum(stakes), most))


def _emit_bound(
    params: SolveParams, name: str, number: int, phases: int, started: float, bound: int
) -> None:
    """Progress while column generation raises its bound, before the phase has a rota."""
    _emit(params, Progress(name, number, phases, time.perf_counter() - started, None, bound))


def _column_start(
    problem: Problem,
    rm: RotaModel,
    tier: tuple[str, ...],
    expr,
    budget: float,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    on_bound: Callable[[int], None] | None = None,
) -> int | None:
    """Column generation for a tier that splits by clinician (scheduler.solver.columns), then a rota
    from its LP: a dive or, where the dive gives up, a sub-solve around the LP's mix. Cuts the
    bound into the model and hints the rota; returns the bound (None if no round of pricing
    finished)."""
    started = time.perf_counter()
    generation = columns.ColumnGeneration(problem, rm, tier)
    outcome = generation.run(
        started + COLUMN_SHARE * budget, params.workers, should_stop, on_bound, settle=True
    )
    if outcome.bound is not None:
        rm.model.add(expr >= outcome.bound)
    if outcome.lp_value is None or (should_stop is not None and should_stop()):
        return outcome.bound
    # the dive first, while it has the time to fix one clinician a step (Curtois Instance8: 1,304
    # from a dive begun right after the columns; begun after the sub-solve's 9 s it had to fix
    # several at once and ended at 1,409-1,512); the sub-solve around the mix where it gives up
    dived = generation.dive(started + DIVE_END * budget, params.workers, should_stop)
    if dived is not None:
        mix = {(ci, si, pi): 1.0 for ci, cells in dived.items() for si, pi in cells}
    else:
        mix = outcome.xbar
    found = _rins(rm, expr, mix, RINS_SHARE * budget, params)
    if found is not None:
        _hint(rm.model, found)
    return outcome.bound


def _objective_value(model: cp_model.CpModel, values: list[int]) -> float:
    objective = model.proto.objective
    return objective.offset + sum(
        coeff * values[index] for index, coeff in zip(objective.vars, objective.coeffs, strict=True)
    )


def _rins(
    rm: RotaModel,
    expr,
    xbar: dict[tuple[int, int, int], float],
    seconds: float,
    params: SolveParams,
) -> list[int] | None:
    """A rota near the LP's mix: in a clone of the model, every assignment the mix puts at or
    below RINS_LOW is fixed to 0 and at or above RINS_HIGH to 1 (domains shrunk, so every
    constraint still holds), the rest hinted by rounding and searched. None if nothing found."""
    model = rm.model.clone()
    model.minimize(expr)
    proto = model.proto
    hint_vars, hint_values = [], []
    for key, var in rm.variables.x.items():
        value = xbar.get(key, 0.0)
        hint_vars.append(var.index)
        hint_values.append(int(value > 0.5))
        if value <= RINS_LOW or value >= RINS_HIGH:
            domain = proto.variables[var.index].domain
            domain[0] = domain[1] = int(value >= RINS_HIGH)
    proto.solution_hint.vars.extend(hint_vars)
    proto.solution_hint.values.extend(hint_values)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _lp_rins(
    rm: RotaModel,
    expr,
    lp_values: list[float],
    values: list[int],
    seconds: float,
    params: SolveParams,
) -> list[int] | None:
    """Relaxation-induced neighbourhood search: in a clone of the model, every assignment on
    which the LP's optimum and the rota `values` agree (the LP within LP_AGREE of the rota's 0 or
    1) is fixed, the rest searched from the rota. Returns a better rota, or None."""
    model = rm.model.clone()
    model.minimize(expr)
    proto = model.proto
    for var in rm.variables.x.values():
        value = values[var.index]
        if abs(lp_values[var.index] - value) <= LP_AGREE:
            domain = proto.variables[var.index].domain
            domain[0] = domain[1] = value
    _hint(model, values)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    if solver.solve(model) not in (
        cp_model.OPTIMAL,
        cp_model.FEASIBLE,
    ) or solver.objective_value >= _objective_value(model, values):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _dual_bound(
    problem: Problem,
    rm: RotaModel,
    below: list[tuple[str, ...]],
    last: tuple[str, ...],
    parts: dict[str, int],
    seconds: float,
    after: threading.Event | None = None,
) -> DualBound:
    """The last tier's LP (DualBound) with each tier of `below` held at its value in `parts`,
    solving in a thread for at most `seconds` (once `after` is set)."""
    weighted = partial(_weighted, problem)
    return DualBound(
        rm.model,
        weighted(last, rm.parts),
        [(weighted(t, rm.parts), weighted(t, parts)) for t in below],
        seconds,
        after,
    )


def _later(event: threading.Event, when: float, hurry: threading.Event) -> threading.Event:
    """An event set once `event` is and perf_counter() has reached `when` (or `hurry` is set)."""
    go = threading.Event()

    def wait() -> None:
        event.wait()
        hurry.wait(max(0.0, when - time.perf_counter()))
        go.set()

    threading.Thread(target=wait, daemon=True).start()
    return go


def _weighted(problem: Problem, tier: tuple[str, ...], parts: dict) -> Any:
    return sum(problem.weights.of(part) * parts[part] for part in tier)


def _by_swaps(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    free_days: set[date] | None,
    aim: dict[Network, float] | None = None,
) -> tuple[Rota, list[int]]:
    """`rota` improved for fair share by posts changing hands (scheduler.solver.swap, steered towards
    the networks' minutes `aim` first) in at most SWAP_PARTS_SHARE of `seconds`, with its
    solution of the model, if that lowers the phase's objective; else `rota` and `values`
    themselves. A re-run's fixed days are left as they are."""
    started = time.perf_counter()
    fixed = None if free_days is None else (lambda day: day not in free_days)
    swapped = fair_share_swaps(problem, rota, SWAP_PARTS_SHARE * seconds, params.seed, fixed, aim)
    found = _rota_values(problem, rm, swapped, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return rota, values
    return swapped, found


def _by_cost_swaps(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    free_days: set[date] | None,
    slack: tuple[int, int] = (0, 0),
) -> tuple[Rota, list[int]]:
    """`rota` made cheaper by posts handed to clinicians who cost less (scheduler.solver.swap.cost_swaps,
    fair share no worse, the tiers between within `slack` of their holds, at COST_SWAP_PRICE) in
    at most SWAP_PARTS_SHARE of `seconds`, with its solution of the model, if that lowers cost;
    else `rota` and `values` themselves."""
    started = time.perf_counter()
    swaps = _swap_seconds(rm, seconds)
    if swaps <= 0:
        return rota, values
    fixed = None if free_days is None else (lambda day: day not in free_days)
    swapped = cost_swaps(problem, rota, swaps, params.seed, fixed, slack, COST_SWAP_PRICE)
    found = _rota_values(problem, rm, swapped, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return rota, values
    return swapped, found


def _slack(problem: Problem, phases: list[PhaseResult], rota: Rota) -> tuple[int, int]:
    """How far the even-load tier (weighted, with even Saturdays and minimum sessions) and
    preferences' may rise in `rota` before they reach the values their phases hold them at (0
    for a tier not held)."""
    held = {ph.tier: ph.value for ph in phases}
    parts = objective_parts(problem, rota)
    return tuple(
        max(0, held[tier] - sum(problem.weights.of(p) * parts[p] for p in tier))
        if tier in held
        else 0
        for tier in (next(t for t in GOALS if "even_load" in t), ("preferences",))
    )


def _swapped_after(
    problem: Problem,
    rm: RotaModel,
    values: list[int],
    below: list[int],
    deadline: float,
    params: SolveParams,
    free_days: set[date] | None,
) -> list[int] | None:
    """The last phase's solution `values` with posts changing hands for fair share
    (scheduler.solver.swap) until `deadline`, as a full solution of the model, if that lowers fair share
    and the weighted total of the goals; else None. The swaps keep every tier above fair share;
    cost (the phase's own) and the tiers between may move a little, so the rows `below` that
    hold those tiers are let go, in the model too once a rota is taken: a lexicographic gain,
    whose parts the checker reports as they are."""
    swaps = _swap_seconds(rm, deadline - time.perf_counter())
    if swaps <= 0:
        return None
    rota = _values_rota(problem, rm, values)
    fixed = None if free_days is None else (lambda day: day not in free_days)
    swapped = fair_share_swaps(problem, rota, swaps, params.seed, fixed)
    before, after = objective_parts(problem, rota), objective_parts(problem, swapped)
    if after["fair_share"] >= before["fair_share"] or _weighted_total(
        problem, after
    ) >= _weighted_total(problem, before):
        return None
    kept = {row: list(rm.model.proto.constraints[row].linear.domain) for row in below}
    for row in below:
        _let_go(rm.model, row)
    found = _rota_values(problem, rm, swapped, deadline - time.perf_counter(), params)
    if found is None:
        for row, domain in kept.items():
            linear = rm.model.proto.constraints[row].linear
            linear.domain.clear()
            linear.domain.extend(domain)
    return found


def _swap_seconds(rm: RotaModel, seconds: float) -> float:
    """Of `seconds` for swaps and the completion of their rota into a solution of the model, the
    swaps' share: SWAP_PARTS_SHARE, and no more than leaves COMPLETION_RESERVE times the last
    completion's time (0: not worth starting). On a slow machine the ics's completions took 2.5-
    3.9 s, and the closing swaps, given 0.2 of 4-5 s for theirs, ended the solve 5-7 s late."""
    swaps = min(SWAP_PARTS_SHARE * seconds, seconds - COMPLETION_RESERVE * rm.completion_seconds)
    return swaps if swaps >= MIN_SWAP_SECONDS else 0.0


def _let_go(model: cp_model.CpModel, row: int) -> None:
    """The linear row `row` of `model` bounded on neither side."""
    linear = model.proto.constraints[row].linear
    linear.domain.clear()
    linear.domain.extend([-(2**63 - 1), 2**63 - 1])


def _values_rota(problem: Problem, rm: RotaModel, values: list[int]) -> Rota:
    """The assignments of a full solution of the model."""
    return tuple(
        Assignment(problem.sessions[si].session_id, pi, problem.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if values[var.index]
    )


def _weighted_total(problem: Problem, parts: dict[str, int]) -> int:
    return sum(problem.weights.of(part) * parts[part] for part in PARTS)


def _network_minutes(problem: Problem, rm: RotaModel, values: list[float]) -> dict[Network, float]:
    """Each network's minutes worked by its practices' clinicians in a (fractional) solution."""
    network_of = {p.code: p.network for p in problem.practices}
    minutes: dict[Network, float] = defaultdict(float)
    for (ci, si, _), var in rm.variables.x.items():
        network = network_of.get(problem.clinicians[ci].practice_code)
        if network is not None:
            minutes[network] += values[var.index] * problem.sessions[si].minutes
    return dict(minutes)


def _by_network(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    goal: str = "fair_share",
) -> list[int]:
    """The solution `values` (whose assignments are `rota`) re-solved network by network
    (scheduler.solver.decompose) for `goal`, fair share or cost, in at most `seconds`, if that lowers
    the phase's objective; else `values` itself."""
    started = time.perf_counter()
    by_network = network_rota if goal == "fair_share" else network_cost_rota
    joined = by_network(problem, rota, DECOMPOSE_PARTS_SHARE * seconds, params, should_stop)
    if joined is None:
        return values
    found = _rota_values(problem, rm, joined, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return values
    return found


def _held_tiers(
    problem: Problem,
    tiers: list[tuple[str, ...]],
    start: Iterable[Assignment] | None,
    hold_above: str | None,
) -> dict[tuple[str, ...], int]:
    """SolveParams.hold_above: each tier above the one holding that part, at the start rota's
    value."""
    if start is None or hold_above is None:
        return {}
    order = list(GOALS)
    first = next(number for number, tier in enumerate(order) if hold_above in tier)
    values = objective_parts(problem, start)
    return {
        tier: sum(problem.weights.of(part) * values[part] for part in tier)
        for tier in tiers
        if order.index(tier) < first
    }


def _met_bounds(
    problem: Problem, phases: list[PhaseResult], parts: dict[str, int]
) -> list[PhaseResult]:
    """A lower tier's search may also lower an upper tier below the value held for it. Where the
    final rota meets a phase's bound, that phase is proven after all: its bound holds for every
    rota that keeps the tiers above within what was held for them, the final rota among them."""
    out = []
    for ph in phases:
        value = sum(problem.weights.of(part) * parts[part] for part in ph.tier)
        if ph.status is SolveStatus.FEASIBLE and value <= ph.bound:
            ph = replace(ph, status=SolveStatus.OPTIMAL, value=value, bound=value)
        out.append(ph)
    return out


def _total_minutes_fixed(problem: Problem, rm: RotaModel, phases: list[PhaseResult]) -> bool:
    """Whether every rota still allowed works the same total of minutes: true when no post may
    go above its target and both unfilled parts are constant or held at a proven optimum
    (their sum is then Σ minutes × target − the minutes worked)."""
    if any(post.most > post.target for s in problem.sessions for post in s.posts):
        return False
    proven = {ph.tier for ph in phases if ph.status is SolveStatus.OPTIMAL}
    return all(
        isinstance(rm.parts[part], int) or (part,) in proven
        for part in ("unfilled_min", "unfilled_target")
    )


def _active_tiers(problem: Problem, rm: RotaModel) -> list[tuple[str, ...]]:
    """Tiers with something to minimise: a positive weight on a part that is not a constant."""
    return [
        tier
        for tier in GOALS
        if any(problem.weights.of(p) > 0 and not isinstance(rm.parts[p], int) for p in tier)
    ]


def _hint_rota(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment]
) -> set[tuple[int, int, int]]:
    """Hint every assignment variable: 1 where `rota` has it (on its post, else on another post
    of the session that the clinician may fill), 0 elsewhere. Returns the keys hinted 1."""
    on = _rota_keys(problem, rm, rota)
    rm.model.clear_hints()
    hint = rm.model.proto.solution_hint
    hint.vars.extend(var.index for var in rm.variables.x.values())
    hint.values.extend(1 if key in on else 0 for key in rm.variables.x)
    return on


def _rota_keys(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment]
) -> set[tuple[int, int, int]]:
    """The assignment variables that `rota` sets to 1 (its post, else another post of the
    session that the clinician may fill)."""
    ci_of = {c.clinician_id: i for i, c in enumerate(problem.clinicians)}
    si_of = {s.session_id: i for i, s in enumerate(problem.sessions)}
    posts: dict[tuple[int, int], list[int]] = defaultdict(list)
    for ci, si, pi in rm.variables.x:
        posts[ci, si].append(pi)
    on: set[tuple[int, int, int]] = set()
    for a in rota:
        found_ci, found_si = ci_of.get(a.clinician_id), si_of.get(a.session_id)
        if found_ci is None or found_si is None:
            continue
        choices = posts.get((found_ci, found_si), [])
        if choices:
            on.add((found_ci, found_si, a.post_index if a.post_index in choices else choices[0]))
    return on


def _rota_values(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment], seconds: float, params: SolveParams
) -> list[int] | None:
    """A full solution of the model (every variable, the phase's objective at its least) whose
    assignments are `rota`'s; None if `rota` breaks a rule or a held tier, or time runs out."""
    began = time.perf_counter()
    on = _rota_keys(problem, rm, rota)
    model = rm.model.clone()
    model.clear_hints()
    for key, var in rm.variables.x.items():
        domain = model.proto.variables[var.index].domain
        domain[0] = domain[1] = int(key in on)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    status = solver.solve(model)
    rm.completion_seconds = time.perf_counter() - began
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _fix_outside(
    problem: Problem, rm: RotaModel, on: set[tuple[int, int, int]], free_days: set[date]
) -> None:
    """Fix every assignment variable of a session outside `free_days` to its hinted value."""
    proto = rm.model.proto
    for key, var in rm.variables.x.items():
        if problem.sessions[key[1]].date not in free_days:
            value = 1 if key in on else 0
            domain = proto.variables[var.index].domain
            domain.clear()
            domain.extend([value, value])


def _replay(solver: cp_model.CpSolver, rm: RotaModel, values: list[int]) -> None:
    """Make `solver`'s last response the given full solution (found by LNS), so that values
    and the rota are read from it as from any solve."""
    _hint(rm.model, values)
    solver.parameters.fix_variables_to_their_hinted_value = True
    keep = solver.parameters.max_time_in_seconds
    solver.parameters.max_time_in_seconds = 60.0
    try:
        solver.solve(rm.model)
    finally:
        solver.parameters.fix_variables_to_their_hinted_value = False
        solver.parameters.max_time_in_seconds = keep


def _complete(
    solver: cp_model.CpSolver, rm: RotaModel, values: list[int], seconds: float
) -> SolveStatus:
    """Make `solver`'s last response the held rota `values` as a whole solution of the model now:
    its assignments fixed, every other variable (penalties, and variables added since) at its
    best for them. FEASIBLE, or UNKNOWN if that takes longer than `seconds`."""
    hint = rm.model.proto.solution_hint
    hint.vars.clear()
    hint.values.clear()
    indices = [var.index for var in rm.variables.x.values()]
    hint.vars.extend(indices)
    hint.values.extend(values[index] for index in indices)
    solver.parameters.fix_variables_to_their_hinted_value = True
    keep = solver.parameters.max_time_in_seconds
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    try:
        status = solver.solve(rm.model)
    finally:
        solver.parameters.fix_variables_to_their_hinted_value = False
        solver.parameters.max_time_in_seconds = keep
        _hint(rm.model, values)
    return (
        SolveStatus.FEASIBLE
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else SolveStatus.UNKNOWN
    )


def _hint(model: cp_model.CpModel, values: list[int]) -> None:
    """A complete hint, written into the proto in one go (a call per variable costs seconds on
    a federation)."""
    hint = model.proto.solution_hint
    hint.vars.clear()
    hint.values.clear()
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _rota(problem: Problem, rm: RotaModel, solver: cp_model.CpSolver) -> Rota:
    locked = {(pin.session_id, pin.clinician_id) for pin in problem.published if pin.locked}
    out = []
    for (ci, si, pi), var in rm.variables.x.items():
        if solver.boolean_value(var):
            sid, cid = problem.sessions[si].session_id, problem.clinicians[ci].clinician_id
            out.append(Assignment(sid, pi, cid, (sid, cid) in locked))
    return tuple(sorted(out, key=lambda a: (_order(problem, a), a)))


def _order(problem: Problem, a: Assignment) -> tuple[int, str]:
    s = problem.session(a.session_id)
    return (s.start_minute, s.hub_id)


def _no_rota(
    problem: Problem, status: SolveStatus, phases: list[PhaseResult], seconds: float
) -> SolveResult:
    message = {
        SolveStatus.INFEASIBLE: "the hard rules and locked pins admit no rota",
        SolveStatus.UNKNOWN: "no rota found within the time limit",
        SolveStatus.INVALID: "the model was rejected (a bug: please report it)",
    }.get(status, "")
    return SolveResult(
        status=status,
        rota=(),
        objective=0,
        parts=dict.fromkeys(PARTS, 0),
        bound=0,
        gap=0.0,
        seconds=seconds,
        phases=tuple(phases),
        message=message,
    )


def _emit(params: SolveParams, progress: Progress) -> None:
    if callable(params.progress):
        params.progress(progress)
