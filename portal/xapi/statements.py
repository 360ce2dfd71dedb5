"""Activities of the stream as xAPI 1.0.3 statements (the API and the push to a learning record store).

Plugins map their verbs through ``portal_xapi_verbs`` (:class:`portal.plugins.types.XapiVerb`); a verb
nobody maps still becomes a statement, with the portal's own verb IRI and an object described from the
stream alone. Statements are built in batches: one ``describe`` call per verb present and one query for
the branches' names, whatever the number of activities.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from flask import g
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from portal.activity.models import Activity
from portal.config import public_url
from portal.database import is_reading_request, write_intent
from portal.extensions import db
from portal.i18n import language_map
from portal.org.models import OrgUnit
from portal.plugins.manager import call_list
from portal.plugins.models import Setting
from portal.plugins.types import XapiObject, XapiVerb
from portal.settings import get_setting
from portal.timeutil import isoformat

log = logging.getLogger(__name__)

#: The xAPI version every statement is written in (and the ``X-Experience-API-Version`` header).
XAPI_VERSION = "1.0.3"
#: Fixed namespace of statement ids: with the portal's address in the name, two portals never clash.
NAMESPACE_PORTAL = uuid.UUID("6f0b5c3e-2a4d-5e8f-9b71-3c2d1e0f4a58")
#: Where the instance's own random namespace of actor ids is kept (generated once, never changed).
ACTOR_NAMESPACE_SETTING = ("xapi", "actor_namespace")
#: The statements' language (the portal's members read Chinese).
STATEMENT_LANGUAGE = "zh-CN"


def portal_iri(path: str) -> str:
    """The portal's own IRI for ``path`` (``/xapi/verbs/<name>``): its public address + path."""
    return public_url(path)


def statement_id(activity: Activity) -> str:
    """The statement id of ``activity``: derived from its idempotency key, so a retry is the same statement."""
    return str(uuid.uuid5(NAMESPACE_PORTAL, public_url() + "|" + activity.idempotency_key))


def actor_for(member_id: int) -> dict[str, Any]:
    """The xAPI Agent of a member: an account on the portal with an opaque, stable name.

    The name is a UUID derived from the member's id in the instance's secret namespace: it says nothing
    about the person (no phone, ID number or username) and cannot be mapped back without the database.
    """
    name = uuid.uuid5(actor_namespace(), str(member_id))
    return {"objectType": "Agent", "account": {"homePage": public_url(), "name": str(name)}}


def actor_namespace() -> uuid.UUID:
    """The instance's random namespace of actor ids, created on first use.

    Race-safe: the setting's primary key lets only one of two concurrent first uses store its value;
    the other's insert fails and it reads the winner's. A reading request stores it in a short
    transaction of its own (it would otherwise be rolled back with the request's).
    """
    namespace, key = ACTOR_NAMESPACE_SETTING
    value = get_setting(namespace, key)
    if not value:
        value = _store_once(namespace, key, str(uuid.uuid4()))
        g.pop("_settings", None)
    return uuid.UUID(value)


def _store_once(namespace: str, key: str, value: str) -> str:
    """Insert a setting unless one is there already; the stored value (the first writer's)."""
    where = (Setting.namespace == namespace, Setting.key == key)
    row = {"namespace": namespace, "key": key, "value": value}
    if is_reading_request():
        try:
            with write_intent(), db.engine.begin() as connection:
                connection.execute(insert(Setting).values(**row))
        except IntegrityError:  # another worker stored its value first
            with db.engine.connect() as connection:
                return connection.execute(select(Setting.value).where(*where)).scalar_one()
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Setting).values(**row))
    except IntegrityError:  # another worker stored its value first
        return db.session.scalar(select(Setting.value).where(*where))
    return value


def xapi_verbs() -> dict[str, XapiVerb]:
    """``{stream verb: XapiVerb}`` of the core and the enabled plugins (once per request or command)."""
    cached = g.get("_xapi_verbs")
    if cached is None:
        cached = g._xapi_verbs = {item.verb: item for item in call_list("portal_xapi_verbs")}
    return cached


def _verb_labels() -> dict[str, Any]:
    """``{stream verb: label}`` from ``portal_activity_verbs`` (for verbs no plugin maps to xAPI)."""
    cached = g.get("_xapi_verb_labels")
    if cached is None:
        cached = g._xapi_verb_labels = {item.verb: item.label for item in call_list("portal_activity_verbs")}
    return cached


