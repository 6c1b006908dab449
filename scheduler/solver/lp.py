"""The LP relaxation of a CP-SAT model, solved with GLOP (OR-Tools' own simplex) or HiGHS, for a
lower bound on the model's objective in a second or two where CP-SAT's own LP takes far longer.

On a large fair-share phase CP-SAT's bound can stay at the floor of scheduler.solver.bounds for
the whole phase while this relaxation proves a bound close to the rotas found. The relaxation
keeps the variables' bounds, every linear constraint that no literal enforces (each widened to
the hull of its domain), and the at-most-one, exactly-one and or-clauses; it drops everything
else, and rows with huge coefficients. Dropping constraints only lowers an LP's optimum, so
what it returns is a valid bound for every solution of the model.
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

# CP-SAT writes an unbounded side as ±2^63 − 1; anything this far out is infinite to the LP
_FAR = 2**62


@dataclass(frozen=True)
class LpTuning:
    """The relaxation's numerical thresholds."""

    # A row with a coefficient above this is set aside, as GLOP's simplex stalls on such rows.
    huge: float = 1e6
    # The LP optimum is lowered by this share of its size (at least this much) before rounding up.
    slack: float = 1e-5


def _integer_bound(value: float, tuning: LpTuning) -> int:
    """The integer bound from a floating-point LP optimum `value`: rounded down by the slack
    first, so that it never rises above the exact optimum GLOP's tolerances blur."""
    return math.ceil(value - tuning.slack * max(1.0, abs(value)))


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


@dataclass
class _RawRows:
    """The rows as read from the proto, before they are put in compressed-row form."""

    refs: list[int]  # each row's variables (or literals) and coefficients, row after row
    coeffs: list[int]
    lengths: list[int]
    sides: list[float]  # (low, high) of each row, flat
    numbers: list[int]
    signed: list[bool]  # a row of literals, whose negations are written −v − 1


def read_rows(
    model: cp_model.CpModel,
    literals: bool = True,
    first: int = 0,
    *,
    tuning: LpTuning = LpTuning(),
) -> Rows:
    """`model`'s relaxation (the module's docstring says which rows; `literals`: with the
    at-most-one, exactly-one and or-clauses) from its constraints numbered `first` on.

    The model is written out in CP-SAT's binary form and read back into the protobuf module's
    own messages, whose fields are read at C speed: walking the model's own (pybind) proto
    field by field takes several times as long on a large model."""
    proto = _read_proto(model)
    lower, upper, cost = _columns(proto)
    raw = _gather_rows(proto, literals, first)
    return _compress(proto, raw, lower, upper, cost, tuning)


def _read_proto(model: cp_model.CpModel) -> cp_model_pb2.CpModelProto:
    """`model` as the protobuf module's own message, by way of a file in CP-SAT's binary form."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pb")
        model.export_to_file(path)
        proto = cp_model_pb2.CpModelProto()
        with open(path, "rb") as file:
            proto.ParseFromString(file.read())
    return proto


def _columns(proto: cp_model_pb2.CpModelProto) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each variable's bounds (±inf where CP-SAT's are far out) and objective coefficient."""
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
    return lower, upper, cost


def _gather_rows(proto: cp_model_pb2.CpModelProto, literals: bool, first: int) -> _RawRows:
    """The rows the relaxation keeps, from the constraints numbered `first` on, as lists."""
    far = float(_FAR)
    raw = _RawRows([], [], [], [], [], [])
    constraints = proto.constraints
    for number in range(first, len(constraints)):
        ct = constraints[number]
        if len(ct.enforcement_literal):
            continue
        kind = ct.WhichOneof("constraint")
        if kind == "linear":
            linear = ct.linear
            row_vars = linear.vars
            raw.refs.extend(row_vars)
            raw.coeffs.extend(linear.coeffs)
            domain = linear.domain
            raw.sides.extend((domain[0], domain[-1]))
            raw.signed.append(False)
        elif literals and kind in ("at_most_one", "exactly_one", "bool_or"):
            row_vars = getattr(ct, kind).literals
            raw.refs.extend(row_vars)
            raw.coeffs.extend([1] * len(row_vars))
            raw.sides.extend(
                (-far if kind == "at_most_one" else 1, far if kind == "bool_or" else 1)
            )
            raw.signed.append(True)
        else:
            continue
        raw.lengths.append(len(row_vars))
        raw.numbers.append(number)
    return raw


