"""A branch's full members include those kept in its party groups: the case page offers them as mentors and
introducers, and one is assigned as a mentor through the page."""
from __future__ import annotations

from sqlalchemy import func, select

from portal_development.models import Mentor
from tests.conftest import login
from tests.test_development_views import make_case, today


def test_a_full_member_of_a_party_group_mentors_and_introduces(app, db, org, client, factory):
    group = factory.unit("East Ridge Group One", "group", org.home)
    grouped = factory.member(group, "grouped", name="周敏")
    factory.member(org.foreign, "elsewhere", name="孙丽")
    person = factory.member(org.home, "applicant1", name="赵敏", stage="activist")
    case = make_case(db, person, org.home, stage="activist", steps=[("talk", today()),
                                                                    ("activist_decision", today())])
    login(client, "home-secretary")
    page = client.get(f"/development/cases/{case.id}").get_data(as_text=True)
    assert f'<option value="{grouped.id}">周敏</option>' in page and "孙丽" not in page
    response = client.post(f"/development/cases/{case.id}/mentors", data={
        "member_id": str(grouped.id), "place": "home", "on": today().isoformat(), "not_relative": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Mentor).where(Mentor.case_id == case.id,
                                                                            Mentor.member_id == grouped.id)) == 1
