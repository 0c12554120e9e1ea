"""Office staff's own contact details and the channels their coordinator notices go out on."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from accounts.models import Role, User
from core.errors import NotFound, ValidationFailed
from core.i18n import _l
from core.masking import MOBILE_RE
from core.scope import STAFF_ROLES, Scope
from extensions import db
from notices.models import Channel
from volunteers.models import CONSENT_CHANNELS

# The channels a staff member may choose besides the in-app row, and the column holding each one's address.
STAFF_CHANNELS = CONSENT_CHANNELS  # sms, email, wecom
CHANNEL_ADDRESS = {"sms": "mobile", "email": "email", "wecom": "wecom_id"}
ADDRESS_NAMES = {"mobile": "a mobile number", "email": "an e-mail address", "wecom_id": "a WeCom id"}
CONTACT_FIELDS = ("email", "mobile", "wecom_id", "notify_channels")
# The API schemas check these too; this is for callers without a schema (the CLI).
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def staff_contact_values(role: Role, data: Mapping[str, Any], current: User | None = None) -> dict[str, Any]:
    """Column values for a staff account's contact fields in ``data`` (email, mobile, wecom_id,
    notify_channels as a list), checked against each other and what ``current`` already holds.

    A missing key keeps the stored value; None or "" clears an address; the channel list replaces the
    stored one. Every chosen channel needs its address. Raises ValidationFailed naming the fields.
    """
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed({name: ["Unknown field."] for name in sorted(unknown)})
    given = {key: data[key] for key in CONTACT_FIELDS if key in data}
    if not given:
        return {}
    if role not in STAFF_ROLES:
        raise ValidationFailed({name: ["Only office staff and admins keep contact details on their account; a "
                                       "volunteer's are on their volunteer record."] for name in given})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in ("email", "mobile", "wecom_id"):
        if name in given:
            values[name] = _text(given[name])
    if values.get("email") is not None and (len(values["email"]) > 254 or not EMAIL_RE.match(values["email"])):
        errors["email"] = ["Not a valid email address."]
    if values.get("mobile") is not None and not MOBILE_RE.match(values["mobile"]):
        errors["mobile"] = ["Not a valid mobile number."]
    if values.get("wecom_id") is not None and len(values["wecom_id"]) > 64:
        errors["wecom_id"] = ["Longer than maximum length 64."]
    if "notify_channels" in given:
        chosen = given["notify_channels"]
        if isinstance(chosen, str):
            chosen = [part.strip() for part in chosen.split(",") if part.strip()]
        if chosen is None:
            chosen = []
        bad = sorted({str(channel) for channel in chosen} - set(STAFF_CHANNELS))
        if bad:
            errors["notify_channels"] = [f"Unknown channel {name!r}: choose from {', '.join(STAFF_CHANNELS)}."
                                         for name in bad]
        else:
            # Stored in a fixed order, without repeats.
            values["notify_channels"] = ",".join(channel for channel in STAFF_CHANNELS if channel in chosen)
    if errors:
        raise ValidationFailed(errors)
    merged = {name: values.get(name, getattr(current, name, None) if current is not None else None)
              for name in ("email", "mobile", "wecom_id")}
    stored = values.get("notify_channels", current.notify_channels if current is not None else "") or ""
    for channel in filter(None, stored.split(",")):
        address = CHANNEL_ADDRESS[channel]
        if merged[address] is None:
            # Name the field the caller just emptied, else the channel list that asks for it.
            field = address if address in values else "notify_channels"
            errors.setdefault(field, []).append(
                f"Give {ADDRESS_NAMES[address]} to get notices by {channel}, or leave {channel} out of notify_channels.")
    if errors:
        raise ValidationFailed(errors)
    return values



def staff_addresses(user: User) -> list[tuple[str, str]]:
    """(channel, address) for each channel a staff account chose and has an address for."""
    return [(name, getattr(user, CHANNEL_ADDRESS[name])) for name in user.notify_channel_list
            if getattr(user, CHANNEL_ADDRESS[name])]


def staff_channels(user: User, available: set[Channel]) -> list[tuple[Channel, str | None]]:
    """(channel, recipient) pairs for a staff account: its in-app inbox, then the channels it chose, has an
    address for and the deployment has configured (grid alerts, whistles and their escalations)."""
    pairs: list[tuple[Channel, str | None]] = [(Channel.INAPP, f"user:{user.id}")]
    return pairs + [(Channel(name), address) for name, address in staff_addresses(user) if Channel(name) in available]


def coordinator_addresses(user_id: int) -> list[tuple[str, str]]:
    """``staff_addresses`` of an active staff account, none for anyone else: how the outbox reaches a
    campaign's coordinator (registered by the app factory, as the outbox sits below this package)."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role not in STAFF_ROLES:
        return []
    return staff_addresses(user)

def _own_account(scope: Scope) -> User:
    user = db.session.get(User, scope.user_id) if scope.user_id is not None else None
    if user is None:
        raise NotFound(_l("This token does not belong to a signed-in account (sign in at /api/v1/auth/token)."))
    return user


def update_own_contact(scope: Scope, data: Mapping[str, Any]) -> User:
    """The caller changes their own contact details and notice channels (office staff and admins)."""
    user = _own_account(scope)
    for name, value in staff_contact_values(user.role, data, current=user).items():
        setattr(user, name, value)
    db.session.commit()
    return user
