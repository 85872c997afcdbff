"""Derived inputs: the number a derivation object stands for, from its (possibly sampled) parts.

A method asks ``call.draw(path, x)`` for each input. :func:`derived_draw` wraps a draw so that
when ``x`` is a :class:`~ipvalue.models.derivations.Derivation` (a discount rate built up from
parts, ...) its registered function computes the number from the parts, each drawn at its own
path. The same function serves the point value (floats) and the simulation (arrays of shape
``(paths,)``), so the derivation is one formula. For the point value the wrapper also keeps each
derivation's :class:`Derived` (its figures, for the audit trail) and refuses a derived number
outside the range of the plain number it replaces.

A new derivation is a model class in :mod:`ipvalue.models.derivations` and one line in
:data:`DERIVE`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ipvalue.models.derivations import BuildUpRate, Derivation
from ipvalue.models.errors import InputError
from ipvalue.valuation.derive import rates
from ipvalue.valuation.derive.derived import Derived
from ipvalue.valuation.resolve import Draw

DeriveFunction = Callable[[Any, str, Draw], Derived]
"""``(parts, path, draw) -> Derived``: ``parts`` is the object under the derivation's key and
``path`` its place in the request (``methods[0].discount_rate.build_up``)."""

DERIVE: dict[type[Derivation], DeriveFunction] = {
    BuildUpRate: rates.build_up,
}


def derive(x: Derivation, path: str, draw: Draw) -> Derived:
    """The number derivation ``x`` at ``path`` stands for, its parts drawn by ``draw``."""
    return DERIVE[type(x)](x.parts, f"{path}.{x.tag()}", draw)


def derived_draw(draw: Draw, record: dict[str, Derived] | None = None) -> Draw:
    """``draw`` that also resolves derivation objects (nested ones too).

    Parameters
    ----------
    draw : Draw
        Gives plain inputs (base values, or sampled paths).
    record : dict, optional
        Given for the point value: receives each derivation's :class:`Derived` by its path, and
        a derived number outside its field's range raises :class:`InputError` naming the path.
    """

    def resolved(path: str, x: Any) -> Any:
        if not isinstance(x, Derivation):
            return draw(path, x)
        out = derive(x, path, resolved)
        if record is not None:
            _check_bounds(x, path, out)
            record[path] = out
        return out.value

    return resolved


def _check_bounds(x: Derivation, path: str, out: Derived) -> None:
    bounds = type(x).bounds
    if bounds is None:
        return
    value = float(np.asarray(out.value))
    if not bounds.contains(value):
        fix = f" ({bounds.fix})" if bounds.fix else ""
        raise InputError.for_field(
            f"{path}.{x.tag()}",
            f"derives {value:g} ({out.formula}), which must be in {bounds.describe()}{fix}; "
            "check its parts",
        )
