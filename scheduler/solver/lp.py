"""lp_bound(model) -> a lower bound on a CP-SAT model's objective from the LP relaxation that
GLOP (OR-Tools' own simplex) solves in a second or two where CP-SAT's LP takes half a minute.

On a generated federation, CP-SAT's bound on the fair-share phase stays at the floor of
scheduler.solver.bounds (0.3 M) for the 15 s the phase has; the relaxation below proves 4.46 M in
1.5 s, against rotas of about 4.5 M. The relaxation keeps the variables' bounds, every linear
constraint that no literal enforces (each widened to the hull of its domain), and the at-most-one,
exactly-one and or-clauses; it drops everything else, and rows with huge coefficients. Dropping constraints only lowers an LP's
optimum, so what it returns is a valid bound for every solution of the model.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model

log = logging.getLogger(__name__)

# A row with a coefficient above this is set aside: GLOP's simplex stalls on such rows (the
# fair-share rows in their first form, see model.Objective.scale_fair_share). Setting a row aside
# is a relaxation too.
_HUGE = 1e6
# CP-SAT writes an unbounded side as ±2^63 − 1; anything this far out is infinite to the LP
_FAR = 2**62
# GLOP's answer is a floating-point optimum within its tolerances: round down by this share of
# its size (and at least this much) before taking the integer bound, so that the bound never
# rises above the exact LP optimum.
_SLACK = 1e-5


@dataclass(frozen=True)
class LpSolution:
    bound: int  # the integer objective is at least this in every solution of the model
    values: list[float]  # an optimal solution of the relaxation, one value per model variable


@dataclass
class Rows:
    """A CP-SAT model's linear part as arrays: columns (bounds and objective) and rows in
    compressed-row form, each row the sum of its terms (a variable twice in a row summed)."""

    lower: np.ndarray  # each column's bounds, ±inf where CP-SAT's are far out
    upper: np.ndarray
    cost: np.ndarray  # the objective's coefficient of each column
    offset: float  # the objective is scale · (cost·x + offset)
    scale: float
    starts: np.ndarray  # row r's terms are index/value[starts[r]:starts[r + 1]]
    index: np.ndarray
    value: np.ndarray
    low: np.ndarray  # each row's sides
    high: np.ndarray
    numbers: np.ndarray  # the model's constraint each row comes from
    read: int  # the model's constraints when it was read


def read_rows(model: cp_model.CpModel, literals: bool = True, first: int = 0) -> Rows:
    """`model`'s relaxation (the module's docstring says which rows; `literals`: with the
    at-most-one, exactly-one and or-clauses) from its constraints numbered `first` on.

    The model is written out in CP-SAT's binary form and read back into the protobuf module's
    own messages, whose fields are read at C speed: walking the model's own (pybind) proto
    field by field, as the LP readers did before, took 18 s on a generated ics (86,600
    constraints, 1.9 M terms) where this takes about 2."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pb")
        model.export_to_file(path)
        proto = cp_model_pb2.CpModelProto()
        with open(path, "rb") as file:
            proto.ParseFromString(file.read())
    far = float(_FAR)
    low_end = np.array([v.domain[0] for v in proto.variables], dtype=np.float64)
    high_end = np.array([v.domain[-1] for v in proto.variables], dtype=np.float64)
    lower = np.where(low_end <= -far, -np.inf, low_end)
    upper = np.where(high_end >= far, np.inf, high_end)
    cost = np.zeros(len(lower))
    np.add.at(
        cost,
        np.asarray(proto.objective.vars, dtype=np.int64),
        np.asarray(proto.objective.coeffs, dtype=np.float64),
    )
    refs: list[int] = []  # each row's variables (or literals) and coefficients, row after row
    coeffs: list[int] = []
    lengths: list[int] = []
    sides: list[float] = []  # (low, high) of each row, flat
    numbers: list[int] = []
    signed: list[bool] = []  # a row of literals, whose negations are written −v − 1
    constraints = proto.constraints
    for number in range(first, len(constraints)):
        ct = constraints[number]
        if len(ct.enforcement_literal):
            continue
        kind = ct.WhichOneof("constraint")
        if kind == "linear":
            linear = ct.linear
            row_vars = linear.vars
            refs.extend(row_vars)
            coeffs.extend(linear.coeffs)
            domain = linear.domain
            sides.extend((domain[0], domain[-1]))
            signed.append(False)
        elif literals and kind in ("at_most_one", "exactly_one", "bool_or"):
            row_vars = getattr(ct, kind).literals
            refs.extend(row_vars)
            coeffs.extend([1] * len(row_vars))
            sides.extend((-far if kind == "at_most_one" else 1, far if kind == "bool_or" else 1))
            signed.append(True)
        else:
            continue
        lengths.append(len(row_vars))
        numbers.append(number)
    ref = np.asarray(refs, dtype=np.int64)
    coeff = np.asarray(coeffs, dtype=np.float64)
    count = np.asarray(lengths, dtype=np.int64)
    row = np.repeat(np.arange(len(count)), count)
    side = np.asarray(sides, dtype=np.float64).reshape(-1, 2)
    is_literal = np.asarray(signed, dtype=bool)
    # a literal's negation ¬v is 1 − v: the term flips sign and moves 1 to the sides
    negated = (ref < 0) & is_literal[row]
    moved = np.bincount(row[negated], minlength=len(count)).astype(np.float64)
    side = side - moved[:, None]
    coeff = np.where(negated, -coeff, coeff)
    ref = np.where(negated, -ref - 1, ref)
    # rows set aside: huge coefficients (GLOP stalls on them) or a negated reference in a
    # linear row (not written by cp_model)
    bad = np.bincount(row[(np.abs(coeff) > _HUGE) | (ref < 0)], minlength=len(count)) > 0
    keep_row = ~bad
    keep = keep_row[row]
    new_row = np.cumsum(keep_row) - 1
    row, ref, coeff = new_row[row[keep]], ref[keep], coeff[keep]
    side = side[keep_row]
    kept = int(keep_row.sum())
    # a variable twice in a row: one term, the sum
    key = row * max(1, len(lower)) + ref
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=coeff, minlength=len(unique))
    rows_of = unique // max(1, len(lower))
    starts = np.zeros(kept + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows_of, minlength=kept), out=starts[1:])
    low = np.where(side[:, 0] <= -far, -np.inf, side[:, 0])
    high = np.where(side[:, 1] >= far, np.inf, side[:, 1])
    return Rows(
        lower=lower,
        upper=upper,
        cost=cost,
        offset=float(proto.objective.offset),
        scale=float(proto.objective.scaling_factor or 1.0),
        starts=starts,
        index=(unique % max(1, len(lower))).astype(np.int64),
        value=summed,
        low=low,
        high=high,
        numbers=np.asarray(numbers, dtype=np.int64)[keep_row],
        read=len(constraints),
    )


