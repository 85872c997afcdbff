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
    derived = _derivation_lines(result["methods"])
    if derived:
        lines += ["", "derived inputs:", *derived]
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


def _derivation_lines(methods: list[dict[str, Any]]) -> list[str]:
    """One line per derived input of each method: where it goes, its practice and its number."""
    lines = []
    for m in methods:
        for path, d in m["audit"].get("derivations", {}).items():
            shown = f"{d['value']:.6g}" if isinstance(d["value"], int | float) else "?"
            lines.append(f"  {m['key']}: {path} = {shown} by {d['practice']} ({d['formula']})")
    return lines


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


DEMO_LABEL = "make run demo key"


def demo_key(app: Any) -> str:
    """The demo key of tenant ``demo``: the one kept in the instance folder while it is active,
    else a new one (kept there, readable by this user only)."""
    from ipvalue.api.keys import create_key

    keep = Path(app.instance_path) / "demo-key"
    keys = app.extensions["ipvalue.keys"]
    if keep.exists():
        secret = keep.read_text(encoding="utf-8").strip()
        info = keys.lookup(secret)
        if info is not None and info.tenant == "demo":
            return secret
    secret = create_key(app.extensions["ipvalue.engine"], "demo", label=DEMO_LABEL).secret
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.touch(mode=0o600)
    keep.chmod(0o600)
    keep.write_text(secret + "\n", encoding="utf-8")
    return secret


def _demo_key(app: Any, host: str, port: int) -> None:
    secret = demo_key(app)
    base = f"http://{host}:{port}"
    example = Path(__file__).resolve().parents[1] / "examples" / "patent.json"
    print(
        f"ipvalue: demo API key of tenant 'demo' (kept in {Path(app.instance_path) / 'demo-key'}):"
        f"\n  {secret}\n"
        f"try it:\n  curl -s -X POST {base}/v1/valuations \\\n"
        f"    -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' \\\n"
        f"    -d @{example}\n"
        f"docs: {base}/docs  (OpenAPI: {base}/openapi.json, health: {base}/healthz, "
        f"{base}/readyz, metrics: {base}/metrics)",
        flush=True,
    )


def _bind(args: argparse.Namespace) -> tuple[str, int]:
    """Host and port: ``--host``/``--port``, else ``IPVALUE_BIND``, else 127.0.0.1:8000."""
    import os

    host, _, port = (os.environ.get("IPVALUE_BIND") or "127.0.0.1:8000").rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("ipvalue: IPVALUE_BIND must be HOST:PORT, e.g. 127.0.0.1:8000")
    return args.host or host.strip("[]"), args.port or int(port)


def _serve(args: argparse.Namespace) -> int:
    host, port = _bind(args)
    if args.production:
        from ipvalue.api.server import prepare_instance, serve

        prepare_instance()  # before any app: the workers' metrics directory
        if args.demo_key:
            _demo_key(_app(None), "127.0.0.1" if host in {"0.0.0.0", "::"} else host, port)
        serve(f"{host}:{port}" if args.host or args.port else None, args.workers)
        return 0
    from ipvalue.api.recovery import recover_jobs, start_sweeper

    app = _app(None)
    if args.demo_key:
        _demo_key(app, host, port)
    recover_jobs(
        app.extensions["ipvalue.engine"],
        app.config["JOBS_ON_RESTART"],
        app.config["MAX_JOB_ATTEMPTS"],
    )
    start_sweeper(app)
    print(f"ipvalue (development server) on http://{host}:{port}/docs", flush=True)
    app.run(host=host, port=port)
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
    from ipvalue.api.config import from_env, instance_folder
    from ipvalue.api.db import HEAD, current_revision, default_url, dispose, engine_for, migrate

    settings = from_env()
    url = args.database_url or settings["DATABASE_URL"] or default_url(instance_folder(settings))
    engine = engine_for(url)
    if args.action == "upgrade":
        migrate(engine)
    revision = current_revision(engine)
    print(f"{engine.url.render_as_string(hide_password=True)}: revision {revision} (latest {HEAD})")
    dispose(url)
    return 0 if revision == HEAD or args.action == "current" else 1


