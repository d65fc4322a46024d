"""Months of one shop's past, as the events its owner's and grid worker's phones would have sent.

A small simulation per shop, in time order: hazards appear (an extinguisher expires, an e-bike is charged inside,
goods block the escape route) and go; the owner self-checks weekly and declares some of them; the grid worker
patrols monthly, verifies the owner's checks and records what they find, with deadlines per severity; owners
rectify with a photo, on time or late or never, and the grid worker verifies. Every draw comes from the shop's
own `random.Random`, so a seed gives the same history whatever else changes.
"""

from __future__ import annotations

import base64
import heapq
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final

from server.demo import notes
from server.demo.district import PlannedShop, Staff
from server.demo.jpeg import tiny_jpeg
from server.ids import seeded_ulid
from server.models import SEVERITIES, Answer, Rules, Severity, Template, hazard_items
from server.models.templates import Equals, TemplateItem

TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
# The template wants a photo of two items (extinguisher label, gas) on every check. Checks this recent carry a new
# one; older ones show the shop's latest earlier photo, which keeps a demo store to a few thousand photos.
FRESH_PHOTO_DAYS: Final = 7
FOUND_SHARE: Final = 0.92  # of the hazards present, the share a patrol finds
# The platform took a year to settle in: twelve months before the history's end, grid workers made this share of
# the patrols they make now, found this share of what they find now, and owners self-checked this much less; it
# grows to the full rate four months before the end. So this month against the same month last year shows what the
# seed report says: patrol rate about +50 %, hazards found about +40 %.
RAMP_FLOOR: Final = 0.55
RAMP_MONTHS: Final = (4, 12)
REPEAT_HAZARDS: Final = 3.0  # a repeat offender's hazards come this many times as often
OWNER_HOURS: Final = (time(7, 0), time(22, 0))
WORKER_HOURS: Final = (time(8, 30), time(17, 30))

Value = bool | int


@dataclass(frozen=True)
class Authored:
    """An event and who sent it: the principal the validation path checks it against."""

    user_id: str
    role: str
    at: datetime
    doc: dict[str, Any]


@dataclass(eq=False)
class Issue:
    """A hazard the shop really has, over one or more template items (“三合一” comes with people sleeping in)."""

    values: dict[str, Value]
    since: datetime
    lasts: timedelta | None  # goes away by itself after this long unless someone acts on it
    handled: bool = False  # a declared or recorded hazard someone is acting on: no second report, no new finding


@dataclass
class Outcome:
    """The hazard documents a rectification or verification answers: the issue and the hazard ids."""

    issue: Issue | None
    hazards: list[str]
    rectifications: list[str | None] = field(default_factory=list)
    attempt: int = 1
    passed: bool = True  # what the grid worker will find when verifying
    on_the_spot: bool = False  # fixed while the grid worker was still there
    due: datetime | None = None  # the evening of the deadline day


