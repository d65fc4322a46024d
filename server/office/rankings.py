"""The red/black list as the office reads it: the validators' monthly snapshots (`office:ranking:{sd}:{month}`)
with shop names, whole (the exports, the monthly report) or a page of the shops a filter keeps (the screen: a
district's sub-district may rank 30,000 shops), and publishing a month. Publishing freezes a copy,
`office:publication:{sd}:{month}`, with who published it and when; the snapshot of the current month keeps changing
with the scores, the publication not. The black-listed entries carry what the office did about them
(`followup`, `server.office.followups`) and a month's answer the figures of it (`followups`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from server.errors import CouchError, bad_request, conflict, not_found, unknown_in
from server.office import followups
from server.office.facts import View
from server.registry import Registry
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_by_id
from server.store.upsert import read
from server.validators.district import month_of, shift_month

MONTH: Final = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
LISTS: Final = ("red", "black", "none")  # `none`: on neither list


def ranking_id(subdistrict: str, month: str) -> str:
    return f"office:ranking:{subdistrict}:{month}"


def publication_id(subdistrict: str, month: str) -> str:
    return f"office:publication:{subdistrict}:{month}"


def subdistrict_of(view: View, given: str | None) -> str:
    """The sub-district asked for, or the only one there is."""
    known = view.subdistricts()
    if given:
        if given not in known:
            raise unknown_in("subdistrict", "subdistrict", given)
        return given
    if len(known) == 1:
        return known[0]
    if not known:
        raise not_found(
            "还没有登记街道和店铺：请先在“登记管理”中填写街道名称，再导入店铺普查表。No sub-district is registered yet."
        )
    raise bad_request(
        f"本区有 {len(known)} 个街道（{'、'.join(known)}）：请选择要看的街道。"
        f"subdistrict: required, one of {', '.join(known)}"
    )


def month_param(view: View, given: str | None) -> str:
    if given is None:
        return month_of(view.today())
    if not MONTH.fullmatch(given):
        raise bad_request("month: a month such as 2026-11")
    return given


def ended(view: View, month: str) -> str:
    """A month whose list may be published: one that has ended. The list of the month still running moves with the
    scores until its last day (on the 1st it is a copy of last month's standings), and a month is published once:
    published early, the month's own list could never be published at its end."""
    if month >= month_of(view.today()):
        since = f"{shift_month(month, 1)}-01"
        raise bad_request(
            f"{month} 还没有结月，该月榜单仍随积分变动：{since} 起才能发布。"
            f"month: {month} has not ended; its list can be published from {since}"
        )
    return month


def _published(doc: Doc | None) -> dict[str, Any] | None:
    return {"by": doc["published_by"], "at": doc["published_at"]} if doc else None


@dataclass(frozen=True)
class Wanted:
    """The shops of a month's list the office asks for: on a list (`none`: on neither), flagged for a working group,
    and whose code or name holds `q` (any case)."""

    listed: str | None = None
    working_group: bool = False
    q: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str], working_group: bool = False) -> Wanted:
        listed = params.get("list") or None
        if listed is not None and listed not in LISTS:
            raise bad_request(f"list: one of {', '.join(LISTS)}")
        return cls(listed, working_group, (params.get("q") or "").strip().lower())

    def takes(self, view: View, entry: Mapping[str, Any], group: set[str]) -> bool:
        if self.listed is not None and (entry.get("list") or "none") != self.listed:
            return False
        if self.working_group and entry.get("shop") not in group:
            return False
        if not self.q:
            return True
        code = str(entry.get("shop"))
        shop = view.shops.get(code)
        name = (shop.doc or {}).get("name") if shop else None
        return self.q in code.lower() or (isinstance(name, str) and self.q in name.lower())


async def snapshot(store: Store, subdistrict: str, month: str) -> tuple[Doc, Doc | None]:
    """The month's snapshot (404 without one) and its publication (None while unpublished)."""
    doc = await read(store, ranking_id(subdistrict, month))
    if doc is None:
        raise await no_ranking(store, subdistrict, month)
    return doc, await read(store, publication_id(subdistrict, month))


async def no_ranking(store: Store, subdistrict: str, month: str) -> CouchError:
    """The 404 of a month without a list, Chinese first, saying which months have one: a sub-district registered this
    month has no list of last month, which the exports screen offers (it offers two years of months to every one)."""
    name = await Registry(store).subdistrict_name(subdistrict)
    first, last = await _month_at(store, subdistrict, False), await _month_at(store, subdistrict, True)
    if first is None or last is None:
        return not_found(
            f"{name}还没有红黑榜：登记店铺后，当月的榜单随即生成。No ranking of {subdistrict} yet: a month's list is "
            "made once it has shops."
        )
    if month < first:
        held, held_en = f"本街道的榜单从 {first} 起才有", f"its lists begin in {first}"
    elif first == last:
        held, held_en = f"已有的只有 {first} 的榜单", f"there is only {first}'s"
    else:
        held, held_en = f"已有 {first} 至 {last} 的榜单", f"there are lists from {first} to {last}"
    return not_found(f"{name}没有 {month} 的红黑榜：{held}。No ranking of {subdistrict} for {month}: {held_en}.")