def _monitor_list(url: str, args: argparse.Namespace, tenants: list[str]) -> int:
    from ipvalue.api.book import BookStore
    from ipvalue.api.db import engine_for
    from ipvalue.api.monitor_evaluation import EVALUATION_KIND

    store = BookStore(engine_for(url))
    for tenant in args.tenant or tenants:
        if args.action == "alerts":
            open_alerts = store.open_alerts(tenant)
            for loan in store.all_current("loan", tenant):
                for alert in open_alerts.get(loan["id"], []):
                    print(
                        f"{tenant}  {alert['raised_at'][:10]}  {alert['severity']:<8} "
                        f"{alert['rule']:<18} loan {alert['loan_id']}  {alert['status']:<12} "
                        f"{alert['reason']}"
                    )
            continue
        loans = sorted(
            store.all_current("loan", tenant),
            key=lambda e: -(e["risk"] if e["risk"] is not None else -1),
        )
        print(f"{tenant}: {len(loans)} loan(s), riskiest first")
        evaluations = store.records.latest_many(EVALUATION_KIND, tenant)
        for entry in loans:
            doc = entry["document"]
            record = evaluations.get(entry["id"])
            latest = {} if record is None else record["result"]
            ltv = (latest.get("collateral") or {}).get("ltv")
            risk = entry["risk"]
            print(
                f"  {entry['id']}  {doc['borrower'][:28]:<28} {doc['amount']:>14,.0f} "
                f"{doc['currency']}  LTV {'-' if ltv is None else f'{ltv:.1%}':>6}  "
                f"P(breach) {'-' if risk is None else f'{risk:.1%}':>6}  "
                f"as of {latest.get('as_of', '-')}"
            )
    return 0


def _monitor(args: argparse.Namespace) -> int:
    import datetime as dt

    from ipvalue.api.config import from_env, instance_folder
    from ipvalue.api.db import default_url, engine_for, migrate
    from ipvalue.api.monitor import run_monitoring, store_run, tenant_names

    settings = from_env()
    url = args.database_url or settings["DATABASE_URL"] or default_url(instance_folder(settings))
    migrate(engine_for(url))
    if args.action == "deliver":
        from ipvalue.api.webhooks import deliver_due

        counts = deliver_due(engine_for(url))
        print(", ".join(f"{n} {what}" for what, n in counts.items()) + " webhook deliveries")
        return 0
    if args.action in ("book", "alerts"):
        return _monitor_list(url, args, tenant_names(url))
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(dt.UTC).date()
    except ValueError:
        print(f"ipvalue: --as-of must be an ISO 8601 date; got {args.as_of!r}", file=sys.stderr)
        return 2
    failed = 0
    for tenant in args.tenant or tenant_names(url):
        result = run_monitoring(url, tenant, as_of, args.loan_id or None)
        run = store_run(url, tenant, {"as_of": as_of.isoformat(), "loan_ids": args.loan_id}, result)
        failed += len(result["failures"])
        if args.json:
            print(json.dumps({"tenant": tenant, "id": run, **result}))
            continue
        print(
            f"{tenant}: {result['loans_checked']} loan(s) checked as of {result['as_of']}, "
            f"{result['alerts_raised']} alert(s) raised, {result['alerts_cleared']} cleared, "
            f"{len(result['failures'])} failure(s), {len(result['skipped'])} skipped (run {run})"
        )
        for line in result["loans"]:
            ltv = "-" if line["ltv"] is None else f"{line['ltv']:.1%}"
            print(
                f"  {line['loan_id']}  value {line['value']:,.0f}  LTV {ltv}  "
                f"P(breach) {line['prob_ltv_breach']:.1%}  {line['highest_severity'] or 'ok'}  "
                f"+{line['alerts_raised']} alert(s)"
            )
        for failure in result["failures"]:
            print(f"  FAILED {failure['loan_id']}: {failure['problem']['detail']}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="ipvalue", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    value = sub.add_parser("value", help="value the request in FILE.json, as POST /v1/valuations")
    value.add_argument("file", help="a JSON file with the body of POST /v1/valuations")
    value.add_argument("--json", action="store_true", help="print JSON instead of a table")
    value.set_defaults(func=_value)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="default: from IPVALUE_BIND, or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: from IPVALUE_BIND, or 8000")
    serve.add_argument("--production", action="store_true", help="serve with gunicorn")
    serve.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: IPVALUE_WORKERS)"
    )
    serve.add_argument(
        "--demo-key",
        action="store_true",
        help="print the key of tenant 'demo' kept in the instance folder (made if none is active)",
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
    monitor = sub.add_parser("monitor", help="monitor the pledge book (for cron)")
    monitor.add_argument(
        "action",
        choices=["run", "deliver", "book", "alerts"],
        help="run: monitor the open loans; deliver: send due webhooks; book: list the loans, "
        "riskiest first; alerts: list the open and acknowledged alerts",
    )
    monitor.add_argument("--as-of", help="run date, ISO 8601 (default today, UTC)")
    monitor.add_argument("--tenant", action="append", help="only this tenant (repeatable)")
    monitor.add_argument("--loan-id", action="append", help="only this loan (repeatable)")
    monitor.add_argument("--json", action="store_true", help="one JSON line per tenant")
    monitor.add_argument(
        "--database-url", help="SQLAlchemy URL (default: IPVALUE_DATABASE_URL or the instance file)"
    )
    monitor.set_defaults(func=_monitor)
    add_screen_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ipvalue`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