def _compress(
    proto: cp_model_pb2.CpModelProto,
    raw: _RawRows,
    lower: np.ndarray,
    upper: np.ndarray,
    cost: np.ndarray,
    tuning: LpTuning,
) -> Rows:
    """The gathered rows in compressed-row form: negated literals rewritten, rows with huge
    coefficients (or a negated reference in a linear row) set aside, repeated terms summed."""
    far = float(_FAR)
    ref = np.asarray(raw.refs, dtype=np.int64)
    coeff = np.asarray(raw.coeffs, dtype=np.float64)
    count = np.asarray(raw.lengths, dtype=np.int64)
    row = np.repeat(np.arange(len(count)), count)
    side = np.asarray(raw.sides, dtype=np.float64).reshape(-1, 2)
    is_literal = np.asarray(raw.signed, dtype=bool)
    # a literal's negation ¬v is 1 − v: the term flips sign and moves 1 to the sides
    negated = (ref < 0) & is_literal[row]
    moved = np.bincount(row[negated], minlength=len(count)).astype(np.float64)
    side = side - moved[:, None]
    coeff = np.where(negated, -coeff, coeff)
    ref = np.where(negated, -ref - 1, ref)
    # rows set aside: huge coefficients (GLOP stalls on them) or a negated reference in a
    # linear row (not written by cp_model)
    bad = np.bincount(row[(np.abs(coeff) > tuning.huge) | (ref < 0)], minlength=len(count)) > 0
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
        numbers=np.asarray(raw.numbers, dtype=np.int64)[keep_row],
        read=len(proto.constraints),
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


def _quiet_highs(time_limit: float) -> Any:
    """A single-threaded HiGHS solver that prints nothing, stopping after `time_limit` seconds.
    HiGHS's bare solver is made directly: highspy.Highs() prints its banner as it is made (its
    callbacks count as a call), before output_flag can be set."""
    import highspy  # a dependency only of the bounds that use HiGHS

    factory: Any = highspy.Highs
    try:
        from highspy._core import _Highs

        factory = _Highs
    except ImportError:  # (a highspy laid out otherwise: the banner it is)
        pass
    highs = factory()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", time_limit)
    return highs


def _highs_lp(rows: Rows, integer: bool = False) -> Any:
    """`rows` as a HiGHS program (HiGHS's infinity is the float one, as read_rows's); with
    `integer`, every column an integer (as every variable of a CP-SAT model is)."""
    import highspy

    program = highspy.HighsLp()
    program.num_col_, program.num_row_ = len(rows.lower), len(rows.low)
    program.col_cost_, program.col_lower_, program.col_upper_ = rows.cost, rows.lower, rows.upper
    program.row_lower_, program.row_upper_ = rows.low, rows.high
    program.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    program.a_matrix_.start_ = rows.starts.astype(np.int32)
    program.a_matrix_.index_ = rows.index.astype(np.int32)
    program.a_matrix_.value_ = rows.value
    if integer:
        program.integrality_ = [highspy.HighsVarType.kInteger] * len(rows.lower)
    return program


def _presolved_message(reduced: Any) -> linear_solver_pb2.MPModelProto:
    """HiGHS's presolved program `reduced` as an LP for GLOP to load in one message."""
    import highspy

    lower, upper = np.asarray(reduced.col_lower_), np.asarray(reduced.col_upper_)
    matrix = reduced.a_matrix_
    start = np.asarray(matrix.start_, dtype=np.int64)
    index = np.asarray(matrix.index_, dtype=np.int64)
    coeff = np.asarray(matrix.value_, dtype=np.float64)
    if matrix.format_ == highspy.MatrixFormat.kColwise:  # to rows: sorted by row, then column
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
    return message


