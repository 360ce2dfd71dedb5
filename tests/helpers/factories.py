"""Builders for test data (the same services the app uses, no shortcuts)."""
from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

from portal.accounts.models import Account
from portal.accounts.services import set_password
from portal.org.models import Member, OrgUnit, RoleAssignment
from portal.org.services import create_unit

PASSWORD = "pass-1234"
_counter = itertools.count(1)


class Factory:
    """Create units, accounts, members and role assignments; everything is committed."""

    def __init__(self, db) -> None:
        self.db = db

    def unit(self, name: str, kind: str = "branch", parent: OrgUnit | None = None, **fields) -> OrgUnit:
        unit = create_unit(name, kind, parent, **fields)
        self.db.session.commit()
        return unit

    def account(self, username: str | None = None, password: str = PASSWORD, **fields) -> Account:
        username = username or f"user{next(_counter)}"
        account = Account(username=username, display_name=fields.pop("display_name", username), password_hash="!", **fields)
        set_password(account, password)
        self.db.session.add(account)
        self.db.session.commit()
        return account

    def member(self, unit: OrgUnit, username: str | None = None, *, host: OrgUnit | None = None,
               password: str = PASSWORD, **fields) -> Member:
        name = fields.pop("name", None) or username or f"member{next(_counter)}"
        account = self.account(username, password, display_name=name)
        defaults = dict(name=name, gender="male", birth_date=date(1990, 5, 1),
                        education="high_school", stage="full", phone=f"139{next(_counter):08d}")
        defaults.update(fields)
        member = Member(account_id=account.id, home_unit_id=unit.id, host_unit_id=host.id if host else None,
                        is_away=host is not None or defaults.pop("is_away", False), **defaults)
        self.db.session.add(member)
        self.db.session.commit()
        return member

    def grant(self, account: Account, role: str, unit: OrgUnit) -> RoleAssignment:
        assignment = RoleAssignment(account_id=account.id, role=role, unit_id=unit.id)
        self.db.session.add(assignment)
        self.db.session.commit()
        return assignment

    def staff(self, username: str, role: str, unit: OrgUnit) -> Account:
        """An account holding ``role`` on ``unit`` (and, for secretaries, a member of it)."""
        if role == "secretary":
            account = self.member(unit, username, name=username).account
        else:
            account = self.account(username)
        self.grant(account, role, unit)
        return account

    def standard_org(self) -> SimpleNamespace:
        root = self.unit("County Committee", "committee", province="江西省", city="吉安市")
        township = self.unit("East Ridge Township", "committee", root)
        home = self.unit("East Ridge Village Branch", "branch", township, province="江西省", city="吉安市")
        foreign = self.unit("Stone Bridge Village Branch", "branch", township)
        mobile = self.unit("Mobile Members General Branch", "general_branch", root)
        host = self.unit("Shenzhen Mobile Members Branch", "branch", mobile, province="广东省", city="深圳市",
                         is_mobile_branch=True)
        org = SimpleNamespace(root=root, township=township, home=home, foreign=foreign, mobile=mobile, host=host)
        org.admin = self.staff("admin", "admin", root)
        org.organizer = self.staff("organizer", "organizer", root)
        org.home_sec = self.staff("home-secretary", "secretary", home)
        org.host_sec = self.staff("host-secretary", "secretary", host)
        org.foreign_sec = self.staff("foreign-secretary", "secretary", foreign)
        org.member1 = self.member(home, "member1", host=host, name="张伟", current_province="广东省", current_city="深圳市")
        org.member2 = self.member(home, "member2", name="李芳")
        org.outsider = self.member(foreign, "outsider", name="王强")
        org.accounts = {
            "member1": org.member1.account, "member2": org.member2.account, "outsider": org.outsider.account,
            "home_sec": org.home_sec, "host_sec": org.host_sec, "foreign_sec": org.foreign_sec,
            "organizer": org.organizer, "admin": org.admin,
        }
        return org
