"""`mashang demo`: builds the 明楼街道 demo district in a store, with its logins and months of history.

The registry and accounts go through `Registry` and `Accounts` as the office's would; every event goes through
the checks a phone's push gets (`write_as_devices`), with its author's principal. The same seed builds the same
district: the same logins, the same event ids and bodies (only the argon2 salts differ).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

from server.access import Scope, scope_for
from server.accounts import Accounts, hash_pin
from server.alarms import Alarms
from server.auth import Principal, Tokens, load_secret
from server.demo.desk import work_the_desk
from server.demo.district import District, check_size, plan_district
from server.demo.history import TZ, Authored, ShopHistory
from server.demo.names import SUBDISTRICT, SUBDISTRICT_NAME
from server.errors import CouchError
from server.models import Template, default_rules, default_template
from server.office import rankings
from server.office.facts import Facts
from server.registry import Registry, shipped_documents
from server.settings import Settings
from server.store import open_store
from server.store.protocol import AllDocsQuery, Store
from server.sync.validate import WriteContext, check_event_write
from server.validators.district import shift_month

MARKER: Final = "demo/district"  # a local document: it never replicates, and no device can read it
BATCH: Final = 500
# PINs are hashed (argon2, ~35 ms each, without the GIL) in threads of lower priority: they take what the history,
# which holds the GIL, leaves of the machine's cores, instead of taking turns with it.
HASH_THREADS: Final = max(2, os.cpu_count() or 2)
HASH_NICENESS: Final = 10
WRITES_AT_ONCE: Final = 8
YIELD_EVERY: Final = 20  # documents checked between two turns of the event loop (the accounts' writes need it)
CLOCK_AFTER_EVENT: Final = timedelta(minutes=3)  # the server clock each replayed event is checked against


class DemoError(Exception):
    """The demo could not be built; the message says why."""


@dataclass(frozen=True)
class Options:
    shops: int = 1500
    grid_workers: int = 80
    months: int = 13  # a year and a month: this month has its same month last year to compare with
    seed: int = 0
    today: date = field(default_factory=lambda: datetime.now(TZ).date())  # history ends the night before


@dataclass
class Summary:
    district: District
    events: Counter[str]
    start: date
    end: date
    seconds: float = 0.0

    @property
    def users(self) -> Counter[str]:
        return Counter(
            office=len(self.district.office),
            grid_workers=len(self.district.workers),
            owners=sum(1 for s in self.district.shops if s.owner.activated),
        )


async def existing(store: Store, where: str) -> str | None:
    """What the store (at `where`) holds already that a demo must not be written over, or None when it is empty."""
    try:
        marker = await store.get_local(MARKER)
    except CouchError as e:
        if e.status != 404:
            raise
        marker = None
    if marker is not None and marker.get("complete"):
        return f"the demo district already exists in {where} (seed {marker.get('seed')}); nothing changed"
    if marker is not None:
        raise DemoError(f"a demo district was being built in {where} and did not finish; remove it and run again")
    rows = (await store.all_docs(AllDocsQuery(startkey="registry:", endkey="registry:\ufff0", limit=1)))["rows"]
    return f"a district already exists in {where} (not one the demo built); nothing changed" if rows else None


Say = Callable[[str], None]


async def build(
    store: Store, tokens: Tokens, options: Options, credentials: Path, say: Say = lambda text: None
) -> Summary:
    """Plan the district, then write it: shared documents, registry, accounts, history, and the logins to
    `credentials`. The store must hold no district (see `existing`). `say` hears each step as it begins (the
    1,500-shop default takes a minute or two)."""
    started = time.monotonic()
    end = datetime.combine(options.today, datetime.min.time(), TZ)
    start = datetime.combine(months_before(options.today, options.months), datetime.min.time(), TZ)
    district = plan_district(options.seed, options.shops, options.grid_workers)
    await store.put_local(MARKER, {"complete": False, "seed": options.seed})
    await shipped_documents(store)
    say(f"the registry: {len(district.shops)} shops in their grids, and the accounts")
    await _registry(store, district)
    accounts = asyncio.create_task(_accounts(Accounts(store, tokens), district))
    try:
        say(f"{options.months} months of self-checks, patrols and photos")
        events = await _history(district, options.seed, start, end)
        say(f"writing the {len(events)} events, as the phones would")
        await write_history(store, district, events, say)
    finally:
        await accounts
    say("scores, hazards, alarms and rankings from the events, and the office's work at the alarm desk")
    await work_the_desk(store, district, options.seed, options.today - timedelta(days=1), end)
    say("the red/black lists the office published (公示), each on the 2nd of the month after")
    await _publish_past_lists(store, district, options.today)
    # The office's view and alarm index, kept as their snapshots: the first start does not read every shop and the
    # whole feed while the validators' start-up pass reads them too (the first dashboard took 32 s on 1,500 shops).
    say("the office's view and alarm index, for a quick first start")
    await Facts(store).view()
    alarms = Alarms(store)
    await alarms.start()
    await alarms.ready()
    await alarms.stop()
    write_credentials(credentials, district)
    marker = await store.get_local(MARKER)
    await store.put_local(
        MARKER,
        {
            **marker,
            "complete": True,
            "shops": options.shops,
            "grid_workers": options.grid_workers,
            "months": options.months,
            "today": options.today.isoformat(),
        },
    )
    counts = Counter(event.doc["type"] for event in events)
    return Summary(district, counts, start.date(), end.date(), time.monotonic() - started)


async def _publish_past_lists(store: Store, district: District, today: date) -> None:
    """Publish the finished months' lists as the office would have, each on the 2nd of the month after, so the
    shops' public cards show one; the last finished month is left for the office to publish (the month-end step)."""
    by = f"office:{district.office[0].username}"
    finished = [row["month"] for row in await rankings.rankings(store, SUBDISTRICT) if row["month"] < f"{today:%Y-%m}"]
    for month in sorted(finished)[:-1]:
        year, number = (int(part) for part in shift_month(month, 1).split("-"))
        await rankings.publish(store, SUBDISTRICT, month, by, datetime(year, number, 2, 9, 30, tzinfo=TZ))


