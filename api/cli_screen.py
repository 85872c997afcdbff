"""``ipvalue screen FILE``: screen a portfolio CSV or Excel file locally, as
``POST /v1/portfolios/screen``.

Reads ``FILE`` as Excel when it ends in ``.xlsx``, else as CSV. Writes the ranked table
(``to_csv``; an Excel workbook, ``to_xlsx``, when ``--out`` ends in ``.xlsx``) to ``--out`` or
standard output, the portfolio summary, the rows left out by ``--on-error skip`` and a progress
bar to standard error. Exit status 0 on success, 2 on bad input (each problem printed as
``field: message``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any, TextIO

DEFAULT_MAX_ROWS = 100_000
BAR_WIDTH = 30


class ProgressBar:
    """A one-line text progress bar, ``progress(done, total)``, redrawn in place on ``stream``."""

    def __init__(self, stream: TextIO, label: str = "screening") -> None:
        self.stream = stream
        self.label = label
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        if pct == self.last and done < total:
            return
        self.last = pct
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{self.label} [{bar}] {pct:3d}% {done}/{total} assets{end}")
        self.stream.flush()


def _summary(result: Any) -> str:
    t, c, cur = result.totals, result.concentration, result.currency
    s = result.settings
    return "\n".join(
        [
            f"{t.n_assets} assets, value {t.total_value:,.0f} {cur}; "
            f"horizon {s.horizon_years:g} y, {s.paths} paths, seed {s.seed_entropy}",
            f"mean at horizon {t.mean:,.0f} (se {t.se_mean:,.0f}); p05 {t.p05:,.0f}, "
            f"p50 {t.p50:,.0f}, p95 {t.p95:,.0f}",
            f"VaR95 {t.var95:,.0f}  ES95 {t.es95:,.0f}  VaR99 {t.var99:,.0f}  ES99 {t.es99:,.0f}",
            f"diversification benefit (95 %) {t.diversification_benefit95:,.0f}",
            "concentration: "
            + ", ".join(f"{k} {v:.1%}" for k, v in c.top_shares.items())
            + f", HHI {c.hhi:.3f}, expiring {c.share_expiring_within_horizon:.1%}, "
            f"under challenge {c.share_under_challenge:.1%}",
            f"ranked by {s.score}",
        ]
    )


def _screen(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ipvalue.api.cli import report_bad_input
    from ipvalue.models.errors import InputError
    from ipvalue.models.portfolio import PortfolioRequest, SectorCorrelation
    from ipvalue.risk.portfolio import (
        read_portfolio_csv,
        read_portfolio_xlsx,
        screen_portfolio,
        to_csv,
        to_xlsx,
    )

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"ipvalue: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    settings: dict[str, Any] = {
        "paths": args.paths,
        "seed": args.seed,
        "horizon_years": args.horizon_years,
        "currency": args.currency,
        "rank_by": args.rank_by,
    }
    if args.valuation_date is not None:
        settings["valuation_date"] = args.valuation_date
    try:
        corr = {"intra": args.intra_correlation, "inter": args.inter_correlation}
        settings["correlation"] = SectorCorrelation(
            **{k: v for k, v in corr.items() if v is not None}
        )
        read = read_portfolio_xlsx if args.file.lower().endswith(".xlsx") else read_portfolio_csv
        upload = read(data, args.max_rows, args.on_error)
        request = PortfolioRequest(assets=upload.assets, **settings)
    except (ValidationError, InputError) as exc:
        return report_bad_input(exc)
    result = screen_portfolio(request, progress=ProgressBar(sys.stderr))
    result.rejected = upload.rejected
    excel = bool(args.out) and args.out.lower().endswith(".xlsx")
    try:
        if excel:
            Path(args.out).write_bytes(to_xlsx(result, request.assets))
        elif args.out:
            Path(args.out).write_text(to_csv(result, request.assets), encoding="utf-8")
        else:
            sys.stdout.write(to_csv(result, request.assets))
    except OSError as exc:
        print(f"ipvalue: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    for bad in upload.rejected:
        for problem in bad.errors:
            print(f"left out: {problem.field}: {problem.message}", file=sys.stderr)
    print(_summary(result), file=sys.stderr)
    if args.out:
        print(f"ranked table written to {args.out}", file=sys.stderr)
    return 0


def add_screen_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ipvalue screen`` on the CLI's subparsers (``parser.add_subparsers()``)."""
    screen = subparsers.add_parser(
        "screen",
        help="screen a portfolio CSV (as POST /v1/portfolios/screen), write the ranked CSV",
        description=__doc__,
    )
    screen.add_argument(
        "file", help="portfolio CSV, or .xlsx (columns: see examples/portfolio.csv)"
    )
    screen.add_argument(
        "--out", help="write the ranked CSV (or .xlsx) here (default: CSV on standard output)"
    )
    screen.add_argument("--paths", type=int, default=10_000, help="simulated paths")
    screen.add_argument("--seed", type=int, default=None, help="seed (default: fresh, printed)")
    screen.add_argument("--horizon-years", type=float, default=1.0, help="horizon, years")
    screen.add_argument(
        "--valuation-date",
        type=dt.date.fromisoformat,
        default=None,
        help="date expiry and grant dates count from (default: today)",
    )
    screen.add_argument("--currency", default="EUR", help="ISO 4217 code of the values")
    screen.add_argument("--intra-correlation", type=float, default=None, help="within a sector")
    screen.add_argument("--inter-correlation", type=float, default=None, help="across sectors")
    screen.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS, help="largest portfolio accepted"
    )
    screen.add_argument(
        "--rank-by",
        choices=["risk_adjusted_value", "risk_adjusted_ratio"],
        default="risk_adjusted_value",
        help="the score that orders the table (the ratio is per unit of value)",
    )
    screen.add_argument(
        "--on-error",
        choices=["reject", "skip"],
        default="reject",
        help="reject: one bad row refuses the file; skip: screen the rest, list the bad rows",
    )
    screen.set_defaults(func=_screen)
    return screen