def _message(
    lower: np.ndarray,
    upper: np.ndarray,
    cost: np.ndarray | None,
    low: np.ndarray,
    high: np.ndarray,
    starts: np.ndarray,
    index: np.ndarray,
    value: np.ndarray,
) -> linear_solver_pb2.MPModelProto:
    """An LP for GLOP to load in one message: columns' bounds (and objective `cost`), and rows
    with their sides, terms index/value[starts[r]:starts[r + 1]] (±inf: no side)."""
    message = linear_solver_pb2.MPModelProto()
    costs = [0.0] * len(lower) if cost is None else cost.tolist()
    for low_end, high_end, c in zip(lower.tolist(), upper.tolist(), costs, strict=True):
        column = message.variable.add()
        column.lower_bound, column.upper_bound = low_end, high_end
        if c:
            column.objective_coefficient = c
    terms, coefficients, begins = index.tolist(), value.tolist(), starts.tolist()
    for r, (low_side, high_side) in enumerate(zip(low.tolist(), high.tolist(), strict=True)):
        row = message.constraint.add()
        row.lower_bound, row.upper_bound = low_side, high_side
        row.var_index.extend(terms[begins[r] : begins[r + 1]])
        row.coefficient.extend(coefficients[begins[r] : begins[r + 1]])
    return message


def lp_bound(model: cp_model.CpModel, seconds: float) -> int | None:
    """The integer objective is at least this in every solution of `model`; None when GLOP
    finds no optimum within `seconds` (or the model has no objective)."""
    solution = Relaxation(model).solve(seconds)
    return None if solution is None else solution.bound