async def run(settings: Settings, options: Options, credentials: Path) -> int:
    """The `mashang demo` command: build unless a district is there, print what was built; the exit code."""
    problem = check_size(options.shops, options.grid_workers)
    if problem is None and options.months < 0:
        problem = "--months must be 0 or more"
    if problem is not None:
        print(f"mashang demo: {problem}", file=sys.stderr)
        return 2
    where = f"CouchDB database {settings.couchdb_db}" if settings.couchdb_url else str(settings.data_dir)
    if not settings.couchdb_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings)
    try:
        there = await existing(store, where)
        if there is not None:
            print(there)
            if credentials.exists():
                print(f"logins: {credentials}")
            return 0
        print(f"building the {SUBDISTRICT_NAME} demo district (seed {options.seed}) in {where} ...", file=sys.stderr)
        tokens = Tokens(await load_secret(store, settings.secret))
        summary = await build(store, tokens, options, credentials, lambda text: print(f"  {text}", file=sys.stderr))
    except DemoError as e:
        print(f"mashang demo: {e}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    print(report(summary, credentials))
    return 0


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for dd in range(day.day, 0, -1):  # 31 March minus one month is 28 (or 29) February
        try:
            return date(year, month + 1, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ----- what the office would have set up -----


async def _registry(store: Store, district: District) -> None:
    registry = Registry(store)
    await registry.save_subdistrict(SUBDISTRICT, SUBDISTRICT_NAME)
    await asyncio.gather(*(registry.put_community(c.code, c.name, SUBDISTRICT) for c in district.communities))
    await asyncio.gather(
        *(registry.put_grid(g.code, g.name, g.community, list(g.workers), list(g.shops)) for g in district.grids)
    )
    for i in range(0, len(district.shops), BATCH):
        await asyncio.gather(*(registry.put_shop(s.registry_doc()) for s in district.shops[i : i + BATCH]))


async def _accounts(accounts: Accounts, district: District) -> None:
    loop = asyncio.get_running_loop()
    hashers = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="mashang-demo-pin", initializer=_lower_priority)
    try:
        pins = [(s.code, loop.run_in_executor(hashers, hash_pin, s.owner.pin)) for s in district.shops if s.owner.pin]
        for person in (*district.office, *district.workers):
            await accounts.create_staff(person.role, person.username, person.password, person.name, person.subdistrict)
        writes = asyncio.Semaphore(WRITES_AT_ONCE)

        async def owner(shop: str, pin_hash: asyncio.Future[str]) -> None:
            hashed = await pin_hash
            async with writes:
                await accounts.set_owner_pin_hash(shop, hashed)

        await asyncio.gather(*(owner(shop, pin_hash) for shop, pin_hash in pins))
    finally:
        hashers.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # Linux sets a thread's own niceness; elsewhere, no matter
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


# ----- the past -----


async def _history(district: District, seed: int, start: datetime, end: datetime) -> list[Authored]:
    template, rules = default_template(), default_rules()
    events: list[Authored] = []
    for shop in district.shops:
        worker = district.worker(shop.patroller)
        events += ShopHistory(seed, shop, worker, template, rules, start, end).run()
        await asyncio.sleep(0)  # the owners' accounts are written meanwhile
    events.sort(key=lambda e: (e.at, e.doc["_id"]))
    return events


async def write_history(
    store: Store, district: District, events: Sequence[Authored], say: Say = lambda text: None
) -> None:
    """Write `events` in time order, in batches: one batch is checked while the one before is being stored. `say`
    hears each quarter done."""
    registry = Registry(store)  # a grid worker's scope comes from the registry, as for their phone's requests
    scopes = {
        worker.user_id: scope_for(Principal(worker.user_id, "grid"), await registry.shops_of_worker(worker.username))
        for worker in district.workers
    }
    templates: dict[tuple[str, int], Template] = {}
    in_flight: list[asyncio.Task[None]] = []
    try:
        told = 0
        for i in range(0, len(events), BATCH):
            ctx = WriteContext(store, events[i].at, templates=templates)
            in_flight.append(asyncio.create_task(write_as_devices(ctx, events[i : i + BATCH], scopes)))
            if len(in_flight) > 1:
                await in_flight.pop(0)
            if (quarter := 4 * i // len(events)) > told:
                told = quarter
                say(f"  {25 * quarter}% written")
        while in_flight:
            await in_flight.pop(0)
    finally:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)


async def write_as_devices(ctx: WriteContext, events: Sequence[Authored], scopes: dict[str, Scope]) -> None:
    """THE WRITE PATH OF THE DEMO: what `server.sync.writes.write_docs` does for a phone's push, except that the
    server clock is each event's own time (plus a few minutes), so that history older than the 90 days a phone may
    lag behind is accepted, and that a refusal is a bug of the demo (raised), not a document to quarantine.
    When `write_docs` takes a `now`, this can become one call of it per author."""
    docs = [event.doc for event in events]
    await ctx.prepare(docs, new_edits=True)
    for n, event in enumerate(events, start=1):
        principal = Principal(event.user_id, event.role)
        scope = scopes.get(event.user_id) or scope_for(principal)
        ctx.now = event.at + CLOCK_AFTER_EVENT
        try:
            await check_event_write(ctx, principal, scope, event.doc, True)
        except CouchError as e:
            raise DemoError(f"the validation refused {event.doc['_id']} by {event.user_id}: {e.reason}") from None
        if n % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # PIN hashes finish in threads; their next steps need the loop
    answers = await ctx.store.bulk_docs(docs, new_edits=True)
    failed = [a for a in answers if "error" in a]
    if failed:
        raise DemoError(f"the store refused {failed[0].get('id')}: {failed[0].get('reason')}")


# ----- the logins and the report -----


def write_credentials(path: Path, district: District) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # passwords: for its owner's eyes only
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(district.credentials(), f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def report(summary: Summary, credentials: Path) -> str:
    d, events = summary.district, summary.events
    users = summary.users
    kinds = ("self_check", "patrol", "photo", "rectification", "verification")
    return "\n".join(
        [
            f"{SUBDISTRICT_NAME} demo district: {len(d.communities)} communities, {len(d.grids)} grids, "
            f"{len(d.shops)} shops",
            f"users: {sum(users.values())} ({users['office']} office, {users['grid_workers']} grid workers, "
            f"{users['owners']} activated owners)",
            f"history {summary.start} to {summary.end - timedelta(days=1)}: {sum(events.values())} events "
            f"({', '.join(f'{events[k]} {k}' for k in kinds)}), {events['photo']} photos",
            f"built in {summary.seconds:.1f} s",
            f"logins: {credentials}",
        ]
    )
