"""The ledger: manual awards and deductions, reasons, audit, reversals, never a deletion."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_points import services
from portal_points.models import PointsEntry, PointsTotal
from tests.conftest import login

T0 = datetime(2026, 3, 10, 2, 0, 0)


def member_entries(db, member):
    return list(db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id)
                                   .order_by(PointsEntry.id)))


def all_total(db, member):
    return db.session.scalar(select(PointsTotal.points).where(
        PointsTotal.member_id == member.id, PointsTotal.period == "a")) or 0


def test_secretary_awards_with_reason_audited_and_notified(client, org, db):
    login(client, "home-secretary")
    response = client.post(f"/points/members/{org.member1.id}/award",
                           data={"points": "5", "reason": "Helped three fellow villagers get their wages",
                                 "campaign_id": "0"})
    assert response.status_code == 302
    db.session.expire_all()
    [entry] = member_entries(db, org.member1)
    assert (entry.points, entry.kind, entry.category, entry.created_by_account_id) == (5, "manual", "manual",
                                                                                      org.home_sec.id)
    assert entry.unit_id == org.home.id
    assert all_total(db, org.member1) == 5
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "points.awarded"))
    assert audit.target_id == str(org.member1.id) and audit.details["reason"].startswith("Helped")
    # The member reads the reason in their history.
    client.post("/logout")
    login(client, "member1")
    page = client.get("/points/").get_data(as_text=True)
    assert "Helped three fellow villagers get their wages" in page


def test_deduction_and_missing_reason(client, org, db):
    login(client, "home-secretary")
    bad = client.post(f"/points/members/{org.member2.id}/award", data={"points": "-3", "reason": "  ",
                                                                        "campaign_id": "0"})
    assert bad.status_code == 422
    assert "This field is required" in bad.get_data(as_text=True) or "reason" in bad.get_data(as_text=True).lower()
    not_a_number = client.post(f"/points/members/{org.member2.id}/award",
                               data={"points": "lots", "reason": "Kept typing this", "campaign_id": "0"})
    assert not_a_number.status_code == 422
    assert "Kept typing this" in not_a_number.get_data(as_text=True)  # nothing the secretary typed is lost
    too_big = client.post(f"/points/members/{org.member2.id}/award",
                          data={"points": "100000", "reason": "Far too many", "campaign_id": "0"})
    assert too_big.status_code == 422
    db.session.expire_all()
    assert member_entries(db, org.member2) == []
    ok = client.post(f"/points/members/{org.member2.id}/award",
                     data={"points": "-3", "reason": "Missed the branch meeting twice", "campaign_id": "0"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert [e.points for e in member_entries(db, org.member2)] == [-3]
    assert all_total(db, org.member2) == -3
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.target_id == str(org.member2.id))) == \
        "points.deducted"


@pytest.mark.parametrize("who", ["foreign-secretary", "host-secretary", "member2", "outsider"])
def test_awards_only_within_the_home_subtree(client, org, db, who):
    login(client, who)
    response = client.post(f"/points/members/{org.member1.id}/award",
                           data={"points": "5", "reason": "Not my member", "campaign_id": "0"})
    assert response.status_code == 404
    db.session.expire_all()
    assert member_entries(db, org.member1) == []


def test_nobody_awards_themselves(client, org, db):
    me = db.session.scalar(select(tk.Member).where(tk.Member.account_id == org.home_sec.id))
    login(client, "home-secretary")
    response = client.post(f"/points/members/{me.id}/award", data={"points": "5", "reason": "I was great",
                                                                    "campaign_id": "0"})
    assert response.status_code == 403  # tk.require_acting_on: the one self-exclusion rule
    assert "Nobody may decide on their own record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [e.kind for e in member_entries(db, me)] == ["rule"]  # only the daily login


def test_reversal_cancels_on_the_original_day_and_only_once(client, org, db):
    services.ensure_default_rules()
    tk.record_activity(org.member1, "course.completed", "course", 7, at=T0)
    db.session.commit()
    [earned] = member_entries(db, org.member1)
    assert services.member_total(org.member1.id, "day", now=T0) == 5
    login(client, "home-secretary")
    missing_reason = client.post(f"/points/entries/{earned.id}/reverse", data={"reason": ""})
    assert missing_reason.status_code == 422
    response = client.post(f"/points/entries/{earned.id}/reverse", data={"reason": "Course was completed by mistake"})
    assert response.status_code == 302
    again = client.post(f"/points/entries/{earned.id}/reverse", data={"reason": "Clicked twice"})
    assert again.status_code == 409
    assert "already been reversed" in again.get_data(as_text=True)
    db.session.expire_all()
    rows = member_entries(db, org.member1)
    assert [(e.kind, e.points, e.reverses_id) for e in rows] == [("rule", 5, None), ("reversal", -5, earned.id)]
    assert rows[1].day_key == earned.day_key  # counted on the day the points were earned
    assert services.member_total(org.member1.id, "day", now=T0) == 0
    assert all_total(db, org.member1) == 0
    # A reversal itself cannot be reversed.
    third = client.post(f"/points/entries/{rows[1].id}/reverse", data={"reason": "Undo the undo"})
    assert third.status_code == 409
    # The ledger has no way to delete: no route accepts DELETE, and rows only grow.
    assert client.delete(f"/points/entries/{earned.id}/reverse").status_code == 405
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.member_id == org.member1.id)) == 2


def test_foreign_secretary_cannot_reverse(client, org, db):
    entry = services.award_manual(org.member1, 4, "Good work in Shenzhen", account=org.home_sec, now=T0)
    db.session.commit()
    login(client, "foreign-secretary")
    assert client.post(f"/points/entries/{entry.id}/reverse", data={"reason": "Nope nope"}).status_code == 404
    assert client.post("/points/entries/999999/reverse", data={"reason": "Nope nope"}).status_code == 404
    db.session.expire_all()
    assert len(member_entries(db, org.member1)) == 1


def test_reversal_keeps_campaign_totals_in_step(org, db):
    from datetime import date

    from portal_points.models import PointsCampaignTotal

    campaign = services.save_campaign(None, name="Four comparisons", description="", starts_on=date(2026, 3, 1),
                                      ends_on=date(2026, 3, 31), units=[org.home], owner_unit=org.township,
                                      account_id=None, now=T0)
    entry = services.award_manual(org.member1, 6, "Started a cooperative at home", account=org.home_sec,
                                  campaign=campaign, now=T0)
    db.session.commit()
    services.reverse_entry(entry, "Wrong member", account=org.home_sec, now=T0 + timedelta(days=1))
    db.session.commit()
    assert db.session.scalar(select(PointsCampaignTotal.points).where(
        PointsCampaignTotal.campaign_id == campaign.id)) == 0
    with pytest.raises(tk.ServiceError):
        services.award_manual(org.outsider, 3, "Not in the campaign", account=org.organizer, campaign=campaign)
