"""Server-owned projections: score, point ledger, hazard, alarm, ranking, statistics. No device may write them.

The validators compute them as pure functions of the events, so their ids are deterministic and their times
come from the events (never the wall clock): recomputing a projection that did not change yields the same
document, and writing it again is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, Self, get_args

from pydantic import Field, StrictBool, StrictStr, model_validator

from server.models.common import (
    KEY,
    PARTITION,
    ULID,
    AlarmId,
    Code,
    Count,
    Day,
    Doc,
    EventId,
    HazardId,
    Int,
    ItemId,
    Note,
    Part,
    PhotoId,
    PositiveInt,
    RectificationId,
    SelfCheckId,
    Severity,
    ShopCode,
    Text,
    Timestamp,
    UserId,
    Version,
    matching,
    refuse,
    split_id,
)

ListName = Literal["red", "black"]
Department = Literal["fire", "gas", "market", "emergency"]  # 消防, 燃气, 市场监管, 应急
LedgerRule = Literal[
    "start", "self_check", "missed_week", "patrol_clean", "hazard", "false_self_report", "refund", "overdue"
]
LEDGER_RULES: Final = get_args(LedgerRule)
Month = Annotated[StrictStr, matching(r"\d{4}-(0[1-9]|1[0-2])", "a month such as 2026-11")]
Period = Annotated[
    StrictStr, matching(r"\d{4}(-(0[1-9]|1[0-2])|-W\d{2}|-Q[1-4])?", "a period: 2026, 2026-11, 2026-W48 or 2026-Q4")
]


class ShopProjection(Doc):
    shop: ShopCode

    def check_shop_id(self, pattern: str, form: str) -> None:
        self.check_id(rf"{PARTITION}:{pattern}", "{shop}:" + form)
        if self.partition != self.shop:
            raise refuse(f"shop '{self.shop}' must equal the id's partition '{self.partition}'")


class Score(ShopProjection):
    """`{shop}:score`: what the QR card shows: points, rank of how many, red/black list, open hazards."""

    type: Literal["score"]
    points: Int
    rank: PositiveInt | None = None  # null while the shop is not ranked (closed, new)
    of: Count | None = None
    list_: ListName | None = Field(default=None, alias="list")
    open_hazards: Count
    working_group: StrictBool = False  # flagged for a dedicated working group (专班整治)
    rules_version: Version | None = None
    updated_at: Timestamp  # the time of the latest event that counted

    @model_validator(mode="after")
    def _check_score(self) -> Self:
        self.check_shop_id("score", "score")
        if (self.rank is None) != (self.of is None) or (self.rank and self.of and self.rank > self.of):
            raise refuse("rank and of: both null, or 1 ≤ rank ≤ of")
        return self


LEDGER_KEY: Final = r"[A-Za-z0-9_.-]{1,120}"


class LedgerEntry(Part):
    """One change of points and why: `rule` fired for the source `key`, the event's or hazard's key (`01JE0…`,
    `01JE0…-f1`), a period (`2026` for the start, `2026-W48` for a missed week) or a hazard's key and the number of
    the started week of delay (`01JE0…-f1.w2` for overdue). Its name, `{shop}:ledger:{key}:{rule}` (`entry_id`),
    is what the phones and the e-file call it."""

    key: Annotated[StrictStr, matching(LEDGER_KEY, "a source key of letters, digits, _ . and - (at most 120)")]
    rule: LedgerRule
    points: Int  # earned > 0, cost < 0
    source: StrictStr = Field(min_length=1, max_length=200)  # the document id or period it comes from
    day: Day  # the day it counts for (Asia/Shanghai)
    rules_version: Version
    note: Note = ""


class Ledger(ShopProjection):
    """`{shop}:ledger:{YYYY-MM}`: the shop's point ledger for one month, one entry per rule firing whose `day` is
    in that month, by day, key and rule. A month, not an entry, per document: a district year is ~2M entries, and
    as documents they were most of what a rebuild wrote and an owner's phone pulled (about 6 a month)."""

    type: Literal["ledger"]
    month: Month
    entries: tuple[LedgerEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_ledger(self) -> Self:
        self.check_shop_id(r"ledger:\d{4}-\d{2}", "ledger:{YYYY-MM}")
        if self.id != f"{self.shop}:ledger:{self.month}":
            raise refuse(f"_id must be {self.shop}:ledger:{self.month}")
        if any(entry.day.isoformat()[:7] != self.month for entry in self.entries):
            raise refuse(f"entries: every day must be in {self.month}")
        if len({(entry.key, entry.rule) for entry in self.entries}) != len(self.entries):
            raise refuse("entries: a key and rule appear twice")
        return self


def entry_id(shop: str, key: str, rule: str) -> str:
    """The name of a ledger entry: `{shop}:ledger:{key}:{rule}` (it was the entry's own document's id)."""
    return f"{shop}:ledger:{key}:{rule}"


def ledger_entries(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A month's ledger document as its entries, each a flat dict as the entries' own documents were before they
    were grouped by month (`_id` its `entry_id`, `type` "ledger", `shop` and the entry's fields but `key`), for the
    e-file and what else lists entries one by one. A document of that older form (a store not projected again
    since) is its only entry, as it is."""
    entries = doc.get("entries")
    if not isinstance(entries, list | tuple):
        return [dict(doc)]
    shop = str(doc.get("shop"))
    return [
        {
            "_id": entry_id(shop, str(entry.get("key")), str(entry.get("rule"))),
            "type": "ledger",
            "shop": shop,
            **{name: value for name, value in entry.items() if name != "key"},
        }
        for entry in entries
        if isinstance(entry, Mapping)
    ]


class HazardStep(Part):
    """One change of a hazard's status: who changed it (a user id, or "server" when a deadline passed), when, and
    the event that did (null for a passed deadline)."""

    status: Literal["open", "rectified", "closed", "overdue"]
    at: Timestamp
    by: StrictStr = Field(min_length=1, max_length=100)
    event: EventId | None = None


class Hazard(ShopProjection):
    """`{shop}:hazard:{event ulid}-{item or finding id}`: one hazard from a self-check answer or a patrol finding,
    followed until verified. Status: open → rectified (owner reported a fix) → closed (verified), or overdue."""

    type: Literal["hazard"]
    status: Literal["open", "rectified", "closed", "overdue"]
    source: EventId  # the self-check or patrol that found it
    # The alarm the source's submission raised, null when it raised none: what a phone concludes from when the hazard
    # comes before the alarm. A hazard stored before the server wrote it (an older release) has none at all.
    alarm: AlarmId | None = None
    item: ItemId
    finding: StrictStr | None = None  # the patrol finding id; null for a self-check answer
    severity: Severity
    self_reported: StrictBool
    found_at: Timestamp
    deadline: Day
    cost: Count  # points taken for it (after halving for self-reports, before refunds)
    note: Note = ""
    photos: tuple[PhotoId, ...] = ()
    rectifications: tuple[RectificationId, ...] = ()
    verification: EventId | None = None  # the verification that passed
    closed_at: Timestamp | None = None
    updated_at: Timestamp
    history: tuple[HazardStep, ...] = ()  # from the source's "open" on, every status change
    # The ids of later findings merged into this hazard (found again while it was unresolved): a rectification or
    # verification naming one of them is this hazard's. Absent when there are none.
    aliases: tuple[HazardId, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        doc = super().to_doc()
        if not doc["aliases"]:
            del doc["aliases"]  # as the validators write it: every hazard without merged findings stays as it was
        return doc

    @model_validator(mode="after")
    def _check_hazard(self) -> Self:
        self.check_shop_id(rf"hazard:{ULID}-{KEY}", "hazard:{event ulid}-{item or finding id}")
        source_shop, source_type, source_ulid = split_id(self.source)
        if source_shop != self.shop or source_type not in ("self_check", "patrol"):
            raise refuse("source must be a self-check or patrol of the same shop")
        expected = f"{self.shop}:hazard:{source_ulid}-{self.finding or self.item}"
        if self.id != expected:
            raise refuse(f"_id must be {expected}")
        if self.alarm is not None and split_id(self.alarm)[0] != self.shop:
            raise refuse("alarm must be an alarm of the same shop")
        if self.self_reported != (source_type == "self_check"):
            raise refuse("self_reported must be true exactly when the source is a self-check")
        if (self.status == "closed") != (self.closed_at is not None):
            raise refuse("closed_at is set exactly when the status is closed")
        if self.history and self.history[-1].status != self.status:
            raise refuse("status must be the status of the last history step")
        return self


class AlarmItem(Part):
    item: ItemId
    severity: Severity
    hazard: HazardId
    photos: tuple[PhotoId, ...] = ()


class AlarmStep(Part):
    status: Literal["open", "acknowledged", "dispatched", "resolved"]
    at: Timestamp
    by: StrictStr = Field(min_length=1, max_length=100)  # a user id, or "server" for the opening step
    department: Department | None = None
    note: Note = ""


class Alarm(ShopProjection):
    """`{shop}:alarm:{source ulid}`: raised at once when one submission's costs reach the threshold or a serious
    item is found; names shop, address, items, photos and the grid worker. Every step is kept in `history`."""

    type: Literal["alarm"]
    status: Literal["open", "acknowledged", "dispatched", "resolved"]
    source: EventId
    shop_name: Text | None = None  # null only while the shop is missing from the registry
    address: Text | None = None
    grid: Code | None = None
    grid_worker: UserId | None = None
    items: tuple[AlarmItem, ...] = Field(min_length=1)
    cost: Count  # the submission's total deductions
    department: Department | None = None
    created_at: Timestamp
    history: tuple[AlarmStep, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_alarm(self) -> Self:
        self.check_shop_id(rf"alarm:{ULID}", "alarm:{source ulid}")
        if split_id(self.source)[0] != self.shop or split_id(self.source)[2] != self.key:
            raise refuse("source must be the event of this shop whose ulid the alarm id carries")
        if self.history[-1].status != self.status:
            raise refuse("status must be the status of the last history step")
        if self.status == "dispatched" and self.department is None:
            raise refuse("a dispatched alarm names its department")
        return self


class RankEntry(Part):
    shop: ShopCode
    points: Int
    rank: PositiveInt
    open_hazards: Count
    list_: ListName | None = Field(default=None, alias="list")


class Ranking(Doc):
    """`office:ranking:{subdistrict}:{YYYY-MM}`: the monthly snapshot of a sub-district's active shops, by score
    (ties: fewer open hazards, then shop code), with its red and black lists."""

    type: Literal["ranking"]
    subdistrict: Code
    month: Month
    as_of: Day
    rules_version: Version
    entries: tuple[RankEntry, ...]
    working_group: tuple[ShopCode, ...] = ()  # black-listed in 3 of the last 6 finished months' snapshots

    @model_validator(mode="after")
    def _check_ranking(self) -> Self:
        self.check_id(rf"office:ranking:{KEY}:\d{{4}}-\d{{2}}", "office:ranking:{subdistrict}:{YYYY-MM}")
        if self.id != f"office:ranking:{self.subdistrict}:{self.month}":
            raise refuse(f"_id must be office:ranking:{self.subdistrict}:{self.month}")
        if len({entry.shop for entry in self.entries}) != len(self.entries):
            raise refuse("entries: a shop appears twice")
        return self

    def listed(self, name: ListName) -> list[str]:
        return [entry.shop for entry in self.entries if entry.list_ == name]


RequestId = Annotated[StrictStr, matching(KEY, "a request id of letters, digits, _ and - (at most 64)")]
REDEMPTION_DIGITS: Final = 6


def redemption_id(shop: str, number: int) -> str:
    """`{shop}:redemption:000001`: numbered per shop, so two offices redeeming at once collide on the id and the
    store's conflict check, not a lock, keeps a balance from being spent twice."""
    return f"{shop}:redemption:{number:0{REDEMPTION_DIGITS}d}"


class Redemption(ShopProjection):
    """`{shop}:redemption:{number}`: reward points the office exchanged for a prize (积分兑换), recorded with who
    and when. An event written by the server only (never through /sync/); `Rewards` folds it into the balance."""

    type: Literal["redemption"]
    number: PositiveInt
    points: PositiveInt
    prize: Text
    note: Note = ""
    request_id: RequestId | None = None  # the office client's id for the request: a retry finds it instead
    performed_at: Timestamp  # the server's clock when it was recorded
    created_by: UserId | Literal["admin"]  # the office user who recorded it, or the operator (`mashang admin-token`)

    @model_validator(mode="after")
    def _check_redemption(self) -> Self:
        self.check_shop_id(r"redemption:\d{6,9}", "redemption:{six-digit number}")
        if self.id != redemption_id(self.shop, self.number):
            raise refuse(f"_id must be {redemption_id(self.shop, self.number)}")
        return self


class Receipt(ShopProjection):
    """`{shop}:receipt:{ulid}`: when the gateway received a device's self-checks and rectifications (SPEC: a week's
    self-check counts when *received* within its grace period; a phone's `performed_at` alone could be set back to
    fill a missed week, or to date a late fix "in time", long after). Written by the server in the same
    `_bulk_docs` as the events it names, one per shop and request (and moment); never through /sync/ by a device.
    Receipts written before rectifications had them name self-checks only. An event that arrived twice keeps its
    first receipt.
    A check sent again after a restore of the store (which lost its first receipt) is received at the earliest
    moment it could first have come (server/backup.py `first_arrival`); the id's ULID says when it came."""

    type: Literal["receipt"]
    events: tuple[SelfCheckId | RectificationId, ...] = Field(min_length=1, max_length=10_000)
    received_at: Timestamp

    @model_validator(mode="after")
    def _check_receipt(self) -> Self:
        self.check_shop_id(rf"receipt:{ULID}", "receipt:{ulid}")
        return self


class Rewards(ShopProjection):
    """`{shop}:rewards`: the shop's reward points (积分), which it can exchange for prizes. Earned by its safety work
    over every year (the ledger's `self_check` and `patrol_clean` entries: deductions cost the safety score and the
    rank, not prizes already earned), less what the office redeemed. Redeeming never touches the score or rank."""

    type: Literal["rewards"]
    earned: Count
    earned_by_rule: dict[LedgerRule, Count] = Field(default_factory=dict)
    redeemed: Count
    redemptions: Count  # how many
    balance: Int  # negative only when new rules took back earnings already spent
    rules_version: Version
    updated_at: Timestamp | None = None  # the latest earning or redemption; null while there is none

    @model_validator(mode="after")
    def _check_rewards(self) -> Self:
        self.check_shop_id("rewards", "rewards")
        if self.balance != self.earned - self.redeemed:
            raise refuse("balance must be earned - redeemed")
        return self


class Figures(Part):
    """Counts for one scope and period; rates are derived so they can never disagree with the counts."""

    active_shops: Count
    self_checks: Count
    self_checked_shops: Count
    patrols: Count
    patrolled_shops: Count
    hazards_found: Count
    hazards_rectified: Count  # of those found in the period, verified rectified
    open_alarms: Count
    overdue_hazards: Count
    hazards_due: Count = 0  # hazards whose deadline falls in the period (up to its as-of day)
    hazards_rectified_in_time: Count = 0  # of those, closed without ever having been overdue

    @property
    def self_check_coverage(self) -> float | None:
        return self.self_checked_shops / self.active_shops if self.active_shops else None

    @property
    def patrol_rate(self) -> float | None:
        return self.patrolled_shops / self.active_shops if self.active_shops else None

    @property
    def rectification_rate(self) -> float | None:
        return self.hazards_rectified / self.hazards_found if self.hazards_found else None


class Stats(Doc):
    """`office:stats:{subdistrict}:{period}`: dashboard figures for a year, month, ISO week or quarter, in total
    and by community and grid. The same period last year is simply another stats document."""

    type: Literal["stats"]
    subdistrict: Code
    period: Period
    as_of: Day
    figures: Figures
    by_community: dict[Code, Figures] = Field(default_factory=dict)
    by_grid: dict[Code, Figures] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_stats(self) -> Self:
        if self.id != f"office:stats:{self.subdistrict}:{self.period}":
            raise refuse(f"_id must be office:stats:{self.subdistrict}:{self.period}")
        return self
