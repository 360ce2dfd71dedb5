""""Exactly once" rules are database constraints, so concurrent requests cannot break them (issue 14).

Each rule is checked twice: the constraint itself refuses a second row written
directly (this fails without the index, whatever the services check first),
and the service under 20 concurrent threads yields one row and no error. Run
on SQLite and on PostgreSQL (PORTAL_TEST_DATABASE_URL), where READ COMMITTED
lets a check-then-insert race.
"""
from __future__ import annotations

import pytest
from flask_login import current_user
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_mobility import checkins, outflows
from portal_mobility.models import Certificate, CheckIn
from portal_quizzes import services as quizzes
from portal_quizzes.models import Attempt, Quiz
from tests.conftest import PG_URL, login
from tests.test_points_concurrency import run_concurrently
from tests.test_quizzes_helpers import NOW, make_quiz


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _refused(db, row) -> bool:
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return True
    return False


# --- quizzes: one open attempt per member and quiz ---------------------------------------------------------

def test_a_second_open_attempt_is_refused_by_the_database(db, org):
    quiz = make_quiz(db)
    attempt, _created = quizzes.start_attempt(quiz, org.member1, NOW)
    db.session.commit()
    assert _refused(db, Attempt(quiz_id=quiz.id, member_id=org.member1.id, number=attempt.number + 1, layout=[]))
    attempt.state = "finished"
    db.session.flush()
    assert not _refused(db, Attempt(quiz_id=quiz.id, member_id=org.member1.id, number=attempt.number + 1, layout=[]))


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_starts_of_one_quiz_make_one_attempt(app, db, org, round_):
    quiz_id, member_id = make_quiz(db).id, org.member1.id
    started = []

    def work(_index):
        attempt, _created = quizzes.start_attempt(tk.db.session.get(Quiz, quiz_id),
                                                  tk.db.session.get(tk.Member, member_id), NOW)
        started.append(attempt.id)
        tk.db.session.commit()

    assert run_concurrently(app, work) == []
    assert _count(db, Attempt, Attempt.quiz_id == quiz_id, Attempt.member_id == member_id) == 1
    assert len(set(started)) == 1  # every request answered with the one attempt


# --- mobility: one pending check-in per member and host, one active certificate per registration ----------

def _approved(db, org):
    outflow = outflows.register_outflow(org.member2, {"destination": "东莞", "start_date": "2026-01-01", "reason": "务工"})
    certificate = outflows.approve_outflow(outflow)
    db.session.commit()
    return outflow, certificate


def test_a_second_pending_check_in_at_one_host_is_refused_by_the_database(db, org):
    outflow, _certificate = _approved(db, org)
    checkin = checkins.request_checkin(org.member2, org.host)
    db.session.commit()
    assert _refused(db, CheckIn(member_id=org.member2.id, outflow_id=outflow.id, host_unit_id=org.host.id))
    checkin.status = "confirmed"
    db.session.flush()
    assert not _refused(db, CheckIn(member_id=org.member2.id, outflow_id=outflow.id, host_unit_id=org.host.id))


def test_a_second_active_certificate_of_one_registration_is_refused_by_the_database(db, org):
    outflow, certificate = _approved(db, org)
    twin = dict(outflow_id=outflow.id, member_id=outflow.member_id, issuing_unit_id=outflow.home_unit_id,
                valid_until=certificate.valid_until)
    assert _refused(db, Certificate(number="LDTWIN0001", **twin))
    certificate.status = "closed"
    db.session.flush()
    assert not _refused(db, Certificate(number="LDTWIN0002", **twin))


def test_concurrent_check_ins_at_one_host_make_one_pending(app, db, org):
    _approved(db, org)
    member_id, host_id = org.member2.id, org.host.id
    answered = []

    def work(_index):
        checkin = checkins.request_checkin(tk.db.session.get(tk.Member, member_id), tk.db.session.get(tk.OrgUnit, host_id))
        answered.append(checkin.id)
        tk.db.session.commit()

    assert run_concurrently(app, work) == []
    assert _count(db, CheckIn, CheckIn.member_id == member_id, CheckIn.status == "pending") == 1
    assert len(set(answered)) == 1


# --- SQLite locks: a page's audit write and the error page -------------------------------------------------

@pytest.mark.skipif(bool(PG_URL), reason="SQLite's snapshot upgrade is what fails")
def test_a_reading_page_audits_although_another_request_wrote_since_it_began(app, db, org):
    from portal.audit.services import audit

    member_id = org.member1.id
    db.session.commit()
    with app.test_request_context("/org/members/1", method="GET"):
        db.session.get(tk.Member, member_id)  # the page's read transaction begins
        with tk.write_intent(), tk.db.engine.begin() as other:  # another request writes meanwhile
            other.execute(update(tk.Member).where(tk.Member.id == member_id).values(name="改名"))
        audit("member.id_number_viewed", "member", member_id)
        db.session.commit()
    assert _count(db, AuditEntry, AuditEntry.action == "member.id_number_viewed") == 1


def test_the_error_page_renders_when_the_database_fails(app, client, org, monkeypatch):
    assert login(client, "home-secretary").status_code == 302

    def locked(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    def broken_page():
        assert current_user.is_authenticated  # the account is loaded, as on every member page
        event.listen(tk.db.engine, "before_cursor_execute", locked)
        tk.db.session.rollback()  # from now on every statement fails, as on a database that stays locked
        tk.db.session.execute(select(tk.Member.id))

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "web.dashboard", broken_page)
    try:
        response = client.get("/dashboard")
    finally:
        if event.contains(tk.db.engine, "before_cursor_execute", locked):
            event.remove(tk.db.engine, "before_cursor_execute", locked)
    assert response.status_code == 500
    assert "Something went wrong." in response.get_data(as_text=True)
