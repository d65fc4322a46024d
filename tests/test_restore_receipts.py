"""Self-checks sent again after `mashang restore`: the backup lost every check the gateway received after it was
taken, with its receipt, and the phones send those checks again (their checkpoints were restored too), days later.
The restore notes itself in the store, so such a check is received at the earliest moment it could first have come
(its own time, or the backup's when older): a check made on time does not cost its shop a missed week because the
server lost data. A check made after the restore is received when it comes, as ever."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import time_machine
from starlette.testclient import TestClient

from server import backup as backup_module
from server.app import create_app
from server.auth import Principal, Tokens
from server.backup import RESYNC, Restore, first_arrival
from server.ids import new_ulid
from server.models.projections import ledger_entries
from server.settings import Settings
from server.store.reads import docs_with_prefix
from server.store.upsert import read
from server.sync.writes import receipts_for
from tests.validators.builders import full_answers
from tests.worlds import seed_registry

SECRET = "restore-receipts-secret-" + "r" * 40
TEMPLATE = "district:template:fire-gas"
CST = timezone(timedelta(hours=8))
# March 2026: W10 is 03-02..03-08 (missed from 03-16 on, after its 7 days of grace), W11 03-09..15, W12 03-16..22.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=CST)


def quiet(line: str) -> None:
    pass


@contextlib.contextmanager
def gateway(data: Path, seed: bool = False) -> Iterator[TestClient]:
    """An in-process gateway, with its validators, on the store in `data` (seeded with the small world first)."""
    app = create_app(Settings(data_dir=data, secret=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        if seed:
            call, state = client.portal.call, app.state  # type: ignore[union-attr]
            seed_registry(call, state.registry, owner_activated=True)
            call(state.accounts.set_owner_pin, "S0001", "123456")
        yield client


def headers(user_id: str, role: str) -> dict[str, str]:
    token = Tokens(SECRET).issue(Principal(user_id, role), 3600)
    return {"Authorization": f"Bearer {token}", "X-Mashang-Device": "owner-phone"}


def self_check(performed_at: datetime) -> dict[str, Any]:
    """A complete self-check of S0001, as the owner's phone replicates it (with the revision the phone gave it)."""
    return {
        "_id": f"S0001:self_check:{new_ulid(int(performed_at.timestamp() * 1000))}",
        "_rev": "1-" + "a" * 32,
        "type": "self_check",
        "schema": 1,
        "shop": "S0001",
        "performed_at": performed_at.isoformat(),
        "created_by": "owner:S0001",
        "device": "owner-phone",
        "template": TEMPLATE,
        "template_version": 1,
        "answers": full_answers("S0001"),
    }


def replicate(client: TestClient, *docs: dict[str, Any]) -> None:
    """The owner's phone pushes, as PouchDB's replicator does (new_edits=false: nothing answered when all went in)."""
    resp = client.post(
        "/sync/_bulk_docs", json={"docs": list(docs), "new_edits": False}, headers=headers("owner:S0001", "owner")
    )
    assert resp.status_code == 201 and resp.json() == [], resp.text


def received(client: TestClient) -> dict[str, datetime]:
    """When the server received each self-check of S0001, by its receipts (the earliest)."""
    store = client.app.state.store  # type: ignore[attr-defined]
    first: dict[str, datetime] = {}
    for receipt in client.portal.call(docs_with_prefix, store, "S0001:receipt:"):  # type: ignore[union-attr]
        moment = datetime.fromisoformat(receipt["received_at"])
        for event in receipt["events"]:
            first[event] = min(moment, first.get(event, moment))
    return first


def ledger(client: TestClient) -> tuple[int, list[tuple[str, int]]]:
    """What the owner sees, once the validators caught up: the shop's points and its ledger (rule, points)."""
    call, state = client.portal.call, client.app.state  # type: ignore[union-attr, attr-defined]
    call(state.follower.settled)
    entries = [entry for doc in call(docs_with_prefix, state.store, "S0001:ledger:") for entry in ledger_entries(doc)]
    score = call(read, state.store, "S0001:score")
    assert score is not None
    return score["points"], sorted((e["rule"], e["points"]) for e in entries)


