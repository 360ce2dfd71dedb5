"""The personal report pages: who sees what (GET matrix), writing with the autosaved draft, sending,
reading (audited, marks it read), commenting and returning, resubmitting, the inbox, the overdue list
and its .xlsx, the dashboard panels and the pages in zh_CN.

Pages read the real clock, so periods are taken from ``schedule`` at the current local day.
member1 is away (quarterly reports); member2 is a full member at home (yearly).
"""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_reports import reading, schedule, widgets, writing
from portal_reports.models import Report
from tests.conftest import login
from tests.helpers.query_counter import count_queries
from tests.helpers.permission_matrix import check_matrix, expect

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def current(member: tk.Member) -> str:
    return schedule.writable_periods(member)[0]


def _login(client, username: str) -> None:
    login(client, username)
    client.get("/")  # today's first request records the daily login, not the page under test


def sent_report(db, member: tk.Member, body: str = "What I learned this quarter.", *, share: bool = False) -> Report:
    report = writing.submit(member, current(member), body, share_with_host=share)
    db.session.commit()
    return report


def reads(db, report: Report) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reports.read",
                                                                     AuditEntry.target_id == str(report.id)))


# -- who sees what ------------------------------------------------------------------------------------------------

READERS = dict(home_sec=200, organizer=200, admin=200)


def test_reports_get_matrix(app, db, org):
    report = sent_report(db, org.member1)
    shared = sent_report(db, org.member2, "Shared with nobody: member2 has no host.")
    assert shared.share_with_host is False
    check_matrix(app, org, {
        "reports.mine": expect(200, anonymous=302, organizer=403, admin=403),
        # member1 is quarterly: a quarter key is only a period for member1 (member2 and the others are yearly)
        "reports.write": expect(404, anonymous=302, member1=200, organizer=403, admin=403),
        "reports.inbox": expect(403, anonymous=302, host_sec=200, foreign_sec=200, **READERS),
        # the report of member1 (not shared): the author and the home branch's readers, nobody else
        "reports.show": expect(404, anonymous=302, member1=200, **READERS),
        "reports.overdue": expect(403, anonymous=302, host_sec=200, foreign_sec=200, **READERS),
        "reports.overdue_xlsx": expect(403, anonymous=302, host_sec=200, foreign_sec=200, **READERS),
    }, blueprints={"reports"}, url_values={
        "reports.write": {"period": current(org.member1)},
        "reports.show": {"report_id": report.id},
    })


def test_other_units_are_not_in_scope(client, db, org):
    _login(client, "foreign-secretary")
    assert client.get(f"/reports/inbox?unit={org.home.id}").status_code == 404
    assert client.get(f"/reports/overdue?unit={org.home.id}").status_code == 404
    assert client.get(f"/reports/overdue.xlsx?unit={org.home.id}").status_code == 404


def test_host_reads_only_a_shared_copy(client, db, org):
    private = sent_report(db, org.member1, "Not for the host.")
    _login(client, "host-secretary")
    assert client.get(f"/reports/{private.id}").status_code == 404
    assert f"report-{private.id}" not in client.get(f"/reports/inbox?unit={org.host.id}").get_data(as_text=True)
    writing.submit(org.member1, schedule.writable_periods(org.member1)[1], "For the host too.", share_with_host=True)
    db.session.commit()
    shared = db.session.scalar(select(Report).where(Report.share_with_host.is_(True)))
    assert f"report-{shared.id}" in client.get(f"/reports/inbox?unit={org.host.id}").get_data(as_text=True)
    assert "For the host too." in client.get(f"/reports/{shared.id}").get_data(as_text=True)


# -- writing ------------------------------------------------------------------------------------------------------


