"""``portal demo``: a realistic organization to try the portal with.

A county committee, three township committees with village branches, a
general branch of mobile members' branches in two destination cities, and
members of every stage — a third of them away from home with a host branch.
Everything is looked up before it is created, so running it twice duplicates
nothing.
"""
from __future__ import annotations

import random
from datetime import date

from flask import current_app
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Account
from portal.database import utcnow, write_intent
from portal.extensions import db
from portal.org.models import EDUCATION_LEVELS, Member, OrgUnit, RoleAssignment, is_member_stage
from portal.org.services import create_unit
from portal.places import place_from_text
from portal.plugins.manager import get_manager
from portal.plugins.types import DemoContext
from portal.timeutil import local_today

COUNTY = "青山县委"
TOWNSHIPS = {
    "东岭镇党委": ["东岭村党支部", "石桥村党支部", "茶园村党支部"],
    "西河镇党委": ["西河村党支部", "柳湾村党支部", "新田村党支部"],
    "南溪乡党委": ["南溪村党支部", "竹林村党支部"],
}
MOBILE_GENERAL = "青山县流动党员党总支"
MOBILE_BRANCHES = {
    "青山县驻深圳流动党员党支部": ("广东省", "深圳市"),
    "青山县驻杭州流动党员党支部": ("浙江省", "杭州市"),
}
HOME_PROVINCE, HOME_CITY = "江西省", "吉安市"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
         "平", "刚", "桂英", "建华", "志强", "海燕"]
OCCUPATIONS = [("建筑工人", "建筑业"), ("电子厂操作工", "制造业"), ("快递员", "交通运输业"), ("厨师", "住宿和餐饮业"),
               ("个体经营", "批发和零售业"), ("软件工程师", "信息技术"), ("务农", "农业"), ("教师", "教育")]
STAGE_WEIGHTS = [("full", 70), ("probationary", 8), ("candidate", 6), ("activist", 8), ("applicant", 8)]


