"""/r/<token>: the one-tap answer page; GET shows the call-up, only POST answers it."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from notices.links import LinkExpired, resolve_link
from campaigns.messaging import callup_context
from campaigns import responses
from campaigns.models import CallUp, CallUpStatus
from campaigns.services import ETA_BUCKETS, get_callup, is_emergency
from campaigns.team_offers import MembersRefused, answer_team_callup, is_team_callup
from core.clock import utcnow
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from extensions import csrf, db, limiter
from volunteers.models import Team, Volunteer, VolunteerStatus

bp = Blueprint("responses", __name__)

# What an emergency "yes" says about arrival (minutes; 0 = already on site): the staffing board's columns.
ETA_CHOICES = tuple(minutes for _, minutes in ETA_BUCKETS)

LABELS = {
    "zh": {"title": "志愿召集", "what": "活动", "role": "岗位", "when": "时间", "where": "地点",
           "deadline": "请在此前回复", "contact": "联系人", "accept": "我参加", "decline": "我不参加",
           "accepted": "已确认，感谢您参加！", "declined": "已收到，感谢您的回复。",
           "not_found": "链接无效。", "expired": "链接已过期：回复时间已过。", "lang": "zh-CN",
           "team": "队伍", "places": "需派人数", "choose": "请选择派出的成员（最多 {places} 人）",
           "send": "派出所选成员", "team_decline": "本队无法参加", "no_members": "本队暂无可派出的在册成员。",
           "sent_members": "已派出：", "sep": "、", "team_accepted": "已确认：{count} 人参加，感谢！",
           "team_declined": "已收到：本队不参加，感谢您的回复。",
           "none_chosen": "请至少选择一名成员；如本队无法参加，请点“本队无法参加”。",
           "too_many": "最多只能选 {places} 人，您选了 {count} 人。未作任何更改。",
           "busy": "以下成员同一时间已有任务：{names}。未作任何更改。",
           "gates": "以下成员不符合岗位要求，未作任何更改。",
           "gate_codes": {"not_active": "未在册服务", "skill": "缺少所需技能或等级", "no_certificate": "缺少有效证书",
                          "certificate_expired": "证书已过期", "unavailable": "该时段不在服务时间内",
                          "blackout": "当天已请假", "busy": "同一时间已有任务", "monthly_cap": "本月召集次数已满"},
           "already_called": "以下成员已被召集到此岗位：{names}。未作任何更改。",
           "not_member": "以下人员不是本队在册成员：{names}。未作任何更改。",
           "full": "岗位名额不足：只剩 {left} 个。未作任何更改。",
           "not_open": "此召集已答复或已截止，不能再回复。", "failed": "未能提交，请稍后再试。未作任何更改。",
           "standby": "岗位已满：您已列入候补，有名额空出时会第一时间通知您。",
           "closed": "活动已取消或班次已结束，不能再回复。",
           "contact_call": "拨打", "eta_question": "我参加，能在多久内到达？", "eta": "预计到达",
           "eta_0": "已在现场", "eta_15": "15 分钟内", "eta_30": "30 分钟内", "eta_60": "60 分钟内",
           "eta_other": "{minutes} 分钟内",
           "statuses": {"proposed": "拟召集", "scheduled": "待发送", "sent": "待回复", "accepted": "已接受",
                        "declined": "已拒绝", "expired": "已过期", "withdrawn": "已撤回", "attended": "已到岗",
                        "no_show": "未到岗"}},
    "en": {"title": "Call-up", "what": "Activity", "role": "Role", "when": "When", "where": "Where",
           "deadline": "Please answer by", "contact": "Contact", "accept": "I'll come", "decline": "I can't",
           "accepted": "Confirmed, thank you for coming!", "declined": "Noted, thank you for answering.",
           "not_found": "This link is not valid.", "expired": "This link has expired: the time to answer is over.",
           "lang": "en",
           "team": "Team", "places": "Places offered", "choose": "Choose who goes (at most {places})",
           "send": "Send the selected members", "team_decline": "Our team can't come",
           "no_members": "The team has no active members to send.", "sent_members": "Sent: ", "sep": ", ",
           "team_accepted": "Confirmed: {count} people are coming, thank you!",
           "team_declined": "Noted: your team is not coming, thank you for answering.",
           "none_chosen": "Choose at least one member; if the team cannot come, press \u201cOur team can't come\u201d.",
           "too_many": "At most {places} people: you chose {count}. Nothing was changed.",
           "busy": "Already serving at that time: {names}. Nothing was changed.",
           "gates": "Some members do not meet the position's requirements. Nothing was changed.",
           "gate_codes": {"not_active": "not active", "skill": "lacks the skill or level",
                          "no_certificate": "no valid certificate", "certificate_expired": "certificate expired",
                          "unavailable": "not available at that time", "blackout": "away that day",
                          "busy": "already serving at that time", "monthly_cap": "monthly call-up limit reached"},
           "already_called": "Already called up for this position: {names}. Nothing was changed.",
           "not_member": "Not active members of the team: {names}. Nothing was changed.",
           "full": "Not enough places left: only {left}. Nothing was changed.",
           "not_open": "This call-up is already answered or closed.",
           "failed": "The answer could not be saved; please try again. Nothing was changed.",
           "standby": "The position is full: you are on standby and will be offered the next place that frees.",
           "closed": "The activity was cancelled or the shift has ended: answers are closed.",
           "contact_call": "Call", "eta_question": "I'll come: how soon can you be there?",
           "eta": "Arriving", "eta_0": "Already on site", "eta_15": "Within 15 min", "eta_30": "Within 30 min",
           "eta_60": "Within 60 min", "eta_other": "Within {minutes} min",
           "statuses": {"proposed": "Proposed", "scheduled": "Scheduled", "sent": "Awaiting your answer",
                        "accepted": "Accepted", "declined": "Declined", "expired": "Expired",
                        "withdrawn": "Withdrawn", "attended": "Attended", "no_show": "Did not attend"}},
}


@bp.after_request
def _private(response):
    # The token is the credential: never leak it through Referer, caches or search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def eta_text(minutes: int | None, lang: str) -> str:
    """The arrival time a person gave, in words ("15 分钟内"); empty when they did not say."""
    if minutes is None:
        return ""
    labels = LABELS["en" if lang == "en" else "zh"]
    return labels.get(f"eta_{minutes}") or labels["eta_other"].format(minutes=minutes)


def eta_from_form(form, *, allowed: bool) -> int | None:
    """The ``eta_minutes`` a form sent, strictly: absent, or (where ``allowed``) exactly one of ETA_CHOICES.

    Anything else (a forged 7, "abc", two values, an arrival time on a routine call-up or a
    decline) aborts with 400 before anything is written.
    """
    values = form.getlist("eta_minutes")
    if not values:
        return None
    if not allowed or len(values) != 1 or values[0] not in {str(minutes) for minutes in ETA_CHOICES}:
        abort(400)
    return int(values[0])


def _tel(phone: str) -> str:
    """A ``tel:`` address for a displayed number ("0571-8888 1234" → "tel:0571-88881234")."""
    return "tel:" + re.sub(r"[^0-9+\-]", "", phone)


# A refused answer's error code → the key of LABELS that says it on the page.
ANSWER_ERROR_KINDS = {"standby": "standby", "not_open": "not_open", "campaign_cancelled": "closed",
                      "shift_ended": "closed"}


def _page(callup, status: int = 200, refusal: str | None = None, done: str | None = None):
    if is_team_callup(callup):
        return _team_page(callup, status)
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    lang = "en" if volunteer and (volunteer.language or "").startswith("en") else "zh"
    context = callup_context(callup, volunteer) if volunteer else {}
    labels = LABELS[lang]
    emergency = is_emergency(callup)
    message = labels[ANSWER_ERROR_KINDS.get(refusal, "failed")] if refusal else None
    return render_template("response.html", c=context, callup=callup, t=labels, message=message,
                           done=labels.get(done) if done else None, tel=_tel(context.get("contact_phone") or ""),
                           emergency=emergency, eta_buttons=[(m, eta_text(m, lang)) for m in ETA_CHOICES],
                           eta=eta_text(callup.eta_minutes, lang) if emergency else "",
                           open=callup.status.value == "sent" or callup.status.value == "accepted"), status


def _error(kind: str, status: int):
    return render_template("response_error.html", t=LABELS["zh"], en=LABELS["en"], kind=kind), status


def _resolve(token: str) -> int:
    return resolve_link(token, now=utcnow())


# --- a team call-up: the leader names who comes --------------------------------------------------


def _team_page(callup, status: int = 200, *, error: tuple[str, dict] | None = None, done: str | None = None,
               chosen: frozenset[int] = frozenset(), count: int = 0):
    """The offer to a team: what, when, places offered, and the active members to tick (names only)."""
    team = db.session.get(Team, callup.team_id)
    leader = db.session.get(Volunteer, team.leader_id) if team and team.leader_id else None
    lang = "en" if leader and (leader.language or "").startswith("en") else "zh"
    labels = LABELS[lang]
    context = callup_context(callup, leader) if leader else {}
    members = [m for m in team.members if m.status is VolunteerStatus.ACTIVE] if team else []
    sent = db.session.scalars(
        select(Volunteer.name).join(CallUp, CallUp.volunteer_id == Volunteer.id)
        .where(CallUp.position_id == callup.position_id, CallUp.team_id == callup.team_id,
               CallUp.status == CallUpStatus.ACCEPTED).order_by(Volunteer.id)).all()
    message = None
    if error and error[0] == "gates":
        codes = labels["gate_codes"]
        message = " ".join([labels["gates"]] + [f"{codes.get(code, code)}：{labels['sep'].join(names)}"
                                               for code, names in error[1]["groups"].items()])
    elif error:
        kind, values = error
        message = labels[kind].format(**{key: labels["sep"].join(value) if isinstance(value, list) else value
                                          for key, value in values.items()})
    done_text = labels[done].format(count=count) if done else None
    return render_template("response.html", c=context, callup=callup, t=labels, message=message, done=done_text,
                           team=team, members=members, chosen=chosen, sent=sent,
                           tel=_tel(context.get("contact_phone") or ""),
                           open=callup.status is CallUpStatus.SENT), status


# A refused team answer's error code → the key of LABELS that says it on the page.
TEAM_ERROR_KINDS = {"too_many": "too_many", "not_member": "not_member", "already_called": "already_called",
                    "position_full": "full", "not_open": "not_open", "campaign_cancelled": "not_open",
                    "shift_ended": "not_open"}


def _team_error(callup, error: DomainError, count: int) -> tuple[str, dict]:
    """The page's message for a refused team answer, by the error's code (never its wording)."""
    team = db.session.get(Team, callup.team_id)
    names = {m.id: m.name for m in team.members} if team else {}
    if isinstance(error, MembersRefused):  # each gate with the members it refuses
        groups: dict[str, list[str]] = {}
        for refusal in error.refusals:
            groups.setdefault(refusal.code, []).append(refusal.name)
        return "gates", {"groups": groups}
    kind = TEAM_ERROR_KINDS.get(error.code, "failed")
    return kind, {"places": callup.places, "count": count, "left": error.about.get("left", 0),
                  "names": [names.get(i, str(i)) for i in error.about.get("volunteer_ids", [])]}


def _answer_team(callup, action: str):
    """Send the ticked members, or decline for the whole team; refusals are shown on the page."""
    chosen = [] if action == "decline" else _member_ids()
    if chosen is None:
        abort(400)
    picked = frozenset(chosen)
    if action == "send" and not chosen:
        return _team_page(callup, 422, error=("none_chosen", {}))
    if len(set(chosen)) > (callup.places or 0):
        return _team_page(callup, 422, error=("too_many", {"places": callup.places, "count": len(set(chosen))}),
                          chosen=picked)
    team = db.session.get(Team, callup.team_id)
    actor = f"link:volunteer:{team.leader_id}" if team and team.leader_id else f"link:team:{callup.team_id}"
    try:
        answer = answer_team_callup(callup.id, member_ids=chosen, now=utcnow(), actor=actor)
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        fresh = get_callup(callup.id)
        return _team_page(fresh, error.status_code, error=_team_error(fresh, error, len(set(chosen))), chosen=picked)
    if action == "decline":
        return _team_page(answer.team_callup, done="team_declined")
    return _team_page(answer.team_callup, done="team_accepted", count=len(answer.callups))


def _member_ids() -> list[int] | None:
    """The ticked member ids, or None when one is not a number (a forged form)."""
    values = request.form.getlist("member_ids")
    if len(values) > 200 or not all(v.isdigit() and len(v) <= 12 for v in values):
        return None
    return [int(v) for v in values]


@bp.get("/r/<token>")
def show(token: str):
    """Show what, where, when and whom to ask (with a tel: link), with accept/decline buttons; changes nothing.

    An emergency's open call-up offers four "yes" buttons, one per arrival time, instead of one. GET
    and HEAD are what chat apps' link previews send, so they never count as "seen": the page's own
    script (static/seen.js) posts to ``seen`` once a person has it in front of them.
    """
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    return _page(get_callup(callup_id))


@bp.post("/r/<token>/seen")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the token in the URL is the credential, and recording "seen" twice changes nothing
def seen(token: str):
    """Record that a person opened the link (the first time only); 204, or 404/410 for a bad or old link."""
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return "", 410
    except NotFound:
        return "", 404
    responses.record_seen(callup_id, now=utcnow())
    return "", 204


@bp.post("/r/<token>")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the unguessable link itself is the credential; there is no cookie for a forged form to ride on
def answer(token: str):
    """Accept (in an emergency: with when the person can be there) or decline; a team's leader sends or declines."""
    action = request.form.get("action", "")
    if action not in {"accept", "decline", "send"}:
        abort(400)
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    # One query for the call-up, its shift, campaign and person; the page after the answer reloads them so.
    callup, _person = responses.load_callup(callup_id)
    team = is_team_callup(callup)
    # Validated before anything is written: an arrival time only with an emergency's "yes".
    eta_minutes = eta_from_form(request.form, allowed=action == "accept" and not team and is_emergency(callup))
    if team:
        if action == "accept":
            abort(400)
        return _answer_team(callup, action)
    if action == "send":
        abort(400)
    actor = f"link:volunteer:{callup.volunteer_id}"
    try:
        if action == "accept":
            callup = responses.accept_callup(callup_id, actor=actor, now=utcnow(), eta_minutes=eta_minutes)
        else:
            callup = responses.decline_callup(callup_id, actor=actor, now=utcnow())
    except Conflict as error:
        db.session.rollback()
        callup, _person = responses.load_callup(callup_id)
        return _page(callup, 409, refusal=error.code)
    callup, _person = responses.load_callup(callup_id)
    return _page(callup, done="accepted" if action == "accept" else "declined")