class Relaxation:
    """The LP relaxation of a CP-SAT model that only ever grows (the phases of
    scheduler.solver.solve add held tiers and cuts): each solve first takes in the variables and
    constraints added since the last, then solves for the model's current objective. GLOP
    starts from its last basis, so the later phases' LPs cost a fraction of the first."""

    def __init__(
        self, model: cp_model.CpModel, keep_rows: bool = False, *, tuning: LpTuning = LpTuning()
    ):
        """`keep_rows`: keep the rows the first load reads, for presolved_bound."""
        self.model = model
        self.tuning = tuning
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
        GLOP to load): the same rows as _sync takes in one by one, several times faster than
        _sync's SetCoefficient per term on a large model."""
        rows = read_rows(self.model, tuning=self.tuning)
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
        the rewritten program's LP relaxation, which can be much tighter than the rows' own
        (the presolve's integer reasoning about the rules makes the difference). None if
        there are no rows, the presolve or GLOP runs out of `seconds`, or the solve is
        interrupted.

        The presolved program has the optimum of the rows' integer program (a presolve may
        drop solutions, never all the best ones), its LP relaxation is at most that, and the
        rows' integer program is a relaxation of the model: so the bound holds for every
        solution of the model."""
        rows = self.rows
        if rows is None or self.interrupted:
            return None
        started = time.perf_counter()
        reduced = self._presolve(rows, seconds)
        if reduced is None:
            return None
        if reduced.num_col_ == 0:
            value = reduced.offset_
        else:
            message = _presolved_message(reduced)
            del reduced
            glop = pywraplp.Solver.CreateSolver("GLOP")
            if glop.LoadModelFromProto(message):
                return None
            del message
            value = self._solve_presolved(glop, seconds - (time.perf_counter() - started))
            if value is None:
                return None
        value = rows.scale * (value + rows.offset)
        return _integer_bound(value, self.tuning)

    def _presolve(self, rows: Rows, seconds: float) -> Any | None:
        """HiGHS's MIP presolve of `rows` as an integer program within `seconds`: the presolved
        program, or None if it is not a minimisation, the presolve fails or runs out of time,
        or the solve is interrupted."""
        import highspy

        program = _highs_lp(rows, integer=True)
        highs = _quiet_highs(float(max(0.1, seconds)))
        highs.passModel(program)
        del program
        highs.presolve()  # (not interruptible: an interrupt waits for it)
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
        return reduced

    def _solve_presolved(self, glop: pywraplp.Solver, seconds: float) -> float | None:
        """The optimum of the presolved program loaded in `glop`, within `seconds`; None when
        GLOP finds none in time or the solve is interrupted."""
        started = time.perf_counter()
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
        return glop.Objective().Value()

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
                if any(abs(coeff) > self.tuning.huge for coeff in ct.linear.coeffs) or any(
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
            # a numerical failure from the basis the phases before left, where the same LP
            # solves from scratch: once more, in a new GLOP from scratch
            self.lp = pywraplp.Solver.CreateSolver("GLOP")
            self.columns, self.seen = [], 0
            return self.solve(left, again=False)
        if status != pywraplp.Solver.OPTIMAL:
            return None
        value = scale * (objective.Value() + proto.objective.offset)
        return LpSolution(
            _integer_bound(value, self.tuning),
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
    instead of a solve. On a large model the LP solved early, with the tiers above held at
    their values then, gives prices whose bound is close to that of the LP solved at the end,
    which takes several times as long, and above CP-SAT's own bound.

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
        *,
        tuning: LpTuning = LpTuning(),
    ):
        """`model`'s rows, each (expression, value) of `holds` added as expression ≤ value, with
        `objective` minimised; solved in a thread for at most `seconds` from now, once `after` is
        set (work of the caller's that wants the interpreter to itself: reading the LP out of the
        model, read_rows, is partly Python)."""
        import highspy  # a dependency only of this bound: HiGHS's simplex solves these LPs
        # two to six times faster than GLOP and gives the row prices L(y) needs

        self._highspy = highspy
        self.tuning = tuning
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
            highs = _quiet_highs(float(left))
            highs.passModel(self._lp)
            highs.run()
            if highs.getModelStatus() == self._highspy.HighsModelStatus.kOptimal:
                self.prices = np.asarray(highs.getSolution().row_dual, dtype=np.float64)
        except Exception:  # the bound is optional: a failure leaves the phase to CP-SAT's own
            log.warning("no LP prices for the last phase's bound", exc_info=True)
        finally:
            self._model = self._lp = None  # (the clone and the LP: hundreds of MB on a large model)
            self.done.set()

    def _build(self) -> None:
        assert self._model is not None
        rows = read_rows(self._model, literals=False, tuning=self.tuning)
        self.lower, self.upper, self.cost = rows.lower, rows.upper, rows.cost
        self.scale, self.offset = rows.scale, rows.offset
        self.low, self.high, self.index, self.value = rows.low, rows.high, rows.index, rows.value
        position = {int(number): k for k, number in enumerate(rows.numbers)}
        self.hold_positions = [position.get(row, -1) for row in self._hold_rows]
        self.row_of = np.repeat(np.arange(len(rows.low)), np.diff(rows.starts))
        self._lp = _highs_lp(rows)

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
        return _integer_bound(value, self.tuning)
