"""The facade plugins import: ``from portal import toolkit as tk``.

Plugins reach the core only through this module (import-linter enforces it),
so the core can move its furniture without breaking them. Each name here is
the one way to do its job; docs/architecture.md says which way is which.
"""
from __future__ import annotations

# Plugins' gettext: each resolves the calling plugin's own domain (portal/i18n.py).
from portal.i18n import gettext, lazy_gettext, lazy_pgettext, ngettext, npgettext, pgettext

# Database, transactions and the activity stream
from portal.database import lock, utcnow, write_intent
from portal.database import MAX_ID  # ids past it exist nowhere: a 404, never a database error
from portal.database import is_reading_request  # a GET's own small writes go to a short transaction
from portal.extensions import db
from portal.activity.models import Activity
from portal.activity.services import record_activity
from portal.audit.services import audit
from portal.notify.services import notify

# People, the tree and permissions
from portal.accounts.models import Account
from portal.org.models import SECRETARY_ROLES, STAGES, UNIT_OFFICER_ROLES, Member, OrgUnit, in_subtree
from portal.org.permissions import (
    can, can_see_member, granting_units, is_admin, manageable_units, member_scope, require, require_acting_on,
    unit_from_arg,
    require_member, unit_scope,
)
from portal.org.services import member_accounts_for_unit, subtree_ids, unit_choices
from portal.org.services import branch_of, branch_unit_ids, own_unit_ids, own_units_select
from portal.org.services import MemberContacts, member_contacts, written_notice_alerts
from portal.org.services import responsible_accounts
from portal.org.validation import id_number_birth_date, normalize_id_number, normalize_phone
from portal.alerts import deliver as deliver_alerts
from portal.org.labels import EDUCATION_LABELS, GENDER_LABELS, STAGE_LABELS, LabelFunction, label
from portal.org.models import MEMBER_STAGES, is_member_stage, member_stage_filter
from portal.places import clean_place, place_from_text, place_name, place_parts, place_search, province_code
from portal.places_web import PlaceField

# Plugins and hooks
from portal.plugins import hookimpl, hookspec
from portal.plugins.manager import call_each, call_hook, call_list, get_manager
from portal.plugins.types import (
    ActivityVerb, Alert, DeliveryChannel, DemoContext, NavItem, Permission, SearchDocument, SettingSpec, Widget,
)
from portal.plugins.types import PERSONAL_KINDS, PersonalColumn, PersonalSection
from portal.plugins.types import XapiObject, XapiVerb  # open standards (issue 21)
from portal.plugins.types import NOTIFICATION_MODES, Deliver, NotificationKind  # delivery channels (issue 21)
from portal.notify.services import render_for as render_notification  # a message in its reader's language
from portal.notify.services import declared_kind, notification_kinds  # portal_notification_kinds, prefixes resolved
from portal.notify.models import Notification  # an inbox message (what channels send on)
from portal.notify.services import reader_locale  # `with tk.reader_locale(account.locale):` an e-mail in its reader's language
from portal.i18n import language_map  # {"zh-CN": …, "en-US": …} of a lazy string (xAPI, Open Badges)
from portal.config import public_url
from portal.badges.services import badges_of, issue_badge, revoke_badge  # Open Badges 2.0 (issue 21)
from portal.settings import get_setting, set_setting
from portal.cache import bump as bump_cache, cached, cached_hook, cached_many  # the composition cache (issue 20)

# Refusals, forms, time
from portal.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound, ServiceError
from portal.web.forms import csrf_exempt, form_post
from portal.idempotency import unrecorded_post  # an anonymous route: no row may name its sender
from portal.timeutil import isoformat, local_date, local_day_bounds, local_now, local_today, local_zone, to_local
from portal.timeutil import months_later, whole_months
from portal.timeutil import iso_duration  # xAPI result durations (issue 21)

# Pages: rendering, lists, exports, charts, uploads, documents
from portal.web.ui import current_member, login_required_member, path_for, render_markdown, sanitize_html
from portal.web.templating import template_labels
from portal.web.formatting import fmt_date, fmt_datetime
from portal.web.pagination import Page, api_page, count, count_query, paginate
from portal.web.exports import xlsx_response
from portal.web.charts import bar_chart, column_chart, meter
from portal.web.uploads import (
    Upload, accepted as accepted_file_types, check_upload, check_uploads, read_upload, send_upload, store_upload,
)
from portal.pdf import new_pdf, pdf_response, qr_svg
from portal.certificates import (
    Document, add_with_unique_code, document_pdf, new_code, normalize_code, status_of as document_status,
    verification_page,
)
from portal.certificates import Box as DocumentBox, Rendered as RenderedDocument, mask_name, render_document
from portal.certificates import wrap_text, write_lines

