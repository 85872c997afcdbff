"""Inputs of each valuation method, named as in docs/api.md's table: the union by ``method``.

The ``method`` field selects the model. Every numeric input may be uncertain; the deterministic
value uses each input's base value and the Monte Carlo engine samples them. Each family's models
are in their own module (`ipvalue.models.income_methods`, `~.cost_methods`, `~.market_method`,
`~.option_method`, the licence in `~.licence`; what they share in `~.method_base`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ipvalue.models.cost_methods import MultiplierCostInputs, ReplacementCostInputs
from ipvalue.models.income_methods import (
    DCFInputs,
    EquivalentInvestmentSplitInputs,
    ExcessEarningsInputs,
    ProfitSplitInputs,
    ReliefFromRoyaltyInputs,
    WithAndWithoutInputs,
)
from ipvalue.models.licence import LicenceInputs
from ipvalue.models.market_method import MarketInputs
from ipvalue.models.option_method import RealOptionInputs

MethodInputs = Annotated[
    DCFInputs
    | ReliefFromRoyaltyInputs
    | ExcessEarningsInputs
    | WithAndWithoutInputs
    | ProfitSplitInputs
    | EquivalentInvestmentSplitInputs
    | ReplacementCostInputs
    | MultiplierCostInputs
    | MarketInputs
    | RealOptionInputs
    | LicenceInputs,
    Field(discriminator="method"),
]
"""One method's inputs, selected by ``method``."""

METHOD_NAMES = (
    "dcf",
    "relief_from_royalty",
    "excess_earnings",
    "with_and_without",
    "profit_split",
    "equivalent_investment_split",
    "replacement_cost",
    "multiplier_cost",
    "market",
    "real_option",
    "licence",
)
INCOME_METHODS = frozenset(METHOD_NAMES[:6])
"""Methods whose value is the right's income over its life: a lapsed, expired or invalidated right
is worth zero by them. ``licence`` is not one: its running royalties are an income stream (cut
at the legal life and by a simulated lost case as relief from royalty's are, and counted by
their years in the work estimate, `ipvalue.api.limits.method_units`), but its upfront fee and
the licensor's minimum price stand whatever happens to the right."""
