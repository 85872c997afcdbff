"""Concentration of a portfolio by value today: largest holdings, HHI, sectors, legal exposure.

Weights are ``w_i = V_i / sum V``. ``top_k`` is the summed weight of the k largest holdings
(all of them when k exceeds the count); ``hhi = sum w_i^2`` (1 for a single holding, 1/n for n
equal ones) and ``effective_number = 1 / hhi``. Sector figures use the same formulas on sector
weights. The legal shares are the weights of holdings whose protection ends within the horizon
(by expiry or status), that are under challenge, and whose status already says lapsed, expired
or invalidated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ipvalue.models.portfolio import Concentration


def top_share(weights: ArrayLike, k: int) -> float:
    """Summed weight of the ``k`` largest holdings."""
    w = np.sort(np.asarray(weights, dtype=float))[::-1]
    return float(w[:k].sum())


def hhi(weights: ArrayLike) -> float:
    """Herfindahl-Hirschman index: sum of squared weights (weights summing to one)."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w * w))


def concentration(
    values: ArrayLike,
    sectors: Sequence[str],
    expires: ArrayLike,
    under_challenge: ArrayLike,
    dead: ArrayLike,
    top_n: Sequence[int],
) -> Concentration:
    """Concentration figures of a portfolio.

    Parameters
    ----------
    values : array (assets,)
        Point values today, currency, positive.
    sectors : sequence of str (assets,)
    expires, under_challenge, dead : arrays of bool (assets,)
        Protection ends within the horizon; a challenge is pending; status already dead.
    top_n : sequence of int
        Counts k for the ``top_k`` shares.
    """
    v = np.asarray(values, dtype=float)
    w = v / v.sum()
    names, idx = np.unique(np.asarray(sectors, dtype=object), return_inverse=True)
    sector_w = np.bincount(idx.ravel(), weights=w, minlength=len(names))
    largest = int(np.argmax(sector_w))
    h = hhi(w)
    return Concentration(
        top_shares={f"top_{k}": top_share(w, k) for k in top_n},
        hhi=h,
        effective_number=1.0 / h,
        largest_sector=str(names[largest]),
        largest_sector_share=float(sector_w[largest]),
        sector_hhi=hhi(sector_w),
        sector_shares={str(n): float(s) for n, s in zip(names, sector_w, strict=True)},
        share_expiring_within_horizon=float(w[np.asarray(expires, dtype=bool)].sum()),
        share_under_challenge=float(w[np.asarray(under_challenge, dtype=bool)].sum()),
        share_protection_lost=float(w[np.asarray(dead, dtype=bool)].sum()),
    )
