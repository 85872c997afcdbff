"""Remaining protected life of a right from its legal data: the service's one legal life.

Income after legal expiry does not belong to the right; an expired, lapsed or invalidated right
earns nothing. Statutory terms (from filing unless said otherwise) are a documented convention:
patents 20 years (TRIPS art. 33); utility models 10 (CN, DE, JP), designs 15 (CN from filing since
2021; US 15 from grant; EU registered designs up to 25). Copyright and software run for the
author's life plus 50-70 years and trade secrets last while kept secret: those have no legal end
unless ``expiry_date`` is given.

Trademarks renew every :data:`TRADEMARK_TERM_YEARS` years for as long as the owner pays (TRIPS
art. 18: terms of at least seven years, renewable indefinitely; 10 in the EU, US, CN and JP). A
registered (or granted) mark is assumed to renew unless ``legal.renewal`` is false, so its
``expiry_date`` is the next renewal, not the end of its income; ``legal.renewal_fee`` is then a
cost at each renewal. A mark that does not renew ends at ``expiry_date``.

Years are counted by the calendar of :mod:`valuation.dates` (whole anniversaries, then a
fraction).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ipvalue.models.asset import DEAD_STATUSES, Asset
from ipvalue.valuation.dates import add_years, anniversary, years_between

STATUTORY_TERM_YEARS: dict[str, float] = {"patent": 20.0, "utility_model": 10.0, "design": 15.0}
"""Years from filing (or grant, for US designs) when no expiry date is given."""

UTILITY_MODEL_TERM_BY_JURISDICTION: dict[str, float] = {"CN": 10.0, "DE": 10.0, "JP": 10.0}
DESIGN_TERM_BY_JURISDICTION: dict[str, float] = {"CN": 15.0, "US": 15.0, "EU": 25.0, "JP": 25.0}

TRADEMARK_TERM_YEARS = 10
"""Years between trademark renewals (EU, US, CN, JP; TRIPS art. 18 sets at least seven)."""
RENEWING_STATUSES = frozenset({"registered", "granted"})
"""Statuses of a trademark that is assumed to renew unless ``legal.renewal`` says otherwise."""


@dataclass(frozen=True)
class Renewal:
    """A trademark's renewals: a fee every ``every_years`` from ``first_years`` on.

    Attributes
    ----------
    first_years : float
        Years from the valuation date to the next renewal (> 0).
    every_years : float
        Years between renewals.
    fee : float
        Fee per renewal, currency (0 when the request gives none).
    """

    first_years: float
    every_years: float
    fee: float


@dataclass(frozen=True)
class LegalLife:
    """Remaining protected life of a right at the valuation date.

    Attributes
    ----------
    years : float
        Remaining legal life in years (``inf`` when the law sets no end).
    expiry_date : datetime.date or None
        The date protection ends, when known or derived; for a renewing trademark, the next
        renewal date.
    alive : bool
        False for a lapsed, expired or invalidated right, or one past its expiry.
    basis : str
        How the life was found, for the audit trail.
    renews : bool
        A trademark assumed to renew at ``expiry_date`` and every term after.
    renewal : Renewal or None
        The renewal dates and fee, when a renewing mark's renewals can be dated.
    warnings : tuple of str
        What the result must say about this life (no legal limit for want of dates, ...).
    source : str
        Where the expiry date comes from (``expiry_date ...``, ``20 years from filing ...``).
    """

    years: float
    expiry_date: dt.date | None
    alive: bool
    basis: str
    renews: bool = False
    renewal: Renewal | None = None
    warnings: tuple[str, ...] = ()
    source: str = ""

    @property
    def limited(self) -> bool:
        """True when an expiry date ends the right's income (a finite, positive life)."""
        return self.alive and math.isfinite(self.years)

    def cut_warning(self, what: str) -> str:
        """The warning for income of ``what`` that this life's expiry cuts."""
        return (
            f"{what}: income after the legal expiry on {self.expiry_date} "
            f"({self.years:.2f} years; {self.source or self.basis}) is not counted"
        )


def _kind(asset: Asset) -> str:
    return asset.kind.replace("_", " ")