def _unit(name: str, kind: str, parent: OrgUnit | None, **fields) -> OrgUnit:
    """The unit, created with its place code (from the province and city) — or given one if it had none."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))
    text = (fields.get("province") or "") + (fields.get("city") or "")
    code = place_from_text(text) if text else None
    if unit is not None:
        unit.place_code = unit.place_code or code
        return unit
    return create_unit(name, kind, parent, place_code=code, **fields)


def _account(username: str, display_name: str, password: str, phone: str | None = None) -> Account:
    account = db.session.scalar(select(Account).where(Account.username == username))
    if account is None:
        account = Account(username=username, display_name=display_name, phone=phone, password_hash="!")
        db.session.add(account)
    accounts.set_password(account, password)
    account.session_version = 1
    account.email = account.email or f"{username}@example.org"  # e-mail delivery shows with an SMTP server set
    return account


def _role(account: Account, role: str, unit: OrgUnit) -> None:
    db.session.flush()
    exists = db.session.scalar(select(RoleAssignment).where(
        RoleAssignment.account_id == account.id, RoleAssignment.role == role, RoleAssignment.unit_id == unit.id))
    if exists is None:
        db.session.add(RoleAssignment(account_id=account.id, role=role, unit_id=unit.id))


def build_units() -> dict[str, OrgUnit]:
    """The demo tree; returns units by name plus the keys ``root``, ``home``, ``host``, ``host2``."""
    units: dict[str, OrgUnit] = {}
    root = units["root"] = _unit(COUNTY, "committee", None, province=HOME_PROVINCE, city=HOME_CITY)
    for township, villages in TOWNSHIPS.items():
        parent = units[township] = _unit(township, "committee", root, province=HOME_PROVINCE, city=HOME_CITY)
        for village in villages:
            units[village] = _unit(village, "branch", parent, province=HOME_PROVINCE, city=HOME_CITY)
    general = units[MOBILE_GENERAL] = _unit(MOBILE_GENERAL, "general_branch", root)
    for name, (province, city) in MOBILE_BRANCHES.items():
        units[name] = _unit(name, "branch", general, province=province, city=city, is_mobile_branch=True)
    units["home"] = units["东岭村党支部"]
    units["host"] = units["青山县驻深圳流动党员党支部"]
    units["host2"] = units["青山县驻杭州流动党员党支部"]
    return units


def _profile(rng: random.Random, index: int, home: OrgUnit, host_units: list[OrgUnit], away: bool) -> dict:
    stage = rng.choices([s for s, _ in STAGE_WEIGHTS], [w for _, w in STAGE_WEIGHTS])[0]
    occupation, industry = rng.choice(OCCUPATIONS)
    age = rng.choices([rng.randint(20, 34), rng.randint(35, 44), rng.randint(45, 54), rng.randint(55, 70)], [45, 25, 18, 12])[0]
    profile = dict(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN), gender=rng.choice(["male", "male", "female"]),
        birth_date=date(local_today().year - age, rng.randint(1, 12), rng.randint(1, 28)), ethnicity="汉族",
        education=rng.choices(EDUCATION_LEVELS, [2, 10, 35, 15, 15, 20, 2, 1])[0],
        phone=f"13{rng.randint(100000000, 999999999)}", stage=stage,
        joined_on=date(local_today().year - rng.randint(0, max(1, age - 19)), rng.randint(1, 12), 1),
        occupation=occupation, industry=industry, home_unit_id=home.id, is_away=away,
        current_province=HOME_PROVINCE, current_city=HOME_CITY,
    )
    if away and is_member_stage(stage):
        host = rng.choice(host_units)
        profile.update(host_unit_id=host.id, current_province=host.province, current_city=host.city,
                       employer=rng.choice(["深圳市华达电子有限公司", "杭州顺风物流有限公司", "中建某局第三项目部", "个体"]))
    elif away:  # applicants, activists and candidates who work away are listed by the branch, not hosted or certified
        profile.update(current_province="广东省", current_city="东莞市", employer="东莞某电子厂")
    return profile


def build_members(units: dict[str, OrgUnit], count: int, password: str, rng: random.Random) -> list[Member]:
    """member1 (away, hosted in Shenzhen), member2 (at home), then member3… spread over villages."""
    villages = [u for name, u in units.items() if name.endswith("村党支部")]
    hosts = [units["host"], units["host2"]]
    members = []
    for index in range(1, count + 1):
        username = f"member{index}"
        account = _account(username, username, password)
        db.session.flush()
        member = db.session.scalar(select(Member).where(Member.account_id == account.id))
        if member is None:
            home = units["home"] if index <= 2 else villages[index % len(villages)]
            away = index == 1 or (index > 2 and index % 3 == 0)
            profile = _profile(rng, index, home, hosts, away)
            if index <= 2:  # member1 goes away with a certificate, member2 registers: both must be members
                profile.update(stage="full" if index == 1 else "probationary")
            if index == 1:
                profile.update(host_unit_id=units["host"].id, current_province="广东省", current_city="深圳市",
                               employer="深圳市华达电子有限公司")
            member = Member(account_id=account.id, **profile)
            db.session.add(member)
        if index <= 2 and not is_member_stage(member.stage):  # an older demo made member1 an applicant with a certificate
            member.stage = "full"
        account.display_name = member.name
        members.append(member)
    db.session.flush()
    contact = members[1] if len(members) > 1 else None
    for member in members:
        if member.is_away and contact is not None and member.contact_member_id is None and member.home_unit_id == contact.home_unit_id:
            member.contact_member_id = contact.id
    return members


def build_demo(members: int = 60, password: str = "demo-2026", seed: int = 20261121) -> str:
    """Create (or refresh) the demo organization and the plugins' demo data; returns a summary."""
    if problem := accounts.password_problem(password):
        raise ValueError(problem)
    rng = random.Random(seed)
    with write_intent():
        units = build_units()
        admin = _account("admin", "管理员", password)
        organizer = _account("organizer", "县委组织部", password)
        home_secretary = _account("home-secretary", "东岭村支部书记", password)
        host_secretary = _account("host-secretary", "驻深圳支部书记", password)
        _role(admin, "admin", units["root"])
        _role(organizer, "organizer", units["root"])
        _role(home_secretary, "secretary", units["home"])
        _role(host_secretary, "secretary", units["host"])
        people = build_members(units, max(members, 3), password, rng)
        db.session.commit()
        context = DemoContext(
            password=password, units=units,
            accounts={"admin": admin, "organizer": organizer, "home-secretary": home_secretary,
                      "host-secretary": host_secretary, **{m.account.username: m.account for m in people}},
            members=people, now=utcnow(), rng=rng,
        )
        get_manager().call_each("portal_demo_data", context=context)
        db.session.commit()
    return _summary(password, len(people))


def _summary(password: str, count: int) -> str:
    host = current_app.config.get("SERVER_NAME") or "127.0.0.1:5000"
    return (
        f"Demo organization ready ({count} members).\n"
        f"Open http://{host}/ and log in with password {password!r} as:\n"
        "  admin            site admin\n"
        "  organizer        organization department of the county committee (gets the alerts of branches\n"
        "                   without a secretary account, e.g. a lost contact in 石桥村党支部)\n"
        "  home-secretary   secretary of 东岭村党支部 (a village branch)\n"
        "  host-secretary   secretary of 青山县驻深圳流动党员党支部 (a mobile members' branch)\n"
        "  member1          member of 东岭村党支部, away and checked in at the Shenzhen branch\n"
        "  member2          member of 东岭村党支部, at home\n"
        "  member3 …        more members"
    )
