"""Chinese names for the demo district: communities and streets of 明楼街道, shops by trade, people, logins.

Everything is drawn from a `random.Random` the caller seeds, so the same seed names the same district.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Final

SUBDISTRICT: Final = "minglou"
SUBDISTRICT_NAME: Final = "明楼街道"
CENTRE: Final = (29.8736, 121.5731)  # lat, lon of the sub-district office; photos' GPS scatter around it


@dataclass(frozen=True)
class CommunityName:
    code: str
    name: str
    streets: tuple[str, ...]
    offset: tuple[float, float]  # from CENTRE, degrees


COMMUNITIES: Final = (
    CommunityName("huachuan", "划船社区", ("曙光北路", "惊驾路", "划船巷"), (0.004, -0.006)),
    CommunityName("mingnan", "明南社区", ("明南路", "中山东路", "惊驾路"), (-0.006, -0.002)),
    CommunityName("mingbei", "明北社区", ("明北路", "曙光北路", "百丈东路"), (0.007, 0.001)),
    CommunityName("hefeng", "和丰社区", ("和丰路", "江东北路", "新河路"), (0.010, -0.011)),
    CommunityName("qingfeng", "庆丰社区", ("庆丰路", "江东北路", "桑田路"), (0.002, 0.009)),
    CommunityName("donghai", "东海社区", ("东海路", "惊驾路", "宁穿路"), (-0.003, 0.012)),
    CommunityName("zhuque", "朱雀社区", ("朱雀路", "百丈东路", "中兴路"), (-0.009, 0.006)),
    CommunityName("changqing", "常青藤社区", ("常青路", "中兴路", "曙光南路"), (-0.012, -0.008)),
)

# fmt: off
# (surname, its pinyin): common surnames, with Ningbo's own (应, 俞, 鲍, 邬, 竺) among them.
SURNAMES: Final = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"),
    ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("田", "tian"), ("董", "dong"), ("潘", "pan"), ("袁", "yuan"), ("蒋", "jiang"),
    ("蔡", "cai"), ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("魏", "wei"), ("苏", "su"),
    ("丁", "ding"), ("沈", "shen"), ("任", "ren"), ("姚", "yao"), ("卢", "lu"), ("傅", "fu"), ("钟", "zhong"),
    ("崔", "cui"), ("谭", "tan"), ("范", "fan"), ("金", "jin"), ("戴", "dai"), ("夏", "xia"), ("方", "fang"),
    ("应", "ying"), ("俞", "yu"), ("鲍", "bao"), ("邬", "wu"), ("竺", "zhu"), ("史", "shi"), ("屠", "tu"),
)
GIVEN_NAMES: Final = (
    "晓燕", "建国", "丽华", "海波", "志强", "静", "敏", "磊", "婷婷", "伟", "芳", "军", "洁", "勇", "秀英", "霞",
    "超", "杰", "娟", "涛", "明", "红梅", "丹", "斌", "亮", "佳怡", "雪", "宁", "浩", "琳", "国平", "素珍",
    "立新", "文杰", "玲", "雅琴", "春燕", "卫东", "慧", "海燕",
)

# Brand-ish words and places that small shops put in their names.
WORDS: Final = (
    "鑫鑫", "好又多", "万家福", "福满多", "顺心", "阿香", "小蜜蜂", "佳佳", "乐购", "旺旺", "百姓", "邻家", "甜心",
    "金牌", "鸿运", "永兴", "恒发", "利民", "优品", "缘来", "青柠", "星光", "满意", "阳光", "宏达", "红星", "新兴",
    "惠民", "友谊", "富贵", "天天", "一品", "聚福", "兴隆", "安心", "康乐", "老街", "名流", "时尚", "大众",
)
PLACES: Final = ("明楼", "曙光", "划船", "和丰", "庆丰", "东海", "朱雀", "江东", "宁波", "沙县", "温州", "舟山",
                 "兰州", "重庆", "安徽", "绍兴", "台州", "象山")
# fmt: on


@dataclass(frozen=True)
class Trade:
    """A kind of shop: its category code (what templates are matched on), its weight and its name patterns.
    `{s}` is the owner's surname, `{w}` a brand word, `{p}` a place."""

    category: str
    label: str
    weight: int
    patterns: tuple[str, ...]
    uses_gas: bool


