"""The office's follow-up of a month's black list (黑榜跟进): recording a talk (约谈), a special inspection (专项检查)
or a working group (专班整治) for a black-listed shop, and reading what was done and what is still outstanding.

The documents are `server.models.followups.FollowUp`. A shop may be followed up for a month when it is on that
month's black list, the snapshot's as it stands or the published one's (the list announced); a working group only
when the month flags the shop for one (black-listed in 3 of the last 6 months), on its black list or not: the flag
itself calls for a group (对于长期多次排名靠后的企业，街道成立专门工作小组进驻整治), while a talk and a special
inspection are for the black list's shops alone. Dates of what was done may not be after today nor before the
month began.

A talk and a special inspection are the month's own: each month's black list asks for them again. A working group
is not: once in the shop (进驻中) it stays there until its end is recorded, whatever month the office records that
in. The truth stays in the months' documents (no other document, no other partition): a month's view reads the
shop's earlier months' follow-ups back and carries the latest working group recorded there into the month
(`carried`) while it is in place, or when it ended in or after the month began, unless the month records one of its
own. Its `month` is where it was recorded, and `carried` is true. The office ends a carried group from the later
month (recorded there, so the months after it no longer carry it); ending one that is not in place is refused.
A shop off the month's black list comes with the month's follow-ups too (`off_list`) when it has a working group
there: one still there when the month began, whose end is the one thing the office may record for it there unless
the month flags the shop, or one recorded in the month for a shop the month flags (a working group is all that is
recorded for a flagged shop off the list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from pydantic import ValidationError

from server.errors import CouchError, bad_request, conflict
from server.models.common import reason_of
from server.models.followups import (
    ACTION_NAMES,
    ACTIONS,
    MAX_ACTIONS,
    FollowUp,
    Inspection,
    Recorded,
    Talk,
    WorkingGroup,
    followup_id,
)
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.sync.writes import IdLocks

WRITE_ATTEMPTS: Final = 5
# The follow-ups being recorded in this process, one at a time each: offices recording for one shop at once wait for
# each other here, instead of racing for its revision and answering 409 when one lost five times.
_RECORDING: Final = IdLocks()
CARRY_READS: Final = 32  # shops whose earlier months are read at once (a district's black list has up to 1,500)


@dataclass(frozen=True)
class BlackList:
    """A month's black list as the follow-ups see it: its shops in rank order (the snapshot's, then any the published
    list named and the snapshot no longer does) and the shops flagged for a working group (the snapshot's or the
    published list's flags), on the black list or not."""

    subdistrict: str
    month: str
    shops: tuple[str, ...]
    group: frozenset[str]

    @classmethod
    def of(cls, subdistrict: str, month: str, snapshot: Doc, publication: Doc | None) -> BlackList:
        shops: dict[str, None] = {}
        group: set[str] = set()
        for doc in (snapshot, publication or {}):
            shops |= {str(e["shop"]): None for e in doc.get("entries", ()) if e.get("list") == "black"}
            group |= {str(code) for code in doc.get("working_group", ())}
        return cls(subdistrict, month, tuple(shops), frozenset(group))

    @property
    def first_day(self) -> date:
        year, month = self.month.split("-")
        return date(int(year), int(month), 1)


def _check_days(action: Talk | Inspection | WorkingGroup, black: BlackList, today: date) -> None:
    """What was done was done by today and not before the month began; a plan is due in or after the month."""
    what = ACTION_NAMES[action.action]
    done: list[tuple[str, date | None, str]] = []
    if isinstance(action, Talk):
        done = [("on", action.on, f"{what}日期")]
    elif isinstance(action, Inspection):
        done = [("on", action.on, "检查日期")]
        if action.due is not None and action.due < black.first_day:
            raise bad_request(
                f"完成期限不能早于 {black.month} 月初（{black.first_day}）。"
                f"due: before the month began ({black.first_day})"
            )
    else:
        done = [("started", action.started, "进驻日期"), ("ended", action.ended, "结束日期")]
    for field, day, name in done:
        if day is None:
            continue
        if day > today:
            raise bad_request(f"{name}不能晚于今天（{today}）。{field}: {day} is after today ({today})")
        if field != "started" and day < black.first_day:  # a working group may have started in an earlier month
            raise bad_request(
                f"{name}不能早于 {black.month} 月初（{black.first_day}）。"
                f"{field}: {day} is before the month began ({black.first_day})"
            )


def check(
    action: Talk | Inspection | WorkingGroup,
    black: BlackList,
    shop: str,
    today: date,
    carried: Mapping[str, Any] | None = None,
) -> None:
    """Refuse (400, Chinese first) an action for a shop that month's list does not call for, or on wrong days. A
    working group carried from an earlier month (`carried`) may be recorded (ended) even when the month no longer
    flags the shop, and its end even when the shop has left the month's black list (nothing else is asked of it). A
    shop the month flags for a working group may have one recorded off the black list too, and nothing else."""
    if shop not in black.shops:
        if shop in black.group:  # flagged for a working group: that is all it is asked for
            if not isinstance(action, WorkingGroup):
                raise bad_request(
                    f"店铺 {shop} 不在 {black.month} 的黑榜上，无需{ACTION_NAMES[action.action]}"
                    f"（约谈和专项检查只针对黑榜店铺）；该店列入专班整治，只能记录专班整治。"
                    f"{shop} is not on the black list of {black.month}: it is flagged for a working group, the one "
                    "thing that can be recorded for it"
                )
        elif carried is None:
            raise bad_request(
                f"店铺 {shop} 不在 {black.month} 的黑榜上，无需跟进。{shop} is not on the black list of {black.month}"
            )
        elif not (isinstance(action, WorkingGroup) and action.status == "ended"):
            raise bad_request(
                f"店铺 {shop} 已不在 {black.month} 的黑榜上，只能记录其专班整治的结束。"
                f"{shop} is off the black list of {black.month}: only the end of its working group can be recorded"
            )
    if action.action == "working_group" and shop not in black.group and carried is None:
        raise bad_request(
            f"店铺 {shop} 未列入 {black.month} 的专班整治（连续多月上黑榜的店铺才需专班）。"
            f"{shop} is not flagged for a working group in {black.month}"
        )
    _check_days(action, black, today)


async def record(
    store: Store,
    black: BlackList,
    shop: str,
    action: Talk | Inspection | WorkingGroup,
    by: str,
    now: datetime,
    today: date,
) -> dict[str, Any]:
    """Append `action` to the shop's follow-up of the month, with who and when; answers the follow-up as `public`
    gives it (with the working group carried from an earlier month, if any). A read-modify-write on the stored
    revision, so two offices recording at once both keep theirs (one after the other in one gateway; gateways side by
    side on CouchDB retry). Ending a working group needs one in place (the month's own or a carried one), whose start
    and members it keeps unless given."""
    async with _RECORDING.hold([followup_id(shop, black.month)]):
        carried = (await carried_groups(store, black, [shop])).get(shop)
        check(action, black, shop, today, carried)
        at = now.isoformat(timespec="seconds")
        for _ in range(WRITE_ATTEMPTS):
            doc_id, current = await _own(store, black, shop)
            own = public(current)["working_group"] if current is not None else None
            done = _ending(action, black, shop, own or carried) if isinstance(action, WorkingGroup) else action
            recorded = Recorded.model_validate({**done.model_dump(mode="json"), "recorded_by": by, "recorded_at": at})
            actions = [*(current or {}).get("actions", ()), recorded.model_dump(mode="json", exclude_none=True)]
            if len(actions) > MAX_ACTIONS:
                raise conflict(
                    f"该店 {black.month} 的跟进记录已满 {MAX_ACTIONS} 条。at most {MAX_ACTIONS} actions a month"
                )
            body = {
                "_id": doc_id,
                "type": "followup",
                "schema": 1,
                "subdistrict": black.subdistrict,
                "month": black.month,
                "shop": shop,
                "actions": actions,
                "updated_at": at,
            }
            try:
                new = FollowUp.model_validate(body).to_doc()
            except ValidationError as e:
                raise CouchError(500, "invalid_followup", f"{doc_id}: {reason_of(e)}") from None
            if current is not None:
                new["_rev"] = current["_rev"]
            [result] = await store.bulk_docs([new])
            if result.get("ok"):
                return with_carried(public(new), carried, black, shop) or public(new)
            if result.get("error") != "conflict":
                raise CouchError(500, str(result.get("error", "error")), str(result.get("reason", "write failed")))
        raise conflict(f"该店的跟进记录正被同时修改，请再试一次。{doc_id} kept changing; try again.")


async def _own(store: Store, black: BlackList, shop: str) -> tuple[str, Doc | None]:
    """The id of the black list's sub-district's follow-up of the shop for its month, and the document (None: none
    yet). The shop's month document is the first office's to record one; when that is another sub-district's (the
    shop moved between them during the month), this one's is `followup_id(shop, month, subdistrict)`: appending to the
    other's would show this office what that one recorded, and take it from that office's list."""
    first, second = _ids(black, shop)
    found = await docs_by_id(store, [first, second])
    for doc_id in (first, second):
        doc = found.get(doc_id)
        if doc is not None and doc.get("subdistrict") == black.subdistrict:
            return doc_id, doc
    return (second if first in found else first), None


def _ending(action: WorkingGroup, black: BlackList, shop: str, group: Mapping[str, Any] | None) -> WorkingGroup:
    """A working group's end, with the start and members of the group in place unless given; 400 (Chinese first)
    when no group is in place to end and the action does not give them (a group that came and went is recorded at
    once with its start, members and end). Any other working-group action as it is."""
    if action.status != "ended":
        return action
    if group is None or group.get("status") != "active":
        if action.started is not None and action.members is not None:
            return action  # a group that came and went, recorded at once with its days and members
        if group is None:
            raise bad_request(
                f"店铺 {shop} 在 {black.month} 没有进驻中的专班整治，无法只记录结束：请填写进驻日期和专班成员。"
                f"{shop} has no working group in place in {black.month} to end: give its started and members"
            )
        raise bad_request(
            f"店铺 {shop} 的专班整治已于 {group.get('ended')} 结束，不是进驻中，不能再次结束。"
            f"{shop}'s working group is not in place: it ended on {group.get('ended')}"
        )
    started = action.started or date.fromisoformat(str(group.get("started")))
    if action.ended is not None and action.ended < started:
        raise bad_request(f"结束日期早于进驻日期（{started}）。ended: before the working group started ({started})")
    return action.model_copy(update={"started": started, "members": action.members or group.get("members")})


def public(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A follow-up as the office reads it: the latest action of each kind (null: none yet) and every action, newest
    first."""
    actions = [{k: v for k, v in a.items() if v is not None} for a in doc.get("actions", ())]
    latest: dict[str, Any] = dict.fromkeys(ACTIONS)
    for action in actions:
        latest[str(action.get("action"))] = action
    return {
        "shop": doc.get("shop"),
        "month": doc.get("month"),
        "subdistrict": doc.get("subdistrict"),
        **latest,
        "actions": actions[::-1],
        "updated_at": doc.get("updated_at"),
    }


def outstanding(followup: Mapping[str, Any] | None, flagged: bool) -> list[str]:
    """What a black-listed shop still waits for: a talk, a special inspection done, a working group (if flagged)."""
    f = followup or {}
    left = [] if f.get("talk") else ["talk"]
    if (f.get("inspection") or {}).get("status") != "done":
        left.append("inspection")
    if flagged and not f.get("working_group"):
        left.append("working_group")
    return left


def counts(black: BlackList, followups: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """The month's figures: black-listed shops, those talked to, inspected (done) or with one planned, flagged for a
    working group and with one in the shop (进驻中) or finished, those still waiting for something, and the shops
    off the list with a working group there (`off_list`: still there when the month began, or recorded in the month
    for a shop it flags)."""
    out = dict.fromkeys(
        ("black", "talked", "inspected", "inspection_planned", "working_group", "group_active", "group_ended"), 0
    )
    out["outstanding"] = 0
    out["off_list"] = len(off_list(black, followups))
    for shop in black.shops:
        f = followups.get(shop) or {}
        inspection, group = f.get("inspection") or {}, f.get("working_group") or {}
        out["black"] += 1
        out["talked"] += int(bool(f.get("talk")))
        out["inspected"] += int(inspection.get("status") == "done")
        out["inspection_planned"] += int(inspection.get("status") == "planned")
        out["working_group"] += int(shop in black.group or bool(group))  # flagged, or a group still in the shop
        out["group_active"] += int(group.get("status") == "active")
        out["group_ended"] += int(group.get("status") == "ended")
        out["outstanding"] += int(bool(outstanding(f, shop in black.group)))
    return out


def latest_group(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The latest working-group action of a shop's follow-up documents (oldest month first, as stored), with the
    `month` it was recorded in; None without any."""
    found: dict[str, Any] | None = None
    for doc in docs:
        for action in doc.get("actions", ()):
            if action.get("action") == "working_group":
                found = {**{k: v for k, v in action.items() if v is not None}, "month": doc.get("month")}
    return found


def _carried(docs: Iterable[Mapping[str, Any]], black: BlackList) -> dict[str, Any] | None:
    """The working group that earlier months' documents carry into the black list's month: the latest recorded, in
    place (进驻中) or ended in or after the month began (it was there for part of it)."""
    group = latest_group(docs)
    if group is None:
        return None
    if group.get("status") == "active" or str(group.get("ended") or "") >= black.first_day.isoformat():
        return {**group, "carried": True}
    return None


async def carried_groups(store: Store, black: BlackList, shops: Sequence[str]) -> dict[str, dict[str, Any]]:
    """By shop, the working group carried into the black list's month from the shop's earlier months (`_carried`),
    as recorded by this sub-district's office; a shop with none is left out."""

    async def one(shop: str) -> tuple[str, dict[str, Any] | None]:
        query = AllDocsQuery(
            startkey=followup_id(shop, ""),
            endkey=followup_id(shop, black.month),
            inclusive_end=False,
            include_docs=True,
        )
        rows = (await store.all_docs(query))["rows"]
        docs = [r["doc"] for r in rows if r.get("doc") and r["doc"].get("subdistrict") == black.subdistrict]
        return shop, _carried(docs, black)

    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(shops), CARRY_READS):
        for shop, group in await asyncio.gather(*(one(s) for s in shops[start : start + CARRY_READS])):
            if group is not None:
                out[shop] = group
    return out


def with_carried(
    followup: Mapping[str, Any] | None, carried: Mapping[str, Any] | None, black: BlackList, shop: str
) -> dict[str, Any] | None:
    """A shop's follow-up of the month with the working group carried from an earlier month, when the month records
    none of its own (the month's own actions, `actions`, stay the month's)."""
    if carried is None or (followup is not None and followup.get("working_group")):
        return dict(followup) if followup is not None else None
    out: dict[str, Any] = (
        dict(followup)
        if followup is not None
        else {
            "shop": shop,
            "month": black.month,
            "subdistrict": black.subdistrict,
            **dict.fromkeys(ACTIONS),
            "actions": [],
            "updated_at": None,
        }
    )
    out["working_group"] = dict(carried)
    return out


async def of_month(store: Store, black: BlackList, flagged_before: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """The follow-ups of the black list's shops for its month, by shop, as `public` gives them, with a working group
    carried from an earlier month (`with_carried`); a shop without any is left out. Then those of the shops that
    left the list with a working group still there when the month began (`off_list`), looked for among
    `flagged_before`, the shops an earlier month flagged for one (a group is recorded only for a flagged shop), and
    those of the shops off the list the month itself flags that have a working group recorded in the month. Only
    those recorded for this sub-district's list: a shop whose community moved to another sub-district stays on the
    old one's past (or published) list, and what the other's office records about it is not for this one to read."""
    listed = set(black.shops)
    flagged = black.group - listed  # off the list, flagged this month: a working group may be recorded for them
    shops = [*black.shops, *sorted((set(flagged_before) | flagged) - listed)]
    carried = await carried_groups(store, black, shops)
    shops = [shop for shop in shops if shop in listed or shop in carried or shop in flagged]
    ids = [doc_id for shop in shops for doc_id in _ids(black, shop)]
    found = await docs_by_id(store, ids)
    own = {str(doc["shop"]): public(doc) for doc in found.values() if doc.get("subdistrict") == black.subdistrict}
    out = {}
    for shop in shops:
        followup = with_carried(own.get(shop), carried.get(shop), black, shop)
        # Off the list: only with a working group (a talk recorded while a running month's list still had the shop
        # is not the month's any more).
        if followup is not None and (shop in listed or followup.get("working_group")):
            out[shop] = followup
    return out


def _ids(black: BlackList, shop: str) -> tuple[str, str]:
    """The two ids the shop's follow-up of the black list's month may have: the month's first (whichever office
    recorded first), and the one of the list's sub-district when another's has the first (`_own`)."""
    return followup_id(shop, black.month), followup_id(shop, black.month, black.subdistrict)


def off_list(black: BlackList, followups: Mapping[str, Any]) -> list[str]:
    """The shops of `of_month`'s answer that are not on the month's black list: they left it with a working group
    still there when the month began (in place, or ended since), whose end the office records from the month, or
    the month flags them for a working group and one is recorded there."""
    listed = set(black.shops)
    return [shop for shop in followups if shop not in listed]


async def of_shop(
    store: Store, shop: str, subdistrict: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Every month's follow-up of a shop, oldest month first, as `public` gives them with the document's `_id`, and
    its working group in place (进驻中) now, with the `month` it was recorded in (None: none in place). With
    `subdistrict` (a sub-district's office), only those recorded for its lists: a shop that moved in brings along
    nothing another sub-district's office recorded about it (who was talked to, notes, who recorded them)."""
    docs = await docs_with_prefix(store, followup_id(shop, ""))
    if subdistrict is not None:
        docs = [doc for doc in docs if doc.get("subdistrict") == subdistrict]
    group = latest_group(docs)
    months = [{**public(doc), "_id": doc["_id"]} for doc in docs]
    return months, group if group and group.get("status") == "active" else None


def timeline(months: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A shop's follow-ups as entries of its e-file's timeline (`type` "followup"), one per action: `at` the day it
    was done (a talk, an inspection done, a working group started or ended; a day, not a time), else the moment it
    was recorded (a planned inspection)."""
    out = []
    for followup in months:
        actions = followup.get("actions", ())
        doc_id = followup["_id"]  # `of_shop` gives it: two sub-districts' follow-ups of one month differ by it
        for n, action in enumerate(reversed(actions)):  # `public` lists them newest first
            at = action.get("ended") or action.get("started") or action.get("on") or action.get("recorded_at")
            out.append(
                {
                    "_id": f"{doc_id}#{n + 1}",
                    "type": "followup",
                    "shop": followup.get("shop"),
                    "month": followup.get("month"),
                    **action,
                    "at": at,
                }
            )
    return out
