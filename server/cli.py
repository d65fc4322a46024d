"""The `mashang` command: set up a district from nothing, serve the gateway, run the validators, rebuild
projections, print an operator token, back up and restore the embedded store."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import getpass
import logging
import os
import secrets
import signal
import socket
import sqlite3
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

from server.auth import Principal, Tokens, bump_version, load_secret, token_versions
from server.backup import Manifest
from server.errors import CouchError
from server.migrations import migrate
from server.settings import Settings
from server.store import open_store
from server.store.protocol import AllDocsQuery


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=Path(args.data) if args.data else None, couchdb_url=args.couchdb)


LOG_LEVEL_HELP = "how much is logged: debug, info, warning, error or critical (default info)"


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="folder of the embedded store (default ./data, or MASHANG_DATA)")
    p.add_argument("--couchdb", help="CouchDB URL (or COUCHDB_URL): use CouchDB instead of the embedded store")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.qr import serve_note

    settings = _settings(args)
    if args.no_validators:
        settings = replace(settings, run_validators=False)
    if args.backup_to or args.backup_every is not None or args.backup_keep is not None:
        settings = replace(
            settings,
            backup_dir=Path(args.backup_to) if args.backup_to else settings.backup_dir,
            backup_every_hours=args.backup_every if args.backup_every is not None else settings.backup_every_hours,
            backup_keep=args.backup_keep if args.backup_keep is not None else settings.backup_keep,
        )
    if settings.backup_dir is not None and (settings.couchdb_url or settings.backup_every_hours <= 0):
        print(
            "mashang serve: --backup-to backs up the embedded store, every --backup-every hours (more than 0); "
            "a CouchDB cluster is backed up with CouchDB's own replication",
            file=sys.stderr,
        )
        return 2
    if not settings.couchdb_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        other = _one_gateway(settings.data_dir)
        if other is not None:
            print(
                f"mashang serve: another gateway (pid {other}) serves {settings.data_dir}; one gateway serves an "
                "embedded store (a worker or rebuild may run beside it). Stop it, or choose another --data.",
                file=sys.stderr,
            )
            return 1
    if (first := asyncio.run(_first_account_note(settings, args.data))) is not None:
        print(first, file=sys.stderr, flush=True)
    app = create_app(settings)
    if (note := serve_note(settings.public_url)) is not None:
        print(note, file=sys.stderr, flush=True)  # what the QR posters will hold, before anyone prints one

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # What the gateway made to start (modules, the store, the indexes) lives as long as it does: out of the
            # collector's sight, which otherwise walked it over and over under a push (0.9 ms of every 100-document
            # batch, 0.2 ms after), and a request's parsed JSON is freed by reference counts long before 10,000
            # allocations gather.
            gc.freeze()
            gc.set_threshold(10_000, 10, 10)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Open alarm streams would hold the graceful shutdown until its timeout: end them first.
            alarms = getattr(app.state, "alarms", None)
            if alarms is not None:
                with contextlib.suppress(RuntimeError):
                    asyncio.get_running_loop().call_soon_threadsafe(alarms.close_streams)
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_graceful_shutdown=5,
    )
    Server(config).run()
    return 0


_gateway_lock: TextIO | None = None  # held open for the life of the process


def _one_gateway(data_dir: Path) -> str | None:
    """Hold the embedded store's gateway lock, or answer the pid of the gateway that holds it. Two gateways on
    one folder would each check "this id is new" under locks of their own (`sync.writes.IdLocks`); the kernel
    lets the lock go when the process ends, however it ends."""
    global _gateway_lock
    handle = (data_dir / "gateway.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "?"
        handle.close()
        return other
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _gateway_lock = handle
    return None


async def _admin_token(settings: Settings, days: int, revoke: bool) -> str:
    store = await open_store(settings)
    try:
        secret = await load_secret(store, settings.secret)
        version = await bump_version(store, "admin") if revoke else (await token_versions(store)).get("admin", 0)
        return Tokens(secret).issue(Principal("admin", "admin", version), ttl_seconds=days * 86400)
    finally:
        await store.close()


async def _first_account_note(settings: Settings, data: str | None) -> str | None:
    """`mashang serve`'s start-up line on a store with no office account (a district starting from nothing): how
    to make the first one. None when there is one."""
    try:
        store = await open_store(settings)
        try:
            rows = await store.all_docs(
                AllDocsQuery(startkey="accounts:user:office:", endkey="accounts:user:office:\ufff0", limit=1)
            )
        finally:
            await store.close()
    except Exception:  # a note only: a store away at this moment is the gateway's to report as it starts
        return None
    if rows["rows"]:
        return None
    where = _where(settings, data)
    return (
        "mashang serve: no office account yet. Make the first one (it also stores the checklist and points rules "
        f"the phones need) with: mashang setup {where} --username NAME --subdistrict CODE --subdistrict-name 街道名称"
    )


def _where(settings: Settings, data: str | None) -> str:
    """The store option of a command line to suggest (a CouchDB URL may hold its password: not printed)."""
    return "--couchdb URL" if settings.couchdb_url else f"--data {data or settings.data_dir}"


class SetupError(Exception):
    """`mashang setup` cannot do what it was asked; the message says why."""


async def _setup(settings: Settings, args: argparse.Namespace, password: str) -> list[str]:
    """What `mashang setup` did, a line each (see `cmd_setup`)."""
    from server.accounts import Accounts
    from server.registry import Registry, shipped_documents

    store = await open_store(settings)
    try:
        await migrate(store)
        done = []
        accounts = Accounts(store, Tokens(await load_secret(store, settings.secret)))
        if await accounts.user(f"grid:{args.username}") is not None:
            raise SetupError(f"{args.username} is a grid worker's username: choose another for the office")
        # What can be refused goes first (a code, then a username or password of the wrong form): a refusal leaves
        # the store as it was, or with the sub-district named, which a second run names again.
        if args.subdistrict:
            try:
                named = await Registry(store).save_subdistrict(
                    args.subdistrict, args.subdistrict_name or args.subdistrict
                )
            except CouchError as e:
                raise SetupError(f"--subdistrict {args.subdistrict}: {e.reason}") from None
            done.append(f"sub-district {named['code']} is named {named['name']}")
        existing = await accounts.user(f"office:{args.username}")
        name = args.name or (existing or {}).get("name") or args.username
        home = (existing or {}).get("subdistrict")
        doc = await accounts.create_staff("office", args.username, password, name, home)
        event = "password_reset" if existing else "staff_created"
        await accounts.audit(event, str(doc["user_id"]), "mashang setup", "by mashang setup")
        scope = f"the office of sub-district {home}" if home else "the district's office: every sub-district"
        done.append(
            f"office account {args.username} ({name}, {scope}): "
            + ("new password; signed out everywhere" if existing else "made")
        )
        if await shipped_documents(store):
            done.append("stored the checklist 消防与燃气安全 and the points rules (version 1) that every phone reads")
        return done
    finally:
        await store.close()


def _read_password(stdin: TextIO) -> str:
    """The new account's password: asked twice on a terminal, else the first line of stdin (scripts)."""
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password for the office account (at least 8 characters): ")
    if getpass.getpass("the same password again: ") != first:
        raise SetupError("the two passwords differ")
    return first


