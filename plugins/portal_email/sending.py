"""``portal email send``: the due immediate messages, and once a local day the digests.

Run by cron every minute. Each message goes once: it is claimed in the send log (its unique
``notification_id``, committed) before the SMTP server is asked, then marked sent or failed. A failed
message (server down, refused) is tried again by the next run; a claim a crash left ``sending`` is not
(it may have reached the server: never twice), it shows on the admin page.
Messages older than :data:`LOOKBACK` are never sent (no flood of old news when someone adds an
address or e-mail is switched on; a digest's day fits well inside it).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from flask import current_app, render_template
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_email import preferences
from portal_email.models import EmailSend

PLUGIN = preferences.PLUGIN
LOOKBACK = timedelta(days=2)


@dataclass
class RunReport:
    """What one run did: messages sent alone, digests sent, failures (retried next run)."""

    immediate: int = 0
    digests: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the cron log."""
        return f"{self.immediate} message(s), {self.digests} digest(s) sent; {self.failed} failed."


@dataclass
class Due:
    """One account's messages due now: alone (immediate) and in a digest."""

    account: tk.Account
    immediate: list[tk.Notification] = field(default_factory=list)
    digest: list[tk.Notification] = field(default_factory=list)


def send_due(now: datetime | None = None) -> RunReport:
    """Send what is due at ``now`` (naive UTC); commits its own transactions."""
    now = now or tk.utcnow()
    report = RunReport()
    if not tk.get_setting(PLUGIN, "smtp_host"):  # e-mail is not set up: nothing is claimed, nothing fails
        return report
    tk.public_url()  # no PUBLIC_URL outside a request: stop here (RuntimeError), before anything is claimed
    due = collect(now)
    if not due:
        return report
    with Mailer() as mailer:
        batches = [(item.account, [note], "immediate") for item in due for note in item.immediate]
        batches += [(item.account, item.digest, "digest") for item in due if item.digest]
        for account, notes, mode in batches:
            _send(mailer, account, notes, mode, report)
            if mailer.unreachable:  # the rest waits, unclaimed, for the next run (not a timeout per message)
                break
    return report


def digest_cut(now: datetime) -> datetime:
    """The latest digest moment at or before ``now`` (naive UTC): today's digest hour, else yesterday's."""
    hour = int(tk.get_setting(PLUGIN, "digest_hour"))
    today = tk.local_today(now)
    local = datetime.combine(today, time(hour), tzinfo=tk.local_zone())
    if local > tk.to_local(now):
        local -= timedelta(days=1)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def collect(now: datetime) -> list[Due]:
    """Each account's due messages: not yet in the log (or failed), recent, to an address, not off."""
    Notification, Account = tk.Notification, tk.Account
    since = now - LOOKBACK
    rows = tk.db.session.execute(
        select(Notification, Account)
        .join(Account, Account.id == Notification.account_id)
        .outerjoin(EmailSend, EmailSend.notification_id == Notification.id)
        .where(Account.email.is_not(None), Account.is_active_account.is_(True), Notification.created_at >= since,
               Notification.created_at <= now, or_(EmailSend.id.is_(None), EmailSend.status == "failed"))
        .order_by(Notification.account_id, Notification.id)).all()
    declared = tk.notification_kinds()
    stored = preferences.stored_modes(account.id for _note, account in rows)
    cut = digest_cut(now)
    due: dict[int, Due] = {}
    for note, account in rows:
        kind = preferences.group_of(note.kind, declared)
        mode = stored[account.id].get(kind.kind) or preferences.default_mode(kind)
        item = due.setdefault(account.id, Due(account))
        if mode == "immediate":
            item.immediate.append(note)
        elif mode == "digest" and note.created_at < cut:
            item.digest.append(note)
    return [item for item in due.values() if item.immediate or item.digest]


def _claim(notes: list[tk.Notification], mode: str) -> bool:
    """Claim the messages in the log (own transaction); False when another run has them."""
    try:
        for note in notes:
            claimed = tk.db.session.execute(
                update(EmailSend).where(EmailSend.notification_id == note.id, EmailSend.status == "failed")
                .values(status="sending", mode=mode, attempts=EmailSend.attempts + 1, claimed_at=tk.utcnow()))
            if claimed.rowcount == 0:
                tk.db.session.add(EmailSend(notification_id=note.id, account_id=note.account_id, mode=mode,
                                            status="sending", attempts=1))
                tk.db.session.flush()
        tk.db.session.commit()
        return True
    except IntegrityError:
        tk.db.session.rollback()
        return False


