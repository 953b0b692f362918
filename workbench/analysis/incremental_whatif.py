"""What-ifs from the net change replan: the rows a BOM change reaches, re-netted as a full plan of
the changed data nets them, beside the base plan's rows — the base plan left as it is.

:func:`workbench.analysis.scenario.replan` answers the same question from requirement deltas
(the explosion of the changed parents' planned orders under the new BOM less under the old,
netted down level by level, ``gross = max(base gross + delta, 0)``). :func:`scenario` answers
it with :func:`workbench.analysis.incremental.renetted`: every reached row's gross
requirements are its own requirements plus the explosion of *all* its parents' planned orders,
so the numbers are those of the incremental plan the session would keep after the change (and
of a full plan: tests/analysis/test_incremental_whatif.py). When the net change cannot answer
(a new component outside the plan's numbering, a cycle, a plan without low-level codes) the
delta replan does.
"""

from __future__ import annotations

import numpy as np

from workbench.analysis.data import PlanningData
from workbench.analysis.incremental import Change, renetted
from workbench.analysis.incremental_work import Extra, Renet
from workbench.analysis.netting import Plan
from workbench.analysis.scenario import Scenario
from workbench.analysis.scenario import replan as replan_by_delta


def scenario(base: Plan, changed: PlanningData, parents: list[str],
             extra: Extra | None = None) -> Scenario:
    """The rows whose plan changes when ``parents`` take their BOM (revisions, lines) from
    ``changed`` (which may hold only those parents' BOM rows), plus the requirement change
    ``extra`` (component key, bucket, quantity) — the signature and answer of
    :func:`workbench.analysis.scenario.replan`, from the net change replan (module doc)."""
    return scenario_detail(base, changed, parents, extra)[0]


def scenario_detail(base: Plan, changed: PlanningData, parents: list[str],
                    extra: Extra | None = None) -> tuple[Scenario, str]:
    """:func:`scenario` and how it was answered: ``"incremental"``, ``"unchanged"`` or
    ``"delta: <why the net change could not>"``."""
    done = renetted(base, changed, Change.of(bom_parents=parents), extra=extra)
    if done == "unchanged":
        return _empty(base), "unchanged"
    if isinstance(done, str):
        return replan_by_delta(base, changed, parents, extra), f"delta: {done}"
    return _scenario_of(base, done[0]), "incremental"


def _empty(base: Plan) -> Scenario:
    empty = np.zeros((0, base.calendar.n_buckets))
    return Scenario(base, np.zeros(0, np.int64), np.zeros(0), *([empty] * 7))


def _scenario_of(base: Plan, work: Renet) -> Scenario:
    """The re-netted rows beside the base plan's, by key, the rows whose plan changes only
    (:meth:`Scenario.changed`)."""
    if not work.done:
        return _empty(base)
    keys = np.concatenate(work.done_key)
    after = {n: np.concatenate([d[n] for d in work.done])
             for n in ("on_hand", "scheduled", "gross", "net", "planned")}
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    pos = base.rows_for_keys(keys)
    exists = pos >= 0
    width = base.calendar.n_buckets

    def before(matrix: np.ndarray) -> np.ndarray:
        out = np.zeros((len(keys), width))
        out[exists] = matrix[pos[exists]]
        return out

    found = Scenario(base, keys, after["on_hand"][order], after["scheduled"][order],
                     before(base.gross), before(base.net), before(base.planned),
                     after["gross"][order], after["net"][order], after["planned"][order])
    return found.only(found.changed())
