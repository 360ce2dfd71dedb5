"""Demo data: member1's care requests in different states and a micro-wish (idempotent)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_care import filing, microwishes, workflow
from portal_care.models import CareRequest, CareWish

WAGES = "深圳工地三月份工资被拖欠"
MOTHER = "老家母亲腿脚不便，需要有人照看"
SCHOOL = "孩子转学到深圳需要办理入学手续"
WISH = "给留守在家的女儿买一个新书包"


def _exists(member, title: str) -> bool:
    return tk.db.session.scalar(select(CareRequest.id).where(CareRequest.member_id == member.id,
                                                             CareRequest.title == title)) is not None


def build(context) -> None:
    """Create the demo requests and wish once; a second run finds them and does nothing."""
    accounts = context.accounts
    member1 = accounts["member1"].member
    member2 = accounts.get("member2").member if accounts.get("member2") else None
    host_sec, home_sec = accounts["host-secretary"], accounts["home-secretary"]
    now = context.now
    if member1 is None:
        return
    if not _exists(member1, WAGES):
        start = now - timedelta(days=6)
        req = filing.file_request(member1, {
            "category": "wages", "title": WAGES, "where": "host", "consent_host": True, "urgency": "high",
            "description": "我在宝安区一个工地做钢筋工，包工头拖欠了三月份的工资 6800 元，打电话不接。工友们也有同样的情况。",
            "contact_pref": "phone"}, filed_by=accounts["member1"], now=start)
        workflow.assign(req, host_sec, host_sec.id, now=start + timedelta(hours=5))
        workflow.add_comment(req, host_sec, "已收到，我们已联系街道劳动监察大队，请保留考勤记录和工友的联系方式。",
                             now=start + timedelta(hours=6))
        workflow.transition(req, host_sec, "in_progress", now=start + timedelta(days=1))
        workflow.add_comment(req, host_sec, "包工头电话：已约周五在项目部协调。", now=start + timedelta(days=1, hours=1),
                             internal=True)
    if not _exists(member1, MOTHER):
        start = now - timedelta(days=20)
        req = filing.file_request(member1, {
            "category": "family", "title": MOTHER, "where": "hometown", "urgency": "normal",
            "description": "母亲今年七十二岁，上个月摔了一跤，腿脚不便。我在深圳打工回不去，想请村里帮忙照看，定期上门看看。",
            "contact_pref": "message"}, filed_by=accounts["member1"], now=start)
        workflow.transition(req, home_sec, "accepted", now=start + timedelta(hours=20))
        if member2 is not None and member2.account is not None:
            workflow.assign(req, home_sec, member2.account_id, now=start + timedelta(hours=21))
        workflow.transition(req, home_sec, "resolved", now=start + timedelta(days=4),
                            summary="支部安排党员李芳每周两次上门看望，并联系村卫生室定期随访，送去慰问金 500 元。",
                            support_kind="money", support_amount="500")
    if not _exists(member1, SCHOOL):
        filing.file_request(member1, {
            "category": "schooling", "title": SCHOOL, "where": "host", "consent_host": False, "urgency": "normal",
            "description": "孩子九月想在深圳上小学，不清楚积分入学需要哪些材料。", "contact_pref": "in_app"},
            filed_by=accounts["member1"], now=now - timedelta(hours=3))
    wisher = member2 or member1
    wish = tk.db.session.scalar(select(CareWish).where(CareWish.member_id == wisher.id, CareWish.title == WISH))
    if wish is None:
        wish = microwishes.create_wish(wisher, {"title": WISH, "description": "女儿上三年级，旧书包背带断了。"},
                                    now=now - timedelta(days=2))
        microwishes.review_wish(wish, home_sec, approve=True, unit_id=wisher.home_unit_id,
                             now=now - timedelta(days=1))
    tk.db.session.flush()
