"""Care services: routing, the whole transition table, SLA escalation on a controlled clock,
notifications, activities, micro-wishes, personal data, dashboard figures, demo data."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_care import access, figures, filing, microwishes, personal, sla, vocabulary, workflow
from portal.toolkit import Conflict, Forbidden, Invalid
from portal_care.models import CareEvent, CareRequest, CareRoutingRule, CareWish

T0 = datetime(2026, 3, 2, 8, 0, 0)


def make_request(db, org, *, member=None, where="hometown", consent=False, category="family", urgency="normal",
                 now=T0, title="Mother needs care"):
    member = member or org.member1
    req = filing.file_request(member, {
        "category": category, "title": title, "description": "She fell and cannot walk far.", "urgency": urgency,
        "where": where, "consent_host": consent}, filed_by=member.account, now=now)
    db.session.commit()
    return req


def inbox(db, account) -> list[str]:
    from portal.notify.models import Notification

    return list(db.session.scalars(select(Notification.title).where(Notification.account_id == account.id)))


# -- routing -----------------------------------------------------------------


def test_hometown_need_goes_to_home_branch(db, org):
    req = make_request(db, org, where="hometown")
    assert (req.unit_id, req.routed_by, req.status) == (org.home.id, "home", "new")
    assert "New care request: Mother needs care" in inbox(db, org.home_sec)
    assert inbox(db, org.host_sec) == []


def test_host_need_with_consent_goes_to_host_branch(db, org):
    req = make_request(db, org, where="host", consent=True, category="wages", title="Wages owed")
    assert (req.unit_id, req.routed_by) == (org.host.id, "host")
    assert "New care request: Wages owed" in inbox(db, org.host_sec)
    assert inbox(db, org.home_sec) == []


def test_host_need_without_consent_stays_with_home_branch(db, org):
    req = make_request(db, org, where="host", consent=False)
    assert (req.unit_id, req.routed_by) == (org.home.id, "no_consent")


def test_host_need_of_member_without_host_branch_goes_home(db, org):
    req = make_request(db, org, member=org.member2, where="host", consent=True)
    assert (req.unit_id, req.routed_by) == (org.home.id, "no_host")


def test_category_rule_routes_unpaid_wages_to_legal_aid(db, org, factory):
    legal = factory.unit("Legal Aid Centre", "branch", org.root)
    shenzhen_legal = factory.unit("Shenzhen Legal Aid", "branch", org.mobile)
    db.session.add(CareRoutingRule(category="wages", where="any", scope_unit_id=None, target_unit_id=legal.id))
    # More specific: wages of members hosted under the mobile general branch go to Shenzhen's legal aid.
    db.session.add(CareRoutingRule(category="wages", where="host", scope_unit_id=org.mobile.id,
                                   target_unit_id=shenzhen_legal.id))
    db.session.commit()
    hosted = make_request(db, org, where="host", consent=True, category="wages")
    home = make_request(db, org, where="hometown", category="wages")
    other = make_request(db, org, where="hometown", category="medical")
    assert (hosted.unit_id, hosted.routed_by) == (shenzhen_legal.id, "rule")
    assert (home.unit_id, home.routed_by) == (legal.id, "rule")
    assert other.unit_id == org.home.id


def test_inactive_and_custom_categories(db, org):
    vocabulary.save_category("medical", "", False, 10)
    vocabulary.save_category("farmland", "Farmland back home", True, 5)
    db.session.commit()
    keys = [key for key, _label, _active in vocabulary.categories()]
    assert "medical" not in keys and "farmland" in keys
    with pytest.raises(Invalid) as error:
        make_request(db, org, category="medical")
    assert "category" in error.value.field_errors
    assert make_request(db, org, category="farmland").category == "farmland"


def test_validation_reports_every_bad_field(db, org):
    with pytest.raises(Invalid) as error:
        filing.file_request(org.member1, {"category": "nope", "title": "", "description": "x" * 6000,
                                            "urgency": "whenever", "where": "moon", "consent_host": 3},
                              filed_by=org.member1.account, now=T0)
    assert set(error.value.field_errors) == {"category", "title", "description", "urgency", "where", "consent_host"}
    db.session.rollback()
    assert db.session.scalar(select(func.count(CareRequest.id))) == 0


# -- the transition table ----------------------------------------------------

EXTRA = {"rejected": {"reason": "Not something we can help with"},
         "resolved": {"summary": "Neighbours visit twice a week", "support_kind": "visit"},
         "closed": {"rating": 4}}


def _actors(org):
    return {access.STAFF: org.home_sec, access.HANDLER: org.member2.account, access.REQUESTER: org.member1.account}


def _in_state(db, org, status):
    req = make_request(db, org)
    req.handler_account_id = org.member2.account_id
    req.status = status
    if status in ("resolved", "closed"):
        req.resolved_at = T0 + timedelta(hours=3)
    db.session.commit()
    return req


ALL_PAIRS = [(a, b) for a in vocabulary.STATUSES for b in vocabulary.STATUSES]


@pytest.mark.parametrize("current,to", ALL_PAIRS)
def test_every_transition_pair(db, org, current, to):
    """Each (from, to): the roles in the table may move; other roles get 403; pairs not in the table 409."""
    allowed = workflow.TRANSITIONS[current].get(to)
    for role, account in _actors(org).items():
        req = _in_state(db, org, current)
        kwargs = EXTRA.get(to, {}) if to != "closed" or role == access.REQUESTER else {}
        if allowed is None:
            with pytest.raises(Conflict):
                workflow.transition(req, account, to, now=T0 + timedelta(hours=5), **kwargs)
            assert req.status == current
        elif role in allowed:
            event = workflow.transition(req, account, to, now=T0 + timedelta(hours=5), **kwargs)
            db.session.commit()
            assert (req.status, event.from_status, event.to_status) == (to, current, to)
        else:
            with pytest.raises(Forbidden):
                workflow.transition(req, account, to, now=T0 + timedelta(hours=5), **kwargs)
        db.session.rollback()


def test_transition_table_has_the_documented_flow():
    path = ["new", "accepted", "in_progress", "waiting_for_member", "resolved", "closed", "reopened"]
    for current, following in zip(path, path[1:], strict=False):
        assert following in workflow.TRANSITIONS[current], (current, following)
    assert workflow.TRANSITIONS["rejected"] == {}


def test_reject_needs_a_reason_and_resolve_needs_summary_and_kind(db, org):
    req = make_request(db, org)
    with pytest.raises(Invalid) as error:
        workflow.transition(req, org.home_sec, "rejected", now=T0)
    assert "reason" in error.value.field_errors
    workflow.transition(req, org.home_sec, "accepted", now=T0)
    with pytest.raises(Invalid) as error:
        workflow.transition(req, org.home_sec, "resolved", now=T0, support_kind="money", support_amount="abc")
    assert {"summary", "support_amount"} <= set(error.value.field_errors)
    with pytest.raises(Invalid) as error:
        workflow.transition(req, org.home_sec, "resolved", now=T0, summary="Paid", support_kind="money")
    assert "support_amount" in error.value.field_errors
    workflow.transition(req, org.home_sec, "resolved", now=T0, summary="Paid", support_kind="money",
                        support_amount="1200.5")
    db.session.commit()
    assert (req.status, req.support_amount) == ("resolved", Decimal("1200.50"))


def test_member_confirms_with_rating_or_reopens(db, org):
    req = make_request(db, org)
    workflow.transition(req, org.home_sec, "accepted", now=T0 + timedelta(hours=1))
    workflow.transition(req, org.home_sec, "resolved", now=T0 + timedelta(days=2), summary="Done",
                        support_kind="visit")
    with pytest.raises(Invalid) as error:
        workflow.transition(req, org.member1.account, "closed", now=T0 + timedelta(days=3), rating=9)
    assert "rating" in error.value.field_errors
    workflow.transition(req, org.member1.account, "reopened", now=T0 + timedelta(days=3), comment="Still alone")
    assert req.status == "reopened" and req.reopen_count == 1 and req.resolved_at is None
    assert req.resolve_due_at == T0 + timedelta(days=3, hours=336)
    workflow.transition(req, org.home_sec, "resolved", now=T0 + timedelta(days=4), summary="Neighbour visits daily",
                        support_kind="visit")
    workflow.transition(req, org.member1.account, "closed", now=T0 + timedelta(days=5), rating=5,
                        rating_comment="Thank you")
    db.session.commit()
    assert (req.status, req.rating, req.rating_comment) == ("closed", 5, "Thank you")


def test_first_response_is_the_first_answer_by_staff(db, org):
    req = make_request(db, org)
    workflow.add_comment(req, org.member1.account, "More details", now=T0 + timedelta(hours=1))
    workflow.add_comment(req, org.home_sec, "Internal only", now=T0 + timedelta(hours=2), internal=True)
    assert req.first_response_at is None
    workflow.add_comment(req, org.home_sec, "We are on it", now=T0 + timedelta(hours=3))
    assert req.first_response_at == T0 + timedelta(hours=3)


def test_member_comment_while_waiting_puts_request_back_in_progress(db, org):
    req = make_request(db, org)
    workflow.transition(req, org.home_sec, "accepted", now=T0)
    workflow.transition(req, org.home_sec, "waiting_for_member", now=T0, comment="Which hospital?")
    workflow.add_comment(req, org.member1.account, "County hospital", now=T0 + timedelta(hours=1))
    assert req.status == "in_progress"


def test_members_cannot_write_internal_notes(db, org):
    req = make_request(db, org)
    with pytest.raises(Forbidden):
        workflow.add_comment(req, org.member1.account, "psst", now=T0, internal=True)


# -- assignment, notifications and activities --------------------------------


def test_assign_accepts_notifies_and_handler_gets_the_points_activity(db, org):
    req = make_request(db, org)
    with pytest.raises(Invalid):
        workflow.assign(req, org.home_sec, org.outsider.account_id, now=T0)  # not a member of the unit
    with pytest.raises(Forbidden):
        workflow.assign(req, org.member1.account, org.member2.account_id, now=T0)
    workflow.assign(req, org.home_sec, org.member2.account_id, now=T0 + timedelta(hours=1))
    db.session.commit()
    assert (req.status, req.handler_account_id, req.first_response_at) == (
        "accepted", org.member2.account_id, T0 + timedelta(hours=1))
    assert any("You were asked to handle" in t for t in inbox(db, org.member2.account))
    assert any("Accepted" in t for t in inbox(db, org.member1.account))
    workflow.transition(req, org.member2.account, "resolved", now=T0 + timedelta(days=1), summary="Visited",
                        support_kind="visit")
    db.session.commit()
    acts = db.session.execute(select(tk.Activity.verb, tk.Activity.actor_id).order_by(tk.Activity.id)).all()
    assert ("care.requested", org.member1.id) in acts
    assert ("care.resolved", org.member2.id) in acts
    # the actor (handler) is not notified of their own move; requester and secretary are
    assert any("Resolved" in t for t in inbox(db, org.member1.account))
    assert any("Resolved" in t for t in inbox(db, org.home_sec))
    assert not any("Resolved" in t for t in inbox(db, org.member2.account))


def test_care_resolved_is_recorded_once_even_after_reopen(db, org):
    req = make_request(db, org)
    workflow.assign(req, org.home_sec, org.member2.account_id, now=T0)
    for day in (1, 3):
        workflow.transition(req, org.member2.account, "resolved", now=T0 + timedelta(days=day), summary="x",
                            support_kind="advice")
        workflow.transition(req, org.member1.account, "reopened", now=T0 + timedelta(days=day + 1))
    db.session.commit()
    assert db.session.scalar(select(func.count(tk.Activity.id)).where(tk.Activity.verb == "care.resolved")) == 1


# -- SLA and escalation --------------------------------------------------------


def test_overdue_requests_escalate_once_per_missed_target(db, org):
    req = make_request(db, org, urgency="normal")  # 48 h to first response, 336 h to resolution
    assert req.respond_due_at == T0 + timedelta(hours=48)
    assert sla.scan(T0 + timedelta(hours=47)) == []
    alerts = sla.scan(T0 + timedelta(hours=49))
    db.session.commit()
    # one for whoever must act, one telling the requester where their request went
    assert [a.kind for a in alerts] == ["care.overdue", "care.escalated"]
    assert alerts[1].account_ids == (org.member1.account_id,) and "County Committee" in str(alerts[1].message)
    assert alerts[0].unit_id == org.root.id and alerts[0].permission == "care.manage"
    # nobody holds a role on the township: it goes to the county, whose organizer is told (by the core's one rule)
    assert tk.responsible_accounts(org.township, "care.manage") == (org.root, [org.organizer.id])
    assert req.escalated_unit_id == org.root.id
    assert sla.scan(T0 + timedelta(hours=50)) == []  # idempotent
    workflow.add_comment(req, org.home_sec, "Sorry for the delay", now=T0 + timedelta(hours=51))
    db.session.commit()
    assert sla.scan(T0 + timedelta(hours=300)) == []
    alerts = sla.scan(T0 + timedelta(hours=337))
    db.session.commit()
    assert [(a.kind, a.unit_id) for a in alerts] == [("care.overdue", org.root.id), ("care.escalated", None)]
    notes = [e for e in req.events if e.kind == "escalated"]
    assert len(notes) == 2 and all(e.internal for e in notes)


def test_urgency_setting_changes_the_due_dates(db, org):
    tk.set_setting("care", "sla_response_hours_urgent", 2)
    db.session.commit()
    req = make_request(db, org, urgency="urgent")
    assert req.respond_due_at == T0 + timedelta(hours=2)
    assert req.resolve_due_at == T0 + timedelta(hours=72)


def test_core_alerts_scan_puts_escalations_in_inboxes(db, org):
    from portal.alerts import scan

    make_request(db, org, urgency="urgent")
    assert scan(T0 + timedelta(hours=5)) == 2
    assert any("Overdue care request" in t for t in inbox(db, org.organizer))
    assert any("was escalated to County Committee" in t for t in inbox(db, org.member1.account))
    assert scan(T0 + timedelta(hours=6)) == 0  # told once: the escalation is the marker


def test_resolved_requests_close_automatically(db, org):
    req = make_request(db, org)
    workflow.transition(req, org.home_sec, "accepted", now=T0)
    workflow.transition(req, org.home_sec, "resolved", now=T0 + timedelta(days=1), summary="x", support_kind="advice")
    db.session.commit()
    sla.scan(T0 + timedelta(days=14))
    assert req.status == "resolved"
    sla.scan(T0 + timedelta(days=16))
    assert req.status == "closed" and req.rating is None


# -- privacy -----------------------------------------------------------------


def test_who_sees_a_host_routed_request(db, org):
    req = make_request(db, org, where="host", consent=True)
    sees = {name: access.can_view(req, account) for name, account in org.accounts.items()}
    assert sees == {"member1": True, "member2": False, "outsider": False, "home_sec": False, "host_sec": True,
                    "foreign_sec": False, "organizer": True, "admin": True}
    workflow.assign(req, org.host_sec, org.host_sec.id, now=T0)
    assert access.roles_on(req, org.host_sec) == {access.STAFF, access.HANDLER}


def test_internal_notes_hidden_from_member_and_export(db, org):
    req = make_request(db, org)
    workflow.add_comment(req, org.home_sec, "Visible answer", now=T0)
    workflow.add_comment(req, org.home_sec, "SECRET internal assessment", now=T0, internal=True)
    db.session.commit()
    assert [e.body for e in workflow.timeline(req, org.member1.account) if e.body] == ["Visible answer"]
    assert "SECRET internal assessment" in [e.body for e in workflow.timeline(req, org.home_sec)]
    data = personal.personal_data(org.member1)
    text = repr(data)
    assert "Mother needs care" in text and "Visible answer" in text
    assert "SECRET" not in text


# -- micro-wishes --------------------------------------------------------------


def test_wish_lifecycle_and_visibility(db, org):
    wish = microwishes.create_wish(org.member2, {"title": "A school bag", "description": "for my daughter"}, now=T0)
    db.session.commit()
    assert microwishes.open_wishes_for(org.member1) == []
    assert not microwishes.can_view_wish(wish, org.member1.account)
    assert microwishes.pending_wishes_for(org.home_sec) == [wish]
    assert microwishes.pending_wishes_for(org.foreign_sec) == []
    with pytest.raises(Forbidden):
        microwishes.review_wish(wish, org.foreign_sec, approve=True, unit_id=org.home.id, now=T0)
    # the secretary may only choose a subtree they handle that contains the wisher
    assert [u.id for u in microwishes.wish_scope_choices(wish, org.home_sec)] == [org.home.id]
    with pytest.raises(Invalid):
        microwishes.review_wish(wish, org.home_sec, approve=True, unit_id=org.root.id, now=T0)
    microwishes.review_wish(wish, org.home_sec, approve=True, unit_id=org.home.id, now=T0)
    db.session.commit()
    assert microwishes.open_wishes_for(org.member1) == [wish]
    assert microwishes.open_wishes_for(org.outsider) == []
    assert not microwishes.can_view_wish(wish, org.outsider.account)
    assert not microwishes.can_view_wish(wish, org.foreign_sec)
    with pytest.raises(Forbidden):
        microwishes.claim_wish(wish, org.member2, now=T0)
    microwishes.claim_wish(wish, org.member1, now=T0 + timedelta(hours=1))
    with pytest.raises(Forbidden):
        microwishes.confirm_wish(wish, org.member1, now=T0)
    with pytest.raises(Conflict):
        microwishes.confirm_wish(wish, org.member2, now=T0)
    microwishes.fulfil_wish(wish, org.member1, now=T0 + timedelta(days=1))
    microwishes.confirm_wish(wish, org.member2, now=T0 + timedelta(days=2))
    db.session.commit()
    assert wish.status == "confirmed"
    act = db.session.scalar(select(tk.Activity).where(tk.Activity.verb == "wish.fulfilled"))
    assert act.actor_id == org.member1.id and act.object_id == str(wish.id)
    assert any("Thank you" in t for t in inbox(db, org.member1.account))


def test_wish_rejection_needs_reason(db, org):
    wish = microwishes.create_wish(org.member1, {"title": "Rice cooker"}, now=T0)
    with pytest.raises(Invalid):
        microwishes.review_wish(wish, org.home_sec, approve=False, now=T0)
    microwishes.review_wish(wish, org.home_sec, approve=False, reason="Please apply to the hardship fund", now=T0)
    assert wish.status == "rejected"
    with pytest.raises(Conflict):
        microwishes.claim_wish(wish, org.member2, now=T0)


# -- dashboard -----------------------------------------------------------------


def test_dashboard_figures(db, org):
    now = T0 + timedelta(days=30)
    times = [(2, 10, 5), (4, 30, 3), (6, 50, None)]  # hours to first response, to resolution, rating
    for i, (respond, resolve, rating) in enumerate(times):
        req = make_request(db, org, now=T0, title=f"r{i}")
        workflow.transition(req, org.home_sec, "accepted", now=T0 + timedelta(hours=respond))
        workflow.transition(req, org.home_sec, "resolved", now=T0 + timedelta(hours=resolve), summary="ok",
                            support_kind="advice")
        if rating:
            workflow.transition(req, org.member1.account, "closed", now=T0 + timedelta(hours=resolve + 1), rating=rating)
    make_request(db, org, now=T0, title="late")  # open, overdue by now
    make_request(db, org, where="host", consent=True, now=now - timedelta(hours=1), title="fresh")  # open, on time
    db.session.commit()
    total, rows = figures.dashboard(org.root, now=now)
    assert (total.total, total.open, total.overdue) == (5, 2, 1)
    assert total.median_response_hours == 4.0 and total.median_resolution_hours == 30.0
    assert total.satisfaction == 4.0 and total.ratings == 2
    by_unit = {r.unit_id: r for r in rows}
    assert (by_unit[org.home.id].open, by_unit[org.home.id].overdue) == (1, 1)
    assert (by_unit[org.host.id].open, by_unit[org.host.id].overdue) == (1, 0)
    home_total, _rows = figures.dashboard(org.home, now=now)
    assert home_total.total == 4
    assert figures.unit_counts(org.root, now=now) == {"new": 2, "open": 2, "overdue": 1}


# -- demo ----------------------------------------------------------------------


def test_demo_data_is_idempotent(db, app):
    from portal.demo import build_demo

    build_demo(members=4, password="demo-2026")
    counts = (db.session.scalar(select(func.count(CareRequest.id))), db.session.scalar(select(func.count(CareWish.id))),
              db.session.scalar(select(func.count(CareEvent.id))))
    build_demo(members=4, password="demo-2026")
    again = (db.session.scalar(select(func.count(CareRequest.id))), db.session.scalar(select(func.count(CareWish.id))),
             db.session.scalar(select(func.count(CareEvent.id))))
    assert counts == again and counts[0] == 3 and counts[1] == 1
    requests = db.session.scalars(select(CareRequest)).all()
    statuses = {r.title: (r.status, r.routed_by) for r in requests}
    assert statuses["深圳工地三月份工资被拖欠"] == ("in_progress", "host")
    assert statuses["老家母亲腿脚不便，需要有人照看"] == ("resolved", "home")
    assert db.session.scalar(select(CareWish.status)) == "open"


def test_member_summary_counts_requests_help_and_wishes(db, org):
    req = make_request(db, org)
    workflow.assign(req, org.home_sec, org.member2.account_id, now=T0)
    workflow.transition(req, org.member2.account, "resolved", now=T0 + timedelta(days=1), summary="x",
                        support_kind="advice")
    db.session.commit()
    period = (T0 - timedelta(days=1), T0 + timedelta(days=30))
    assert dict((str(k), v) for k, v in personal.member_summary(org.member1, *period)) == {
        "Care requests filed": 1, "Care requests resolved as handler": 0, "Micro-wishes fulfilled": 0}
    assert dict((str(k), v) for k, v in personal.member_summary(org.member2, *period))[
        "Care requests resolved as handler"] == 1
    assert personal.member_summary(org.member1, T0 + timedelta(days=40), T0 + timedelta(days=50))[0][1] == 0