def statements_for(activities: Sequence[Activity]) -> list[dict[str, Any]]:
    """The xAPI 1.0.3 statements of ``activities``, in the same order.

    One ``describe`` call per verb present and one query for the units' names.
    """
    mapping = xapi_verbs()
    objects = _describe_all(activities, mapping)
    units = _unit_names(activities)
    context_base = _context_base()
    return [_statement(activity, mapping.get(activity.verb), objects.get(activity.id), units, context_base)
            for activity in activities]


def _describe_all(activities: Sequence[Activity], mapping: Mapping[str, XapiVerb]) -> dict[int, XapiObject]:
    """``{activity id: XapiObject}`` from one ``describe`` call per mapped verb present."""
    by_verb: dict[str, list[Activity]] = defaultdict(list)
    for activity in activities:
        if activity.verb in mapping:
            by_verb[activity.verb].append(activity)
    described: dict[int, XapiObject] = {}
    for verb, batch in by_verb.items():
        try:
            described.update(mapping[verb].describe(batch) or {})
        except Exception:  # one plugin's bug must not stop every statement: its rows fall back to the stream
            log.exception("xAPI describe of %s failed; described from the stream alone", verb)
    return described


def _unit_names(activities: Sequence[Activity]) -> dict[int, str]:
    """Names of the home and host units the activities name, in one query."""
    ids = {unit_id for activity in activities for unit_id in (activity.home_unit_id, activity.host_unit_id) if unit_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def _context_base() -> dict[str, str]:
    """What every statement's context shares: the platform (the site name in the statements' language) and the IRIs of the branch extensions."""
    return {"platform": language_map(_SiteName())[STATEMENT_LANGUAGE],
            "home": portal_iri("/xapi/extensions/home-branch"), "host": portal_iri("/xapi/extensions/host-branch")}


def _statement(activity: Activity, verb: XapiVerb | None, described: XapiObject | None,
               units: Mapping[int, str], base: Mapping[str, str]) -> dict[str, Any]:
    """One statement; ``verb`` None: the verb is the portal's own, ``described`` None: the object is the stream's."""
    statement: dict[str, Any] = {
        "id": statement_id(activity),
        "actor": actor_for(activity.actor_id),
        "verb": _verb(activity, verb),
        "object": _object(activity, verb, described),
        "context": _context(activity, described, units, base),
        "timestamp": isoformat(activity.created_at),
        "version": XAPI_VERSION,
    }
    if described is not None and described.result:
        statement["result"] = dict(described.result)
    return statement


def _verb(activity: Activity, verb: XapiVerb | None) -> dict[str, Any]:
    if verb is not None:
        iri = portal_iri(verb.iri) if verb.iri.startswith("/") else verb.iri
        return {"id": iri, "display": dict(verb.display)}
    label = _verb_labels().get(activity.verb, activity.verb)
    return {"id": portal_iri(f"/xapi/verbs/{activity.verb}"), "display": language_map(label)}


def _object(activity: Activity, verb: XapiVerb | None, described: XapiObject | None) -> dict[str, Any]:
    if described is None:
        definition: dict[str, Any] = {
            "name": language_map(f"{activity.object_type} {activity.object_id}"),
            "type": verb.activity_type if verb else portal_iri(f"/xapi/activity-types/{activity.object_type}"),
        }
        object_id = portal_iri(f"/xapi/objects/{activity.object_type}/{activity.object_id}")
    else:
        definition = {"name": dict(described.name), "type": verb.activity_type}
        if described.description:
            definition["description"] = dict(described.description)
        object_id = portal_iri(described.path)
    return {"objectType": "Activity", "id": object_id, "definition": definition}


def _context(activity: Activity, described: XapiObject | None, units: Mapping[int, str],
             base: Mapping[str, str]) -> dict[str, Any]:
    extensions: dict[str, Any] = {}
    for unit_id, iri in ((activity.home_unit_id, base["home"]), (activity.host_unit_id, base["host"])):
        if unit_id:
            extensions[iri] = {"id": portal_iri(f"/units/{unit_id}"), "name": units.get(unit_id, "")}
    context: dict[str, Any] = {"platform": base["platform"], "language": STATEMENT_LANGUAGE}
    if described is not None:
        if described.registration:
            context["registration"] = described.registration
        extensions.update(described.extensions or {})
    if extensions:
        context["extensions"] = extensions
    return context


def describe_daily_login(activities: Sequence[Activity]) -> dict[int, XapiObject]:
    """``member.daily_login``: the object is the portal itself (its home page, named by the site name)."""
    name = language_map(_SiteName())
    return {activity.id: XapiObject(path="/", name=name) for activity in activities}


class _SiteName:
    """The site name, rendered in whichever locale is forced when it is turned into text (for language maps)."""

    def __str__(self) -> str:
        from portal.web.templating import site_name

        return site_name()