async def _month_at(store: Store, subdistrict: str, newest: bool) -> str | None:
    """The oldest (or newest) month the sub-district has a list of."""
    prefix = ranking_id(subdistrict, "")
    start, end = (prefix + "\ufff0", prefix) if newest else (prefix, prefix + "\ufff0")
    rows = (await store.all_docs(AllDocsQuery(startkey=start, endkey=end, descending=newest, limit=1)))["rows"]
    return str(rows[0]["id"]).removeprefix(prefix) if rows else None


async def black_list(
    store: Store, subdistrict: str, month: str
) -> tuple[followups.BlackList, dict[str, dict[str, Any]]]:
    """The month's black list as the follow-ups see it, and its shops' follow-ups by shop (404 without a snapshot),
    with those of the shops off the list whose working group was still there (`followups.off_list`)."""
    doc, publication = await snapshot(store, subdistrict, month)
    black = followups.BlackList.of(subdistrict, month, doc, publication)
    return black, await month_followups(store, black)


async def month_followups(store: Store, black: followups.BlackList) -> dict[str, dict[str, Any]]:
    """`followups.of_month`, looking for working groups still in shops that left the list among the shops the
    earlier months flagged for one."""
    return await followups.of_month(store, black, await flagged_before(store, black.subdistrict, black.month))


# The shops flagged for a working group by a snapshot or publication, by its id and revision: a past month's is read
# once for the process's life (it changes only with a rebuild, which gives it a new revision).
_FLAGGED: dict[tuple[str, str], frozenset[str]] = {}
_FLAGGED_KEPT: Final = 4_096


async def flagged_before(store: Store, subdistrict: str, month: str) -> set[str]:
    """The shops that the sub-district's snapshots or publications of the months before `month` flagged for a
    working group."""
    seen: list[tuple[str, str]] = []
    for prefix in (ranking_id(subdistrict, ""), publication_id(subdistrict, "")):
        query = AllDocsQuery(startkey=prefix, endkey=prefix + month, inclusive_end=False)
        seen += [(row["id"], row["value"]["rev"]) for row in (await store.all_docs(query))["rows"]]
    unread = [doc_id for doc_id, rev in seen if (doc_id, rev) not in _FLAGGED]
    if unread:
        if len(_FLAGGED) > _FLAGGED_KEPT:
            _FLAGGED.clear()
        for doc in (await docs_by_id(store, unread)).values():
            _FLAGGED[(doc["_id"], doc["_rev"])] = frozenset(str(code) for code in doc.get("working_group", ()))
    return set().union(*(_FLAGGED.get(key, frozenset()) for key in seen))


