"""The licensee's share of a right's use, derived from design capacities (转让成本分摊率)."""

from __future__ import annotations

import numpy as np

from ipvalue.models.licence import CapacityParts
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.resolve import Draw


def capacity(parts: CapacityParts, path: str, draw: Draw) -> Derived:
    """转让成本分摊率 = the licensee's design capacity / the total design capacity.

    Parameters
    ----------
    parts : CapacityParts
        Design capacities in one unit (units a year, tonnes a year, ...).
    path : str
        ``...cost_share.capacity``; each capacity is drawn at ``path.<name>``.
    draw : Draw

    Returns
    -------
    Derived
        ``value`` is the share, decimal in [0, 1].
    """
    licensee = draw(f"{path}.licensee_capacity", parts.licensee_capacity)
    total = draw(f"{path}.total_capacity", parts.total_capacity)
    share = np.asarray(licensee, dtype=float) / np.asarray(total, dtype=float)
    return Derived(
        value=share,
        practice="capacity",
        formula="licensee_capacity / total_capacity",
        figures={"licensee_capacity": licensee, "total_capacity": total, "cost_share": share},
    )