def cmd_setup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.subdistrict_name and not args.subdistrict:
        print("mashang setup: --subdistrict-name names the sub-district --subdistrict CODE gives", file=sys.stderr)
        return 2
    if not settings.couchdb_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        done = asyncio.run(_setup(settings, args, _read_password(sys.stdin)))
    except (SetupError, CouchError) as e:  # a password too short, a username or code of the wrong form
        print(f"mashang setup: {e.reason if isinstance(e, CouchError) else e}", file=sys.stderr)
        return 2
    for line in done:
        print(line)
    where = _where(settings, args.data)
    print(
        f"Next: mashang serve {where}, sign in at /office as {args.username}, and on 登记管理 add the communities and "
        "grids (or import the shop survey), the grid workers' accounts, and print the QR posters. Set "
        "MASHANG_PUBLIC_URL to the https address phones reach before printing."
    )
    return 0


def cmd_admin_token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = asyncio.run(_admin_token(settings, args.days, args.revoke))
    if args.revoke:
        print("Earlier admin tokens are revoked. The new one:", file=sys.stderr)
    print(token)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo.build import Options, run
    from server.demo.history import TZ

    settings = _settings(args)
    today = datetime.now(TZ).date()
    if args.today is not None:
        try:
            today = min(date.fromisoformat(args.today), today)
        except ValueError:
            print("mashang demo: --today must be a date such as 2026-11-28", file=sys.stderr)
            return 2
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    options = Options(shops=args.shops, grid_workers=args.grid_workers, months=args.months, seed=seed, today=today)
    credentials = Path(args.credentials) if args.credentials else settings.data_dir / "logins.json"
    return asyncio.run(run(settings, options, credentials))


