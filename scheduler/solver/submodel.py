"""A neighbourhood's own small model, cut out of a big CP-SAT model for scheduler.solver.lns.

A large-neighbourhood step frees a few clinicians' assignments and fixes the rest. Handed the
whole model with those domains fixed, CP-SAT spends a fixed part of a second on a large model
(a hundred thousand variables or more, millions of linear terms) before its presolve even
starts, and the neighbourhood that presolve leaves has a few hundred Booleans. `SubModels`
reads the model's rows once into arrays, and for each step writes a model of only what the
step can change:

- the free variables: the freed assignments, and every other variable (a count, a penalty, a
  practice's minutes) that shares a row with a free one, spread row by row; rows of more than
  LOCAL_ROW terms (sums over the whole rota, such as the held tiers) do not spread freedom, or
  every penalty variable would be freed through them;
- the rows that hold at least one free variable, each with its fixed variables' part moved to
  its sides (the best solution's values);
- the objective the same way, its fixed part in its offset, and the cap "objective ≤ the best
  so far" as one more row.

A row without a free variable holds in the best solution and cannot change, so any solution of
the small model, with the fixed variables at their values, is a solution of the whole. Only
linear rows, at-most-ones, exactly-ones, and clauses and implications (bool_or, bool_and, with
or without enforcement literals, read as clauses) are read (what
scheduler.solver.model writes for such models); a model with anything else gets no SubModels
and LNS solves clones of the whole model instead.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model, cp_model_helper

from scheduler.solver.model import LinearExpr

# Rows longer than this do not spread freedom from one variable to the others (see above);
# LnsTuning.local_row sets it for a solve.
LOCAL_ROW = 6_000
_FAR = 2**62  # a side at least this far out is infinite (cp_model writes ±2^63-1)


@dataclass
class Step:
    """One sub-solve: the solver's status, the whole solution (None without one) and its
    objective, and the small model's size."""

    status: cp_model.CpSolverStatus
    values: np.ndarray | None
    objective: int | None
    variables: int
    rows: int


