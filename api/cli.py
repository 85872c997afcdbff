"""The ``ipvalue`` command: value a file, serve the API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError


def _format_table(result: dict[str, Any]) -> str:
    cur = result["currency"]
    lines = [
        f"{result['asset']['name']} ({result['asset']['kind']}), valued {result['valuation_date']}",
        "",
        f"{'method':<32}{'approach':<10}{'weight':>8}{'value (' + cur + ')':>22}",
    ]
    weights = result["reconciliation"]["weights"]
    for m in result["methods"]:
        lines.append(
            f"{m['key']:<32}{m['approach']:<10}{weights[m['key']]:>8.2f}{m['value']:>22,.2f}"
        )
    lines.append(f"{'reconciled point value':<50}{result['value']['point']:>22,.2f}")
    life = result["legal_life"]
    lines += ["", f"legal life: {life['basis']}"]
    dist = result.get("distribution")
    if dist:
        lines.append(
            f"simulation: mean {dist['mean']:,.2f} (se {dist['se_mean']:,.2f}), "
            f"p05 {dist['p05']:,.2f}, p50 {dist['p50']:,.2f}, p95 {dist['p95']:,.2f}"
        )
    for w in result["warnings"] + [w for m in result["methods"] for w in m["warnings"]]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _value(args: argparse.Namespace) -> int:
    from api.errors import problems_from_validation
    from api.service import run_valuation
    from models.errors import InputError, IPValueError

    try:
        payload = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"ipvalue: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(payload, dict):
        print(f"ipvalue: {args.file} must hold a JSON object", file=sys.stderr)
        return 2
    try:
        result = run_valuation(payload)
    except ValidationError as exc:
        for p in problems_from_validation(exc):
            print(f"ipvalue: {p.field}: {p.message}", file=sys.stderr)
        return 2
    except InputError as exc:
        for p in exc.problems or []:
            print(f"ipvalue: {p.field}: {p.message}", file=sys.stderr)
        return 2
    except IPValueError as exc:
        print(f"ipvalue: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else _format_table(result))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from api import create_app

    app = create_app()
    print(f"ipvalue serving on http://{args.host}:{args.port}  (health: /healthz)", flush=True)
    app.run(host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="ipvalue", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    value = sub.add_parser("value", help="value the request in FILE.json, as POST /v1/valuations")
    value.add_argument("file", help="a JSON file with the body of POST /v1/valuations")
    value.add_argument("--json", action="store_true", help="print JSON instead of a table")
    value.set_defaults(func=_value)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--production", action="store_true", help="serve with gunicorn")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ipvalue`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
