"""The `mashang` command: serve the gateway, print an operator token."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from server.auth import Principal, Tokens, bump_version, load_secret, token_versions
from server.settings import Settings
from server.store import open_store


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=Path(args.data) if args.data else None, couchdb_url=args.couchdb)


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="folder of the embedded store (default ./data, or MASHANG_DATA)")
    p.add_argument("--couchdb", help="CouchDB URL (or COUCHDB_URL): use CouchDB instead of the embedded store")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = _settings(args)
    if not settings.couchdb_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                ssl_certfile=args.certfile, ssl_keyfile=args.keyfile, timeout_graceful_shutdown=5)
    return 0


async def _admin_token(settings: Settings, days: int, revoke: bool) -> str:
    store = await open_store(settings)
    try:
        secret = await load_secret(store, settings.secret)
        version = await bump_version(store, "admin") if revoke else (await token_versions(store)).get("admin", 0)
        return Tokens(secret).issue(Principal("admin", "admin", version), ttl_seconds=days * 86400)
    finally:
        await store.close()


def cmd_admin_token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = asyncio.run(_admin_token(settings, args.days, args.revoke))
    if args.revoke:
        print("Earlier admin tokens are revoked. The new one:", file=sys.stderr)
    print(token)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mashang", description="码上安全 Mashang: offline-first shop safety checks")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the gateway, the API and the PWA")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--certfile", help="TLS certificate (PEM) for HTTPS")
    serve.add_argument("--keyfile", help="TLS private key (PEM) for HTTPS")
    serve.add_argument("--log-level", default="info")
    _store_args(serve)
    serve.set_defaults(func=cmd_serve)

    tok = sub.add_parser("admin-token", help="print an operator token with full access (last line)")
    _store_args(tok)
    tok.add_argument("--days", type=int, default=Settings().admin_token_days, help="lifetime in days")
    tok.add_argument("--revoke", action="store_true", help="revoke every earlier admin token first")
    tok.set_defaults(func=cmd_admin_token)

    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
