"""Portfolio screening: many assets ranked by risk-adjusted value, with tail risk and concentration.

Public functions:

- :func:`screen_portfolio` ``(request, progress=None) -> PortfolioResult``;
- :func:`parse_portfolio_csv` ``(data: bytes, max_rows) -> list[PortfolioAsset]``, all or
  nothing, errors naming ``rows[N].field`` (N = 1-based data row, the header not counted);
- :func:`to_csv` ``(result) -> str``, the ranked table.
"""

from ipvalue.risk.portfolio.csv_io import CSV_COLUMNS, parse_portfolio_csv, to_csv
from ipvalue.risk.portfolio.run import screen_portfolio

__all__ = ["CSV_COLUMNS", "parse_portfolio_csv", "screen_portfolio", "to_csv"]