class ShopHistory:
    def __init__(
        self,
        seed: int,
        shop: PlannedShop,
        worker: Staff,
        template: Template,
        rules: Rules,
        start: datetime,
        end: datetime,
    ) -> None:
        self.rng = random.Random(f"mashang-demo:{seed}:history:{shop.code}")
        self.shop, self.worker, self.template, self.rules = shop, worker, template, rules
        self.start, self.end = start, end
        self.events: list[Authored] = []
        self.active: list[Issue] = []
        self.unverified: list[str] = []  # self-checks since the last patrol
        self.latest_photo: str | None = None
        self._queue: list[tuple[datetime, int, str, Any]] = []
        self._order = 0
        self._safe = {item.id: _safe_value(item) for item in template.items}
        self._photo_items = [item.id for item in template.items if item.photo_required]

    # ----- the simulation -----

    def run(self) -> list[Authored]:
        for at in self._self_check_times():
            self._at(at, "self_check", None)
        for at in self._patrol_times():
            self._at(at, "patrol", None)
        for issue in self._issues():
            self._at(max(issue.since, self.start), "appear", issue)
        while self._queue:
            at, _, kind, payload = heapq.heappop(self._queue)
            if at >= self.end:
                break
            getattr(self, f"_{kind}")(at, payload)
        return self.events

    def _at(self, at: datetime, kind: str, payload: Any) -> None:
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, kind, payload))

    def _appear(self, at: datetime, issue: Issue) -> None:
        if any(not issue.values.keys().isdisjoint(other.values) for other in self.active):
            return
        self.active.append(issue)
        if issue.lasts is not None:
            self._at(at + issue.lasts, "vanish", issue)

    def _vanish(self, at: datetime, issue: Issue) -> None:
        if issue in self.active and not issue.handled:
            self.active.remove(issue)

    def _fix(self, issue: Issue | None) -> None:
        if issue is not None and issue in self.active:
            self.active.remove(issue)

    # ----- the owner's weekly self-check -----

    def _self_check(self, at: datetime, _: None) -> None:
        owner = self.shop.owner
        # What was declared before is being dealt with: declaring it again would only open a second hazard.
        declared = [issue for issue in self.active if not issue.handled and self.rng.random() < owner.honesty]
        ulid = self._ulid(at)
        doc_id = f"{self.shop.code}:self_check:{ulid}"
        answers = self._answers(at, declared, self._owner_id, owner.device or "")
        self._emit(
            self._owner_id,
            "owner",
            at,
            self._event(
                "self_check",
                doc_id,
                at,
                self._owner_id,
                owner.device,
                template=self.template.template_id,
                template_version=self.template.version,
                answers=answers,
            ),
        )
        self.unverified.append(doc_id)
        for issue in declared:
            issue.handled = True
            if self.rng.random() < 0.97:  # declared, so they mean to fix it
                hazards = [f"{self.shop.code}:hazard:{ulid}-{item}" for item in issue.values]
                due = self._due(at, self._worst(issue))
                on_time = self.rng.random() < (0.5 if self.shop.owner.repeat_offender else 0.97)
                when = at + (due - at) * self.rng.uniform(0.1, 0.8) if on_time else due + self._hours(14, 200)
                self._at(self._owner_time(when), "rectify", Outcome(issue, hazards, due=due))

    # ----- the grid worker's monthly patrol -----

    def _patrol(self, at: datetime, _: None) -> None:
        share = FOUND_SHARE * (0.8 + 0.2 * self._ramp(at))
        found = [issue for issue in self.active if not issue.handled and self.rng.random() < share]
        seen = [issue for issue in self.active if issue.handled or issue in found]
        ulid = self._ulid(at)
        doc_id = f"{self.shop.code}:patrol:{ulid}"
        answers = self._answers(at, seen, self.worker.user_id, self.worker.device)
        hazardous = {
            item: Answer.model_validate({"value": value}) for issue in found for item, value in issue.values.items()
        }
        severity = dict(hazard_items(self.template, hazardous))
        findings: list[dict[str, Any]] = []
        outcomes: list[tuple[Outcome, date, bool]] = []
        for issue in found:
            issue.handled = True
            hazards = []
            for item in issue.values:
                hazards.append(self._finding(findings, at, ulid, item, severity[item]))
            worst = max((severity[item] for item in issue.values), key=SEVERITIES.index)
            outcomes.append((Outcome(issue, hazards), self._deadline(at, worst), "three_in_one" in issue.values))
        if self.rng.random() < 0.02:  # something no checklist item covers
            hazard = self._finding(findings, at, ulid, "other", "general")
            outcomes.append((Outcome(None, [hazard]), self._deadline(at, "general"), False))
        doc = self._event(
            "patrol",
            doc_id,
            at,
            self.worker.user_id,
            self.worker.device,
            template=self.template.template_id,
            template_version=self.template.version,
            verified_self_checks=self.unverified[-100:],
            answers=answers,
            findings=findings,
        )
        self._emit(self.worker.user_id, "grid", at, doc)
        self.unverified = []
        for outcome, deadline, stubborn in outcomes:
            self._respond(at, outcome, deadline, stubborn)

    def _finding(self, findings: list[dict[str, Any]], at: datetime, ulid: str, item: str, severity: Severity) -> str:
        finding_id = f"f{len(findings) + 1}"
        photo = self._photo(at - self._minutes(1, 4), self.worker.user_id, self.worker.device)
        note = self.rng.choice(notes.FINDINGS.get(item, notes.FINDINGS["other"]))
        findings.append(
            {
                "id": finding_id,
                "item": item,
                "severity": severity,
                "note": note,
                "photos": [photo],
                "deadline": self._deadline(at, severity).isoformat(),
            }
        )
        return f"{self.shop.code}:hazard:{ulid}-{finding_id}"

    def _deadline(self, at: datetime, severity: Severity) -> date:
        return at.date() + timedelta(days=self.rules.deadline_days.of(severity))

    def _due(self, at: datetime, severity: Severity) -> datetime:
        return datetime.combine(self._deadline(at, severity), time(20, 0), TZ)

    def _worst(self, issue: Issue) -> Severity:
        hazardous = {item: Answer.model_validate({"value": value}) for item, value in issue.values.items()}
        return max((severity for _, severity in hazard_items(self.template, hazardous)), key=SEVERITIES.index)

    def _respond(self, at: datetime, outcome: Outcome, deadline: date, stubborn: bool) -> None:
        """What follows a finding: fixed on the spot, rectified on time, late, or not at all."""
        items = outcome.issue.values if outcome.issue else {}
        if items.keys() & {"ebike_indoor_charging", "escape_route"} and self.rng.random() < 0.2:
            self._fix(outcome.issue)
            outcome.rectifications, outcome.on_the_spot = [None] * len(outcome.hazards), True
            self._at(at + self._minutes(10, 30), "verify", outcome)
            return
        due = datetime.combine(deadline, time(20, 0), TZ)
        outcome.due = due
        on_time, late = (0.55, 0.35) if stubborn or self.shop.owner.repeat_offender else (0.96, 0.03)
        u = self.rng.random()
        if u < on_time:
            when = at + (due - at) * self.rng.uniform(0.1, 0.95)
        elif u < on_time + late:
            when = due + timedelta(days=self.rng.uniform(1, 20))
        else:
            return  # stays open: overdue
        if not self.shop.owner.activated:  # no account: fixed, and the grid worker comes back to see it
            self._at(when, "fixed_unreported", outcome)
            return
        self._at(self._owner_time(when), "rectify", outcome)

    def _fixed_unreported(self, at: datetime, outcome: Outcome) -> None:
        self._fix(outcome.issue)
        outcome.rectifications = [None] * len(outcome.hazards)
        later = at + self._hours(12, 96)
        if outcome.due is not None and at < outcome.due < later:  # they come back before the deadline
            later = at + (outcome.due - at) * self.rng.uniform(0.3, 0.9)
        self._at(self._worker_time(later), "verify", outcome)

    # ----- rectifications and verifications -----

    def _rectify(self, at: datetime, outcome: Outcome) -> None:
        owner_id, device = self._owner_id, self.shop.owner.device
        items = list(outcome.issue.values) if outcome.issue else ["other"]
        outcome.rectifications = []
        for hazard, item in zip(outcome.hazards, items, strict=True):
            photos = [self._photo(at - self._minutes(1, 10), owner_id, device or "")] if self.rng.random() < 0.7 else []
            rect_id = f"{self.shop.code}:rectification:{self._ulid(at)}"
            note = self.rng.choice(notes.RECTIFICATIONS.get(item, notes.RECTIFICATIONS["other"]))
            self._emit(
                owner_id,
                "owner",
                at,
                self._event("rectification", rect_id, at, owner_id, device, hazard=hazard, note=note, photos=photos),
            )
            outcome.rectifications.append(rect_id)
        outcome.passed = outcome.attempt > 1 or self.rng.random() >= 0.03  # a poor job now and then
        if outcome.passed:
            self._fix(outcome.issue)
        self._at(self._worker_time(at + self._hours(2, 96)), "verify", outcome)

    def _verify(self, at: datetime, outcome: Outcome) -> None:
        texts = notes.VERIFIED if outcome.passed else notes.NOT_VERIFIED
        if outcome.on_the_spot:
            texts = notes.ON_THE_SPOT
        for hazard, rect_id in zip(outcome.hazards, outcome.rectifications, strict=True):
            ver_id = f"{self.shop.code}:verification:{self._ulid(at)}"
            self._emit(
                self.worker.user_id,
                "grid",
                at,
                self._event(
                    "verification",
                    ver_id,
                    at,
                    self.worker.user_id,
                    self.worker.device,
                    hazard=hazard,
                    rectification=rect_id,
                    passed=outcome.passed,
                    note=self.rng.choice(texts),
                ),
            )
        if not outcome.passed:
            retry = Outcome(outcome.issue, outcome.hazards, attempt=outcome.attempt + 1)
            self._at(self._owner_time(at + self._hours(24, 72)), "rectify", retry)

    # ----- documents -----

    @property
    def _owner_id(self) -> str:
        return f"owner:{self.shop.code}"

    def _answers(self, at: datetime, shown: list[Issue], author: str, device: str) -> dict[str, Any]:
        """Every item of the template: the hazardous value for the issues `shown`, the safe one otherwise."""
        hazardous = {item: value for issue in shown for item, value in issue.values.items()}
        answers: dict[str, Any] = {item: {"value": hazardous.get(item, safe)} for item, safe in self._safe.items()}
        if "extinguisher_present" in hazardous:
            # No extinguisher, so none within its date: the app has every item answered, and so is this one.
            answers["extinguisher_valid"] = {"value": False}
        needs_photo = [item for item in self._photo_items if item in answers]
        if needs_photo:
            # One picture of the extinguisher's label and the gas corner; older checks show the latest earlier one.
            fresh = self.latest_photo is None or at >= self.end - timedelta(days=FRESH_PHOTO_DAYS)
            photo = self._photo(at - self._minutes(1, 6), author, device) if fresh else self.latest_photo
            for item in needs_photo:
                answers[item]["photos"] = [photo]
        for item in hazardous:
            if item in answers and self.rng.random() < 0.5:
                answers[item]["note"] = self.rng.choice(notes.FINDINGS.get(item, notes.FINDINGS["other"]))
        return answers

    def _photo(self, at: datetime, author: str, device: str) -> str:
        photo_id = f"{self.shop.code}:photo:{self._ulid(at)}"
        base = self.rng.randrange(60, 200)
        levels = [[max(0, min(255, base + self.rng.randrange(-50, 50))) for _ in range(4)] for _ in range(3)]
        body = tiny_jpeg(levels, f"码上安全 demo {photo_id}")
        lat, lon = self.shop.gps
        doc = self._event(
            "photo",
            photo_id,
            at,
            author,
            device,
            taken_at=_iso(at),
            gps={
                "lat": round(lat + self.rng.uniform(-2e-4, 2e-4), 6),
                "lon": round(lon + self.rng.uniform(-2e-4, 2e-4), 6),
                "accuracy": float(self.rng.randrange(5, 40)),
            },
            _attachments={"photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(body).decode("ascii")}},
        )
        self._emit(author, author.split(":", 1)[0], at, doc)
        self.latest_photo = photo_id
        return photo_id

    def _event(
        self, kind: str, doc_id: str, at: datetime, author: str, device: str | None, **fields: Any
    ) -> dict[str, Any]:
        return {
            "_id": doc_id,
            "type": kind,
            "schema": 1,
            "shop": self.shop.code,
            "performed_at": _iso(at),
            "created_by": author,
            "device": device or "",
            **fields,
        }

    def _emit(self, user_id: str, role: str, at: datetime, doc: dict[str, Any]) -> None:
        self.events.append(Authored(user_id, role, at, doc))

    def _ulid(self, at: datetime) -> str:
        return seeded_ulid(int(at.timestamp() * 1000), self.rng)

    # ----- when things happen -----

    def _self_check_times(self) -> list[datetime]:
        weekly = self.shop.owner.weekly
        if weekly <= 0:
            return []
        out = []
        monday = self.start.date() - timedelta(days=self.start.weekday())
        while monday < self.end.date():
            if self.rng.random() < weekly * (0.75 + 0.25 * self._ramp(_local(monday, 12))):
                day = monday + timedelta(days=self.rng.choices(range(7), weights=(3, 3, 3, 3, 2, 2, 2))[0])
                at = _local(day, self.rng.uniform(8, 21.5))
                if self.start <= at < self.end:
                    out.append(at)
            monday += timedelta(days=7)
        return out

    def _patrol_times(self) -> list[datetime]:
        out = []
        month = self.start.date().replace(day=1)
        while month < self.end.date():
            following = (month + timedelta(days=32)).replace(day=1)
            if self.rng.random() < self.worker.diligence * self._ramp(_local(month, 12)):
                day = month + timedelta(days=self.rng.randrange((following - month).days))
                if day.weekday() == 6:  # Sundays off
                    day -= timedelta(days=1)
                at = _local(day, self.rng.uniform(9, 17))
                if self.start <= at < self.end:
                    out.append(at)
            month = following
        return out

    def _ramp(self, at: datetime) -> float:
        """How settled in the platform was `at`: RAMP_FLOOR a year before the end, 1 in the last four months."""
        months = (self.end.year - at.year) * 12 + self.end.month - at.month
        low, high = RAMP_MONTHS
        return 1.0 - (1.0 - RAMP_FLOOR) * min(1.0, max(0.0, (months - low) / (high - low)))

    def _issues(self) -> list[Issue]:
        """The hazards this shop will have, drawn up front; whether they last depends on what people do."""
        rng, shop, start, end = self.rng, self.shop, self.start, self.end
        issues: list[Issue] = []

        def some_day() -> datetime:  # lasting hazards start at any time (a new tenant, a removed device), so the
            return start + (end - start) * rng.random()  # first month holds no backlog that would skew last year

        if shop.category in ("food", "retail", "ebike_repair", "recreation") and rng.random() < 0.035:
            issues.append(Issue({"three_in_one": True, "sleeping_people": rng.randint(1, 3)}, some_day(), None))
        elif rng.random() < 0.03:
            issues.append(Issue({"sleeping_people": rng.randint(1, 2)}, some_day(), None))
        for item, share in (("rcd_installed", 0.02), ("extinguisher_present", 0.02)):
            if rng.random() < share:
                issues.append(Issue({item: False}, some_day(), None))
        expiry = start + timedelta(days=rng.uniform(0, 600))
        if expiry < end:
            issues.append(Issue({"extinguisher_valid": False}, expiry, None))
        weeks = (end - start).days / 7
        ebike_rate = 0.05 if shop.category == "ebike_repair" else 0.012
        often = REPEAT_HAZARDS if shop.owner.repeat_offender else 1.0
        if shop.owner.repeat_offender:  # the extinguisher is let expire again and again
            for _ in range(_poisson(rng, weeks / 20)):
                issues.append(Issue({"extinguisher_valid": False}, start + (end - start) * rng.random(), None))
        for item, value, rate, days in (
            ("escape_route", False, 0.012, (1, 10)),
            ("ebike_indoor_charging", True, ebike_rate, (3, 40)),
            ("open_flame", True, 0.002, (2, 20)),
            ("wiring_ok", False, 0.005, None),
            ("gas_safe", False, 0.006 if shop.uses_gas else 0.0, None),
        ):
            for _ in range(_poisson(rng, rate * often * weeks)):
                since = start + (end - start) * rng.random()
                lasts = timedelta(days=rng.uniform(*days)) if days else None
                issues.append(Issue({item: value}, since, lasts))
        return issues

    def _owner_time(self, at: datetime) -> datetime:
        return _within(at, *OWNER_HOURS, self.rng, sundays=True)

    def _worker_time(self, at: datetime) -> datetime:
        return _within(at, *WORKER_HOURS, self.rng, sundays=False)

    def _hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def _minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))


def _safe_value(item: TemplateItem) -> Value:
    """An answer the item does not count as a hazard."""
    if isinstance(item.hazard_when, Equals):
        return not item.hazard_when.equals
    return item.hazard_when.gt


def _local(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0, 0), TZ) + timedelta(seconds=int(hour * 3600))


def _within(at: datetime, opens: time, closes: time, rng: random.Random, sundays: bool) -> datetime:
    """`at`, or the next opening time (plus a little) when `at` is outside the hours."""
    at = at.astimezone(TZ).replace(microsecond=0)
    if opens <= at.timetz().replace(tzinfo=None) < closes and (sundays or at.weekday() != 6):
        return at
    day = at.date() if at.timetz().replace(tzinfo=None) < opens else at.date() + timedelta(days=1)
    if not sundays and day.weekday() == 6:
        day += timedelta(days=1)
    return datetime.combine(day, opens, TZ) + timedelta(minutes=rng.randrange(0, 120))


def _iso(at: datetime) -> str:
    return at.astimezone(TZ).isoformat(timespec="seconds")


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count
