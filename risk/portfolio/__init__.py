"""Portfolio screening: many assets ranked by risk-adjusted value, with tail risk and concentration.

Public functions:

- :func:`screen_portfolio` ``(request, progress=None) -> PortfolioResult``;
- :func:`parse_portfolio_csv` ``(data: bytes, max_rows) -> list[PortfolioAsset]``, all or
  nothing, errors naming ``rows[N].field`` (N = 1-based data row, the header not counted);
- :func:`read_portfolio_csv` and :func:`read_portfolio_xlsx` ``(data, max_rows, on_error)
  -> PortfolioUpload``: ``on_error="skip"`` keeps the good rows and lists the rejected ones;
- :func:`to_csv` ``(result, assets) -> str`` and :func:`to_xlsx` ``(result, assets) -> bytes``,
  the ranked table with the input columns.
"""

from ipvalue.risk.portfolio.csv_io import (
    CSV_COLUMNS,
    PortfolioUpload,
    parse_portfolio_csv,
    read_portfolio_csv,
    read_portfolio_xlsx,
)
from ipvalue.risk.portfolio.ranked_table import to_csv, to_xlsx
from ipvalue.risk.portfolio.run import screen_portfolio

__all__ = [
    "CSV_COLUMNS",
    "PortfolioUpload",
    "parse_portfolio_csv",
    "read_portfolio_csv",
    "read_portfolio_xlsx",
    "screen_portfolio",
    "to_csv",
    "to_xlsx",
]
