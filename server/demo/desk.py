"""The office's year at the alarm desk, for the demo: the history's alarms, worked the way 安监所 works them.

The validators raise the alarms from the history's events (`rebuild`); then every alarm raised more than
`KEEP_OPEN_DAYS` before the demo's last day is acknowledged, dispatched to the department its items call for and
resolved, by an office user, minutes to days after it was raised, through the same `Alarms.transition` the desk's
buttons use. The recent ones stay open, so the live desk has work on it. Draws come from the seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Final

from server.alarms import Alarms
from server.demo.district import District
from server.store.protocol import Doc, Store
from server.store.reads import docs_with_prefix
from server.validators.rebuild import Rebuilt, rebuild

KEEP_OPEN_DAYS: Final = 3
GAS_ITEMS: Final = frozenset({"gas_safe"})
FIRE_ITEMS: Final = frozenset(
    {"open_flame", "three_in_one", "ebike_indoor_charging", "extinguisher_present", "escape_route", "sleeping_people"}
)
NOTES: Final = {
    "acknowledged": ("已收到，马上核实", "已电话联系网格员核实情况", "收到，已安排处置"),
    "dispatched": ("已通知相关部门到场处置", "已移交，请尽快上门检查", "请联合执法，限期整改"),
    "resolved": ("现场已整改，复查合格", "隐患已消除，结案", "已约谈店主，整改到位"),
}


def department_for(items: list[str]) -> str:
    """Gas hazards go to the gas company's inspectors, fire hazards to the fire brigade, the rest to market
    supervision."""
    if GAS_ITEMS & set(items):
        return "gas"
    if FIRE_ITEMS & set(items):
        return "fire"
    return "market"


async def work_the_desk(store: Store, district: District, seed: int, last_day: date, end: datetime) -> Rebuilt:
    """Project the history (alarms included), then work every alarm older than `KEEP_OPEN_DAYS`."""
    rebuilt = await rebuild(store, clock=lambda: end)
    moment = end
    # The desk's own steps, without its live index (nothing here listens to a stream).
    alarms = Alarms(store, clock=lambda: moment)
    rng = random.Random(f"desk-{seed}")
    staff = [f"office:{person.username}" for person in district.office]
    cutoff = last_day - timedelta(days=KEEP_OPEN_DAYS)
    for alarm in await _open_alarms(store, district):
        raised = datetime.fromisoformat(alarm["created_at"])
        if raised.date() > cutoff:
            continue
        by = rng.choice(staff)
        department = department_for([item["item"] for item in alarm["items"]])
        moment = raised + timedelta(minutes=rng.randint(3, 40))
        await alarms.transition(alarm["_id"], "acknowledged", by, rng.choice(NOTES["acknowledged"]))
        moment += timedelta(minutes=rng.randint(10, 120))
        await alarms.transition(alarm["_id"], "dispatched", by, rng.choice(NOTES["dispatched"]), department)
        moment += timedelta(hours=rng.randint(4, 60))
        await alarms.transition(alarm["_id"], "resolved", by, rng.choice(NOTES["resolved"]))
    return rebuilt


async def _open_alarms(store: Store, district: District) -> list[Doc]:
    found: list[Doc] = []
    for shop in district.shops:
        found += [doc for doc in await docs_with_prefix(store, f"{shop.code}:alarm:") if doc.get("status") == "open"]
    return found
