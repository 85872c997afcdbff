"""Royalty rates and profit splits given by how an appraiser derives them (issue 14, item 2).

Each class is a :class:`~ipvalue.models.derivations.Derivation`: an object with one key naming
the practice, accepted where the plain ``royalty_rate`` (a share of sales) or ``split_rate``
(a share of profit) goes. The formulas live in :mod:`ipvalue.valuation.derive.royalties`.

Split rates (``split_rate``, share of profit):

- ``{"three_factor": {}}``: 三分法, profit made by capital, labour and technology in equal
  parts, so technology's share is 1/3 (x ``subject_share`` when the right is only part of it);
- ``{"four_factor": {}}``: 四分法, capital, organisation (management), labour and technology:
  1/4;
- ``{"scoring": {"low", "high", "factors": [{"name", "weight", "score"}]}}``: 评分法, the rate
  = low + (high - low) x the weighted factor score / 100 (weights sum to 1, scores 0-100);
- ``{"from_sales_royalty": {"royalty_rate", "margin"}}``: 利润分成率 = 销售收入分成率 / 销售利润率.

Royalty rates (``royalty_rate``, share of sales):

- ``{"scoring": ...}``, the same scoring within a range of sales royalties;
- ``{"brand_strength": {"score", "low", "high"}}``: a trademark's rate from a brand strength
  index (0-100) within the sector's royalty range, as in Brand Finance's royalty relief;
- ``{"from_profit_split": {"split", "margin"}}``: 销售收入分成率 = 利润分成率 x 销售利润率;
- ``{"twenty_five_percent_rule": {"operating_margin"}}``: 25 % of the operating margin, a
  heuristic only, always with the warning that courts rejected it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from ipvalue.models.base import Strict
from ipvalue.models.derivations import Derivation, derivable
from ipvalue.models.uncertain import Bounds, Rate, UncertainNumber, base_value

Share = Annotated[
    UncertainNumber, Bounds(0, 1, fix="a share is a decimal in [0, 1]: 0.5 is one half")
]
"""A share of a whole, decimal in [0, 1]."""
PositiveMargin = Annotated[
    UncertainNumber,
    Bounds(0, 1, open_low=True, fix="a profit margin is a decimal share of sales above 0"),
]
"""A profit margin on sales, decimal in (0, 1]."""
Score = Annotated[
    UncertainNumber, Bounds(0, 100, fix="scores are on a 0-100 scale (100 is the best)")
]
"""A factor's score on the 0-100 scale."""

_SPLIT_BOUNDS = Bounds(
    0, 1, fix="a profit split is a share of profit in [0, 1]; check the rate and margin behind it"
)
_ROYALTY_BOUNDS = Bounds(0, 1, fix="a royalty rate is a share of sales in [0, 1]")

WEIGHT_TOLERANCE = 1e-6
"""How far the weights of a scoring may sum from 1."""


class FactorShareParts(Strict):
    """The subject right's part of the technology factor (1 when it is the whole technology)."""

    subject_share: Share = Field(
        default=1.0,
        description="share of the technology factor's profit due to the subject right",
    )


class ThreeFactorSplit(Derivation):
    """三分法: capital, labour and technology make the profit in equal parts: 1/3."""

    bounds: ClassVar[Bounds | None] = _SPLIT_BOUNDS
    three_factor: FactorShareParts


class FourFactorSplit(Derivation):
    """四分法: capital, organisation (management), labour and technology: 1/4 each."""

    bounds: ClassVar[Bounds | None] = _SPLIT_BOUNDS
    four_factor: FactorShareParts


class ScoredFactor(Strict):
    """One factor of a scoring: its weight and its score on the 0-100 scale."""

    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(gt=0, le=1, description="the factor's weight; weights sum to 1")
    score: Score


class ScoringParts(Strict):
    """评分法: a range of rates and the factor scores that place the subject in it."""

    low: Rate = Field(description="lowest rate of the range (score 0), decimal")
    high: Rate = Field(description="highest rate of the range (score 100), decimal")
    factors: list[ScoredFactor] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _check(self) -> ScoringParts:
        low, high = base_value(self.low), base_value(self.high)
        if high <= low:
            raise ValueError(f"high: must be above low ({high:g} <= {low:g}); give the range")
        total = sum(f.weight for f in self.factors)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(
                f"factors: the weights sum to {total:g}; they must sum to 1 "
                "(divide each weight by their sum)"
            )
        return self