def test_draft_is_autosaved_then_sent(client, db, org):
    period = current(org.member1)
    _login(client, "member1")
    page = client.get(f"/reports/write/{period}").get_data(as_text=True)
    assert 'id="report-form"' in page and "autosave.js" in page
    saved = client.post(f"/reports/write/{period}/draft", json={"body": "Half a thought", "share_with_host": None})
    assert saved.status_code == 200 and saved.json["status"] == "draft"
    saved = client.post(f"/reports/write/{period}/draft", json={"body": "Half a thought, and more"})
    assert saved.status_code == 200
    report = db.session.scalar(select(Report).where(Report.member_id == org.member1.id))
    assert (report.status, report.body) == ("draft", "Half a thought, and more")
    # the draft is nobody else's business and not a sent report
    assert client.get(f"/reports/{report.id}").status_code == 404
    assert "Half a thought, and more" in client.get(f"/reports/write/{period}").get_data(as_text=True)

    response = client.post(f"/reports/write/{period}", data={"body": "The whole report."})
    assert response.status_code == 302 and response.location.endswith("/reports/")
    db.session.expire_all()
    assert (report.status, report.body) == ("submitted", "The whole report.")
    assert db.session.scalar(select(func.count(tk.Activity.id)).where(
        tk.Activity.actor_id == org.member1.id, tk.Activity.verb == "report.submitted")) == 1
    # once sent, the page shows it instead of a form; the autosave is refused
    page = client.get(f"/reports/write/{period}").get_data(as_text=True)
    assert 'id="report-form"' not in page and f"/reports/{report.id}" in page
    assert client.post(f"/reports/write/{period}/draft", json={"body": "Overwrite"}).status_code == 409
    db.session.expire_all()
    assert report.body == "The whole report."


def test_bad_inputs_keep_the_text(client, db, org):
    period = current(org.member1)
    _login(client, "member1")
    response = client.post(f"/reports/write/{period}", data={"body": "   "})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.post(f"/reports/write/{period}/draft", json={"text": "wrong field"}).status_code == 422
    assert client.post(f"/reports/write/{period}/draft", json={"body": "x", "share_with_host": "yes"}).status_code == 422
    assert client.post("/reports/write/1999-Q1/draft", json={"body": "x"}).status_code == 404
    assert client.get("/reports/write/nonsense").status_code == 404
    assert db.session.scalar(select(func.count(Report.id))) == 0


# -- reading, comments, returns -----------------------------------------------------------------------------------


def test_reading_is_audited_and_marks_it_read(client, db, org):
    report = sent_report(db, org.member1, "Line one.\nLine two.")
    _login(client, "member1")
    assert "Line one." in client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert reads(db, report) == 0  # the author's own reads are not audited
    db.session.expire_all()
    assert report.status == "submitted"
    client.post("/logout")
    _login(client, "home-secretary")
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Line two." in page and 'id="comment-form"' in page
    client.get(f"/reports/{report.id}")
    assert reads(db, report) == 2  # every read by someone else
    db.session.expire_all()
    assert report.status == "read" and report.first_read_at is not None


def test_return_then_resubmit(client, db, org):
    report = sent_report(db, org.member1, "Too short.")
    period = report.period
    _login(client, "home-secretary")
    response = client.post(f"/reports/{report.id}/comment", data={"body": "Please say more about your work.",
                                                                  "return": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert report.status == "returned"
    assert client.post(f"/reports/{report.id}/comment", data={"body": ""}).status_code in (409, 422)
    client.post("/logout")

    _login(client, "member1")
    mine = client.get("/reports/").get_data(as_text=True)
    assert f'href="/reports/write/{period}"' in mine
    page = client.get(f"/reports/write/{period}").get_data(as_text=True)
    assert "Please say more about your work." in page and "Too short." in page
    response = client.post(f"/reports/write/{period}", data={"body": "Too short. Now longer, with my work."})
    assert response.status_code == 302
    db.session.expire_all()
    assert (report.status, report.body) == ("submitted", "Too short. Now longer, with my work.")
    assert db.session.scalar(select(func.count(Report.id))) == 1  # the same row
    assert db.session.scalar(select(func.count(tk.Activity.id)).where(tk.Activity.verb == "report.submitted")) == 2


def test_comment_without_text_is_refused(client, db, org):
    report = sent_report(db, org.member1)
    _login(client, "home-secretary")
    response = client.post(f"/reports/{report.id}/comment", data={"body": "  "})
    assert response.status_code == 422 and 'id="comment-err"' in response.get_data(as_text=True)
    assert not report.comments


def test_inbox_lists_the_units_reports(client, db, org):
    first = sent_report(db, org.member1, "From afar.")
    second = sent_report(db, org.member2, "From home.")
    writing.save_draft(org.outsider, current(org.outsider), "Not sent")
    db.session.commit()
    _login(client, "home-secretary")
    page = client.get("/reports/inbox").get_data(as_text=True)
    assert f"report-{first.id}" in page and f"report-{second.id}" in page and "Not sent" not in page


def test_the_inbox_reads_both_of_its_halves_through_an_index(client, db, org):
    """"Sent from the subtree OR shared with it as host": with the host half unindexed, the database read every
    report of the county for each page of a branch's inbox, and an OR of the halves sorted every report of the
    subtree (issue 20). Both the count and the page read each half from its covering index, never the table
    (the page then reads only its own reports by id). Checked on SQLite's plan."""
    if db.engine.dialect.name != "sqlite":
        return
    sent_report(db, org.member1, "Shared.", share=True)
    _login(client, "host-secretary")
    with count_queries() as queries:
        assert client.get(f"/reports/inbox?unit={org.host.id}").status_code == 200
    listed = [q for q in queries if "FROM reports_report" in q.sql]
    assert len(listed) == 2  # the count and the page
    with db.engine.connect() as connection:
        for statement in listed:
            plan = " | ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql,
                                                                             tuple(statement.parameters)))
            assert "SCAN reports_report" not in plan, plan
            assert "COVERING INDEX ix_reports_report_home_sent" in plan, plan
            assert "COVERING INDEX ix_reports_report_host_sent" in plan, plan