class Relaxation:
    """The LP relaxation of a CP-SAT model that only ever grows (the phases of scheduler.solver.solve
    add held tiers and cuts): each solve first takes in the variables and constraints added
    since the last, then solves for the model's current objective. GLOP starts from its last
    basis, so the later phases' LPs cost a fraction of the first."""

    def __init__(self, model: cp_model.CpModel, keep_rows: bool = False):
        """`keep_rows`: keep the rows the first load reads, for presolved_bound."""
        self.model = model
        self.keep_rows = keep_rows
        self.rows: Rows | None = None
        self._presolved: pywraplp.Solver | None = None  # presolved_bound's GLOP, while it solves
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.columns: list[pywraplp.Variable] = []
        self.seen = 0  # constraints of the model taken in so far
        self.interrupted = False
        self._solving = threading.Event()  # set from just before the last check to GLOP's return

    def interrupt(self) -> None:
        """Stop a solve running in another thread (it then returns None, and is not retried).
        GLOP forgets an InterruptSolve that comes before its Solve has begun, so while a solve
        is under way it is repeated until GLOP returns (for at most a second)."""
        self.interrupted = True
        deadline = time.perf_counter() + 1.0
        while True:
            self.lp.InterruptSolve()
            if self._presolved is not None:
                self._presolved.InterruptSolve()
            if not self._solving.is_set() or time.perf_counter() > deadline:
                return
            time.sleep(0.01)

    def _side(self, value: int) -> float:
        inf = self.lp.infinity()
        return -inf if value <= -_FAR else inf if value >= _FAR else float(value)

    def _load(self) -> None:
        """The model's rows so far into an empty GLOP at once (read_rows, and one message for
        GLOP to load): the same rows as _sync takes in one by one, in 3 s on a generated ics
        where _sync's SetCoefficient per term took 22 s."""
        rows = read_rows(self.model)
        if self.keep_rows:
            self.rows = rows
        message = _message(
            rows.lower, rows.upper, None, rows.low, rows.high, rows.starts, rows.index, rows.value
        )
        error = self.lp.LoadModelFromProto(message)
        if error:
            raise RuntimeError(f"GLOP could not load the relaxation: {error}")
        self.columns = list(self.lp.variables())
        self.seen = rows.read

    def presolved_bound(self, seconds: float) -> int | None:
        """A bound from the rows the first load read (keep_rows), taken as the integer program
        they are (every variable of a CP-SAT model is an integer): HiGHS's MIP presolve
        rewrites it, keeping every integer solution's objective within reach, and GLOP solves
        the rewritten program's LP relaxation, which is tighter than the rows' own. None if
        there are no rows, the presolve or GLOP runs out of `seconds`, or the solve is
        interrupted.

        On the generated ics (seed 0, fair share's phase) the rows' own LP gives 3.11 M and
        this 6.63 M, against rotas of 7.4-7.9 M: presolve 9 s, GLOP 7 s, where GLOP takes
        26 s for the rows themselves; on seed 1 both give 1.61 M. (The same bound with any one
        of the held tiers above left out, or the fair-share cuts but the fixed total of
        minutes: the presolve's integer reasoning about the rules, not the holds, makes it.)
        The presolved program has the optimum of the rows' integer program (a presolve may
        drop solutions, never all the best ones), its LP relaxation is at most that, and the
        rows' integer program is a relaxation of the model: so the bound holds for every
        solution of the model."""
        rows = self.rows
        if rows is None or self.interrupted:
            return None
        started = time.perf_counter()
        import highspy  # (see DualBound)

        try:
            from highspy._core import _Highs as Bare
        except ImportError:  # (a highspy laid out otherwise: the banner it is)
            Bare = highspy.Highs
        program = highspy.HighsLp()  # (HiGHS's infinity is the float one, as read_rows's)
        program.num_col_, program.num_row_ = len(rows.lower), len(rows.low)
        program.col_cost_, program.col_lower_, program.col_upper_ = (
            rows.cost,
            rows.lower,
            rows.upper,
        )
        program.row_lower_, program.row_upper_ = rows.low, rows.high
        program.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        program.a_matrix_.start_ = rows.starts.astype(np.int32)
        program.a_matrix_.index_ = rows.index.astype(np.int32)
        program.a_matrix_.value_ = rows.value
        program.integrality_ = [highspy.HighsVarType.kInteger] * len(rows.lower)
        highs = Bare()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("time_limit", float(max(0.1, seconds)))
        highs.passModel(program)
        del program
        highs.presolve()  # (not interruptible: an interrupt waits for it, 9 s on the ics)
        if self.interrupted:
            return None
        status = highs.getModelPresolveStatus()
        if status not in (
            highspy.HighsPresolveStatus.kReduced,
            highspy.HighsPresolveStatus.kNotReduced,
            highspy.HighsPresolveStatus.kReducedToEmpty,
        ):
            return None
        reduced = highs.getPresolvedLp()
        del highs
        if reduced.sense_ != highspy.ObjSense.kMinimize:
            return None
        if reduced.num_col_ == 0:
            value = reduced.offset_
        else:
            lower, upper = np.asarray(reduced.col_lower_), np.asarray(reduced.col_upper_)
            matrix = reduced.a_matrix_
            start, index = (
                np.asarray(matrix.start_, dtype=np.int64),
                np.asarray(matrix.index_, dtype=np.int64),
            )
            coeff = np.asarray(matrix.value_, dtype=np.float64)
            if (
                matrix.format_ == highspy.MatrixFormat.kColwise
            ):  # to rows: sorted by row, then column
                column = np.repeat(np.arange(reduced.num_col_), np.diff(start))
                order = np.lexsort((column, index))
                index, coeff, row = column[order], coeff[order], index[order]
                start = np.searchsorted(row, np.arange(reduced.num_row_ + 1))
            message = _message(
                lower,
                upper,
                np.asarray(reduced.col_cost_),
                np.asarray(reduced.row_lower_),
                np.asarray(reduced.row_upper_),
                start,
                index,
                coeff,
            )
            message.objective_offset = reduced.offset_
            del reduced
            glop = pywraplp.Solver.CreateSolver("GLOP")
            if glop.LoadModelFromProto(message):
                return None
            del message
            self._presolved = glop
            self._solving.set()  # (as in solve: an interrupt from now on is repeated)
            try:
                left = seconds - (time.perf_counter() - started)
                if left <= 0.05 or self.interrupted:
                    return None
                glop.SetTimeLimit(max(1, int(left * 1000)))
                solved = glop.Solve()
            finally:
                self._solving.clear()
                self._presolved = None
            if solved != pywraplp.Solver.OPTIMAL or self.interrupted:
                return None
            value = glop.Objective().Value()
        value = rows.scale * (value + rows.offset)
        return math.ceil(value - _SLACK * max(1.0, abs(value)))

    def load(self) -> None:
        """Take in the model's rows now (else the next solve does), e.g. before another thread
        solves while this one goes on to change the model."""
        self._sync()

    def _sync(self) -> None:
        if not self.columns and not self.seen:
            self._load()  # (the variables' bounds with it)
            return
        proto, lp, side = self.model.proto, self.lp, self._side
        for index, var in enumerate(proto.variables):
            domain = var.domain
            low, high = side(domain[0]), side(domain[len(domain) - 1])
            if index < len(self.columns):
                self.columns[index].SetBounds(low, high)
            else:
                self.columns.append(lp.NumVar(low, high, ""))
        columns, inf = self.columns, lp.infinity()
        constraints = proto.constraints
        for number in range(self.seen, len(constraints)):
            ct = constraints[number]
            if len(ct.enforcement_literal):
                continue
            terms: dict[int, int] = defaultdict(int)
            if ct.has_linear():
                if any(abs(coeff) > _HUGE for coeff in ct.linear.coeffs) or any(
                    index < 0 for index in ct.linear.vars
                ):
                    continue  # (a negated reference in a row: not written by cp_model, set aside)
                domain = ct.linear.domain
                low, high = side(domain[0]), side(domain[len(domain) - 1])
                for index, coeff in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
                    terms[index] += coeff
            elif ct.has_at_most_one() or ct.has_exactly_one() or ct.has_bool_or():
                # Σ literals ≤ 1, = 1 or ≥ 1, with ¬x written as 1 − x
                literals = (
                    ct.at_most_one.literals
                    if ct.has_at_most_one()
                    else ct.exactly_one.literals
                    if ct.has_exactly_one()
                    else ct.bool_or.literals
                )
                rhs = 1 - sum(1 for lit in literals if lit < 0)
                low = -inf if ct.has_at_most_one() else rhs
                high = inf if ct.has_bool_or() else rhs
                for lit in literals:
                    terms[lit if lit >= 0 else -lit - 1] += 1 if lit >= 0 else -1
            else:
                continue
            row = lp.Constraint(low, high)
            # SetCoefficient replaces: a variable twice in a row (x and ¬x) is summed first
            for index, coeff in terms.items():
                row.SetCoefficient(columns[index], coeff)
        self.seen = len(constraints)

    def solve(self, seconds: float, again: bool = True) -> LpSolution | None:
        """The bound and GLOP's optimal solution for the model's objective now; None when GLOP
        finds no optimum within `seconds` (taking in new rows counts) or there is no objective.
        A numerical failure is tried `again`, once, from scratch."""
        started = time.perf_counter()
        proto = self.model.proto
        if not len(proto.objective.vars) or any(index < 0 for index in proto.objective.vars):
            return None
        scale = proto.objective.scaling_factor or 1.0
        if scale <= 0:  # a maximisation: no lower bound to give
            return None
        self._sync()
        objective = self.lp.Objective()
        objective.Clear()
        terms: dict[int, int] = defaultdict(int)
        for index, coeff in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
            terms[index] += coeff
        for index, coeff in terms.items():
            objective.SetCoefficient(self.columns[index], coeff)
        objective.SetMinimization()
        left = seconds - (time.perf_counter() - started)
        self._solving.set()  # before the check: an interrupt from now on is repeated (interrupt)
        try:
            if left <= 0.05 or self.interrupted:
                return None
            self.lp.SetTimeLimit(max(1, int(left * 1000)))
            status = self.lp.Solve()
        finally:
            self._solving.clear()
        if self.interrupted:
            return None
        left = seconds - (time.perf_counter() - started)
        if status == pywraplp.Solver.ABNORMAL and again and left > 0.05 and not self.interrupted:
            # a numerical failure from the basis the phases before left (a federation's cost
            # LP, about 1 run in 2 on one seed; the same LP solves from scratch in 6.5 s): once
            # more, in a new GLOP from scratch
            self.lp = pywraplp.Solver.CreateSolver("GLOP")
            self.columns, self.seen = [], 0
            return self.solve(left, again=False)
        if status != pywraplp.Solver.OPTIMAL:
            return None
        value = scale * (objective.Value() + proto.objective.offset)
        return LpSolution(
            math.ceil(value - _SLACK * max(1.0, abs(value))),
            [column.solution_value() for column in self.columns],
        )


