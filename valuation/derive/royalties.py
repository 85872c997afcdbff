"""Royalty rates and profit splits derived the way appraisers derive them (issue 14, item 2).

Each function takes the derivation's parts, its request path and a draw, and returns a
:class:`~ipvalue.valuation.derive.derived.Derived` whose value is a decimal share (of profit
for a split, of sales for a royalty): a float for the point value, an array of paths in the
simulation. The plain formulas are public so that tests and other modules use the same ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.models.royalties import (
    BrandStrengthParts,
    FactorShareParts,
    FromProfitSplitParts,
    FromSalesRoyaltyParts,
    ScoringParts,
    TwentyFivePercentParts,
)
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.resolve import Draw

TWENTY_FIVE_PERCENT = 0.25
"""The licensor's share of the licensee's operating profit under the 25 % rule of thumb."""

TWENTY_FIVE_PERCENT_WARNING = (
    "the 25 % rule of thumb is a heuristic only: the US Court of Appeals for the Federal "
    "Circuit held it 'a fundamentally flawed tool for determining a baseline royalty rate' and "
    "inadmissible (Uniloc USA, Inc. v. Microsoft Corp., 632 F.3d 1292, Fed. Cir. 2011); "
    "support the rate by comparable licences or a profit analysis of this right"
)


def scored_rate(low: ArrayLike, high: ArrayLike, adjustment: ArrayLike) -> FloatArray:
    """A rate placed in its range: K = low + (high - low) x r.

    Parameters
    ----------
    low, high : float or array (...)
        The range of rates, decimals.
    adjustment : float or array (...)
        The adjustment coefficient r in [0, 1] (调整系数): the weighted score / 100.
    """
    lo = np.asarray(low, dtype=float)
    return lo + (np.asarray(high, dtype=float) - lo) * np.asarray(adjustment, dtype=float)


def split_from_sales_royalty(royalty_rate: ArrayLike, margin: ArrayLike) -> FloatArray:
    """Profit split a sales royalty implies: 利润分成率 = 销售收入分成率 / 销售利润率.

    2 % of sales at a 10 % profit margin is a 20 % share of profit.
    """
    return np.asarray(royalty_rate, dtype=float) / np.asarray(margin, dtype=float)


def royalty_from_profit_split(split: ArrayLike, margin: ArrayLike) -> FloatArray:
    """Sales royalty a profit split implies: 销售收入分成率 = 利润分成率 x 销售利润率."""
    return np.asarray(split, dtype=float) * np.asarray(margin, dtype=float)


_FACTORS = {3: "capital, labour, technology", 4: "capital, organisation, labour, technology"}


def _factor_split(parts: FactorShareParts, path: str, draw: Draw, n: int, name: str) -> Derived:
    share = draw(f"{path}.subject_share", parts.subject_share)
    split = np.asarray(share, dtype=float) / n
    factors = _FACTORS[n]
    return Derived(
        value=split,
        practice=name,
        formula=f"subject_share / {n} (profit made by {factors} in equal parts)",
        figures={"factors": n, "subject_share": share, "split_rate": split},
    )


def three_factor(parts: FactorShareParts, path: str, draw: Draw) -> Derived:
    """三分法: the technology factor's third of profit, x the subject right's share of it."""
    return _factor_split(parts, path, draw, 3, "three_factor")


def four_factor(parts: FactorShareParts, path: str, draw: Draw) -> Derived:
    """四分法: the technology factor's quarter of profit, x the subject right's share of it."""
    return _factor_split(parts, path, draw, 4, "four_factor")


def scoring(parts: ScoringParts, path: str, draw: Draw) -> Derived:
    """评分法: K = low + (high - low) x r, r = sum of weight x score / 100.

    No published worked case was found to test against (see the ``about`` of
    tests/reference/derivations_royalty.json): the tests check a hand-checked example and its
    properties (within the range, rising with every score).

    Parameters
    ----------
    parts : ScoringParts
        The range (decimals) and the factors (weights summing to 1, scores 0-100; scores may be
        uncertain, drawn at ``path.factors[i].score``).

    Returns
    -------
    Derived
        ``value`` is the rate, decimal, within [low, high].
    """
    low = draw(f"{path}.low", parts.low)
    high = draw(f"{path}.high", parts.high)
    scores = [draw(f"{path}.factors[{i}].score", f.score) for i, f in enumerate(parts.factors)]
    weighted: Any = np.float64(0.0)
    for f, score in zip(parts.factors, scores, strict=True):
        weighted = weighted + f.weight * np.asarray(score, dtype=float)
    adjustment = weighted / 100.0
    rate = scored_rate(low, high, adjustment)
    figures: dict[str, Any] = {
        "low": low,
        "high": high,
        "factors": [
            {"name": f.name, "weight": f.weight, "score": score}
            for f, score in zip(parts.factors, scores, strict=True)
        ],
        "weighted_score": weighted,
        "adjustment": adjustment,
        "rate": rate,
    }
    return Derived(
        value=rate,
        practice="scoring",
        formula="low + (high - low) x sum(weight x score) / 100",
        figures=figures,
    )


def brand_strength(parts: BrandStrengthParts, path: str, draw: Draw) -> Derived:
    """Royalty from a brand strength index: rate = low + (high - low) x BSI / 100.

    Brand Finance's royalty relief applies the brand strength index (0-100) to the sector's
    royalty range: a 0-5 % range and a BSI of 80 give 4 %.
    """
    score = draw(f"{path}.score", parts.score)
    low = draw(f"{path}.low", parts.low)
    high = draw(f"{path}.high", parts.high)
    rate = scored_rate(low, high, np.asarray(score, dtype=float) / 100.0)
    return Derived(
        value=rate,
        practice="brand_strength",
        formula="low + (high - low) x brand strength index / 100",
        figures={"score": score, "low": low, "high": high, "royalty_rate": rate},
    )


def from_sales_royalty(parts: FromSalesRoyaltyParts, path: str, draw: Draw) -> Derived:
    """Profit split from a sales royalty: split = royalty_rate / margin."""
    royalty = draw(f"{path}.royalty_rate", parts.royalty_rate)
    margin = draw(f"{path}.margin", parts.margin)
    split = split_from_sales_royalty(royalty, margin)
    return Derived(
        value=split,
        practice="from_sales_royalty",
        formula="royalty_rate / margin (销售收入分成率 / 销售利润率)",
        figures={"royalty_rate": royalty, "margin": margin, "split_rate": split},
    )


def from_profit_split(parts: FromProfitSplitParts, path: str, draw: Draw) -> Derived:
    """Sales royalty from a profit split: royalty = split x margin."""
    split = draw(f"{path}.split", parts.split)
    margin = draw(f"{path}.margin", parts.margin)
    royalty = royalty_from_profit_split(split, margin)
    return Derived(
        value=royalty,
        practice="from_profit_split",
        formula="split x margin (利润分成率 x 销售利润率)",
        figures={"split": split, "margin": margin, "royalty_rate": royalty},
    )


def twenty_five_percent_rule(parts: TwentyFivePercentParts, path: str, draw: Draw) -> Derived:
    """25 % rule of thumb: royalty = 0.25 x operating margin, with its warning always."""
    margin = draw(f"{path}.operating_margin", parts.operating_margin)
    royalty = TWENTY_FIVE_PERCENT * np.asarray(margin, dtype=float)
    return Derived(
        value=royalty,
        practice="twenty_five_percent_rule",
        formula="0.25 x operating_margin (heuristic; rejected in Uniloc v. Microsoft, 2011)",
        figures={"share": TWENTY_FIVE_PERCENT, "operating_margin": margin, "royalty_rate": royalty},
        warnings=[TWENTY_FIVE_PERCENT_WARNING],
    )