def test_the_inbox_lists_a_report_both_sent_from_and_shared_with_the_subtree_once(client, db, org):
    """The halves are disjoint: a member hosted inside the reader's own subtree who shares the report is
    listed and counted once (the host half leaves out what the home half lists)."""
    org.member1.host_unit_id = org.home.id
    report = sent_report(db, org.member1, "Hosted at home.", share=True)
    assert report.home_unit_id == report.host_unit_id == org.home.id and report.share_with_host
    _login(client, "home-secretary")
    page = client.get(f"/reports/inbox?unit={org.home.id}").get_data(as_text=True)
    assert page.count(f'id="report-{report.id}"') == 1
    assert reading.inbox_count(org.home) == 1
    reader = next(w for w in widgets.member_widgets(org.home_sec) if w.template == "reports/widget_reader.html")
    assert reader.context["waiting"] == 1  # the dashboard's count of unread reports splits the same way


def test_the_reader_panel_counts_the_copies_shared_with_the_host(db, org):
    """The host branch's secretary is told of an unread copy shared with it (the panel's host half)."""
    sent_report(db, org.member1, "Shared.", share=True)
    sent_report(db, org.member2, "Not shared.")
    reader = next(w for w in widgets.member_widgets(org.host_sec) if w.template == "reports/widget_reader.html")
    assert reader.context["waiting"] == 1


# -- the overdue list ---------------------------------------------------------------------------------------------


def test_overdue_list_and_xlsx(client, db, org):
    previous = schedule.writable_periods(org.member1)[1]
    writing.submit(org.member1, previous, "Late but sent.")
    db.session.commit()
    _login(client, "home-secretary")
    page = client.get(f"/reports/overdue?unit={org.home.id}").get_data(as_text=True)
    assert f'id="member-{org.member2.id}"' in page and f'id="member-{org.member1.id}"' not in page
    response = client.get(f"/reports/overdue.xlsx?unit={org.home.id}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    names = {row[0] for row in rows}
    assert org.member2.name in names and org.member1.name not in names


# -- dashboard and language ---------------------------------------------------------------------------------------


def test_dashboard_panels(db, org):
    [mine] = widgets.member_widgets(org.member1.account)
    assert mine.context["period"] == current(org.member1) and mine.context["status"] is None
    sent_report(db, org.member1)
    [mine] = widgets.member_widgets(org.member1.account)
    assert mine.context["status"] == "submitted"
    titles = [widget.template for widget in widgets.member_widgets(org.home_sec)]
    assert "reports/widget_reader.html" in titles
    reader = next(w for w in widgets.member_widgets(org.home_sec) if w.template == "reports/widget_reader.html")
    assert reader.context["waiting"] == 1
    assert all(w.template != "reports/widget_reader.html" for w in widgets.member_widgets(org.member2.account))


def test_pages_in_chinese(client, db, org):
    report = sent_report(db, org.member1)
    _login(client, "member1")
    page = client.get(f"/reports/write/{schedule.writable_periods(org.member1)[1]}", headers=ZH)
    assert page.status_code == 200 and '<html lang="zh' in page.get_data(as_text=True)
    assert client.get("/reports/", headers=ZH).status_code == 200
    assert client.get(f"/reports/{report.id}", headers=ZH).status_code == 200
