"""The review plugin's settings, with the defaults of BRANCH-LIFE.md (e)."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

SETTINGS = [
    tk.SettingSpec("excellent_one_in", _l("Excellent normally for at most one in this many full members"), "int", 3,
                   min=1, max=20, help=_l("3 means one third: more needs a reason.")),
    tk.SettingSpec("host_opinion_days", _l("The host branch gives its opinion within this many days"), "int", 20,
                   min=1, max=120),
    tk.SettingSpec("remind_days", _l("Remind members this many days before a step's window closes"), "int", 3,
                   min=0, max=30),
    tk.SettingSpec("self_max_chars", _l("Longest self-assessment (characters)"), "int", 5000, min=500, max=20000),
    tk.SettingSpec("comment_max_chars", _l("Longest comment on a rating (characters)"), "int", 500, min=50, max=2000),
    tk.SettingSpec("grade_probationary", _l("Grade probationary members too"), "bool", False,
                   help=_l("Usually they take part in the review but receive no grade.")),
]


def setting(key: str):
    """The current value of one of this plugin's settings."""
    return tk.get_setting("review", key)
