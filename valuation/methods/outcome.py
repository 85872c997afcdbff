"""What a method is called with and what it hands back.

Every method function of the registry has the signature ``fn(inputs, call) -> MethodOutcome``.
The point value calls it with :func:`~valuation.resolve.base_draw` (numbers) and ``point=True``;
the Monte Carlo engine with a draw returning arrays of shape ``(paths,)`` and ``point=False``.
A method never formats its audit trail: it hands back its raw ``figures`` (references to the
arrays it computed anyway), and :mod:`valuation.audit` turns them into the audit trail once, for
the point value only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipvalue.valuation.discounting import FloatArray
from ipvalue.valuation.income_value import LostCase
from ipvalue.valuation.life import LegalLife
from ipvalue.valuation.resolve import Draw


@dataclass(frozen=True)
class MethodCall:
    """One method's call: where its inputs come from and the life that limits it.

    Attributes
    ----------
    path : str
        The method's place in the request, ``methods[i]`` (prefix of its input paths).
    draw : Draw
        Gives each input's number (base value) or array of paths.
    legal : LegalLife
        The asset's remaining legal life at the valuation date (computed once per request).
    life : float or array (...)
        Life to cut income at, years: the legal life, or per path when legal events stop it.
    fixed : Any
        What the method's ``prepare`` step computed once for the request (the market
        regression), or None.
    point : bool
        True for the point value: the method adds its assumptions and explanatory warnings.
    fee_life : float or array (...), optional
        Life over which a renewing mark's renewal fees are paid, when it differs from ``life``;
        defaults to ``life``.
    lost_case : LostCase, optional
        A simulated lost case: income that depends on the life falls by its share from its
        time on (the right lives on, so renewal fees are paid over the uncut life).
    """

    path: str
    draw: Draw
    legal: LegalLife
    life: Any
    fixed: Any = None
    point: bool = True
    fee_life: Any = None
    lost_case: LostCase | None = None


@dataclass
class MethodOutcome:
    """A method's value (float or array of paths) and, for the point value, what explains it.

    Attributes
    ----------
    value : array (...)
        The method's value, currency.
    figures : dict
        Intermediate numbers (floats or arrays) for the audit trail; raw, never converted here.
    assumptions, warnings : list of str
        Filled for the point value.
    cut_by_expiry : bool
        The method's income was cut at the legal expiry (point value only).
    """

    value: FloatArray
    figures: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cut_by_expiry: bool = False

    @classmethod
    def of(cls, value: Any) -> MethodOutcome:
        """An outcome with ``value`` as a float array and nothing else yet."""
        return cls(value=np.asarray(value, dtype=float))


def optional(draw: Draw, path: str, x: Any) -> Any:
    """``draw(path, x)``, or None for an input that is not given."""
    return None if x is None else draw(path, x)
