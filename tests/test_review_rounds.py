"""Review rounds: opening (entries, members away and the host's opinion asked), a second round, who sees a round,
the dates, the steps one at a time, the ballot secret destroyed, the report upward."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.notify.models import Notification
from portal.toolkit import Conflict, Forbidden, Invalid, NotFound
from portal_review import grading, rounds
from portal_review.models import HostOpinion, ReviewEntry, ReviewRound

NOW = datetime(2026, 11, 30, 2, 0)  # 10:00 on 30 Nov 2026 in Shanghai


def open_home(db, org, **kwargs) -> ReviewRound:
    return rounds.open_round(org.home, 2026, actor=org.home_sec, now=NOW, **kwargs)


def inbox(db, account) -> list[str]:
    return list(db.session.scalars(select(Notification.title).where(Notification.account_id == account.id)))


def test_open_creates_an_entry_per_member_incl_away_and_probationary(db, org, factory):
    probationary = factory.member(org.home, "newcomer", stage="probationary")
    factory.member(org.home, "applicant", stage="applicant")
    round_ = open_home(db, org)
    by_member = {entry.member_id: entry for entry in rounds.entries(round_)}
    assert set(by_member) == {org.home_sec.member.id, org.member1.id, org.member2.id, probationary.id}
    assert by_member[org.member1.id].host_unit_id == org.host.id
    assert by_member[org.member2.id].host_unit_id is None
    assert round_.status == "study" and len(round_.ballot_secret) == 64
    opinion = db.session.scalar(select(HostOpinion))
    assert (opinion.entry_id, opinion.host_unit_id) == (by_member[org.member1.id].id, org.host.id)
    assert opinion.due_on == date(2026, 12, 20)  # opening day + host_opinion_days (20)
    assert any("opinion" in title for title in inbox(db, org.host_sec))


def test_host_opinion_is_due_at_the_end_of_mutual_assessment_when_set(db, org):
    open_home(db, org, dates={"mutual_from": date(2026, 12, 1), "mutual_until": date(2026, 12, 10)})
    assert db.session.scalar(select(HostOpinion.due_on)) == date(2026, 12, 10)


def test_a_second_round_for_the_same_unit_and_year_is_a_conflict(db, org):
    open_home(db, org)
    with pytest.raises(Conflict):
        open_home(db, org)
    assert db.session.query(ReviewRound).count() == 1
    assert rounds.open_round(org.home, 2025, actor=org.home_sec, now=NOW).year == 2025


@pytest.mark.parametrize("year", [1999, 2027, "2026", True])
def test_the_year_is_checked(db, org, year):
    with pytest.raises(Invalid) as refused:
        rounds.open_round(org.home, year, actor=org.home_sec, now=NOW)
    assert "year" in refused.value.field_errors


def test_only_a_branch_holds_a_review_and_only_its_secretaries_open_it(db, org):
    with pytest.raises(Invalid):
        rounds.open_round(org.township, 2026, actor=org.organizer, now=NOW)
    with pytest.raises(NotFound):
        rounds.open_round(org.home, 2026, actor=org.foreign_sec, now=NOW)
    with pytest.raises(NotFound):
        rounds.open_round(org.home, 2026, actor=org.member2.account, now=NOW)
    assert rounds.open_round(org.mobile, 2026, actor=org.organizer, now=NOW).unit_id == org.mobile.id


def test_who_sees_a_round(db, org):
    round_ = open_home(db, org)
    for account in (org.home_sec, org.organizer, org.admin, org.member2.account, org.host_sec):
        assert rounds.visible_round(round_.id, account) is round_
    for account in (org.foreign_sec, org.outsider.account, None):
        with pytest.raises(NotFound):
            rounds.visible_round(round_.id, account)
    for bad in ("1", 0, -1, 10**30, round_.id + 1):
        with pytest.raises(NotFound):
            rounds.visible_round(bad, org.home_sec)


def test_entry_reads_are_audited_except_ones_own(db, org):
    from portal.audit.models import AuditEntry

    round_ = open_home(db, org)
    assert rounds.visible_entry(round_, org.member2.id, org.member2.account).member_id == org.member2.id
    assert db.session.query(AuditEntry).filter_by(action="review.read").count() == 0
    rounds.visible_entry(round_, org.member2.id, org.home_sec)
    assert db.session.query(AuditEntry).filter_by(action="review.read").count() == 1
    # the host secretary reads the member away, not the member at home; a member not another member
    assert rounds.visible_entry(round_, org.member1.id, org.host_sec).member_id == org.member1.id
    for member_id, account in ((org.member2.id, org.host_sec), (org.member1.id, org.member2.account)):
        with pytest.raises(NotFound):
            rounds.visible_entry(round_, member_id, account)


def test_rounds_for(db, org):
    old = rounds.open_round(org.home, 2025, actor=org.home_sec, now=NOW)
    new = open_home(db, org)
    assert rounds.rounds_for(org.home) == [new, old]
    assert rounds.rounds_for(org.home, 2025) == [old]
    assert rounds.rounds_for(org.foreign, 2026) == []


def test_set_dates_checks_the_windows(db, org):
    round_ = open_home(db, org)
    rounds.set_dates(round_, actor=org.home_sec, self_from=date(2026, 12, 1), self_until=date(2026, 12, 5))
    assert (round_.self_from, round_.self_until) == (date(2026, 12, 1), date(2026, 12, 5))
    with pytest.raises(Invalid) as refused:
        rounds.set_dates(round_, actor=org.home_sec, self_until=date(2026, 11, 30))
    assert "self_until" in refused.value.field_errors
    with pytest.raises(Invalid):
        rounds.set_dates(round_, actor=org.home_sec, mutual_from=date(2026, 12, 9), mutual_until=date(2026, 12, 8))
    with pytest.raises(Invalid):
        rounds.set_dates(round_, actor=org.home_sec, grading_on="2026-12-20")
    with pytest.raises(Forbidden):
        rounds.set_dates(round_, actor=org.member2.account, study_on=date(2026, 12, 1))
    rounds.set_dates(round_, actor=org.home_sec, self_from=None)
    assert round_.self_from is None and round_.self_until == date(2026, 12, 5)


def test_steps_move_forward_one_at_a_time(db, org):
    round_ = open_home(db, org)
    for wrong in ("mutual", "study", "closed"):
        with pytest.raises(Conflict):
            rounds.move(round_, wrong, actor=org.home_sec)
    with pytest.raises(Invalid):
        rounds.move(round_, "done", actor=org.home_sec)
    with pytest.raises(Forbidden):
        rounds.move(round_, "self", actor=org.member2.account)
    with pytest.raises(NotFound):
        rounds.move(round_, "self", actor=org.foreign_sec)
    rounds.move(round_, "self", actor=org.home_sec)
    rounds.move(round_, "mutual", actor=org.home_sec)
    assert round_.ballot_secret is not None
    rounds.move(round_, "grading", actor=org.home_sec)
    db.session.expire_all()
    assert db.session.get(ReviewRound, round_.id).ballot_secret is None
    assert round_.status == "grading"


def test_reporting_needs_every_grade_and_tells_the_committee_and_members(db, org):
    round_ = open_home(db, org)
    for step in ("self", "mutual", "grading"):
        rounds.move(round_, step, actor=org.home_sec)
    with pytest.raises(Conflict) as refused:
        rounds.move(round_, "reported", actor=org.home_sec, now=NOW)
    assert refused.value.details == {"missing": ["grades"]}
    entries = {entry.member_id: entry for entry in rounds.entries(round_)}
    grading.decide(entries[org.member1.id], "qualified", actor=org.home_sec, reason="Host branch did not answer")
    grading.decide(entries[org.member2.id], "qualified", actor=org.home_sec)
    grading.decide(entries[org.home_sec.member.id], "excellent", actor=org.organizer)
    rounds.move(round_, "reported", actor=org.home_sec, now=NOW)
    assert (round_.status, round_.reported_on, round_.reported_by_account_id) == (
        "reported", date(2026, 11, 30), org.home_sec.id)
    assert inbox(db, org.organizer)  # review.approve on the township's side: the committee above
    assert inbox(db, org.member2.account)
    rounds.move(round_, "closed", actor=org.home_sec)
    with pytest.raises(Conflict):
        rounds.move(round_, "closed", actor=org.home_sec)


def test_refresh_adds_members_who_joined_later_and_keeps_the_rest(db, org, factory):
    round_ = open_home(db, org)
    late = factory.member(org.home, "late", host=org.host)
    added = rounds.refresh_entries(round_, now=NOW)
    db.session.commit()
    assert [entry.member_id for entry in added] == [late.id]
    assert rounds.refresh_entries(round_, now=NOW) == []
    assert db.session.query(ReviewEntry).count() == 4
    assert db.session.query(HostOpinion).count() == 2