def _send(mailer: Mailer, account: tk.Account, notes: list[tk.Notification], mode: str, report: RunReport) -> None:
    ids = [note.id for note in notes]
    account_id, address, locale = account.id, account.email, account.locale
    message = compose(address, locale, account_id, notes, digest=mode == "digest")  # before the claim: a
    if not _claim(notes, mode):  # message that cannot be written is not marked as being sent
        return
    try:
        mailer.send(message)
    except (OSError, smtplib.SMTPException) as error:  # the server is down or refused: retried next run
        _finish(ids, status="failed", error=f"{type(error).__name__}: {error}"[:2000])
        report.failed += len(ids)
        report.errors.append(str(error))
        return
    _finish(ids, status="sent", error="", sent_at=tk.utcnow())
    if mode == "digest":
        report.digests += 1
    else:
        report.immediate += 1


def _finish(ids: list[int], **values) -> None:
    tk.db.session.execute(update(EmailSend).where(EmailSend.notification_id.in_(ids)).values(**values))
    tk.db.session.commit()


# -- the messages --------------------------------------------------------------------------------------


def compose(address: str, locale: str | None, account_id: int, notes: list[tk.Notification], *,
            digest: bool) -> EmailMessage:
    """One e-mail in the reader's language: plain text and simple HTML, absolute links, unsubscribe link."""
    declared = tk.notification_kinds()
    kind = preferences.ALL if digest else preferences.group_of(notes[0].kind, declared).kind
    token = preferences.unsubscribe_token(account_id, kind)
    unsubscribe = tk.public_url(tk.path_for("email.unsubscribe", token=token))
    with tk.reader_locale(locale):
        items = [_item(note) for note in notes]
        subject = (_("Your messages of %(day)s", day=tk.fmt_date(tk.local_date(notes[-1].created_at)))
                   if digest else items[0]["title"])
        context = {"items": items, "digest": digest, "unsubscribe_url": unsubscribe,
                   "preferences_url": tk.public_url(tk.path_for("email.preferences")),
                   "kind_label": preferences.kind_label(kind), "site_url": tk.public_url("/")}
        text = render_template("email/message.txt", **context)
        html = render_template("email/message.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((str(tk.get_setting(PLUGIN, "from_name") or ""), tk.get_setting(PLUGIN, "from_address")))
    message["To"] = address
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=_domain(tk.get_setting(PLUGIN, "from_address")))
    message["List-Unsubscribe"] = f"<{tk.public_url(tk.path_for('email.one_click', token=token))}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _item(note: tk.Notification) -> dict:
    title, body = note.display_title, note.display_body  # inside compose's tk.reader_locale
    url = note.url or tk.path_for("inbox.index")
    return {"title": title, "body": body, "url": url if "://" in url else tk.public_url(url),
            "at": tk.fmt_datetime(note.created_at)}


def _domain(address: str | None) -> str:
    return (address or "portal.localhost").rpartition("@")[2] or "portal.localhost"


# -- the SMTP server -----------------------------------------------------------------------------------


class Mailer:
    """One SMTP connection for a run, opened on first use with the plugin's settings."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        #: The server could not be reached or dropped the connection: stop this run.
        self.unreachable = False

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass  # the messages are already accepted or recorded as failed

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; a broken connection is dropped so the next message reconnects."""
        try:
            self._connection().send_message(message)
        except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError):
            self.smtp, self.unreachable = None, True
            raise

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = connect()
        return self.smtp


def connect() -> smtplib.SMTP:
    """A logged-in SMTP connection as the settings say (security none / starttls / ssl)."""
    host, port = tk.get_setting(PLUGIN, "smtp_host"), int(tk.get_setting(PLUGIN, "smtp_port"))
    security, timeout = tk.get_setting(PLUGIN, "smtp_security"), float(tk.get_setting(PLUGIN, "smtp_timeout"))
    if not host:
        raise smtplib.SMTPException(_("No SMTP server is set (e-mail settings)."))
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    username = tk.get_setting(PLUGIN, "smtp_username")
    if username:
        smtp.login(username, current_app.config.get("EMAIL_SMTP_PASSWORD") or "")
    return smtp


def send_test(address: str) -> None:
    """Send a short test message to ``address`` now; raises ``OSError``/``SMTPException`` on failure."""
    message = EmailMessage()
    message["Subject"] = _("Test e-mail from the portal")
    message["From"] = formataddr((str(tk.get_setting(PLUGIN, "from_name") or ""), tk.get_setting(PLUGIN, "from_address")))
    message["To"] = address
    message["Date"] = formatdate(localtime=True)
    message.set_content(_("The e-mail settings work: this message reached you."))
    with Mailer() as mailer:
        mailer.send(message)