async def _worker(settings: Settings) -> None:
    from server.validators.lease import Validators

    store = await open_store(settings)
    await migrate(store)
    validators = Validators(store)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    validators.start()
    try:
        await stop.wait()
    finally:
        await validators.stop()
        await store.close()


def cmd_worker(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(_worker(_settings(args)))
    return 0


async def _rebuild(settings: Settings) -> int:
    from server.validators.rebuild import Progress, rebuild

    store = await open_store(settings)
    try:
        await migrate(store)
        result = await rebuild(store, progress=Progress(sys.stderr))
    finally:
        await store.close()
    print("\n".join(result.lines()))
    return 1 if result.failed else 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(_rebuild(_settings(args)))


def cmd_backup(args: argparse.Namespace) -> int:
    from server.backup import BackupError, backup

    settings = _settings(args)
    if settings.couchdb_url:
        print("mashang backup: a CouchDB cluster is backed up with CouchDB's own replication", file=sys.stderr)
        return 2
    keep = args.keep if args.keep is not None else settings.backup_keep
    try:
        manifest = backup(settings.data_dir, Path(args.to), say=lambda line: print(line, flush=True), keep=keep)
    except BackupError as e:
        print(f"mashang backup: {e}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as e:  # a full or failing disk where the backup goes
        print(f"mashang backup: failed ({e}); the earlier backups in {args.to} are kept", file=sys.stderr)
        return 1
    asyncio.run(_note_backup(settings, manifest, Path(args.to).resolve()))
    return 0


async def _note_backup(settings: Settings, manifest: Manifest, folder: Path) -> None:
    """The backup noted in the store, for the office's sync monitor (a store that cannot take it says why; the
    backup itself is made)."""
    from server.backup import record

    store = await open_store(settings)
    try:
        await record(store, manifest, folder)
    except CouchError as e:
        print(f"mashang backup: the backup is made, but not noted for the sync monitor ({e})", file=sys.stderr)
    finally:
        await store.close()


def cmd_restore(args: argparse.Namespace) -> int:
    from server.backup import BackupError, kept, restore

    if args.list:
        found = kept(Path(args.source))
        for manifest in found:
            print(f"{manifest.stamp}  {manifest.line()}")
        if not found:
            print(f"mashang restore: {args.source} keeps no whole backup", file=sys.stderr)
        return 0 if found else 1
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The gateway's own lock, held for the whole restore: none serves the folder now, and none starts meanwhile.
    holder = _one_gateway(settings.data_dir)
    if holder is not None:
        print(f"mashang restore: a gateway (pid {holder}) serves {settings.data_dir}: stop it first", file=sys.stderr)
        return 1
    try:
        restore(Path(args.source), settings.data_dir, say=lambda line: print(line, flush=True), at=args.at)
    except BackupError as e:
        print(f"mashang restore: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mashang", description="码上安全 Mashang: offline-first shop safety checks")
    sub = parser.add_subparsers(dest="command", required=True)

    setup = sub.add_parser(
        "setup",
        help="start a district from nothing: the office's first account (or a new password for one), the shipped "
        "checklist and points rules, and the sub-district's name",
        description="Make an office account in the store (the district's office, which reaches every sub-district), "
        "store the shipped checklist and points rules unless the store has them, and name the sub-district. The "
        "password is asked on the terminal (or read from the first line of stdin). Run it again to add another "
        "office account or to give one a new password (it is signed out everywhere).",
    )
    _store_args(setup)
    setup.add_argument("--username", required=True, help="the office account's username (lower-case letters, digits)")
    setup.add_argument("--name", help="the name screens show for it, e.g. 张丽 (default: the username)")
    setup.add_argument(
        "--subdistrict", metavar="CODE", help="the sub-district's code (街道), e.g. xingfu: new communities go there"
    )
    setup.add_argument("--subdistrict-name", metavar="NAME", help="its name, e.g. 幸福街道 (monthly report headings)")
    setup.set_defaults(func=cmd_setup)

    serve = sub.add_parser("serve", help="serve the gateway, the API and the PWA")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this machine only, behind a reverse proxy; 0.0.0.0 for "
        "phones on the network to reach it directly)",
    )
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on (default 8000)")
    serve.add_argument("--certfile", help="TLS certificate (PEM) for HTTPS")
    serve.add_argument("--keyfile", help="TLS private key (PEM) for HTTPS")
    serve.add_argument("--log-level", default="info", help=LOG_LEVEL_HELP)
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed (default 127.0.0.1, or FORWARDED_ALLOW_IPS): sign-in throttles and the audit log then see "
        "each phone's own address",
    )
    serve.add_argument(
        "--no-validators",
        action="store_true",
        help="do not run the validators here (extra gateways in front of CouchDB; see `worker`)",
    )
    serve.add_argument(
        "--backup-to",
        metavar="DIR",
        help="back the embedded store up into DIR on a schedule, as `mashang backup` does (or MASHANG_BACKUP_DIR)",
    )
    serve.add_argument(
        "--backup-every",
        type=float,
        metavar="HOURS",
        help="hours between two scheduled backups (default 24, or MASHANG_BACKUP_EVERY_HOURS)",
    )
    serve.add_argument(
        "--backup-keep", type=int, metavar="N", help="backups the folder keeps (default 3, or MASHANG_BACKUP_KEEP)"
    )
    _store_args(serve)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run only the validators (beside CouchDB; one worker is active at a time)")
    worker.add_argument("--log-level", default="info", help=LOG_LEVEL_HELP)
    _store_args(worker)
    worker.set_defaults(func=cmd_worker)

    rebuild = sub.add_parser("rebuild", help="recompute every projection from the events; writes only what differs")
    _store_args(rebuild)
    rebuild.set_defaults(func=cmd_rebuild)

    tok = sub.add_parser("admin-token", help="print an operator token with full access (last line)")
    _store_args(tok)
    tok.add_argument(
        "--days", type=int, default=Settings().admin_token_days, help="lifetime in days (default %(default)s)"
    )
    tok.add_argument("--revoke", action="store_true", help="revoke every earlier admin token first")
    tok.set_defaults(func=cmd_admin_token)

    back = sub.add_parser(
        "backup",
        help="copy the embedded store (documents and photos) to a folder while the gateway runs; again into the "
        "same folder copies only the photos it lacks",
    )
    _store_args(back)
    back.add_argument("--to", required=True, metavar="DIR", help="the backup folder")
    back.add_argument(
        "--keep", type=int, metavar="N", help="backups the folder keeps, the newest (default 3, or MASHANG_BACKUP_KEEP)"
    )
    back.set_defaults(func=cmd_backup)

    rest = sub.add_parser("restore", help="put a backup into a data folder that holds no store")
    rest.add_argument("--from", dest="source", required=True, metavar="DIR", help="the backup folder")
    rest.add_argument("--data", help="the data folder to restore into (default ./data, or MASHANG_DATA)")
    rest.add_argument("--at", metavar="STAMP", help="a kept backup (see --list); default: the newest")
    rest.add_argument("--list", action="store_true", help="list the backups the folder keeps, the newest first")
    rest.set_defaults(func=cmd_restore, couchdb=None)

    demo = sub.add_parser("demo", help="build the 明楼街道 demo district with months of history (once per store)")
    _store_args(demo)
    demo.add_argument("--shops", type=int, default=1500, help="shops in the district (default 1500)")
    demo.add_argument("--grid-workers", type=int, default=80, help="grid workers in the district (default 80)")
    demo.add_argument("--months", type=int, default=13, help="months of history up to yesterday (default 13)")
    demo.add_argument("--seed", type=int, help="the same seed builds the same district (default: a random one)")
    demo.add_argument("--credentials", metavar="FILE", help="where the logins go (default DIR/logins.json)")
    demo.add_argument("--today", metavar="YYYY-MM-DD", help="the day after the history ends (at most today)")
    demo.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