# The JSON API
from portal.api.util import api_error, api_id, api_json, api_login_required, current_account
from portal.api.util import openapi_error_ref, openapi_json_body, openapi_responses
from portal.api.util import OPENAPI_PAGE_PARAMETERS, openapi_page  # a paged list's document (issue 21)

# Search
from portal.search.service import (
    drain as search_drain, queue_documents as search_update, queue_removals as search_remove, search,
)

__all__ = [
    # translations
    "gettext", "lazy_gettext", "lazy_pgettext", "ngettext", "npgettext", "pgettext",
    # database and activity stream
    "db", "lock", "utcnow", "write_intent", "Activity", "record_activity", "audit", "notify",
    "MAX_ID",
    "is_reading_request",
    # people, tree, permissions
    "Account", "Member", "OrgUnit", "STAGES", "SECRETARY_ROLES", "UNIT_OFFICER_ROLES", "in_subtree",
    "can", "can_see_member", "granting_units", "is_admin", "manageable_units", "member_scope", "require",
    "unit_from_arg",
    "require_acting_on", "require_member", "unit_scope",
    "member_accounts_for_unit", "subtree_ids", "own_unit_ids", "own_units_select", "branch_of",
    "branch_unit_ids", "unit_choices",
    "id_number_birth_date", "normalize_id_number", "normalize_phone",
    "responsible_accounts", "deliver_alerts", "MemberContacts", "member_contacts", "written_notice_alerts",
    "EDUCATION_LABELS", "GENDER_LABELS", "STAGE_LABELS", "LabelFunction", "label",
    "MEMBER_STAGES", "is_member_stage", "member_stage_filter",
    "clean_place", "place_from_text", "place_name", "place_parts", "place_search", "province_code", "PlaceField",
    # plugins and hooks
    "hookimpl", "hookspec", "call_each", "call_hook", "call_list", "get_manager",
    "ActivityVerb", "Alert", "DeliveryChannel", "DemoContext", "NavItem", "Permission", "SearchDocument",
    "SettingSpec", "Widget", "get_setting", "set_setting",
    "PERSONAL_KINDS", "PersonalColumn", "PersonalSection",
    "XapiObject", "XapiVerb", "public_url",
    "issue_badge", "revoke_badge", "badges_of",
    "NOTIFICATION_MODES", "Deliver", "NotificationKind", "render_notification",
    "declared_kind", "notification_kinds", "reader_locale", "Notification",
    "language_map",
    "bump_cache", "cached", "cached_hook", "cached_many",
    # refusals, forms, time
    "ServiceError", "BadRequest", "Invalid", "Forbidden", "NotFound", "Conflict", "form_post",
    "csrf_exempt",
    "unrecorded_post",
    "isoformat", "local_date", "local_day_bounds", "local_now", "local_today", "local_zone", "to_local",
    "months_later", "whole_months",
    "iso_duration",
    # pages
    "current_member", "login_required_member", "path_for", "render_markdown", "sanitize_html", "template_labels",
    "fmt_date", "fmt_datetime", "Page", "api_page", "count", "count_query", "paginate", "xlsx_response",
    "bar_chart", "column_chart", "meter",
    "Upload", "accepted_file_types", "check_upload", "check_uploads", "read_upload", "send_upload", "store_upload",
    "new_pdf", "pdf_response", "qr_svg",
    "Document", "add_with_unique_code", "document_pdf", "new_code", "normalize_code", "document_status",
    "verification_page",
    "DocumentBox", "RenderedDocument", "mask_name", "render_document", "wrap_text", "write_lines",
    # API
    "api_error", "api_id", "api_json", "api_login_required", "current_account",
    "openapi_error_ref", "openapi_json_body", "openapi_responses",
    "OPENAPI_PAGE_PARAMETERS", "openapi_page",
    # search
    "search", "search_drain", "search_update", "search_remove",
]