def _statutory_expiry(asset: Asset) -> tuple[dt.date | None, str]:
    legal = asset.legal
    term = STATUTORY_TERM_YEARS[asset.kind]
    if asset.kind == "utility_model":
        term = UTILITY_MODEL_TERM_BY_JURISDICTION.get(asset.jurisdiction or "", term)
    if asset.kind == "design":
        term = DESIGN_TERM_BY_JURISDICTION.get(asset.jurisdiction or "", term)
        if asset.jurisdiction == "US" and legal.grant_date:
            return add_years(legal.grant_date, term), f"US design: {term:g} years from grant"
    if legal.filing_date is None:
        return None, (
            f"no expiry_date or filing_date given; the {term:g}-year term of a {_kind(asset)} "
            "cannot be placed"
        )
    return add_years(legal.filing_date, term), f"{term:g} years from filing ({legal.filing_date})"


def _next_renewal(asset: Asset, valuation_date: dt.date) -> float | None:
    """Years to the next renewal after ``valuation_date``: ``expiry_date`` (rolled forward by
    whole terms if it has passed), else the next term anniversary of ``filing_date``."""
    legal = asset.legal
    start = legal.expiry_date or legal.filing_date
    if start is None:
        return None
    term = TRADEMARK_TERM_YEARS
    if start <= valuation_date:
        terms = int(years_between(start, valuation_date) // term) + 1
        start = anniversary(start, terms * term)
    return years_between(valuation_date, start)


def _trademark_life(asset: Asset, valuation_date: dt.date) -> LegalLife | None:
    """A renewing mark's life (unbounded); None when the mark does not renew."""
    legal = asset.legal
    renews = legal.status in RENEWING_STATUSES if legal.renewal is None else legal.renewal
    if not renews:
        return None
    assumed = "assumed" if legal.renewal is None else "legal.renewal true"
    basis = (
        f"a trademark renewed every {TRADEMARK_TERM_YEARS} years has no legal end (renewal "
        f"{assumed}; set legal.renewal false to end it at expiry_date)"
    )
    first = _next_renewal(asset, valuation_date)
    warnings: list[str] = []
    renewal = None
    if first is not None:
        renewal = Renewal(first, float(TRADEMARK_TERM_YEARS), float(legal.renewal_fee or 0.0))
    elif legal.renewal_fee:
        warnings.append(
            "legal.renewal_fee is not counted: without expiry_date or filing_date the renewals "
            "cannot be dated"
        )
    expiry = None if first is None else add_years(valuation_date, first)
    return LegalLife(math.inf, expiry, True, basis, True, renewal, tuple(warnings))


def legal_life(asset: Asset, valuation_date: dt.date) -> LegalLife:
    """Remaining protected life of ``asset`` at ``valuation_date``.

    Parameters
    ----------
    asset : Asset
        Its ``kind``, ``jurisdiction``, ``legal.status``, dates and (trademarks) renewal decide
        the life.
    valuation_date : datetime.date

    Returns
    -------
    LegalLife
        ``years`` by the calendar of :mod:`valuation.dates`; ``inf`` without a legal end.
    """
    legal = asset.legal
    if legal.status in DEAD_STATUSES:
        return LegalLife(0.0, legal.expiry_date, False, f"the right is {legal.status}")
    if asset.kind == "trademark":
        renewing = _trademark_life(asset, valuation_date)
        if renewing is not None:
            return renewing
    warnings: tuple[str, ...] = ()
    expiry: dt.date | None
    if legal.expiry_date is not None:
        expiry, basis = legal.expiry_date, f"expiry_date {legal.expiry_date}"
        if asset.kind == "trademark":
            basis += " (the mark is not renewed)"
    elif asset.kind in STATUTORY_TERM_YEARS:
        expiry, basis = _statutory_expiry(asset)
        if expiry is None:
            warnings = (f"valued without a legal limit: {basis}; give filing_date or expiry_date",)
    else:
        expiry, basis = None, f"a {_kind(asset)} has no statutory end date"
    if expiry is None:
        return LegalLife(math.inf, None, True, basis, warnings=warnings)
    years = years_between(valuation_date, expiry)
    if years <= 0:
        return LegalLife(0.0, expiry, False, f"protection ended on {expiry} ({basis})")
    return LegalLife(years, expiry, True, f"{years:.2f} years to {expiry} ({basis})", source=basis)