TRADES: Final = (
    Trade("food", "小吃店", 9, ("{s}记小吃", "{p}小吃", "老{s}小吃", "{w}小吃"), True),
    Trade("food", "面馆", 8, ("{s}家面馆", "{p}牛肉面", "{p}拉面", "{s}记面馆", "{w}面馆"), True),
    Trade("food", "烧烤", 5, ("老{s}烧烤", "{w}烧烤", "{p}烧烤"), True),
    Trade("food", "奶茶店", 5, ("{w}奶茶", "{w}茶饮", "{p}奶茶铺"), False),
    Trade("food", "早餐店", 5, ("{s}记早餐", "{p}包子铺", "{w}早餐"), True),
    Trade("food", "快餐店", 5, ("{w}快餐", "{s}家小厨", "{p}快餐"), True),
    Trade("food", "饺子馆", 3, ("{s}记饺子馆", "{p}水饺", "{w}馄饨"), True),
    Trade("retail", "超市", 7, ("{w}超市", "{p}生活超市", "{w}购物中心"), False),
    Trade("retail", "便利店", 8, ("{w}便利店", "{p}便利", "{w}便民店"), False),
    Trade("retail", "水果店", 6, ("{w}水果", "{s}家水果店", "{p}鲜果"), False),
    Trade("retail", "烟酒店", 4, ("{w}烟酒", "{w}烟酒商行"), False),
    Trade("retail", "服装店", 4, ("{w}服饰", "{w}时装"), False),
    Trade("hair_salon", "理发店", 8, ("{w}理发", "{w}美发", "{s}师傅理发店", "{w}发型工作室"), False),
    Trade("hardware", "五金店", 6, ("{w}五金", "{s}记五金店", "{p}五金建材"), False),
    Trade("pharmacy", "药店", 5, ("{w}大药房", "{p}药店", "{w}医药"), False),
    Trade("ebike_repair", "电动车维修", 4, ("{s}师傅电动车修理", "{w}车行", "{p}电动车维修"), False),
    Trade("laundry", "干洗店", 2, ("{w}干洗", "{w}洗衣店"), False),
    Trade("recreation", "棋牌室", 2, ("{w}棋牌室", "{p}茶室"), True),
)

_CN_DIGITS: Final = "零一二三四五六七八九"
_PASSWORD_ALPHABET: Final = "".join(c for c in string.ascii_lowercase + string.digits if c not in "01ilo")


_CN_UNITS: Final = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三, 101 → 一百零一, 110 → 一百一十, 10012 → 一万零一十二: how a grid is
    numbered in its community's name (a city district's community has more than 99: the demo failed there)."""
    if n < 0:
        raise ValueError(f"{n}: no grid is numbered below zero")
    if n >= 10_000:
        high, low = divmod(n, 10_000)
        rest = "" if low == 0 else ("零" if low < 1000 else "") + _below_ten_thousand(low, inner=True)
        return f"{chinese_number(high)}万{rest}"
    return _below_ten_thousand(n, inner=False)


def _below_ten_thousand(n: int, inner: bool) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20 and not inner:  # 十二, not 一十二, as a number of its own
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    said: list[str] = []
    gap = False  # a zero digit after a non-zero one: said once, as 零, before the next non-zero digit
    for value, unit in _CN_UNITS:
        digit = n // value % 10
        if digit == 0:
            gap = bool(said)
            continue
        if gap:
            said.append("零")
            gap = False
        said.append(_CN_DIGITS[digit] + unit)
    return "".join(said)


def grid_name(community: CommunityName, n: int) -> str:
    return f"{community.name}第{chinese_number(n)}网格"


def person(rng: random.Random) -> tuple[str, str]:
    """A full name and the pinyin of its surname."""
    surname, pinyin = rng.choice(SURNAMES)
    return surname + rng.choice(GIVEN_NAMES), pinyin


def password(rng: random.Random) -> str:
    """Four groups of four from 31 unambiguous characters: about 79 bits, readable over the phone."""
    return "-".join("".join(rng.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def pin(rng: random.Random) -> str:
    while True:
        value = f"{rng.randrange(10**6):06d}"
        if len(set(value)) > 2:  # not 000000, 111222 and the like
            return value


def device_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        value = f"d-{rng.getrandbits(16):04x}"
        if value not in taken:
            taken.add(value)
            return value


def pick_trade(rng: random.Random) -> Trade:
    return rng.choices(TRADES, weights=[t.weight for t in TRADES])[0]


def shop_name(rng: random.Random, trade: Trade, surname: str) -> str:
    pattern = rng.choice(trade.patterns)
    return pattern.format(s=surname, w=rng.choice(WORDS), p=rng.choice(PLACES))


class Addresses:
    """House numbers along a community's streets, each used once: "曙光北路128号", now and then "…号-2"."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self, community: CommunityName) -> str:
        while True:
            street = self.rng.choice(community.streets)
            number = self.rng.randrange(1, 800)
            address = f"{street}{number}号"
            if self.rng.random() < 0.1:
                address += f"-{self.rng.randrange(1, 5)}"
            if address not in self.used:
                self.used.add(address)
                return address
