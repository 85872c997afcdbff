"""Inputs of the cost approach derived the way appraisers derive them.

加权投资年限 (weighted investment years): an asset built up by investments at different dates
(the purchase, later upgrades) has aged by the age of each investment weighted by its cost at
today's prices, so the age-life newness rate (成新率) is remaining / (weighted years +
remaining).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.models.cost_methods import WeightedYearsParts
from ipvalue.valuation.cost import restate_by_index
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.resolve import Draw


def weighted_years(restated_costs: list[ArrayLike], ages: list[ArrayLike]) -> FloatArray:
    """加权投资年限 = sum(restated cost_i x age_i) / sum(restated cost_i), in years.

    Costs of 10, 15 and 20 (万元, at today's prices) aged 2, 3 and 4 years give 145 / 45 =
    3.22 years; with 5 years remaining the newness rate is 5 / (3.22 + 5) = 60.81 % (a
    资产评估 exam question, answer C, as published at https://epsq.cn/post/298773.html; it
    and three more published answers are in tests/reference/derivations_cost_excess.json,
    ``weighted_investment_years``).

    Parameters
    ----------
    restated_costs : list of float or array (...)
        Each investment's cost at the valuation date's prices, currency.
    ages : list of float or array (...)
        Years from each investment to the valuation date, same order.

    Returns
    -------
    array (...)
        Years; 0 on a path whose costs all are 0.
    """
    total: Any = np.float64(0.0)
    weighted: Any = np.float64(0.0)
    for c, a in zip(restated_costs, ages, strict=True):
        cost = np.asarray(c, dtype=float)
        total = total + cost
        weighted = weighted + cost * np.asarray(a, dtype=float)
    positive = total > 0
    return np.where(positive, weighted / np.where(positive, total, 1.0), 0.0)


def weighted_investment_years(parts: WeightedYearsParts, path: str, draw: Draw) -> Derived:
    """Years used = 加权投资年限 x utilisation (资产利用率).

    Each cost is restated (x its price factor, or x index_to / index_from), weighted by its
    age, and the weighted years are scaled by the utilisation (actual use / normal use) into
    the years the age-life rate uses.

    Parameters
    ----------
    parts : WeightedYearsParts
    path : str
        ``...years_used.weighted_investment_years``; investment i's parts are drawn at
        ``path.costs[i]``, ``path.ages[i]``, ``path.price_factors[i]`` or
        ``path.index_from[i]`` (and ``path.index_to``).
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the years used; ``figures["investments"]`` one row per investment (cost,
        its factor, restated cost, age, restated cost x age).
    """
    index_to = None if parts.index_to is None else draw(f"{path}.index_to", parts.index_to)
    rows: list[dict[str, Any]] = []
    restated: list[Any] = []
    ages: list[Any] = []
    for i, (c, a) in enumerate(zip(parts.costs, parts.ages, strict=True)):
        cost = draw(f"{path}.costs[{i}]", c)
        age = draw(f"{path}.ages[{i}]", a)
        row: dict[str, Any] = {"cost": cost}
        if parts.price_factors is not None:
            factor = draw(f"{path}.price_factors[{i}]", parts.price_factors[i])
            row["price_factor"] = factor
            now = np.asarray(cost, dtype=float) * np.asarray(factor, dtype=float)
        elif parts.index_from is not None:
            index_from = draw(f"{path}.index_from[{i}]", parts.index_from[i])
            row |= {"index_from": index_from, "index_to": index_to}
            now = restate_by_index(cost, index_from, index_to)
        else:
            now = np.asarray(cost, dtype=float)
        restated.append(now)
        ages.append(age)
        row |= {"restated_cost": now, "age": age, "weighted_cost": now * np.asarray(age, float)}
        rows.append(row)
    years = weighted_years(restated, ages)
    utilisation = draw(f"{path}.utilisation", parts.utilisation)
    used = years * np.asarray(utilisation, dtype=float)
    figures: dict[str, Any] = {
        "investments": rows,
        "restated_total": sum(restated, np.float64(0.0)),
        "weighted_total": sum((r["weighted_cost"] for r in rows), np.float64(0.0)),
        "weighted_years": years,
        "utilisation": utilisation,
        "years_used": used,
    }
    formula = (
        "sum(restated cost x age) / sum(restated cost) x utilisation (加权投资年限 x 资产利用率)"
    )
    return Derived(
        value=used, practice="weighted_investment_years", formula=formula, figures=figures
    )
