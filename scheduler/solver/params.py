"""What a solve is asked for (SolveParams) and how the solve loop shares out its time (Tuning).

The solve runs the goal tiers as lexicographic phases (scheduler.solver.solve). On a small model
each phase is a plain CP-SAT search; on a big one (a federation, an integrated care system) a
phase also uses GLOP's LP bound, large-neighbourhood search (scheduler.solver.lns), posts
changing hands (scheduler.solver.swap) and the problem cut network by network
(scheduler.solver.decompose). The numbers that decide which of these run, and for what share of
a phase, are the fields of `Tuning`; tests pass their own through `SolveParams.tuning`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scheduler.solver.columns import ColumnTuning
from scheduler.solver.construct import ConstructTuning
from scheduler.solver.lns import LnsTuning
from scheduler.solver.lp import LpTuning
from scheduler.solver.swap import SwapTuning


@dataclass(frozen=True)
class Tuning:
    """The solve loop's tuning constants. Shares are of the phase's time unless said otherwise;
    sizes are counts of model variables; tier sets name a tier by its first part, except
    fill_tiers, which holds whole tiers."""

    # time planned per model variable for stopping the search and reading the rota at the end
    closing_seconds_per_variable: float = 3e-5
    # before any rota, each phase's least share of the time left, so upper tiers are not starved
    min_phase_share: float = 0.25
    # a phase's least time, if that much is left (a light tier's share may be too short to prove)
    min_phase_seconds: float = 2.0
    # once a rota exists, time goes by each tier's weight in it, each at least this share
    min_stake_share: float = 0.1
    # ... and at most this share while tiers remain below (a weight overstates what can be gained)
    max_stake_share: float = 0.5
    # ... or this on a model past lp_most_variables, where no tier below has an LP to solve
    max_stake_share_big: float = 0.5
    # ... and there the fill tiers get at least this share, as fair share's floor needs them proven
    fill_share_big: float = 0.2
    # the tiers that fill posts (fill_share_big)
    fill_tiers: frozenset[tuple[str, ...]] = frozenset({("unfilled_min",), ("unfilled_target",)})
    # a phase whose rota is within this share of its bound stops and hands its time on
    phase_gap: float = 1e-4
    # ... or, above the last phase, within this share of the whole objective: too small to show
    negligible: float = 1e-3
    # the tiers that may stop at `negligible` (on big models only; below fair share's start rota)
    negligible_tiers: frozenset[str] = frozenset({"fair_share", "even_load", "preferences"})
    # a phase that has not improved for this share of its time stops
    stall_share: float = 0.25
    # ... but not before this many seconds without improving
    min_stall_seconds: float = 2.0
    # tiers searched unpresolved from a complete hint on big models, handed to LNS when stalled
    unpresolved: frozenset[str] = frozenset({"fair_share", "even_load", "preferences", "cost"})
    # a model at most this size presolves every phase: it is quick and its LP proves more
    presolve_always: int = 10_000
    # the subsolvers given to few workers: max_lp's LP relaxes far more of these models
    few_workers_subsolvers: tuple[str, ...] = ("max_lp", "default_lp", "core")
    # the linearization level of a solve on one worker (max_lp's), e.g. a network part's
    one_worker_linearization: int = 2
    # the most of a phase that GLOP's LP, solved before the search, may take
    lp_share: float = 0.4
    # models past this size get no GLOP LP (it would take most of the phase), but see below
    lp_most_variables: int = 100_000
    # tiers whose GLOP LP only bounds the phase, so it is solved in a thread beside the search
    lp_alongside: frozenset[str] = frozenset({"fair_share", "cost"})
    # the most of a phase the LP beside the search may take
    lp_alongside_share: float = 0.8
    # tiers whose LP runs beside the search on a model of any size (GLOP solves it in time)
    lp_alongside_any_size: frozenset[str] = frozenset({"fair_share"})
    # past this size, cost's bound comes from an LP (DualBound) solved while fair share searches
    dual_bound_variables: int = 100_000
    # a phase from fair share down with no rota by this share of its time hands over to LNS
    no_rota_share: float = 0.5
    # past this size, fair share starts with swaps and cost with network parts (decompose)
    decompose_variables: int = 100_000
    # the most of fair share's phase the swaps and their completion into a solution take
    swap_share: float = 0.35
    # the swaps' own share of that time (the rest completes their rota into a solution)
    swap_parts_share: float = 0.8
    # swaps leave this many times the last completion's seconds for completing their rota
    completion_reserve: float = 1.5
    # swaps are not started with less time than this
    min_swap_seconds: float = 0.5
    # the most of fair share's phase the swaps wait for its LP, whose minutes they aim at
    network_aim_wait: float = 0.25
    # where swaps move nothing (a re-run), the most of the phase the network parts take instead
    decompose_share: float = 0.5
    # the parts' own share of that time (the rest completes the joined rota into a solution)
    decompose_parts_share: float = 0.85
    # the share of cost's phase (after its swaps) for lowering cost network by network
    cost_parts_share: float = 0.25
    # ... or this when cost is bounded by DualBound's prices and the rest goes to LNS
    cost_parts_share_priced: float = 0.95
    # the share of cost's phase for posts going to cheaper clinicians before the parts
    cost_swap_share: float = 0.2
    # cost swaps take a rise in even load if cost falls by more than this (pence) per unit of it
    cost_swap_price: int = 150
    # the share of cost's phase (after swaps and parts) for the cost swaps that end it
    cost_tail_share: float = 0.25
    # cost's second LP waits until this share of fair share's phase has gone (HiGHS holds a core)
    second_lp_at: float = 0.5
    # tiers that first search where the LP's optimum and the held rota disagree (LP RINS)
    lp_rins: frozenset[str] = frozenset({"even_load", "preferences"})
    # an assignment within this of the rota's 0 or 1 in the LP's optimum is fixed in LP RINS
    lp_agree: float = 0.01
    # the most of the phase (after the LP) that LP RINS takes
    lp_rins_share: float = 0.6
    # tiers that go straight to LNS on big models, from the rota held from the tier above
    hand_over: frozenset[str] = frozenset({"fair_share", "cost"})
    # tiers whose LNS breaks ties by the last tier (cost), more often the longer it stalls
    tie_break: frozenset[str] = frozenset({"fair_share", "even_load", "preferences"})
    # the most seconds of cost's phase for the closing fair-share swaps on the largest models
    final_swap_seconds: float = 6.0
    # ... and the most share of cost's phase for them
    final_swap_share: float = 0.05
    # the most of a first tier that splits by clinician for column generation
    column_share: float = 0.5
    # the column LP's values at or below this are fixed to 0 in the sub-solve around its mix
    rins_low: float = 0.1
    # ... and at or above this fixed to 1
    rins_high: float = 0.9
    # the most of the phase the sub-solve around the column LP's mix takes
    rins_share: float = 0.15
    # the dive from the column LP's mix runs until this share of the phase has gone
    dive_end: float = 0.75
    # only a problem of at least this many networks is cut into parts (decompose): with fewer,
    # each part is a large share of the whole and the whole solve's own search does as well
    min_networks: int = 4
    # a network part is not started with less time than this
    min_part_seconds: float = 0.2
    # a cost part's search hands over to LNS after this long without improving: on one network
    # CP-SAT returns the start and then finds little, where LNS lowers cost within seconds
    cost_part_stall: float = 0.5
    # the portfolio (strategy "portfolio") keeps at least this share of its budget for the plain
    # strategy, the full model under CP-SAT's own search, whatever the specialised phases do
    plain_share: float = 0.25
    # the specialised phases give their time back to plain after this share of the budget with
    # neither a better rota (than theirs and plain's opening rota) nor a better bound
    specialist_stall_share: float = 0.15
    # ... but not before this many seconds without improving
    min_specialist_stall: float = 3.0
    # ... or, before their first rota, this share (column generation's dive reports nothing
    # for up to a fifth of the budget on the odd-numbered Curtois instances)
    specialist_start_stall_share: float = 0.3
    # the portfolio's plain run ends this share of the budget early, for reading its rota
    closing_share: float = 0.01
    # a construction (scheduler.solver.construct) starts beside plain's opening once this share
    # of the budget has gone without plain's first rota (most first rotas come well before), and
    # runs as long as the opening does
    construct_after_share: float = 0.05
    # the knobs of the mechanisms the phases call on, each owned by its module
    lns: LnsTuning = field(default_factory=LnsTuning)
    construct: ConstructTuning = field(default_factory=ConstructTuning)
    columns: ColumnTuning = field(default_factory=ColumnTuning)
    lp: LpTuning = field(default_factory=LpTuning)
    swap: SwapTuning = field(default_factory=SwapTuning)


# What `SolveParams.strategy` may name (scheduler.solver.solve.solve):
# - "plain": the full model, each goal tier in turn solved by CP-SAT with its own search and
#   default parameters, no column generation, LP, LNS, swaps or network parts;
# - "specialised": the phases with every mechanism above that applies;
# - "portfolio": plain until its first rota (or, beside it, a construction clinician by
#   clinician until the first rota of either; a constructed one is then improved by LNS instead
#   of the phases), then the specialised phases while they improve on it, then plain again
#   with what they leave (at least plain_share of the budget), hinted with the better rota so
#   far; the best rota of the three returned.
STRATEGIES: tuple[str, ...] = ("portfolio", "plain", "specialised")


@dataclass(frozen=True)
class SolveParams:
    """What a solve is asked for: its time, workers and seed, which mechanisms run, and hooks."""

    time_limit: float = 60.0
    workers: int = 2
    seed: int = 0
    log: bool = False  # CP-SAT's own search log on stdout
    # stop a phase this long without improving; None: auto, 0: never
    stall_seconds: float | None = None
    # large-neighbourhood search when CP-SAT has not proved a tier
    lns: bool = True
    # column generation on a first tier that splits by clinician (scheduler.solver.columns)
    columns: bool = True
    progress: object = None  # callable(Progress) or None; see scheduler.solver.solve
    # With a start rota: the goal tiers above the one holding this part are held at the start's
    # values instead of minimised (scheduler.solver.decompose's parts, whose start is already at
    # the whole problem's best for them)
    hold_above: str | None = None
    # which solve runs: one of STRATEGIES
    strategy: str = "portfolio"
    # whether the portfolio runs the specialised phases before plain (False: plain alone)
    specialists: bool = True
    # the solve loop's shares, thresholds and tier sets
    tuning: Tuning = field(default_factory=Tuning)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}: one of {', '.join(STRATEGIES)}")