class SubModels:
    """The rows of a model as arrays: for row r, terms starts[r]..starts[r+1] of (ref, coef),
    negated literals written as −v (their constant in `shift`), and its domain."""

    def __init__(
        self,
        proto: cp_model_pb2.CpModelProto,
        x_indices: list[int],
        local_row: int = LOCAL_ROW,
    ):
        refs: list[int] = []
        coefs: list[int] = []
        counts: list[int] = []
        self.domains: list[list[int]] = []
        for ct in proto.constraints:
            kind = ct.WhichOneof("constraint")
            if kind == "linear":
                refs.extend(ct.linear.vars)
                coefs.extend(ct.linear.coeffs)
                counts.append(len(ct.linear.vars))
                self.domains.append(list(ct.linear.domain))
            elif kind == "bool_and" or ct.enforcement_literal:
                # e₁ ∧ … → l₁ ∧ …  is the clauses  ¬e₁ ∨ … ∨ lᵢ, one per literal (an implication
                # is a bool_and of one literal with one enforcement literal)
                unless = [-e - 1 for e in ct.enforcement_literal]
                implied = ct.bool_and.literals if kind == "bool_and" else ct.bool_or.literals
                for clause in (
                    [[*unless, lit] for lit in implied]
                    if kind == "bool_and"
                    else [[*unless, *implied]]
                ):
                    refs.extend(clause)
                    coefs.extend([1] * len(clause))
                    counts.append(len(clause))
                    self.domains.append([1, _FAR])
            else:  # at_most_one, exactly_one, bool_or (SubModels.read checked)
                literals = getattr(ct, kind).literals
                refs.extend(literals)
                coefs.extend([1] * len(literals))
                counts.append(len(literals))
                self.domains.append(
                    [-_FAR, 1]
                    if kind == "at_most_one"
                    else [1, 1]
                    if kind == "exactly_one"
                    else [1, _FAR]
                )
        ref = np.asarray(refs, dtype=np.int64)
        coef = np.asarray(coefs, dtype=np.int64)
        count = np.asarray(counts, dtype=np.int64)
        self.row = np.repeat(np.arange(len(count)), count)
        negated = ref < 0  # ¬v = 1 − v: coefficient −c, and c moves to the sides
        self.shift = np.bincount(
            self.row[negated], weights=coef[negated], minlength=len(count)
        ).astype(np.int64)
        self.coef = np.where(negated, -coef, coef)
        self.ref = np.where(negated, -ref - 1, ref)
        self.starts = np.zeros(len(count) + 1, dtype=np.int64)
        np.cumsum(count, out=self.starts[1:])
        self.local = (count <= local_row)[self.row]
        self.variables = len(proto.variables)
        self.is_x = np.zeros(self.variables, dtype=bool)
        self.is_x[np.asarray(x_indices, dtype=np.int64)] = True
        self.variable_domains = [list(v.domain) for v in proto.variables]
        self.objective_vars = np.asarray(proto.objective.vars, dtype=np.int64)
        self.objective_coefs = np.asarray(proto.objective.coeffs, dtype=np.int64)
        self.offset = round(proto.objective.offset)

    @classmethod
    def read(
        cls,
        model: cp_model.CpModel,
        x_indices: list[int],
        local_row: int = LOCAL_ROW,
        objective: LinearExpr | None = None,
    ) -> SubModels | None:
        """`model`'s rows and objective (an integer one), or None if it has anything the class
        does not cut (see the module's docstring); rows longer than `local_row` spread no
        freedom. With `objective`, that expression is the objective instead of the model's
        (no copy of a big model is made to set it)."""
        with (
            tempfile.TemporaryDirectory() as folder
        ):  # read at C speed, as scheduler.solver.lp's rows
            path = os.path.join(folder, "model.pb")
            model.export_to_file(path)
            proto = cp_model_pb2.CpModelProto()
            with open(path, "rb") as file:
                proto.ParseFromString(file.read())
        if objective is not None:
            flat = cp_model_helper.FlatIntExpr(objective)
            proto.objective.Clear()
            proto.objective.vars.extend(v.index for v in flat.vars)
            proto.objective.coeffs.extend(int(c) for c in flat.coeffs)
            proto.objective.offset = float(flat.offset)
        objective = proto.objective
        if (
            not objective.vars
            or objective.scaling_factor not in (0.0, 1.0)
            or objective.offset != round(objective.offset)
        ):
            return None
        for ct in proto.constraints:
            kind = ct.WhichOneof("constraint")
            if kind in ("bool_or", "bool_and"):
                continue  # clauses, with or without enforcement literals
            if len(ct.enforcement_literal) or kind not in ("linear", "at_most_one", "exactly_one"):
                return None
        return cls(proto, x_indices, local_row)

    def free(self, free_x: np.ndarray, spread_all: bool = False) -> np.ndarray:
        """The free variables of a step that frees the assignment variables `free_x`; with
        `spread_all`, long rows spread freedom too (a construction's steps, whose fixed part
        is not a solution: a total over the whole rota must follow the step)."""
        free = np.zeros(self.variables, dtype=bool)
        free[free_x] = True
        rows = len(self.starts) - 1
        local = np.ones_like(self.local) if spread_all else self.local
        while True:
            spreading = free[self.ref] & local
            touched = np.bincount(self.row, weights=spreading, minlength=rows) > 0
            reached = np.zeros(self.variables, dtype=bool)
            reached[self.ref[touched[self.row] & local]] = True
            reached &= ~self.is_x & ~free
            if not reached.any():
                return free
            free |= reached

    def start_values(self) -> np.ndarray:
        """One value per variable, each the value of its domain nearest 0: where a construction
        (scheduler.solver.construct) starts, every clinician working nothing."""
        values = np.zeros(self.variables, dtype=np.int64)
        for index, domain in enumerate(self.variable_domains):
            low, high = domain[0], domain[-1]
            values[index] = low if low > 0 else high if high < 0 else 0
        return values

    def activities(self, values: np.ndarray) -> np.ndarray:
        """Each row's value at `values` (its terms' sum, negated literals included)."""
        if not len(self.ref):
            return np.zeros(len(self.starts) - 1, dtype=np.int64)
        terms = self.coef * values[self.ref]
        sums = np.add.reduceat(terms, self.starts[:-1])
        return np.where(self.starts[1:] > self.starts[:-1], sums, 0) + self.shift

    def violated(self, values: np.ndarray) -> np.ndarray:
        """The rows `values` breaks (a row's value outside its domain), and the variables out of
        their domains, as row numbers then −1 − variable number; empty for a solution."""
        activity = self.activities(values).tolist()
        broken = [
            r for r, domain in enumerate(self.domains) if not _within(activity[r], domain)
        ] + [
            -1 - index
            for index, domain in enumerate(self.variable_domains)
            if not _within(int(values[index]), domain)
        ]
        return np.asarray(broken, dtype=np.int64)

    def objective_of(self, values: np.ndarray) -> int:
        """The objective's value at `values`."""
        return self.offset + int(np.sum(self.objective_coefs * values[self.objective_vars]))

    def solve(
        self,
        free_x: np.ndarray,
        best: np.ndarray,
        cap: int,
        parameters: cp_model.CpSolver,
        spread_all: bool = False,
    ) -> Step:
        """Minimise the objective over the variables `free_x` frees (SubModels.free, with
        `spread_all`), every other variable at its value in `best` (a whole solution), the
        objective at most `cap`; `parameters` is the solver to use, its parameters set."""
        free = self.free(free_x, spread_all)
        on = free[self.ref]
        rows = len(self.starts) - 1
        kept = np.flatnonzero(np.bincount(self.row, weights=on, minlength=rows) > 0)
        fixed = np.where(on, 0, self.coef * best[self.ref])  # int64: exact where floats are not
        moved = (
            np.add.reduceat(fixed, self.starts[:-1]) if len(fixed) else np.zeros(0, dtype=np.int64)
        )
        moved = np.where(self.starts[1:] > self.starts[:-1], moved, 0) + self.shift
        chosen = np.flatnonzero(free)
        number = np.full(self.variables, -1, dtype=np.int64)
        number[chosen] = np.arange(len(chosen))
        model = cp_model.CpModel()
        proto = model.proto
        for index in chosen.tolist():
            proto.variables.add().domain.extend(self.variable_domains[index])
        starts, ref, coef = self.starts, self.ref, self.coef
        for r in kept.tolist():
            a, b = int(starts[r]), int(starts[r + 1])
            mine = on[a:b]
            linear = proto.constraints.add().linear
            linear.vars.extend(number[ref[a:b][mine]].tolist())
            linear.coeffs.extend(coef[a:b][mine].tolist())
            linear.domain.extend(_shifted(self.domains[r], int(moved[r])))
        objective_free = free[self.objective_vars]
        fixed_objective = int(
            np.sum(
                self.objective_coefs[~objective_free] * best[self.objective_vars[~objective_free]]
            )
        )
        objective = proto.objective
        objective.vars.extend(number[self.objective_vars[objective_free]].tolist())
        objective.coeffs.extend(self.objective_coefs[objective_free].tolist())
        objective.offset = float(self.offset + fixed_objective)
        cap_row = proto.constraints.add().linear  # objective ≤ cap
        cap_row.vars.extend(objective.vars)
        cap_row.coeffs.extend(objective.coeffs)
        cap_row.domain.extend([-(2**63 - 1), cap - self.offset - fixed_objective])
        proto.solution_hint.vars.extend(range(len(chosen)))
        proto.solution_hint.values.extend(best[chosen].tolist())
        status = parameters.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Step(status, None, None, len(chosen), len(kept) + 1)
        values = best.copy()
        values[chosen] = np.asarray(parameters.response_proto.solution, dtype=np.int64)
        return Step(status, values, round(parameters.objective_value), len(chosen), len(kept) + 1)


def _shifted(domain: list[int], by: int) -> list[int]:
    """A row's domain with `by` taken off each finite end."""
    return [end if abs(end) >= _FAR else end - by for end in domain]


def _within(value: int, domain: list[int]) -> bool:
    """Whether `value` lies in `domain` (closed intervals as flat pairs of ends)."""
    return any(domain[k] <= value <= domain[k + 1] for k in range(0, len(domain), 2))
