"""One hazard followed from the check that found it to the verification that closes it.

Status: open → rectified (the owner reported a fix) → closed (a grid worker verified it); a failed verification
sends it back to open, and an open hazard whose deadline has passed is overdue. Every change is a history step
with who and when, taken from the events; a passed deadline is the server's step at 00:00 the day after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic_core import to_jsonable_python

from server.models.common import Severity
from server.models.events import Rectification, Verification
from server.models.rules import Rules
from server.validators import rules as R


def as_json(doc: dict[str, Any]) -> dict[str, Any]:
    """A projection built field by field in its model's order, as `Model.to_doc()` writes it (pydantic's own JSON
    encoding of times, dates and tuples), without validating it again."""
    encoded: dict[str, Any] = to_jsonable_python(doc)
    return encoded


Status = Literal["open", "rectified", "closed", "overdue"]
FollowUp = Rectification | Verification
SERVER = "server"


@dataclass(frozen=True)
class Step:
    status: Status
    at: datetime
    by: str
    event: str | None


@dataclass
class HazardState:
    """What the events say about one hazard so far; `apply` takes its rectifications and verifications in order."""

    id: str
    source: str
    item: str
    finding: str | None
    severity: Severity
    self_reported: bool
    found_at: datetime
    found_by: str
    deadline: date
    cost: int
    note: str
    photos: tuple[str, ...]
    overdue_from: datetime  # 00:00 of the day after the deadline
    status: Status = "open"
    history: list[Step] = field(default_factory=list)
    rectifications: dict[str, datetime] = field(default_factory=dict)  # id -> when its fix was made (credited)
    # The ids later findings of this hazard's item would have had, had it not been unresolved then (the projection's
    # aliases): a phone may have shown one of them, and fixed or verified it, before the server merged the two.
    aliases: list[str] = field(default_factory=list)
    pending: Rectification | None = None
    verification: Verification | None = None
    fixed_at: datetime | None = None

    def __post_init__(self) -> None:
        self.history.append(Step("open", self.found_at, self.found_by, self.source))

    @property
    def key(self) -> str:
        return self.id.split(":", 2)[2]

    @property
    def unresolved(self) -> bool:
        return self.status != "closed"

    def apply(self, event: FollowUp, at: datetime | None = None) -> None:
        """One rectification or verification naming this hazard, taken at `at` (by default its `performed_at`;
        a rectification's credited moment, `rules.credited`); a closed hazard stays closed."""
        if self.status == "closed":
            return
        moment = event.performed_at if at is None else at
        self._pass_deadline(moment)
        if isinstance(event, Rectification):
            self.rectifications[event.id] = moment
            self.pending = event
            self._step("rectified", event, moment)
        elif event.passed:
            self.verification = event
            self.fixed_at = self._fixed_at(event)
            self.pending = None
            self._step("closed", event)
        else:
            self.pending = None
            self._step("overdue" if event.performed_at >= self.overdue_from else "open", event)

    def finish(self, as_of: date, rules: Rules) -> None:
        """The deadline passing by `as_of` with nothing pending makes an open hazard overdue."""
        if R.midnight(as_of, rules) >= self.overdue_from:
            self._pass_deadline(self.overdue_from)

    def delay_end(self, as_of: date, rules: Rules) -> date:
        """The day the clock of delay stops: the accepted fix, the fix awaiting verification, or `as_of`."""
        if self.fixed_at is not None:
            return R.day_of(self.fixed_at, rules)
        if self.pending is not None:
            return R.day_of(self.rectifications[self.pending.id], rules)
        return as_of

    def to_doc(self, shop: str, rules: Rules, alarm: str | None) -> dict[str, Any]:
        """The hazard's document; `alarm`: the id of the alarm its source's submission raised, None when it raised
        none (the projection's `alarms`), said on every hazard: the phones conclude from it, not from which of the
        two reached them first (a `_bulk_docs` batch reaches a CouchDB cluster's changes feed in no promised order)."""
        steps = [{"status": s.status, "at": R.local(s.at, rules), "by": s.by, "event": s.event} for s in self.history]
        closed_at = self.verification.performed_at if self.status == "closed" and self.verification else None
        doc = {
            "_id": self.id,
            "type": "hazard",
            "schema": 1,
            "shop": shop,
            "status": self.status,
            "source": self.source,
            "alarm": alarm,
            "item": self.item,
            "finding": self.finding,
            "severity": self.severity,
            "self_reported": self.self_reported,
            "found_at": R.local(self.found_at, rules),
            "deadline": self.deadline,
            "cost": self.cost,
            "note": self.note,
            "photos": self.photos,
            "rectifications": tuple(self.rectifications),
            "verification": self.verification.id if self.verification else None,
            "closed_at": R.local(closed_at, rules) if closed_at else None,
            "updated_at": R.local(self.updated_at, rules),
            "history": steps,
        }
        if self.aliases:  # only on a hazard that has some: every other hazard's document stays as it was
            doc["aliases"] = tuple(self.aliases)
        return as_json(doc)

    @property
    def updated_at(self) -> datetime:
        return max(step.at for step in self.history)

    def _fixed_at(self, verification: Verification) -> datetime:
        # The verifier confirms a fix made when it was reported (its credited moment): the rectification it names,
        # else the one awaiting verification, else (fixed on the spot) the verification itself.
        named = verification.rectification
        if named is not None and named in self.rectifications:
            return self.rectifications[named]
        if self.pending is not None:
            return self.rectifications[self.pending.id]
        return verification.performed_at

    def _pass_deadline(self, moment: datetime) -> None:
        if self.status == "open" and moment >= self.overdue_from:
            self.status = "overdue"
            self.history.append(Step("overdue", self.overdue_from, SERVER, None))

    def _step(self, status: Status, event: FollowUp, at: datetime | None = None) -> None:
        self.status = status
        self.history.append(Step(status, event.performed_at if at is None else at, event.created_by, event.id))
