"""The development plugin's settings: every time limit of BRANCH-LIFE.md (d) with its default."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

PLACE_CHOICES = (("home", _l("The home branch leads, the host branch assists")),
                 ("host", _l("The host branch leads, the home branch assists")))

SETTINGS = [
    tk.SettingSpec("lead_place", _l("Which branch leads for an applicant who works away"), "choice", "home",
                   choices=PLACE_CHOICES),
    tk.SettingSpec("min_age", _l("Minimum age on the day of application"), "int", 18, min=14, max=30),
    tk.SettingSpec("talk_months", _l("Talk with an applicant within this many months of the application"), "int", 1,
                   min=1, max=6),
    tk.SettingSpec("activist_months", _l("Months as an activist before becoming a candidate"), "int", 12,
                   min=1, max=36),
    tk.SettingSpec("assessment_months", _l("Mentors assess an activist every this many months"), "int", 6,
                   min=1, max=12),
    tk.SettingSpec("min_assessments", _l("Assessments needed before becoming a candidate"), "int", 2, min=0, max=6),
    tk.SettingSpec("review_valid_months", _l("A political review's conclusion is valid this many months"), "int", 12,
                   min=1, max=36),
    tk.SettingSpec("training_hours", _l("Training hours a candidate needs"), "int", 24, min=1, max=200),
    tk.SettingSpec("training_days", _l("Or training days a candidate needs"), "int", 3, min=1, max=30),
    tk.SettingSpec("hours_per_day", _l("Training hours counted as one day"), "int", 8, min=1, max=12),
    tk.SettingSpec("prereview_months", _l("The committee pre-reviews within this many months of the branch review"),
                   "int", 1, min=1, max=6),
    tk.SettingSpec("notice_working_days", _l("A public notice lasts at least this many working days"), "int", 5,
                   min=1, max=30),
    tk.SettingSpec("vetting_days", _l("The other branch answers a vetting request within this many days"), "int", 30,
                   min=1, max=180),
    tk.SettingSpec("approval_months", _l("The committee approves within this many months of the vote"), "int", 3,
                   min=1, max=12),
    tk.SettingSpec("approval_months_special", _l("In special cases, within this many months"), "int", 6, min=1, max=12),
    tk.SettingSpec("probation_months", _l("Probation lasts this many months from the admission vote"), "int", 12,
                   min=1, max=24),
    tk.SettingSpec("conversion_reminder_days", _l("Remind about the application for full membership this many days "
                                                  "before probation ends"), "int", 30, min=1, max=120),
    tk.SettingSpec("probation_window_days", _l("The board lists probations ending within this many days"), "int", 60,
                   min=1, max=365),
    tk.SettingSpec("remind_days", _l("Remind this many days before a deadline"), "int", 7, min=0, max=60),
    tk.SettingSpec("max_upload_mb", _l("Largest document attached to a step (MB)"), "int", 10, min=1, max=50),
]


def setting(key: str):
    """The current value of one of this plugin's settings."""
    return tk.get_setting("development", key)
