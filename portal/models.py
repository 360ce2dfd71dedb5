"""Every core model, importable from one place (plugins use :mod:`portal.toolkit`)."""
from portal.accounts.models import Account, ApiToken, LoginFailure
from portal.activity.models import Activity
from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal.org.models import GENDERS, EDUCATION_LEVELS, STAGES, UNIT_KINDS, Member, OrgUnit, RoleAssignment
from portal.plugins.models import Setting
from portal.search.models import SearchQueueEntry

__all__ = [
    "Account", "ApiToken", "LoginFailure", "Activity", "AuditEntry", "Notification",
    "Member", "OrgUnit", "RoleAssignment", "Setting", "SearchQueueEntry",
    "GENDERS", "EDUCATION_LEVELS", "STAGES", "UNIT_KINDS",
]
