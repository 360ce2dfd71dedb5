"""Every write route of the reports API × every role (reads: tests/test_reports_api.py).

Every member submits their own report (accounts without a member profile cannot: 403). A report is
commented on by those who may read it — the home branch's secretary, the organizer and admins above it,
the host branch's secretary only for a copy shared with it; the author may not comment on their own
(403); everyone else gets 404, so that nobody learns the report exists. Each role acts on a fresh report;
a refused request leaves the whole database as it was.
"""
from __future__ import annotations

from sqlalchemy import delete

from portal import toolkit as tk
from portal_reports import schedule, writing
from portal_reports.models import Report
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"reports_api"}
READERS = expect(404, anonymous=401, home_sec=201, organizer=201, admin=201)


def _everyone_quarterly(_org) -> dict:
    """Every stage reports quarterly, so that one period key fits every role's member."""
    for key in schedule.STAGE_DEFAULTS:
        tk.set_setting("reports", f"frequency_{key}", "quarterly")
    return {}


def _quarter(_org, _values) -> dict:
    return {"period": schedule.period_of(tk.local_today(), 3).key, "body": "本季度的思想汇报。"}


def _report_of(member: tk.Member, share: bool = False) -> dict:
    period = schedule.writable_periods(member)[0]
    report = writing.submit(member, period, "我的思想汇报。", share_with_host=share)
    return {"report_id": report.id}


def _fresh_report(org) -> dict:
    return _report_of(Factory(tk.db).member(org.home))


def _shared_with_host(org) -> dict:
    return _report_of(Factory(tk.db).member(org.home, host=org.host), share=True)


def _member2s_report(org) -> dict:
    """member2's own report, written afresh for each role."""
    tk.db.session.execute(delete(Report).where(Report.member_id == org.member2.id))
    return _report_of(org.member2)


def _quarter_path(org) -> dict:
    """Everyone reports quarterly; the URL names this quarter (a draft per role's own member, none sent yet)."""
    _everyone_quarterly(org)
    tk.db.session.execute(delete(Report))
    return {"period": schedule.period_of(tk.local_today(), 3).key}


COMMENT = {"body": "请结合工作再谈谈体会。", "return": True}

CASES = [
    PostCase("reports_api.post_report", expect(201, anonymous=401, organizer=403, admin=403), _everyone_quarterly,
             _quarter, json=True),
    PostCase("reports_api.post_comment", READERS, _fresh_report, COMMENT, json=True),
    # issue 21: every member keeps their own draft (PUT); accounts without a member profile cannot
    PostCase("reports_api.put_draft", expect(200, anonymous=401, organizer=403, admin=403), _quarter_path,
             {"body": "写到一半的汇报。"}, json=True, method="PUT"),
    PostCase("reports_api.post_comment", expect(404, anonymous=401, home_sec=201, host_sec=201, organizer=201,
                                                admin=201), _shared_with_host, COMMENT, json=True),
    # the author reads their report but does not comment on it
    PostCase("reports_api.post_comment", {**READERS, "member2": (403,)}, _member2s_report,
             {"body": "我自己补充一句。"}, json=True),
]


def test_every_reports_api_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_reports_api_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9