def _entry(
    view: View, entry: Mapping[str, Any], group: set[str], done: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """An entry with the shop's name, community and grid (codes and names) and working-group flag; a black-listed
    one also with its `followup` (null: nothing recorded yet) and what is `outstanding`, and so is one off the list
    with a working group there (`followups.off_list`: nothing outstanding). Those, and a shop flagged for a working
    group, carry the shop's `contact` (its 负责人 and phone, null when not registered): the office calls them in;
    the other shops' entries have none (a list on the screen or in an export names no one it need not)."""
    code = entry["shop"]
    shop = view.shops.get(code)
    registry = shop.doc if shop and shop.doc else {}
    out = {
        **entry,
        "name": registry.get("name"),
        "community": registry.get("community"),
        "community_name": view.communities.get(str(registry.get("community")), {}).get("name"),
        "grid": registry.get("grid"),
        "grid_name": view.grids.get(str(registry.get("grid")), {}).get("name"),
        "working_group": code in group,
    }
    followup = (done or {}).get(code)
    if entry.get("list") == "black":
        out.update(followup=followup, outstanding=followups.outstanding(followup, code in group))
    elif followup is not None:
        out.update(followup=followup, outstanding=[])
    if "followup" in out or code in group:
        out["contact"] = registry.get("contact")
    return out


def _about(doc: Doc, publication: Doc | None, subdistrict: str, month: str) -> dict[str, Any]:
    return {
        "subdistrict": subdistrict,
        "month": month,
        "as_of": doc.get("as_of"),
        "rules_version": doc.get("rules_version"),
        "of": len(doc.get("entries", ())),
        "working_group": sorted(set(doc.get("working_group", ()))),
        "published": _published(publication),
    }


async def ranking(store: Store, view: View, subdistrict: str, month: str) -> dict[str, Any]:
    """The whole snapshot of one month, each entry as `_entry` gives it, with the figures of its follow-ups."""
    doc, publication = await snapshot(store, subdistrict, month)
    group = set(doc.get("working_group", ()))
    black = followups.BlackList.of(subdistrict, month, doc, publication)
    done = await month_followups(store, black)
    entries = [_entry(view, entry, group, done) for entry in doc.get("entries", ())]
    return {
        **_about(doc, publication, subdistrict, month),
        "followups": followups.counts(black, done),
        "entries": entries,
    }


async def ranking_page(
    store: Store, view: View, subdistrict: str, month: str, wanted: Wanted, limit: int, offset: int
) -> dict[str, Any]:
    """One page of the entries `wanted` keeps, in rank order: `entries`, their `total`, `limit` and `offset`, and
    `counts` of the whole month's list (`red`, `black`, `none`, `working_group`; `of` is all of them), which the
    screen's figures show whatever page or filter it is on, and `followups`, the figures of what the office did about
    the black list (`server.office.followups.counts`)."""
    doc, publication = await snapshot(store, subdistrict, month)
    group = set(doc.get("working_group", ()))
    black = followups.BlackList.of(subdistrict, month, doc, publication)
    done = await month_followups(store, black)
    # The working groups' table: the shops the month flags (on the black list or not), and those that left the list
    # with their group still there.
    groups = group | set(followups.off_list(black, done))
    entries = doc.get("entries", ())
    counts = dict.fromkeys((*LISTS, "working_group"), 0)
    kept = []
    for entry in entries:
        listed = entry.get("list") or "none"
        counts[listed] = counts.get(listed, 0) + 1
        counts["working_group"] += int(entry.get("shop") in group)
        if wanted.takes(view, entry, groups):
            kept.append(entry)
    page = [_entry(view, entry, group, done) for entry in kept[offset : offset + limit]]
    return {
        **_about(doc, publication, subdistrict, month),
        "counts": counts,
        "followups": followups.counts(black, done),
        "total": len(kept),
        "limit": limit,
        "offset": offset,
        "entries": page,
    }


async def rankings(store: Store, subdistrict: str) -> list[dict[str, Any]]:
    """Every month with a snapshot, newest first, with the sizes of its lists and whether it is published."""
    prefix = f"office:ranking:{subdistrict}:"
    query = AllDocsQuery(startkey=prefix + "\ufff0", endkey=prefix, descending=True, include_docs=True)
    docs = [row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")]
    ids = [publication_id(subdistrict, str(doc.get("month"))) for doc in docs]
    found = (await store.all_docs(AllDocsQuery(keys=ids, include_docs=True)))["rows"] if ids else []
    publications = {row["id"]: row["doc"] for row in found if row.get("doc")}
    out = []
    for doc in docs:
        entries = doc.get("entries", ())
        out.append(
            {
                "month": doc.get("month"),
                "as_of": doc.get("as_of"),
                "shops": len(entries),
                "red": sum(1 for e in entries if e.get("list") == "red"),
                "black": sum(1 for e in entries if e.get("list") == "black"),
                "working_group": len(doc.get("working_group", ())),
                "published": _published(publications.get(publication_id(subdistrict, str(doc.get("month"))))),
            }
        )
    return out


async def publish(store: Store, subdistrict: str, month: str, by: str, now: datetime) -> dict[str, Any]:
    """Freeze a month's snapshot as the published list; a month is published once (409 after)."""
    doc = await read(store, ranking_id(subdistrict, month))
    if doc is None:
        raise await no_ranking(store, subdistrict, month)
    publication = {
        "_id": publication_id(subdistrict, month),
        "type": "publication",
        "schema": 1,
        "subdistrict": subdistrict,
        "month": month,
        "as_of": doc.get("as_of"),
        "rules_version": doc.get("rules_version"),
        "entries": doc.get("entries", []),
        "working_group": doc.get("working_group", []),
        "published_by": by,
        "published_at": now.isoformat(timespec="seconds"),
    }
    [answer] = await store.bulk_docs([publication])
    if not answer.get("ok"):
        existing = await read(store, publication["_id"])
        who = f" by {existing['published_by']} at {existing['published_at']}" if existing else ""
        who_zh = f"（{existing['published_by']} 于 {existing['published_at']} 发布）" if existing else ""
        raise conflict(f"{month} 的红黑榜已经发布过{who_zh}。{month} was already published{who}")
    return {k: v for k, v in publication.items() if k != "_rev"}
