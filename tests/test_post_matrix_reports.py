"""Every write route of the personal report pages × every role (GET routes: tests/test_reports_views.py).

member1 (away: quarterly reports) writes for the current quarter; the other members write yearly, so a
quarter is no period of theirs (404), and accounts without a member profile write nothing (403). A
comment is for the readers of member1's report: the home branch's secretaries and those above (the
organizer, the admin); the author may not comment on their own report (403); anyone else is told
nothing (404). Each request gets a fresh target: member1's report for the quarter is written anew.
"""
from __future__ import annotations

from sqlalchemy import delete

from portal import toolkit as tk
from portal_reports import schedule, writing
from portal_reports.models import Report
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"reports"}
WRITERS = dict(anonymous=302, organizer=403, admin=403)
READERS = expect(404, anonymous=302, member1=403, home_sec=302, organizer=302, admin=302)


def _fresh_quarter(org) -> dict:
    """member1 has not written for the current quarter yet; the quarter is the URL's period."""
    period = schedule.writable_periods(org.member1)[0]
    tk.db.session.execute(delete(Report).where(Report.member_id == org.member1.id))
    tk.db.session.execute(delete(tk.Activity).where(tk.Activity.verb == "report.submitted"))
    return {"period": period}


def _sent_report(org) -> dict:
    """A fresh report of member1, sent and not yet read."""
    period = _fresh_quarter(org)["period"]
    return {"report_id": writing.submit(org.member1, period, "What I did this quarter.").id}


CASES = [
    PostCase("reports.write", expect(404, member1=302, **WRITERS), _fresh_quarter, {"body": "My report for the quarter."}),
    PostCase("reports.draft", expect(404, member1=200, **WRITERS), _fresh_quarter, {"body": "Half written"}, json=True),
    PostCase("reports.comment", READERS, _sent_report, {"body": "Thank you; say more about your work.",
                                                        "return": "1"}),
]


def test_every_reports_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_reports_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9
