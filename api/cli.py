"""The ``ipvalue`` command: value a file, serve the API, manage API keys."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ipvalue.api.cli_screen import add_screen_command


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


def report_bad_input(exc: Exception) -> int:
    """Print each field problem of ``exc`` to stderr; the exit status of bad input (2)."""
    from ipvalue.api.errors import problems_of

    for p in problems_of(exc):
        print(f"ipvalue: {p.field}: {p.message}", file=sys.stderr)
    return 2


def _value(args: argparse.Namespace) -> int:
    from ipvalue.api.service import run_valuation
    from ipvalue.models.errors import IPValueError

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
    except (ValidationError, IPValueError) as exc:
        return report_bad_input(exc)
    print(json.dumps(result, indent=2) if args.json else _format_table(result))
    return 0


def _app(database_url: str | None) -> Any:
    from ipvalue.api import create_app

    return create_app({"DATABASE_URL": database_url} if database_url else None)


def _demo_key(app: Any, host: str, port: int) -> None:
    from ipvalue.api.keys import create_key

    key = create_key(app.extensions["ipvalue.engine"], "demo", label="make run demo key")
    base = f"http://{host}:{port}"
    example = Path(__file__).resolve().parents[1] / "examples" / "patent.json"
    print(
        f"ipvalue: demo API key of tenant 'demo' (shown once):\n  {key.secret}\n"
        f"try it:\n  curl -s -X POST {base}/v1/valuations \\\n"
        f"    -H 'Authorization: Bearer {key.secret}' -H 'Content-Type: application/json' \\\n"
        f"    -d @{example}\n"
        f"docs: {base}/docs  (OpenAPI: {base}/openapi.json, health: {base}/healthz, "
        f"{base}/readyz)",
        flush=True,
    )


def _serve(args: argparse.Namespace) -> int:
    if args.demo_key:
        _demo_key(_app(None), args.host, args.port)
    if args.production:
        from ipvalue.api.server import serve

        serve(f"{args.host}:{args.port}", args.workers)
        return 0
    from ipvalue.api.recovery import recover_jobs, start_sweeper

    app = _app(None)
    recover_jobs(
        app.extensions["ipvalue.engine"],
        app.config["JOBS_ON_RESTART"],
        app.config["MAX_JOB_ATTEMPTS"],
    )
    start_sweeper(app)
    print(f"ipvalue (development server) on http://{args.host}:{args.port}/docs", flush=True)
    app.run(host=args.host, port=args.port)
    return 0


def _keys(args: argparse.Namespace) -> int:
    from ipvalue.api.keys import create_key, list_keys, revoke_key

    engine = _app(args.database_url).extensions["ipvalue.engine"]
    if args.action == "create":
        if not args.tenant:
            print("ipvalue: keys create needs --tenant NAME", file=sys.stderr)
            return 2
        key = create_key(engine, args.tenant, label=args.label)
        print(f"API key for tenant {key.tenant!r} (shown once, store it now):")
        print(key.secret)
    elif args.action == "list":
        for row in list_keys(engine):
            state = "revoked" if row["revoked_at"] else "active"
            print(
                f"{row['id']:>5}  {row['tenant']:<24} {row['prefix']}...  {state:<8} "
                f"{row['created_at']}  {row['label'] or ''}"
            )
    else:
        if not args.prefix:
            print("ipvalue: keys revoke needs --prefix (first 12 characters)", file=sys.stderr)
            return 2
        print(f"revoked {revoke_key(engine, args.prefix)} key(s)")
    return 0


def _db(args: argparse.Namespace) -> int:
    from flask import Flask

    from ipvalue.api.config import from_env
    from ipvalue.api.db import HEAD, current_revision, default_url, dispose, engine_for, migrate

    url = args.database_url or from_env()["DATABASE_URL"] or default_url(Flask("api").instance_path)
    engine = engine_for(url)
    if args.action == "upgrade":
        migrate(engine)
    revision = current_revision(engine)
    print(f"{engine.url.render_as_string(hide_password=True)}: revision {revision} (latest {HEAD})")
    dispose(url)
    return 0 if revision == HEAD or args.action == "current" else 1


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
    serve.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    serve.add_argument(
        "--demo-key", action="store_true", help="create a key of tenant 'demo' and print it"
    )
    serve.set_defaults(func=_serve)
    keys = sub.add_parser("keys", help="create, list or revoke API keys")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("--tenant", help="tenant of the new key (created if new)")
    keys.add_argument("--label", help="a note stored with the key")
    keys.add_argument("--prefix", help="the key to revoke: its first 12 characters")
    keys.add_argument(
        "--database-url", help="SQLAlchemy URL (default: IPVALUE_DATABASE_URL or the instance file)"
    )
    keys.set_defaults(func=_keys)
    db = sub.add_parser("db", help="database schema: show or upgrade its migration revision")
    db.add_argument("action", choices=["current", "upgrade"])
    db.add_argument(
        "--database-url", help="SQLAlchemy URL (default: IPVALUE_DATABASE_URL or the instance file)"
    )
    db.set_defaults(func=_db)
    add_screen_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ipvalue`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
