"""Message texts, written in English and said in the recipient's language through the catalogue (Chinese
unless they chose English); no party membership, no phone of the person.

The tables hold lazy catalogue entries with ``str.format`` placeholders ({title}, {when}, ...): ``render``
picks the language with ``in_language`` (it runs in the scheduler too, outside any request), then fills them.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.i18n import _, _l, in_language

# A single Chinese SMS is 70 UCS-2 characters; longer ones are split and cost more.
SMS_LIMIT = {"zh": 70, "en": 160}
# Emergencies and alerts must say what and where: they may take two concatenated parts (67 / 153 each).
SMS_LONG_LIMIT = {"zh": 134, "en": 306}
LONG_SMS_TEMPLATES = frozenset({"emergency_callup", "emergency_follow_up", "alert", "whistle", "whistle_escalation"})

SUBJECTS = {
    "callup": _l("Call-up: {title}"),
    "reminder": _l("Reminder: {title}"),
    "confirmation": _l("Confirmed: {title}"),
    "declined": _l("Answer received: {title}"),
    "filled": _l("Position full: {title}"),
    "cancellation": _l("Cancelled: {title}"),
    "coordinator": _l("Notice: {title}"),
    "changed": _l("Changed: {title}"),
    "team_callup": _l("Team call-up: {title}"),
    "emergency_callup": _l("[EMERGENCY] {title}"),
    "follow_up": _l("Still needed: {title}"),
    "emergency_follow_up": _l("[EMERGENCY] Still needed: {title}"),
    "alert": _l("[ALERT] {title}"),
    "whistle": _l("[WHISTLE] {title}"),
    "whistle_escalation": _l("[WHISTLE UNANSWERED] {title}"),
}

BODIES = {
    "callup": _l("Hello {name}: your community invites you to \"{title}\" ({role}) on {when} at {place}. Please "
                 "answer by {deadline}: {link} Contact: {contact}. If you already answered, ignore this."),
    "reminder": _l("Reminder: \"{title}\" ({role}) starts {when} at {place}. Thank you! Contact: {contact}."),
    "confirmation": _l("Confirmed: you are signed up for \"{title}\" ({role}) on {when} at {place}. If plans "
                       "change, contact {contact}."),
    "declined": _l("Noted: you will not take part in \"{title}\" ({when}). Thank you for answering!"),
    "filled": _l("\"{title}\" ({role}) is already full; you are on standby and we will tell you if a place frees."),
    "cancellation": _l("Notice: \"{title}\" ({when}) is cancelled. Sorry for the inconvenience."),
    "coordinator": _l("\"{title}\": {note}"),
    "changed": _l("Change: \"{title}\" ({role}) is now on {when} at {place}. {note} If you cannot come, answer or "
                  "contact {contact}. {link}"),
    "team_callup": _l("Hello {name}: your community invites your team to \"{title}\" ({role}) on {when} at {place}, "
                      "{note}. Please tell us how many and who by {deadline}: {link} Contact: {contact}."),
    "emergency_callup": _l("[EMERGENCY] {name}: \"{title}\" urgently needs a {role} at {place}, {when}. Reply 1 if "
                           "you are coming now, 1 15 / 1 30 / 1 60 for within that many minutes, 2 if you cannot. "
                           "Answer by {deadline}: {link} Contact: {contact}."),
    "follow_up": _l("Still waiting for your answer, {name}: \"{title}\" ({role}, {when}, {place}). Please answer by "
                    "{deadline}: {link} Contact: {contact}. If you already answered, ignore this."),
    "emergency_follow_up": _l("[EMERGENCY] Still needed, {name}: \"{title}\" needs a {role} at {place}, {when}. "
                              "Reply 1 coming now, 1 15 / 1 30 / 1 60 within minutes, 2 cannot: {link} Contact: "
                              "{contact}."),
    "alert": _l("[ALERT] {title}: {note} At {place}, {when}. Please get ready, warn the households of your grid "
                "and confirm you received this: {link}"),
    "whistle": _l("[GRID WHISTLE] {name}: \"{title}\" at {place} ({note}). Your unit must report on site by "
                  "{deadline}. Confirm: {link}"),
    "whistle_escalation": _l("[WHISTLE UNANSWERED] \"{title}\" at {place} ({note}), raised {when}: no unit has "
                             "reported on site. Please step in."),
}

SMS_BODIES = {
    "callup": _l("Call-up: {title} {short_when}. Reply 1 yes, 2 no, or {link}"),
    "reminder": _l("Reminder: {title} {short_when} at {place}"),
    "confirmation": _l("Signed up: {title} {short_when} at {place}"),
    "declined": _l("Noted, not taking part: {title} {short_when}"),
    "filled": _l("Full, you are on standby: {title}"),
    "cancellation": _l("Cancelled: {title} {short_when}"),
    "coordinator": _l("{title}: {note}"),
    "changed": _l("Changed: {title} now {short_when} at {place} {link}"),
    "team_callup": _l("Team call-up: {title} {short_when}, {note}: {link}"),
    "emergency_callup": _l("[EMERGENCY] {title} at {place} {short_when}. Reply 1 now / 1 15 / 1 30 mins / 2 no. "
                           "{link}"),
    "follow_up": _l("Still waiting: {title} {short_when}. Reply 1 yes, 2 no, or {link}"),
    "emergency_follow_up": _l("[EMERGENCY] Still needed: {title} at {place}. Reply 1 now / 1 15 / 1 30 / 2 no. "
                              "{link}"),
    "alert": _l("[ALERT] {title} at {place} {short_when}: {note} Confirm: {link}"),
    "whistle": _l("[WHISTLE] {title} at {place}, report by {deadline}: {link}"),
    "whistle_escalation": _l("[WHISTLE UNANSWERED] {title} at {place} {short_when}: no unit on site"),
}

# The only facts a message may carry; party membership and the person's mobile are not among them.
CONTEXT_KEYS = ("name", "title", "role", "when", "short_when", "place", "deadline", "contact", "link", "note")


@dataclass(frozen=True)
class Text:
    subject: str
    text: str


def language_of(value: str | None) -> str:
    """The message language for a person's setting; Chinese unless they chose English."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def render(template: str, lang: str, context: dict[str, str], *, channel: str) -> Text:
    """Subject and body of message ``template`` for ``channel`` in ``lang``."""
    with in_language(language_of(lang)) as lang:
        values = {key: str(context.get(key) or "") for key in CONTEXT_KEYS}
        values["contact"] = values["contact"] or _("your community office")
        subject = str(SUBJECTS[template]).format(**values)
        if channel == "sms":
            limit = (SMS_LONG_LIMIT if template in LONG_SMS_TEMPLATES else SMS_LIMIT)[lang]
            return Text(subject, fit_sms(str(SMS_BODIES[template]), values, limit))
        return Text(subject, str(BODIES[template]).format(**values))


def fit_sms(template: str, values: dict[str, str], limit: int) -> str:
    """Format an SMS, shortening the title (then the place) so the whole text, link included, fits."""
    values = dict(values)
    for field in ("title", "place"):
        text = template.format(**values)
        excess = len(text) - limit
        if excess <= 0:
            return text
        original = values[field]
        keep = max(len(original) - excess - 1, 0)
        values[field] = (original[:keep] + "…") if keep else ""
    return template.format(**values)[:limit] if not values["link"] else template.format(**values)
