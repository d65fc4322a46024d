"""The layout of the demo district, drawn from a seed: communities, grids, grid workers, office users and shops
with their owners' habits. Pure data: `server/demo/build.py` writes it, `server/demo/history.py` gives it a past.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from server.demo import names
from server.demo.names import COMMUNITIES, CommunityName

SHOPS_PER_GRID = 22  # so that a grid worker has ~15–25 shops
NO_CONTACT = 0.15  # the shops whose survey gave no 负责人 or phone: the office's lists say 未登记
# The district's office account, and one of the sub-district's own office (its shops alike, the rules read-only).
OFFICE_USERS = (("office", "明楼街道安监所", None), ("anjian", "陈立新", names.SUBDISTRICT))


@dataclass(frozen=True)
class Staff:
    role: str  # office or grid
    username: str
    name: str
    password: str
    device: str
    diligence: float = 1.0  # a grid worker's share of monthly patrols actually made
    subdistrict: str | None = None  # an office account of one sub-district

    @property
    def user_id(self) -> str:
        return f"{self.role}:{self.username}"


@dataclass(frozen=True)
class Owner:
    activated: bool  # has redeemed an activation code: can sign in with the PIN
    pin: str | None
    device: str | None
    weekly: float  # chance of a self-check in any given week
    honesty: float  # chance of declaring a hazard the shop has
    repeat_offender: bool = False  # the same hazards come back, fixed late or never: the black list's regulars


@dataclass(frozen=True)
class PlannedShop:
    code: str
    name: str
    address: str
    category: str
    trade: str
    uses_gas: bool
    community: str
    grid: str
    patroller: str  # username of the grid worker who patrols it
    owner: Owner
    gps: tuple[float, float]
    contact: dict[str, str] | None = None  # its 负责人 and phone (`demo_contact`); None: not registered

    def registry_doc(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "address": self.address,
            "category": self.category,
            "community": self.community,
            "grid": self.grid,
            "status": "active",
            "owner_activated": self.owner.activated,
            **({"contact": self.contact} if self.contact else {}),
        }


@dataclass(frozen=True)
class PlannedGrid:
    code: str
    name: str
    community: str
    workers: tuple[str, ...]
    shops: tuple[str, ...]


@dataclass(frozen=True)
class District:
    communities: tuple[CommunityName, ...]
    grids: tuple[PlannedGrid, ...]
    shops: tuple[PlannedShop, ...]
    workers: tuple[Staff, ...]
    office: tuple[Staff, ...]

    def shops_of(self, username: str) -> list[str]:
        return sorted(code for grid in self.grids if username in grid.workers for code in grid.shops)

    def worker(self, username: str) -> Staff:
        return next(w for w in self.workers if w.username == username)

    def credentials(self) -> dict[str, list[dict[str, Any]]]:
        """The logins, in the shape `mashang demo --credentials FILE` writes."""
        return {
            "office": [
                {
                    "username": s.username,
                    "password": s.password,
                    **({"subdistrict": s.subdistrict} if s.subdistrict else {}),
                }
                for s in self.office
            ],
            "grid_workers": [
                {"username": w.username, "password": w.password, "shops": self.shops_of(w.username)}
                for w in self.workers
            ],
            "owners": [{"shop": s.code, "pin": s.owner.pin} for s in self.shops if s.owner.pin is not None],
        }


def check_size(shops: int, grid_workers: int) -> str | None:
    """Why a district of this size cannot be built, or None."""
    if shops < 1 or grid_workers < 1:
        return "--shops and --grid-workers must be at least 1"
    if shops > 99_999:
        return "--shops: at most 99999"
    if math.ceil(grid_workers / 2) > shops:
        return "every grid has one or two grid workers and at least one shop: give at least one shop per two workers"
    return None


def plan_district(seed: int, shops: int, grid_workers: int) -> District:
    rng = random.Random(f"mashang-demo:{seed}:district")
    # The contacts from a stream of their own: the rest of the district is drawn as it was before shops had them.
    people = random.Random(f"mashang-demo:{seed}:contacts")
    devices: set[str] = set()
    n_grids = max(math.ceil(grid_workers / 2), min(grid_workers, round(shops / SHOPS_PER_GRID)))
    n_grids = max(1, min(n_grids, shops))
    communities = COMMUNITIES[: min(len(COMMUNITIES), n_grids)]

    grids_per_community = spread(n_grids, [rng.uniform(0.7, 1.3) for _ in communities])
    grid_places: list[tuple[CommunityName, int]] = [
        (community, k + 1)
        for community, count in zip(communities, grids_per_community, strict=True)
        for k in range(count)
    ]

    workers = _grid_workers(rng, grid_workers, devices)
    crews: list[list[str]] = [[w.username] for w in workers[:n_grids]]
    for grid_index, worker in zip(rng.sample(range(n_grids), grid_workers - n_grids), workers[n_grids:], strict=True):
        crews[grid_index].append(worker.username)

    width = max(4, len(str(shops)))
    sizes = spread(shops, [rng.uniform(0.85, 1.15) for _ in grid_places])
    addresses = names.Addresses(rng)
    used_names: set[str] = set()
    planned_shops: list[PlannedShop] = []
    grids: list[PlannedGrid] = []
    for (community, k), crew, size in zip(grid_places, crews, sizes, strict=True):
        grid_code = f"{community.code}-{k:02d}"
        codes: list[str] = []
        for i in range(size):
            code = f"S{len(planned_shops) + 1:0{width}d}"
            codes.append(code)
            shop, surname = _shop(rng, code, community, grid_code, crew[i % len(crew)], addresses, used_names, devices)
            contact = demo_contact(people, surname if surname in shop.name else None, len(planned_shops) + 1)
            planned_shops.append(replace(shop, contact=contact))
        grids.append(PlannedGrid(grid_code, names.grid_name(community, k), community.code, tuple(crew), tuple(codes)))

    office = tuple(
        Staff("office", username, name, names.password(rng), names.device_id(rng, devices), subdistrict=subdistrict)
        for username, name, subdistrict in OFFICE_USERS
    )
    return District(tuple(communities), tuple(grids), tuple(planned_shops), tuple(workers), office)


def spread(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, at least 1 each (largest remainders get the leftovers)."""
    n = len(weights)
    if n == 0:
        return []
    rest = total - n
    share = [rest * w / sum(weights) for w in weights]
    counts = [1 + int(s) for s in share]
    by_remainder = sorted(range(n), key=lambda i: (-(share[i] - int(share[i])), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def demo_contact(rng: random.Random, surname: str | None, number: int) -> dict[str, str] | None:
    """The 负责人 and phone of the demo's shop `number`, or None for one of the `NO_CONTACT` share registered without:
    a person of the `surname` the shop is named after, if it is (蔡记面馆: 蔡…), and an obviously made-up mobile
    number, one per shop, 138-0000-0001 for the first (`clean_phone` leaves it as it is)."""
    registered = rng.random() >= NO_CONTACT
    person = (surname or rng.choice(names.SURNAMES)[0]) + rng.choice(names.GIVEN_NAMES)
    if not registered:
        return None
    return {"name": person, "phone": f"138-{number // 10_000:04d}-{number % 10_000:04d}"}


def _grid_workers(rng: random.Random, count: int, devices: set[str]) -> list[Staff]:
    per_surname: dict[str, int] = {}
    workers: list[Staff] = []
    for i in range(count):
        # The first one is 小周, the grid worker of the seed report.
        name, pinyin = ("周" + rng.choice(names.GIVEN_NAMES), "zhou") if i == 0 else names.person(rng)
        per_surname[pinyin] = per_surname.get(pinyin, 0) + 1
        workers.append(
            Staff(
                "grid",
                f"{pinyin}{per_surname[pinyin]:02d}",
                name,
                names.password(rng),
                names.device_id(rng, devices),
                diligence=rng.uniform(0.85, 0.96),
            )
        )
    return workers


def _owner(rng: random.Random, devices: set[str]) -> Owner:
    u = rng.random()
    if u < 0.08:  # never activated: no login, no self-checks; the grid worker still patrols
        return Owner(False, None, None, 0.0, 0.0)
    pin, device = names.pin(rng), names.device_id(rng, devices)
    if u < 0.11:  # activated, then never looked at it again
        return Owner(True, pin, device, 0.0, 0.5)
    if u < 0.26:  # diligent
        return Owner(True, pin, device, rng.uniform(0.92, 0.98), 0.9)
    if u < 0.83:  # most
        return Owner(True, pin, device, rng.uniform(0.6, 0.8), 0.65)
    if u < 0.88:  # repeat offenders: self-check now and then, declare little, fix late
        return Owner(True, pin, device, rng.uniform(0.3, 0.6), 0.2, repeat_offender=True)
    return Owner(True, pin, device, rng.uniform(0.2, 0.45), 0.35)  # lax


def _shop(
    rng: random.Random,
    code: str,
    community: CommunityName,
    grid: str,
    patroller: str,
    addresses: names.Addresses,
    used_names: set[str],
    devices: set[str],
) -> tuple[PlannedShop, str]:
    """The shop, and the surname its name was drawn with (which the name may not hold)."""
    trade = names.pick_trade(rng)
    surname = rng.choice(names.SURNAMES)[0]
    address = addresses.next(community)
    name = names.shop_name(rng, trade, surname)
    if name in used_names:  # chains and common names: tell them apart by street, as people do
        street = next(s for s in community.streets if address.startswith(s))
        name = f"{name}（{street}店）"
        if name in used_names:
            name = f"{name[:-2]}{address.removeprefix(street)}店）"
    used_names.add(name)
    lat = names.CENTRE[0] + community.offset[0] + rng.uniform(-0.003, 0.003)
    lon = names.CENTRE[1] + community.offset[1] + rng.uniform(-0.003, 0.003)
    shop = PlannedShop(
        code,
        name,
        address,
        trade.category,
        trade.label,
        trade.uses_gas,
        community.code,
        grid,
        patroller,
        _owner(rng, devices),
        (round(lat, 6), round(lon, 6)),
    )
    return shop, surname
