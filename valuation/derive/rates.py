"""Discount rates derived the way appraisers derive them.

Each function takes the derivation's parts, its request path and a draw, and returns a
:class:`~ipvalue.valuation.derive.derived.Derived` whose value is an annual decimal (a float for
the point value, an array of paths in the simulation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ipvalue.models.derivations import BuildUpParts
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.resolve import Draw

_BUILD_UP_PARTS = (
    "risk_free",
    "equity_premium",
    "size_premium",
    "industry_premium",
    "specific_premium",
)


def build_up(parts: BuildUpParts, path: str, draw: Draw) -> Derived:
    """Build-up discount rate: k = r_f + ERP + size + industry + specific premium.

    Parameters
    ----------
    parts : BuildUpParts
        Risk-free rate and premiums, annual decimals (each may be uncertain).
    path : str
        ``...discount_rate.build_up``; each part is drawn at ``path.<part>``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the rate, annual decimal.
    """
    figures: dict[str, Any] = {
        name: draw(f"{path}.{name}", getattr(parts, name)) for name in _BUILD_UP_PARTS
    }
    total: Any = np.float64(0.0)
    for name in _BUILD_UP_PARTS:
        total = total + np.asarray(figures[name], dtype=float)
    formula = "risk_free + equity_premium + size_premium + industry_premium + specific_premium"
    return Derived(value=total, practice="build_up", formula=formula, figures=figures)