class DualBound:
    """A bound on a later phase's objective from an LP solved earlier, while the phases above it
    were still being searched, with HiGHS in a thread.

    For any row prices y (y ≥ 0 on a row's lower side, ≤ 0 on its upper side), the Lagrangian
    L(y) = Σ y·side + Σ over columns of min over the column's bounds of (c − Aᵀy)·x is at most
    the LP's optimum, so at most the objective of every solution of the model (weak duality;
    it needs no optimality of y). The LP is solved with each held tier's row at the value the
    rota had then; by the later phase those tiers are held tighter, and L(y) taken with their
    rows at the values held *then* is still a valid bound, and it costs a pass over the matrix
    instead of a solve. (Generated ics: the cost LP with fair share, even load and preferences
    held as the fair-share phase starts solves in 26 s on one core; its prices give 107.8 M once
    the tiers are held at their final values, where that LP itself takes 65-90 s (109.3 M)
    and CP-SAT's own bound reached 105.0-106.3 M in the cost phase's 55 s of search.)

    Only the linear rows that no literal enforces are kept (see Relaxation); dropping rows is a
    relaxation too.
    """

    def __init__(
        self,
        model: cp_model.CpModel,
        objective: Any,
        holds: list[tuple[Any, int]],
        seconds: float,
        after: threading.Event | None = None,
    ):
        """`model`'s rows, each (expression, value) of `holds` added as expression ≤ value, with
        `objective` minimised; solved in a thread for at most `seconds` from now, once `after` is
        set (work of the caller's that wants the interpreter to itself: reading the LP out of the
        model, read_rows, is partly Python)."""
        import highspy  # a dependency only of this bound: HiGHS's simplex solves these LPs
        # two to six times faster than GLOP and gives the row prices L(y) needs

        self._highspy = highspy
        clone = model.clone()
        self._hold_rows: list[int] = []
        self._hold_values = [value for _, value in holds]
        for expression, value in holds:
            clone.add(expression <= value)
            self._hold_rows.append(len(clone.proto.constraints) - 1)
        clone.minimize(objective)
        self._model: cp_model.CpModel | None = clone
        self.scale = clone.proto.objective.scaling_factor or 1.0
        self.offset = clone.proto.objective.offset
        self.seconds = seconds
        self.prices: np.ndarray | None = None
        self._lp: Any = None
        self.done = threading.Event()
        self._after = after
        self._deadline = time.perf_counter() + seconds
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            if self._after is not None:
                self._after.wait(max(0.0, self._deadline - time.perf_counter()))
            self._build()
            left = self._deadline - time.perf_counter()
            if left <= 0.05:
                return
            # HiGHS's bare solver: highspy.Highs() prints its banner as it is made (its
            # callbacks count as a call), before output_flag can be set
            try:
                from highspy._core import _Highs as Bare
            except ImportError:  # (a highspy laid out otherwise: the banner it is)
                Bare = self._highspy.Highs
            highs = Bare()
            highs.setOptionValue("output_flag", False)
            highs.setOptionValue("threads", 1)
            highs.setOptionValue("time_limit", float(left))
            highs.passModel(self._lp)
            highs.run()
            if highs.getModelStatus() == self._highspy.HighsModelStatus.kOptimal:
                self.prices = np.asarray(highs.getSolution().row_dual, dtype=np.float64)
        except Exception:  # the bound is optional: a failure leaves the phase to CP-SAT's own
            log.warning("no LP prices for the last phase's bound", exc_info=True)
        finally:
            self._model = self._lp = None  # (the clone and the LP: hundreds of MB on an ics)
            self.done.set()

    def _build(self) -> None:
        assert self._model is not None
        rows = read_rows(self._model, literals=False)
        self.lower, self.upper, self.cost = rows.lower, rows.upper, rows.cost
        self.scale, self.offset = rows.scale, rows.offset
        self.low, self.high, self.index, self.value = rows.low, rows.high, rows.index, rows.value
        position = {int(number): k for k, number in enumerate(rows.numbers)}
        self.hold_positions = [position.get(row, -1) for row in self._hold_rows]
        self.row_of = np.repeat(np.arange(len(rows.low)), np.diff(rows.starts))
        lp = self._highspy.HighsLp()  # (HiGHS's infinity is the float one, as read_rows's)
        lp.num_col_, lp.num_row_ = len(rows.lower), len(rows.low)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = rows.cost, rows.lower, rows.upper
        lp.row_lower_, lp.row_upper_ = rows.low, rows.high
        lp.a_matrix_.format_ = self._highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = rows.starts.astype(np.int32)
        lp.a_matrix_.index_ = rows.index.astype(np.int32)
        lp.a_matrix_.value_ = rows.value
        self._lp = lp

    def bound(self, values: list[int], wait: float = 0.0) -> int | None:
        """The integer objective is at least this in every solution of a model that holds the
        rows the LP had, each held tier at most the matching one of `values` (in the order of
        `holds`); None when the LP has not been solved (after waiting `wait` seconds for it)."""
        self.done.wait(wait)
        if not self.done.is_set() or self.prices is None:
            return None
        high = self.high.copy()
        for row, old, new in zip(self.hold_positions, self._hold_values, values, strict=True):
            if row >= 0:  # the row is expression − its constant ≤ value − that constant
                high[row] = self.high[row] + (new - old)
        prices = self.prices
        prices = np.where(
            (prices > 0) & np.isfinite(self.low),
            prices,
            np.where((prices < 0) & np.isfinite(high), prices, 0.0),
        )
        reduced = self.cost - np.bincount(
            self.index, weights=self.value * prices[self.row_of], minlength=len(self.cost)
        )
        if np.any((reduced > 0) & ~np.isfinite(self.lower)) or np.any(
            (reduced < 0) & ~np.isfinite(self.upper)
        ):
            return None
        rows = np.sum(
            np.where(
                prices > 0,
                prices * np.where(np.isfinite(self.low), self.low, 0.0),
                prices * np.where(np.isfinite(high), high, 0.0),
            )
        )
        columns = np.sum(
            np.where(
                reduced > 0,
                reduced * np.where(np.isfinite(self.lower), self.lower, 0.0),
                np.where(
                    reduced < 0, reduced * np.where(np.isfinite(self.upper), self.upper, 0.0), 0.0
                ),
            )
        )
        value = self.scale * (float(rows) + float(columns) + self.offset)
        return math.ceil(value - _SLACK * max(1.0, abs(value)))
