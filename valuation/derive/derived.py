"""What a derivation hands back: its number and the figures that explain it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Derived:
    """A derived input.

    Attributes
    ----------
    value : float or array (paths,)
        The number the derivation stands for (a discount rate as an annual decimal, ...).
    practice : str
        The derivation's name (``build_up``).
    formula : str
        How the number follows from the parts, in words a reviewer can check.
    figures : dict
        The parts and intermediate numbers (floats or arrays; raw, turned into the audit
        trail once, for the point value).
    warnings : list of str
        What a reviewer must be told about the practice itself (a heuristic courts rejected,
        ...); the engine adds them to the method's warnings, prefixed with the input's path.
    """

    value: Any
    practice: str
    formula: str
    figures: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