def restores_noted(data: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(data / "mashang.sqlite3")
    try:
        row = conn.execute("SELECT body FROM local_docs WHERE id = 'server/restores'").fetchone()
    finally:
        conn.close()
    return list(json.loads(row[0])["restores"]) if row else []


def test_a_check_sent_again_after_a_restore_keeps_the_week_it_was_made_in_time(tmp_path: Path) -> None:
    on_time = self_check(MONDAY + timedelta(days=1, hours=1))  # Tuesday of W10, received at once
    with time_machine.travel(MONDAY, tick=True) as clock:
        with gateway(tmp_path / "data", seed=True) as first:
            clock.move_to(MONDAY + timedelta(minutes=30))
            taken = backup_module.backup(tmp_path / "data", tmp_path / "backup", say=quiet)
            clock.move_to(MONDAY + timedelta(days=1, hours=1, minutes=5))
            replicate(first, on_time)
            sent = MONDAY + timedelta(days=1, hours=1, minutes=5)
            assert sent <= received(first)[on_time["_id"]] <= datetime.now(UTC)
            assert ledger(first) == (102, [("self_check", 2), ("start", 100)])

        # The disk is lost; on Friday of W12 (W10 is past its grace) the backup of Monday is restored, and the
        # owner's phone, which holds its checkpoint of Monday again, sends the Tuesday check once more.
        friday = MONDAY + timedelta(days=18)
        clock.move_to(friday)
        backup_module.restore(tmp_path / "backup", tmp_path / "restored", say=quiet)
        [noted] = restores_noted(tmp_path / "restored")
        assert noted["taken_at"] == taken.created_at and noted["restored_at"] == friday.astimezone(UTC).isoformat()
        clock.move_to(friday + timedelta(hours=1))
        later = self_check(friday + timedelta(minutes=40))  # made after the restore, sent with the old one
        with gateway(tmp_path / "restored") as again:
            assert on_time["_id"] not in received(again)  # lost with what came after the backup
            replicate(again, on_time, later)
            moments = received(again)
            # Received no later than it could first have come: its own time (after the backup was taken) ...
            assert moments[on_time["_id"]] == datetime.fromisoformat(on_time["performed_at"])
            # ... while the check made after the restore is received now, as ever.
            assert friday + timedelta(hours=1) <= moments[later["_id"]] <= datetime.now(UTC)
            # The owner sees W10 earned, not charged as missed; and W12's check too.
            assert ledger(again) == (104, [("self_check", 2), ("self_check", 2), ("start", 100)])

            # A backup of the restored store keeps the note; a restore of it adds its own.
            clock.move_to(friday + timedelta(hours=2))
            backup_module.backup(tmp_path / "restored", tmp_path / "backup2", say=quiet)
        clock.move_to(friday + timedelta(hours=3))
        backup_module.restore(tmp_path / "backup2", tmp_path / "twice", say=quiet)
        twice = restores_noted(tmp_path / "twice")
        assert [n["taken_at"] for n in twice] == [taken.created_at, twice[1]["taken_at"]] and twice[0] == noted


def test_a_check_made_before_the_backup_is_received_no_earlier_than_the_backup(tmp_path: Path) -> None:
    """Sent for the first time after the restore, a check older than the backup could not have been lost by it
    before the backup was taken: it counts from the backup's time, the earliest it could first have come."""
    old = self_check(MONDAY - timedelta(days=1))  # Sunday of W9, kept offline on the phone
    with time_machine.travel(MONDAY, tick=True) as clock:
        with gateway(tmp_path / "data", seed=True):
            clock.move_to(MONDAY + timedelta(minutes=30))
            taken = backup_module.backup(tmp_path / "data", tmp_path / "backup", say=quiet)
        clock.move_to(MONDAY + timedelta(days=3))
        backup_module.restore(tmp_path / "backup", tmp_path / "restored", say=quiet)
        clock.move_to(MONDAY + timedelta(days=3, hours=1))
        with gateway(tmp_path / "restored") as again:
            replicate(again, old)
            assert received(again)[old["_id"]] == datetime.fromisoformat(taken.created_at)


def test_without_a_restore_a_check_is_received_when_it_comes(tmp_path: Path) -> None:
    old = self_check(MONDAY - timedelta(days=1))
    with time_machine.travel(MONDAY, tick=True), gateway(tmp_path / "data", seed=True) as client:
        replicate(client, old)
        assert MONDAY <= received(client)[old["_id"]] <= datetime.now(UTC)


def test_first_arrival() -> None:
    t = datetime(2026, 3, 2, tzinfo=UTC)
    one = Restore(taken_at=t, restored_at=t + timedelta(days=10))
    two = Restore(taken_at=t + timedelta(days=20), restored_at=t + timedelta(days=21))
    now = t + timedelta(days=20)  # 10 days after the first restore
    assert first_arrival(t + timedelta(days=5), now, ()) == now  # no restore
    assert first_arrival(t + timedelta(days=5), now, (one,)) == t + timedelta(days=5)  # after the backup
    assert first_arrival(t - timedelta(days=5), now, (one,)) == t  # before it: the backup's time
    assert first_arrival(t + timedelta(days=11), now, (one,)) == now  # made after the restore
    assert first_arrival(t + timedelta(days=5), t + timedelta(days=8), (one,)) == t + timedelta(days=8)  # not yet
    # What comes later than RESYNC after the restore is no longer taken as lost by it: received when it comes.
    closed = one.restored_at + RESYNC + timedelta(seconds=1)
    assert first_arrival(t + timedelta(days=5), closed, (one,)) == closed
    assert first_arrival(t + timedelta(days=5), one.restored_at + RESYNC, (one,)) == t + timedelta(days=5)
    both = t + timedelta(days=22)  # both restores within RESYNC
    assert first_arrival(t + timedelta(days=5), both, (one, two)) == t + timedelta(days=5)  # the earliest bound
    assert first_arrival(t + timedelta(days=15), both, (one, two)) == t + timedelta(days=20)
    only_two = t + timedelta(days=26)  # the first restore's RESYNC is over, the second's not
    assert first_arrival(t + timedelta(days=5), only_two, (one, two)) == t + timedelta(days=20)
    assert first_arrival(t + timedelta(days=20, hours=12), only_two, (one, two)) == t + timedelta(days=20, hours=12)


def test_a_rectification_sent_again_after_a_restore_is_received_when_it_could_first_have_come() -> None:
    """Rectifications get receipts too (their fix counts from at most the offline allowance before they arrived):
    one lost with a restore is dated as a self-check is, so the owner keeps an in-time fix the server lost."""
    t = datetime(2026, 3, 2, tzinfo=UTC)
    restore = Restore(taken_at=t, restored_at=t + timedelta(days=18))
    fix = {
        "_id": f"S0001:rectification:{new_ulid()}",
        "type": "rectification",
        "shop": "S0001",
        "performed_at": (t + timedelta(days=1)).astimezone(CST).isoformat(),
    }
    [again] = receipts_for([fix], t + timedelta(days=19), True, (restore,))
    assert again["events"] == [fix["_id"]] and datetime.fromisoformat(again["received_at"]) == t + timedelta(days=1)
    [fresh] = receipts_for([fix], t + timedelta(days=19), True)
    assert datetime.fromisoformat(fresh["received_at"]) == t + timedelta(days=19)
