"""Demo data: the away members of the core demo get an approved outflow, a certificate and a confirmed
check-in; member2 has a registration waiting; there is a contact log and one lost-contact case.

Idempotent: a member who already has an outflow is left alone.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from portal import toolkit as tk

from . import certificates, checkins, contacts, moves, outflows
from .models import REVIEW_CHECKLIST, ContactLog, LostContactCase, Outflow

db = tk.db
LOST_NAME = "周志强"
EMPLOYERS = ["深圳市华达电子有限公司", "杭州顺风物流有限公司", "中建某局第三项目部", "个体"]


def datetime_at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0))


def _has_outflow(member) -> bool:
    return db.session.scalar(select(func.count(Outflow.id)).where(Outflow.member_id == member.id)) > 0


def _away(member, context, days_ago: int) -> None:
    """An approved outflow to the member's host city, its certificate and a confirmed check-in there."""
    host = member.host_unit
    start = context.now - timedelta(days=days_ago)
    outflow = outflows.register_outflow(member, {
        "destination_province": host.province or member.current_province or "广东省",
        "destination_city": host.city or member.current_city or "深圳市",
        "employer": member.employer or context.rng.choice(EMPLOYERS), "industry": member.industry,
        "start_date": start.date().isoformat(), "expected_months": context.rng.choice([6, 12, 24]),
        "reason": "外出务工", "contact_there": member.phone,
    }, now=start)
    certificate = outflows.approve_outflow(outflow, now=start + timedelta(days=2))
    member.host_unit_id, member.host_unit = None, None  # the core demo placed them; the check-in records it
    checkin = checkins.request_checkin(member, host, now=start + timedelta(days=9))
    checkins.confirm_checkin(checkin, now=start + timedelta(days=10))
    # long stays have had their yearly reviews; everyone has confirmed their details lately
    while certificate.valid_until - timedelta(days=45) < context.now.date():
        at = min(context.now, datetime_at(certificate.valid_until - timedelta(days=20)))
        certificates.review_certificate(certificate, {key: True for key in REVIEW_CHECKLIST}, "renewed",
                                    "按时参加流入地组织生活。", now=at)
    moves.confirm_details(member, now=context.now - timedelta(days=context.rng.randint(1, 60)))


def build(context) -> None:
    members = context.members
    secretary = context.accounts.get("home-secretary")
    for index, member in enumerate(members, start=1):
        if not member.is_away or member.host_unit is None or _has_outflow(member):
            continue
        _away(member, context, 200 if index == 1 else context.rng.randint(20, 800))
        if db.session.scalar(select(func.count(ContactLog.id)).where(ContactLog.member_id == member.id)) == 0:
            contacts.log_contact(member, context.rng.choice(["call", "message", "video"]),
                                 (context.now - timedelta(days=context.rng.randint(3, 40))).date(),
                                 "近况良好，工作稳定。", by_account=secretary, now=context.now)
    member1 = members[0] if members else None
    if member1 is not None and db.session.scalar(
            select(func.count(ContactLog.id)).where(ContactLog.member_id == member1.id)) < 2:
        contacts.log_contact(member1, "video", (context.now - timedelta(days=60)).date(),
                             "视频联系，了解在深圳的工作和生活情况，提醒按时交纳党费。", by_account=secretary, now=context.now)
    member2 = members[1] if len(members) > 1 else None
    if member2 is not None and not member2.is_away and not _has_outflow(member2):
        outflows.register_outflow(member2, {
            "destination_province": "浙江省", "destination_city": "杭州市", "destination_district": "余杭区",
            "employer": "杭州顺风物流有限公司", "industry": "交通运输业",
            "start_date": (context.now + timedelta(days=14)).date().isoformat(), "expected_months": 12,
            "reason": "到杭州从事物流工作", "contact_there": member2.phone,
        }, by_account=member2.account, now=context.now)
    _lost_member(context)
    db.session.flush()


def _lost_member(context) -> None:
    """A member without a portal account who left for Dongguan and has not been heard of since."""
    home = context.units["home"]
    member = db.session.scalar(select(tk.Member).where(tk.Member.name == LOST_NAME, tk.Member.home_unit_id == home.id,
                                                       tk.Member.account_id.is_(None)))
    if member is None:
        left = context.now - timedelta(days=200)
        member = tk.Member(name=LOST_NAME, gender="male", birth_date=(context.now - timedelta(days=365 * 29)).date(),
                           education="junior_high", phone="13512340000", stage="full", home_unit_id=home.id,
                           occupation="建筑工人", industry="建筑业", created_at=context.now - timedelta(days=900))
        db.session.add(member)
        db.session.flush()
        outflow = outflows.register_outflow(member, {
            "destination_province": "广东省", "destination_city": "东莞市", "employer": "某建筑工程队",
            "industry": "建筑业", "start_date": left.date().isoformat(), "reason": "随施工队外出务工",
        }, now=left)
        outflows.approve_outflow(outflow, now=left + timedelta(days=1))
    if contacts.open_case(member) is None and not member.lost_contact:
        member.lost_contact = True
        db.session.add(LostContactCase(member_id=member.id, unit_id=member.home_unit_id,
                                       flagged_at=context.now - timedelta(days=12),
                                       last_seen_at=contacts.last_seen(member)))
