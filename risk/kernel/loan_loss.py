"""The loan-default loss model: collateral assesses it, insurance layers its cover on it.

A bullet loan of ``loan`` is secured by a right whose value follows a
:class:`~risk.kernel.process.ValueProcess` (lognormal with legal stops). The borrower defaults at
an exponential time ``tau`` with yearly probability ``annual_pd``, independent of the collateral
(:mod:`risk.kernel.hazard`); on default within the term the right is sold ``time_to_sell_years``
later for ``(1 - liquidation_discount) V(tau + time_to_sell)`` (0 if the right has stopped by
then), and the lender's ground-up loss is the shortfall ``max(loan - recovery, 0)``. The value at
the sale is an exact draw of the process at that date (jointly with the value at the horizon when
asked for).

The expected shortfall has a closed form per default time, a Black (1976) put on the recovery's
forward, so :func:`expected_shortfall_exact` integrates it over the default time; it checks the
simulation and prices layers of cover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import integrate

from ipvalue.risk.kernel import hazard
from ipvalue.risk.kernel.process import ValueProcess
from ipvalue.valuation.options import black_scholes

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Loan:
    """The loan and the sale after default.

    Attributes
    ----------
    amount : float
        Outstanding at default, money.
    horizon_years : float
        Loan term, years.
    annual_pd : float
        Borrower's yearly probability of default, decimal in [0, 1).
    liquidation_discount : float
        Share of value lost in the sale, decimal in [0, 1].
    time_to_sell_years : float
        Years from default to the sale.
    """

    amount: float
    horizon_years: float
    annual_pd: float
    liquidation_discount: float = 0.0
    time_to_sell_years: float = 0.0


@dataclass(frozen=True)
class LoanLossDraws:
    """Per-path draws of the loss model (arrays of shape (paths,)).

    Attributes
    ----------
    defaulted : array of bool
        Default within the term.
    sale_time : array
        Years from now to the sale (``tau + time_to_sell``; ``time_to_sell`` without default).
    value_at_sale : array
        The right's value at the sale, money (0 when it has stopped by then).
    shortfall : array
        Ground-up loss ``max(loan - recovery, 0)`` on default, else 0, money.
    value_at_horizon : array or None
        The right's value at the end of the term on the same paths, when asked for.
    """

    defaulted: NDArray[np.bool_]
    sale_time: FloatArray
    value_at_sale: FloatArray
    shortfall: FloatArray
    value_at_horizon: FloatArray | None = None


def simulate(
    process: ValueProcess,
    loan: Loan,
    paths: int,
    g_default: np.random.Generator,
    g_sale: np.random.Generator,
    *,
    with_horizon: bool = False,
) -> LoanLossDraws:
    """Draw default times, the value at the sale and the shortfall on each path.

    Parameters
    ----------
    process : ValueProcess
        The collateral's value process (its legal stops per path).
    loan : Loan
    paths : int
    g_default, g_sale : numpy.random.Generator
        Streams for default times (``paths`` uniforms) and value shocks (``paths`` normals, or
        ``(paths, 2)`` with ``with_horizon``).
    with_horizon : bool
        Also draw the value at the end of the term, jointly with the value at the sale.
    """
    tau = hazard.event_times(g_default, loan.annual_pd, paths)
    defaulted = tau <= loan.horizon_years
    sale_time = np.where(defaulted, tau, 0.0) + loan.time_to_sell_years
    at_horizon = None
    if with_horizon:
        times = np.column_stack([sale_time, np.full(paths, loan.horizon_years)])
        both = process.at_times(times, g_sale.standard_normal((paths, 2)))
        value_at_sale, at_horizon = both[:, 0], both[:, 1]
    else:
        value_at_sale = process.at(sale_time, g_sale.standard_normal(paths))
    recovery = (1.0 - loan.liquidation_discount) * value_at_sale
    shortfall = np.where(defaulted, np.maximum(loan.amount - recovery, 0.0), 0.0)
    return LoanLossDraws(defaulted, sale_time, value_at_sale, shortfall, at_horizon)


def black_put(forward: float, strike: float, sigma: float, years: float) -> float:
    """Undiscounted put on a lognormal forward (Black 1976): ``E[max(strike - F_t, 0)]``.

    :func:`valuation.options.black_scholes` with no rate and no yield, the forward as the spot;
    a strike at or below 0 gives 0, no spread (``sigma sqrt(t) = 0``) the intrinsic value.

    Parameters
    ----------
    forward : float
        Expected value of the underlying at ``years``, money (> 0).
    strike : float
        Strike, money.
    sigma : float
        Annual volatility of the log value, decimal.
    years : float
        Years to expiry.
    """
    if strike <= 0:
        return 0.0
    if sigma * math.sqrt(years) == 0 or forward <= 0:
        return max(strike - forward, 0.0)
    return float(black_scholes(forward, strike, years, sigma, 0.0).put)


def expected_shortfall_exact(
    value0: float,
    sigma: float,
    loan: Loan,
    *,
    drift: float = 0.0,
    stop_hazard: float = 0.0,
    attachment: float | None = None,
    exhaustion: float = 0.0,
    share: float = 1.0,
) -> float:
    """Expected loss of the layer ``share x [min(shortfall, attachment) - ...]`` by quadrature.

    The loss on default at ``t`` with recovery ``R = (1 - d) V(t + ts)`` is ``share x
    (max(A - R, 0) - max(B - R, 0))`` with ``A = attachment`` (default the loan: the whole
    shortfall) and ``B = exhaustion`` (default 0): a put spread on ``R``. Where the right has
    stopped by the sale (probability ``1 - (1 - stop_hazard)^(t + ts)``) the recovery is 0.

    ``EL = int_0^T h e^{-h t} share [S(t + ts) (P(A) - P(B)) + (1 - S(t + ts)) (A+ - B+)] dt``
    with Black puts ``P`` on the forward ``(1 - d) V_0 e^{drift (t + ts)}``.

    Parameters
    ----------
    value0 : float
        Collateral value now, money.
    sigma : float
        Annual volatility, decimal.
    loan : Loan
    drift : float
        Expected annual return of the value, decimal.
    stop_hazard : float
        Yearly probability the right stops, decimal in [0, 1).
    attachment, exhaustion : float
        Strikes of the layer on the recovery, money (``attachment`` defaults to the loan).
    share : float
        Share of the layer borne, decimal.
    """
    h = float(hazard.intensity(loan.annual_pd))
    if h == 0:
        return 0.0
    a = loan.amount if attachment is None else attachment
    b = exhaustion
    lam_stop = float(hazard.intensity(stop_hazard))

    def integrand(t: float) -> float:
        sale = t + loan.time_to_sell_years
        forward = (1 - loan.liquidation_discount) * value0 * math.exp(drift * sale)
        alive = math.exp(-lam_stop * sale)
        spread = black_put(forward, a, sigma, sale) - black_put(forward, b, sigma, sale)
        dead = max(a, 0.0) - max(b, 0.0)
        return h * math.exp(-h * t) * share * (alive * spread + (1 - alive) * dead)

    return float(integrate.quad(integrand, 0.0, loan.horizon_years, limit=200)[0])
