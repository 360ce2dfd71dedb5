"""Example plugin: a greeting page, a nav item, a setting, a permission and a verb.

It is the plugin the README's "Writing a plugin" section describes; the test
suite installs it with pip and proves it is discovered, enabled, disabled and
isolated when it fails.
"""
from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal import toolkit as tk

__version__ = "1.2.3"
#: Shown on the admin plugins page in the viewer's language.
DESCRIPTION = tk.lazy_gettext("An example third-party plugin for the mobile member portal")

bp = Blueprint("example_hello", __name__, template_folder="templates", url_prefix="/hello")


@bp.get("/")
@login_required
def hello():
    """Greets the member and counts the greetings (an activity per day)."""
    member = tk.current_member()
    greeting = tk.get_setting("example_hello", "greeting")
    if member is not None:
        tk.record_activity(member, "example.greeted", "day", tk.local_today().isoformat())
        tk.db.session.commit()
    return render_template("example_hello/hello.html", greeting=greeting)


@tk.hookimpl
def portal_blueprints():
    return [bp]


@tk.hookimpl
def portal_nav_items(account):
    return [tk.NavItem(_l("Hello"), "example_hello.hello", order=99)] if account else []


@tk.hookimpl
def portal_settings():
    return [tk.SettingSpec("greeting", _l("Greeting"), "str", "Hello"),
            tk.SettingSpec("explode", _l("Raise in the dashboard hook (for tests)"), "bool", False)]


@tk.hookimpl
def portal_permissions():
    return [tk.Permission("example_hello.wave", _l("Wave at members"), ("secretary",))]


@tk.hookimpl
def portal_activity_verbs():
    return [tk.ActivityVerb("example.greeted", _l("Was greeted"), "engagement")]


@tk.hookimpl
def portal_dashboard_widgets(account):
    if tk.get_setting("example_hello", "explode"):
        raise RuntimeError("the example plugin exploded on purpose")
    return [tk.Widget(_l("Hello"), "example_hello/widget.html", {"greeting": tk.get_setting("example_hello", "greeting")})]
