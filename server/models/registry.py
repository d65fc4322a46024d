"""The shop registry, written by the server (survey import, office edits): shops, communities (社区), grids (网格).

A shop's own document lives in the shop's partition, `{code}:shop:{code}`: the owner (scoped to that one
partition) and the grid worker (scoped to the partitions of their shops) read it with the rest of the e-file,
and a range read of `{code}:` lists it first. So does the shop's `contact` (its 负责人 and phone, whom the office
calls in when the shop is black-listed): it reaches that shop's own phone and its grid workers' (who call the owner
from the street, offline), and no other shop's or grid's; the public card, badge and posters pick their fields and
never show it.

Communities and grids are the office's registry: `registry:community:{code}` and `registry:grid:{code}`, in a
partition no device replicates (a grid lists its grid workers and shops; it is what a grid worker's scope is
computed from).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Final, Literal, Self

from pydantic import AfterValidator, Field, StrictBool, StrictStr, StringConstraints, model_validator

from server.models.common import KEY, PARTITION, Code, Day, Doc, Part, ShopCode, Text, Timestamp, Username, refuse

MAX_MOVES = 100  # the moves a shop keeps (`Registry.move_shop`): the latest; older ones are past any grace
MAX_CONTACT_NAME: Final = 50
MAX_PHONE: Final = 32  # characters, spaces and dashes included
PHONE_DIGITS: Final = (7, 20)  # a local landline has 7 or 8 digits; +86, an area code and an extension make ~20
PHONE: Final = re.compile(r"\+?[0-9][0-9 -]*[0-9]")
_DASHES: Final = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63]")  # what a spreadsheet or an IME types for "-"
# What a contact that the model refuses should look like, in the office's words (the registry desk's form and the
# import's report give it before the model's English reason).
CONTACT_HELP: Final = {
    "name": f"负责人姓名最多 {MAX_CONTACT_NAME} 字。",
    "phone": (
        f"联系电话只能有数字、空格、+ 和 -，如 138 0013 8000 或 0571-8800 1234（{PHONE_DIGITS[0]} 至 "
        f"{PHONE_DIGITS[1]} 位数字，一格只填一个号码）。"
    ),
}


class Closure(Part):
    """A time the shop was closed: from `since` (the day it was closed) to the day before `until` (the day it was
    reopened; None: closed still)."""

    since: Day
    until: Day | None = None


def closed_between(closures: Iterable[tuple[date, date | None]], first: date, last: date) -> bool:
    """Whether any of these (closed on, reopened on or None) periods holds a day from `first` to `last`."""
    return any(since <= last and (until is None or until > first) for since, until in closures)


class Move(Part):
    """A move of the shop by the office from grid `from` to grid `to`, at `at` (`Registry.move_shop`): a patrol the
    previous grid's worker did before it may still be pushed for a while (server/sync/validate.py)."""

    from_: Code = Field(alias="from")
    to: Code
    at: Timestamp


def clean_phone(text: str) -> str:
    """A phone number as typed or pasted, in the form the model takes: full-width digits, ＋ and spaces made plain
    (NFKC), any dash a hyphen, runs of spaces one, no space at either end. What is no phone number stays so."""
    plain = _DASHES.sub("-", unicodedata.normalize("NFKC", text))
    return " ".join(plain.split())


def _phone(value: str) -> str:
    digits = sum(char.isdigit() for char in value)
    if not PHONE.fullmatch(value) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        low, high = PHONE_DIGITS
        raise refuse(f"must be a phone number of {low} to {high} digits, with only spaces, + and - between them")
    return value


Phone = Annotated[StrictStr, StringConstraints(max_length=MAX_PHONE), AfterValidator(_phone)]
ContactName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_CONTACT_NAME)]


class Contact(Part):
    """The shop's responsible person (负责人) and their phone (联系电话), whom the office calls in for a talk (约谈)
    when the shop is black-listed, and its grid worker calls. Either may be unknown, not both (no contact: null)."""

    name: ContactName | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.name is None and self.phone is None:
            raise refuse("a name or a phone is needed (a shop without a contact has contact null)")
        return self


class Shop(Doc):
    type: Literal["shop"]
    code: ShopCode  # the code on the QR poster, also the partition of everything about the shop
    name: Text
    address: Text
    category: Code  # matched against templates' `categories` (restaurant, retail, hair_salon, ...)
    community: Code
    grid: Code
    status: Literal["active", "closed"]
    owner_activated: StrictBool  # the owner has redeemed the activation code a grid worker handed out
    # When it was closed, in order (`Registry.set_status`): a week it was closed is owed no self-check, and a
    # period's figures count the shops open then. A shop closed before 2026-11-29 has none: closed for all time.
    closures: tuple[Closure, ...] = Field(default=(), max_length=500)
    # The day the office registered it (by hand or by an import): a period before it does not count the shop.
    # None: registered before this was noted, counted as open since always.
    opened: Day | None = None
    # Its moves to other grids, oldest first; none for a shop never moved (or moved before moves were noted).
    moves: tuple[Move, ...] = Field(default=(), max_length=MAX_MOVES)
    # Its responsible person and phone (registered since 2026-12, by the office or an import); None: not registered.
    contact: Contact | None = None

    @model_validator(mode="after")
    def _check_shop_id(self) -> Self:
        self.check_id(rf"{PARTITION}:shop:{PARTITION}", "{code}:shop:{code}")
        if self.id != shop_doc_id(self.code):
            raise refuse(f"_id must be {shop_doc_id(self.code)} for shop {self.code}")
        return self


class Community(Doc):
    type: Literal["community"]
    code: Code
    name: Text
    subdistrict: Code  # the 街道 it belongs to; rankings and statistics are per sub-district

    @model_validator(mode="after")
    def _check_community_id(self) -> Self:
        self.check_id(rf"registry:community:{KEY}", "registry:community:{code}")
        if self.key != self.code:
            raise refuse(f"_id must be registry:community:{self.code}")
        return self


class Subdistrict(Doc):
    """A sub-district's name (街道), `registry:subdistrict:{code}`, as reports show it; communities give the code."""

    type: Literal["subdistrict"]
    code: Code
    name: Text

    @model_validator(mode="after")
    def _check_subdistrict_id(self) -> Self:
        self.check_id(rf"registry:subdistrict:{KEY}", "registry:subdistrict:{code}")
        if self.key != self.code:
            raise refuse(f"_id must be registry:subdistrict:{self.code}")
        return self


class Grid(Doc):
    """A grid (网格) of a community and the grid workers who patrol it (user ids `grid:{username}`)."""

    type: Literal["grid"]
    code: Code
    name: Text
    community: Code
    workers: tuple[Username, ...] = Field(default=(), max_length=50)
    shops: tuple[ShopCode, ...] = Field(default=(), max_length=2000)

    @model_validator(mode="after")
    def _check_grid_id(self) -> Self:
        self.check_id(rf"registry:grid:{KEY}", "registry:grid:{code}")
        if self.key != self.code:
            raise refuse(f"_id must be registry:grid:{self.code}")
        if len(set(self.workers)) != len(self.workers):
            raise refuse("workers: a username appears twice")
        return self

    @property
    def worker_ids(self) -> tuple[str, ...]:
        return tuple(f"grid:{name}" for name in self.workers)


def shop_doc_id(code: str) -> str:
    return f"{code}:shop:{code}"


def community_doc_id(code: str) -> str:
    return f"registry:community:{code}"


def subdistrict_doc_id(code: str) -> str:
    return f"registry:subdistrict:{code}"


def grid_doc_id(code: str) -> str:
    return f"registry:grid:{code}"