class ScoredRate(Derivation):
    """A rate placed in its range by weighted factor scores: low + (high - low) x score / 100."""

    bounds: ClassVar[Bounds | None] = _ROYALTY_BOUNDS
    scoring: ScoringParts


class BrandStrengthParts(Strict):
    """A brand strength index and the sector's royalty range."""

    score: Score = Field(description="brand strength index (BSI), 0-100")
    low: Rate = Field(description="lowest royalty rate of the sector's range, decimal")
    high: Rate = Field(description="highest royalty rate of the sector's range, decimal")

    @model_validator(mode="after")
    def _check(self) -> BrandStrengthParts:
        low, high = base_value(self.low), base_value(self.high)
        if high <= low:
            raise ValueError(f"high: must be above low ({high:g} <= {low:g}); give the range")
        return self


class BrandStrengthRoyalty(Derivation):
    """A trademark's royalty rate from its brand strength index within a royalty range."""

    bounds: ClassVar[Bounds | None] = _ROYALTY_BOUNDS
    brand_strength: BrandStrengthParts


SplitDerivationInput = derivable(Share, (ThreeFactorSplit, FourFactorSplit, ScoredRate))
"""A profit split inside a conversion: a share, or derived by factors or scores."""
RoyaltyDerivationInput = derivable(Rate, (ScoredRate, BrandStrengthRoyalty))
"""A sales royalty inside a conversion: a rate, or derived by scores or brand strength."""


class FromSalesRoyaltyParts(Strict):
    """A sales royalty (销售收入分成率) and the profit margin on those sales."""

    royalty_rate: RoyaltyDerivationInput = Field(  # type: ignore[valid-type]
        description="royalty as a share of sales"
    )
    margin: PositiveMargin = Field(description="profit margin on sales (销售利润率)")


class SplitFromSalesRoyalty(Derivation):
    """利润分成率 = 销售收入分成率 / 销售利润率: the profit split a sales royalty implies."""

    bounds: ClassVar[Bounds | None] = _SPLIT_BOUNDS
    from_sales_royalty: FromSalesRoyaltyParts


class FromProfitSplitParts(Strict):
    """A profit split (利润分成率) and the profit margin on sales."""

    split: SplitDerivationInput = Field(  # type: ignore[valid-type]
        description="the right's share of profit"
    )
    margin: PositiveMargin = Field(description="profit margin on sales (销售利润率)")


class RoyaltyFromProfitSplit(Derivation):
    """销售收入分成率 = 利润分成率 x 销售利润率: the sales royalty a profit split implies."""

    bounds: ClassVar[Bounds | None] = _ROYALTY_BOUNDS
    from_profit_split: FromProfitSplitParts


class TwentyFivePercentParts(Strict):
    """The licensee's expected operating margin on the licensed sales."""

    operating_margin: PositiveMargin


class TwentyFivePercentRule(Derivation):
    """25 % rule of thumb: royalty = 25 % of the operating margin (a heuristic; see warning)."""

    bounds: ClassVar[Bounds | None] = _ROYALTY_BOUNDS
    twenty_five_percent_rule: TwentyFivePercentParts


SPLIT_RATE_DERIVATIONS: tuple[type[Derivation], ...] = (
    ThreeFactorSplit,
    FourFactorSplit,
    ScoredRate,
    SplitFromSalesRoyalty,
)
"""Every way to derive a profit split (``split_rate``)."""
ROYALTY_RATE_DERIVATIONS: tuple[type[Derivation], ...] = (
    ScoredRate,
    BrandStrengthRoyalty,
    RoyaltyFromProfitSplit,
    TwentyFivePercentRule,
)
"""Every way to derive a royalty rate on sales (``royalty_rate``)."""

SplitRateInput = derivable(Rate, SPLIT_RATE_DERIVATIONS)
"""A profit split: a decimal share of profit, a distribution, or a derivation of one."""
RoyaltyRateInput = derivable(Rate, ROYALTY_RATE_DERIVATIONS)
"""A royalty on sales: a decimal, a distribution, or a derivation of one."""
