"""What people type in the demo district's notes: grid workers' findings, owners' rectifications, verdicts."""

from __future__ import annotations

from typing import Final

# fmt: off
FINDINGS: Final[dict[str, tuple[str, ...]]] = {
    "open_flame": ("居住区域使用明火做饭", "阁楼内使用煤炉取暖", "后厨与住处未分隔，明火靠近床铺"),
    "sleeping_people": ("店内阁楼住人", "营业区搭床住人", "员工夜间在店内留宿"),
    "three_in_one": ("住宿、经营、仓储“三合一”", "前店后宅，仓库与卧室连通，属“三合一”场所"),
    "escape_route": ("后门通道堆放纸箱，逃生通道不畅", "安全出口被货架堵塞", "楼梯口堆放杂物"),
    "extinguisher_present": ("店内未配备灭火器", "灭火器丢失，未补配"),
    "extinguisher_valid": ("灭火器刚过保质期", "灭火器已过有效期", "灭火器压力不足，指针在红区"),
    "rcd_installed": ("配电箱未安装漏电保护器", "漏电保护开关失效"),
    "ebike_indoor_charging": ("电瓶车在店内充电", "电动车电池拿进店内充电", "店门口飞线给电瓶车充电"),
    "gas_safe": ("燃气软管老化开裂", "未安装燃气报警器", "液化气瓶与灶具间距不足", "燃气瓶未固定，无防倾倒措施"),
    "wiring_ok": ("电线私拉乱接，插座串接", "电线裸露，未穿管保护", "大功率电器共用一个插座"),
    "other": ("门口消防通道停放车辆", "配电箱周围堆放杂物", "安全出口指示灯损坏", "消防栓被货物遮挡",
              "油烟管道油污较多，未定期清洗"),
}

RECTIFICATIONS: Final[dict[str, tuple[str, ...]]] = {
    "open_flame": ("已停止使用明火，改用电磁炉", "煤炉已清走"),
    "sleeping_people": ("住宿人员已搬离", "已在外租房，店内不再住人"),
    "three_in_one": ("已拆除店内床铺，仓库另租", "住宿区已搬离，实现分隔"),
    "escape_route": ("已清理通道杂物", "货架已挪开，通道畅通"),
    "extinguisher_present": ("已购置灭火器两具", "已补配灭火器"),
    "extinguisher_valid": ("已更换新灭火器", "灭火器已送检充装"),
    "rcd_installed": ("已请电工安装漏电保护器", "已更换漏电保护开关"),
    "ebike_indoor_charging": ("电瓶车已移至室外集中充电点充电", "已停止在店内充电"),
    "gas_safe": ("已更换燃气软管并安装报警器", "气瓶已固定，与灶具保持安全距离"),
    "wiring_ok": ("已请电工整改线路", "电线已穿管，插座已更换"),
    "other": ("已整改", "车辆已挪走，通道已清理", "已更换指示灯", "已请人清洗油烟管道"),
}

VERIFIED: Final = ("复查合格", "已整改到位", "现场复核，整改到位")
NOT_VERIFIED: Final = ("整改不到位，需重新整改", "照片与现场不符，请重新整改")
ON_THE_SPOT: Final = ("现场整改到位", "已当场整改")
# fmt: on
