"""Demo data: the away members of the core demo get an approved outflow, a certificate and a confirmed
check-in; member2 has a registration waiting; there is a contact log and one lost-contact case; one member
moved on from Shenzhen to Dongguan (the lists show the current place) and one works in Nanchang (in the
province). Applicants, activists and candidates who work away get nothing: they are listed, not certified.

Idempotent: a member who already has an outflow is left alone.
"""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk

from . import certificates, checkins, contacts, moves, outflows, photos, transfers
from .models import REVIEW_CHECKLIST, ContactLog, LostContactCase, Move, Outflow

db = tk.db
LOST_NAME = "周志强"
#: Works in Nanchang, in the home province (typed "江西"/"南昌": counted as in the province, not as a province).
IN_PROVINCE_NAME = "孙建华"
#: Lost contact in a branch that has no secretary account: the alert reaches the county committee.
LOST_ELSEWHERE_NAME, LOST_BRANCH = "吴秀兰", "石桥村党支部"
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
        if not member.is_away or member.host_unit is None or _has_outflow(member) or not tk.is_member_stage(member.stage):
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
    _moved_on(context)
    _in_province(context)
    _lost_member(context)
    _lost_without_secretary(context)
    _documents(context)
    db.session.flush()


def _moved_on(context) -> None:
    """One member hosted in Shenzhen reported moving on to Dongguan: lists and statistics show Dongguan now,
    the outflow still shows the registered destination, and the Shenzhen check-in has ended."""
    host = context.units.get("host")
    others = [m.id for m in context.members[2:]]
    if host is None or db.session.scalar(select(func.count(Move.id)).where(Move.member_id.in_(others),
                                                                           Move.kind == "change")):
        return  # done by an earlier run
    for member in context.members[2:]:
        if member.host_unit_id != host.id or outflows.active_outflow(member) is None:
            continue
        moves.report_move(member, {"changed_on": (context.now - timedelta(days=6)).date().isoformat(),
                                   "place": "东莞", "employer": "东莞市某电子厂"}, now=context.now)
        return


def _in_province(context) -> None:
    """A member who works in Nanchang, registered as "江西"/"南昌" the way people type it: counted in the province."""
    home = context.units["home"]
    if db.session.scalar(select(tk.Member.id).where(tk.Member.name == IN_PROVINCE_NAME,
                                                    tk.Member.home_unit_id == home.id)):
        return
    left = context.now - timedelta(days=120)
    member = tk.Member(name=IN_PROVINCE_NAME, gender="male", birth_date=(context.now - timedelta(days=365 * 41)).date(),
                       education="vocational", phone="13807910000", stage="full", home_unit_id=home.id,
                       occupation="电工", industry="建筑业", created_at=context.now - timedelta(days=900))
    db.session.add(member)
    db.session.flush()
    outflow = outflows.register_outflow(member, {
        "destination_province": "江西", "destination_city": "南昌", "employer": "南昌某安装公司", "industry": "建筑业",
        "start_date": left.date().isoformat(), "reason": "在省城务工",
    }, now=left)
    outflows.approve_outflow(outflow, now=left + timedelta(days=1))


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
        # the last time anyone reached him, and who at home keeps in touch (1+1)
        contacts.log_contact(member, "call", (context.now - timedelta(days=190)).date(), "刚到东莞，说工地上信号不好。",
                             by_account=context.accounts.get("home-secretary"), now=context.now - timedelta(days=190))
        neighbour = next((m for m in context.members if m.home_unit_id == home.id and not m.is_away), None)
        if neighbour is not None and member.contact_member_id is None:
            contacts.assign_contact(member, neighbour)
        member.lost_contact = True
        db.session.add(LostContactCase(member_id=member.id, unit_id=member.home_unit_id,
                                       flagged_at=context.now - timedelta(days=12),
                                       last_seen_at=contacts.last_seen(member)))
        # what the branch tried since (the lost-contact list shows it)
        for days_ago, channel, note in ((9, "call", "电话无人接听。"), (4, "message", "短信未回复，已请同村老乡帮忙打听。")):
            contacts.log_contact(member, channel, (context.now - timedelta(days=days_ago)).date(), note,
                                 by_account=context.accounts.get("home-secretary"),
                                 now=context.now - timedelta(days=days_ago), reached=False)


def _lost_without_secretary(context) -> None:
    """A member of a branch without a secretary account, not heard of for months.

    The lost-contact scan flags them, and the alert goes to the county
    committee's organizer (the nearest unit up with someone to act).
    """
    branch = context.units.get(LOST_BRANCH)
    if branch is None or db.session.scalar(select(tk.Member.id).where(
            tk.Member.name == LOST_ELSEWHERE_NAME, tk.Member.home_unit_id == branch.id, tk.Member.account_id.is_(None))):
        return
    left = context.now - timedelta(days=150)
    member = tk.Member(name=LOST_ELSEWHERE_NAME, gender="female", birth_date=(context.now - timedelta(days=365 * 34)).date(),
                       education="high_school", phone="13698760000", stage="full", home_unit_id=branch.id,
                       occupation="服装厂工人", industry="制造业", created_at=context.now - timedelta(days=900))
    db.session.add(member)
    db.session.flush()
    outflow = outflows.register_outflow(member, {
        "destination_province": "浙江省", "destination_city": "宁波市", "employer": "某服装厂", "industry": "制造业",
        "start_date": left.date().isoformat(), "reason": "外出务工",
    }, now=left)
    outflows.approve_outflow(outflow, now=left + timedelta(days=1))
    db.session.flush()
    tk.deliver_alerts([contacts.check_lost_contact(member, context.now)])


def _demo_photo() -> FileStorage:
    """A plain portrait placeholder (head and shoulders) so the card and the public check show a photo."""
    image = Image.new("RGB", (300, 400), (222, 232, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse((95, 70, 205, 190), fill=(150, 160, 175))
    draw.ellipse((45, 215, 255, 470), fill=(150, 160, 175))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "photo.jpg", content_type="image/jpeg")


def _documents(context) -> None:
    """The printable documents of issue 12: the first certificate holder's card has a photo (front) apart from
    the QR code (back), and the member away longest at one place has asked to transfer (the letter with its
    return slip, waiting for approval)."""
    away = [m for m in context.members if outflows.active_outflow(m) is not None and tk.is_member_stage(m.stage)]
    holder = next((m for m in away if certificates.active_certificate(m) is not None), None)
    if holder is not None and certificates.active_certificate(holder).photo_file is None:
        photos.save_photo(outflows.active_outflow(holder), _demo_photo())
    settled = [m for m in away if transfers.settled_long_enough(m, context.now) and m.host_unit is not None]
    if settled and not any(transfers.open_transfer(m) for m in settled):
        member = min(settled, key=lambda m: outflows.active_outflow(m).start_date)
        transfers.request_transfer(member, member.host_unit, "在流入地已稳定工作生活半年以上，申请转接组织关系。",
                                   by_account=member.account, now=context.now)
