"""The facade plugins import: ``from portal import toolkit as tk``.

Plugins reach the core only through this module, so the core can move its
furniture without breaking them.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext

from portal.activity.models import Activity
from portal.activity.services import last_active, record_activity
from portal.audit.services import audit
from portal.database import utcnow, write_intent
from portal.extensions import csrf, db
from portal.notify.services import notify
from portal.org.models import EDUCATION_LEVELS, GENDERS, STAGES, Member, OrgUnit, RoleAssignment, in_subtree
from portal.org.permissions import (
    can, can_see_member, granting_units, is_admin, manageable_units, member_scope, require,
    require_member, unit_scope,
)
from portal.plugins import hookimpl
from portal.plugins.manager import call_each, call_list, get_manager
from portal.plugins.types import (
    ActivityVerb, Alert, DeliveryChannel, DemoContext, NavItem, Permission, SearchDocument, SettingSpec, Widget,
)
from portal.settings import get_setting, set_setting
from portal.web.exports import xlsx_bytes, xlsx_response
from portal.web.formatting import fmt_date, fmt_datetime, fmt_number
from portal.web.pagination import Page, paginate
from portal.accounts.models import Account
from portal.api.util import api_error, api_login_required, api_json, current_account
from portal.web.ui import current_member, login_required_member, sanitize_html, render_markdown, safe_next_url
from portal.org.services import member_accounts_for_unit, secretaries_of
from portal.org.labels import EDUCATION_LABELS, GENDER_LABELS, STAGE_LABELS, UNIT_KIND_LABELS, label
from portal.pdf import new_pdf, pdf_response, qr_png, qr_svg
from portal.search.service import drain as search_drain, queue_documents as search_update, queue_removals as search_remove, search

__all__ = [name for name in dir() if not name.startswith("_")]
