"""Remaining protected life of a right from its legal data.

Income after legal expiry does not belong to the right; an expired, lapsed or invalidated right
earns nothing. Statutory terms (from filing unless said otherwise) are a documented convention:
patents 20 years (TRIPS art. 33); utility models 10 (CN, DE, JP), designs 15 (CN from filing since
2021; US 15 from grant; EU registered designs up to 25). Trademarks renew indefinitely; copyright
and software run for the author's life plus 50-70 years; trade secrets last while kept secret.
Those have no legal end unless ``expiry_date`` is given.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ipvalue.models.asset import DEAD_STATUSES, Asset

DAYS_PER_YEAR = 365.25

STATUTORY_TERM_YEARS: dict[str, float] = {"patent": 20.0, "utility_model": 10.0, "design": 15.0}
"""Years from filing (or grant, for US designs) when no expiry date is given."""

UTILITY_MODEL_TERM_BY_JURISDICTION: dict[str, float] = {"CN": 10.0, "DE": 10.0, "JP": 10.0}
DESIGN_TERM_BY_JURISDICTION: dict[str, float] = {"CN": 15.0, "US": 15.0, "EU": 25.0, "JP": 25.0}


@dataclass(frozen=True)
class LegalLife:
    """Remaining protected life of a right at the valuation date.

    Attributes
    ----------
    years : float
        Remaining legal life in years (``inf`` when the law sets no end).
    expiry_date : datetime.date or None
        The date protection ends, when known or derived.
    alive : bool
        False for a lapsed, expired or invalidated right, or one past its expiry.
    basis : str
        How the life was found, for the audit trail.
    """

    years: float
    expiry_date: dt.date | None
    alive: bool
    basis: str


def _years_between(start: dt.date, end: dt.date) -> float:
    return (end - start).days / DAYS_PER_YEAR


def _add_years(day: dt.date, years: float) -> dt.date:
    whole = int(years)
    try:
        shifted = day.replace(year=day.year + whole)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year + whole, day=28)
    return shifted + dt.timedelta(days=round((years - whole) * DAYS_PER_YEAR))


def _statutory_expiry(asset: Asset) -> tuple[dt.date | None, str]:
    legal = asset.legal
    term = STATUTORY_TERM_YEARS.get(asset.kind)
    if term is None:
        return None, f"a {asset.kind.replace('_', ' ')} has no statutory end date"
    if asset.kind == "utility_model":
        term = UTILITY_MODEL_TERM_BY_JURISDICTION.get(asset.jurisdiction or "", term)
    if asset.kind == "design":
        term = DESIGN_TERM_BY_JURISDICTION.get(asset.jurisdiction or "", term)
        if asset.jurisdiction == "US" and legal.grant_date:
            return _add_years(legal.grant_date, term), f"US design: {term:g} years from grant"
    if legal.filing_date is None:
        return None, (
            f"no expiry_date or filing_date given; the {term:g}-year term of a "
            f"{asset.kind.replace('_', ' ')} cannot be placed, so no legal limit is applied"
        )
    return _add_years(legal.filing_date, term), f"{term:g} years from filing ({legal.filing_date})"


def remaining_legal_life(asset: Asset, valuation_date: dt.date) -> LegalLife:
    """Remaining protected life of ``asset`` at ``valuation_date``.

    Parameters
    ----------
    asset : Asset
        Its ``legal.status`` and dates decide the life.
    valuation_date : datetime.date

    Returns
    -------
    LegalLife
    """
    legal = asset.legal
    if legal.status in DEAD_STATUSES:
        return LegalLife(0.0, legal.expiry_date, False, f"the right is {legal.status}")
    expiry: dt.date | None
    if legal.expiry_date is not None:
        expiry, basis = legal.expiry_date, f"expiry_date {legal.expiry_date}"
    else:
        expiry, basis = _statutory_expiry(asset)
    if expiry is None:
        return LegalLife(math.inf, None, True, basis)
    years = _years_between(valuation_date, expiry)
    if years <= 0:
        return LegalLife(0.0, expiry, False, f"protection ended on {expiry} ({basis})")
    return LegalLife(years, expiry, True, f"{years:.2f} years to {expiry} ({basis})")
