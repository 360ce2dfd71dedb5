"""Value types that hooks return. Plugins import them from :mod:`portal.toolkit`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from portal.org.models import SECRETARY_ROLES

if TYPE_CHECKING:
    from portal.notify.models import Notification


@dataclass(frozen=True)
class Permission:
    """A permission a plugin declares.

    ``roles`` are the roles granted it by default; ``host_visible`` means a host
    branch's secretaries hold it for members hosted in their subtree too;
    ``self_allowed`` means a holder may use it on their own member record
    (otherwise :func:`portal.org.permissions.require_acting_on` refuses).
    """

    name: str
    label: Any
    roles: tuple[str, ...] = SECRETARY_ROLES
    host_visible: bool = False
    self_allowed: bool = False


@dataclass(frozen=True)
class ActivityVerb:
    """A verb a plugin records in the activity stream, with a translatable label."""

    verb: str
    label: Any
    category: str = "other"


@dataclass(frozen=True)
class XapiObject:
    """What one activity of the stream is about, as xAPI needs it (returned by :attr:`XapiVerb.describe`).

    ``path`` is the object's page in the portal (``/courses/party-history``); the statement's object id
    is the portal's public base URL + ``path``. ``name`` (and ``description``) are language maps
    ``{"zh-CN": …, "en-US": …}``. ``result`` is an xAPI Result object (``score`` with ``scaled``/``raw``/
    ``min``/``max``, ``success``, ``completion``, ``duration`` as ISO 8601, e.g. ``PT4M30S``) or None.
    ``registration`` is a UUID string tying the statements of one attempt together, or None.
    ``extensions`` are extra context extensions (IRI → JSON value).
    """

    path: str
    name: Mapping[str, str]
    description: Mapping[str, str] | None = None
    result: Mapping[str, Any] | None = None
    registration: str | None = None
    extensions: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class XapiVerb:
    """How one verb of the activity stream becomes an xAPI 1.0.3 statement (from ``portal_xapi_verbs``).

    ``verb`` is the stream's verb (``quiz.passed``). ``iri`` is the xAPI verb id: the ADL vocabulary's
    where one fits (``http://adlnet.gov/expapi/verbs/passed``), else the portal's own
    (:func:`portal.xapi.statements.portal_iri` — ``<base>/xapi/verbs/<name>``; give the path part
    ``"/xapi/verbs/<name>"`` and the core adds the base). ``display`` is a language map.
    ``activity_type`` is the object's type IRI (``http://adlnet.gov/expapi/activities/assessment``).
    ``describe(activities)`` receives a batch of :class:`portal.activity.models.Activity` rows of this
    verb and returns ``{activity.id: XapiObject}`` — load what they refer to in a few statements, never
    one query per row; a row missing from the answer (its object was deleted) is described from the
    stream alone.
    """

    verb: str
    iri: str
    display: Mapping[str, str]
    activity_type: str
    describe: Callable[[Sequence[Any]], Mapping[int, XapiObject]]


@dataclass(frozen=True)
class SettingSpec:
    """A typed setting with a default, editable by admins in a generated form.

    ``type`` is one of ``int``, ``float``, ``bool``, ``str``, ``text``, ``choice``, ``list``.
    """

    key: str
    label: Any
    type: str = "str"
    default: Any = None
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation."""

    label: Any
    endpoint: str
    order: int = 100
    icon: str = ""
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Widget:
    """A dashboard panel: a template rendered with ``context``."""

    title: Any
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class SearchDocument:
    """A document for the search index.

    ``scope`` limits who may see it: ``"public"``, ``"members"`` (any logged-in
    account) or ``"unit:<id>"`` (members whose home or host unit lies under that
    unit, plus those holding a role over it).
    """

    key: str
    type: str
    title: str
    body: str
    url: str
    scope: str = "members"
    locale: str = ""
    tags: str = ""


@dataclass(frozen=True)
class Alert:
    """Something someone must act on or know about, raised by ``portal alerts scan``.

    Name the people in ``account_ids`` (e.g. the member it concerns), or name
    the ``unit_id`` and the ``permission`` needed to act on it: the core then
    tells the nearest unit up the tree with someone holding that permission
    (:func:`portal.org.services.responsible_accounts`), admins last.
    """

    kind: str
    unit_id: int | None
    member_id: int | None
    message: Any
    url: str = ""
    account_ids: tuple[int, ...] = ()
    permission: str = "members.view"


class Deliver(Protocol):
    """What a :class:`DeliveryChannel` calls with each new inbox message.

    ``deliver(notification)`` runs in the process that made the message, right after the
    transaction that added it committed, once per message and channel. The message's columns
    (``id``, ``account_id``, ``kind``, ``title``, ``body``, ``url``, ``message``, ``created_at``)
    are loaded; the session that added it can emit no more SQL (its transaction is over), so a
    channel that reads or writes opens its own transaction (``with tk.db.engine.begin() as conn``
    or a ``sqlalchemy.orm.Session(tk.db.engine)``) and loads what it needs by id.
    ``tk.render_notification(note, locale)`` gives title and body in the reader's language.
    Keep it short (the caller's request waits): network calls with a short timeout, or hand the
    work to a queue/cron of your own. Whatever it raises is recorded against the plugin (admin
    plugins page); the other channels and messages still go, and nothing is retried for it.
    """

    def __call__(self, notification: Notification, /) -> None: ...


@dataclass(frozen=True)
class DeliveryChannel:
    """A notification channel (SMS, e-mail …) from ``portal_delivery_channels``: a ``name`` and a :class:`Deliver`."""

    name: str
    deliver: Deliver


#: How a member receives one kind of message by e-mail (and similar channels).
NOTIFICATION_MODES = ("immediate", "digest", "off")


@dataclass(frozen=True)
class NotificationKind:
    """A kind of inbox message a plugin sends (``tk.notify(..., kind=...)``), from ``portal_notification_kinds``.

    A kind also covers the dotted kinds below it (``care`` covers ``care.wish``, ``alert`` every
    ``alert.<kind>`` of ``portal alerts scan``) unless they are declared themselves.
    ``label`` says what it is about to a member choosing how to receive it; ``default_mode`` is
    one of :data:`NOTIFICATION_MODES` (``immediate``, ``digest``: in a daily digest, ``off``);
    ``urgent`` marks kinds worth an interruption (an SMS channel sends only those).
    """

    kind: str
    label: Any
    default_mode: str = "immediate"
    urgent: bool = False

    def __post_init__(self) -> None:
        if self.default_mode not in NOTIFICATION_MODES:
            raise ValueError(f"unknown notification mode {self.default_mode!r} for {self.kind!r}")


@dataclass
class DemoContext:
    """What ``portal demo`` hands to plugins so their demo data fits the demo org."""

    password: str
    units: dict[str, Any]
    accounts: dict[str, Any]
    members: list[Any]
    now: datetime
    rng: Any


#: The kinds of value a :class:`PersonalColumn` holds (how the page shows it and the export's ``schema`` names it).
PERSONAL_KINDS = ("text", "date", "datetime", "number", "bool", "choice", "url", "lines")


@dataclass(frozen=True)
class PersonalColumn:
    """One field of a :class:`PersonalSection`: a stable machine ``key``, a translatable ``label`` and a ``kind``.

    ``kind`` is one of :data:`PERSONAL_KINDS`. ``choice`` values are codes shown
    through ``choices`` (``{code: label}``); ``lines`` values are a dict or a
    list of texts, shown one per line, a dict's keys through ``choices`` when
    given (``{key: label}``). ``date``/``datetime`` values are dates and naive
    UTC datetimes as stored; ``url`` values are links. ``on_page=False`` keeps
    a technical field (an internal reference a reader cannot use) to the export.
    """

    key: str
    label: Any
    kind: str = "text"
    choices: Mapping[Any, Any] | None = None
    on_page: bool = True

    def __post_init__(self) -> None:
        if self.kind not in PERSONAL_KINDS:
            raise ValueError(f"unknown personal data kind {self.kind!r} for {self.key!r}")


@dataclass(frozen=True)
class PersonalSection:
    """One section of a member's personal data (``portal_personal_data``).

    ``key`` is stable and machine-readable (the core prefixes it with the
    plugin's name in the export); ``columns`` are :class:`PersonalColumn` or
    tuples ``(key, label[, kind[, choices]])``; ``rows`` are dicts keyed by the
    column keys, holding raw values (datetimes as stored, codes for choices).
    """

    key: str
    title: Any
    columns: tuple[PersonalColumn, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        columns = tuple(c if isinstance(c, PersonalColumn) else PersonalColumn(*c) for c in self.columns)
        object.__setattr__(self, "columns", columns)
