"""Message texts in Chinese (default) and English; no party membership, no phone of the person."""
from __future__ import annotations

from dataclasses import dataclass

# A single Chinese SMS is 70 UCS-2 characters; longer ones are split and cost more.
SMS_LIMIT = {"zh": 70, "en": 160}
# Emergencies and alerts must say what and where: they may take two concatenated parts (67 / 153 each).
SMS_LONG_LIMIT = {"zh": 134, "en": 306}
LONG_SMS_TEMPLATES = frozenset({"emergency_callup", "emergency_follow_up", "alert", "whistle", "whistle_escalation"})

SUBJECTS = {
    "zh": {
        "callup": "志愿召集：{title}",
        "reminder": "活动提醒：{title}",
        "confirmation": "报名确认：{title}",
        "declined": "已收到您的回复：{title}",
        "filled": "名额已满：{title}",
        "cancellation": "活动取消：{title}",
        "coordinator": "网格通知：{title}",
        "changed": "活动变更：{title}",
        "team_callup": "共建队伍召集：{title}",
        "emergency_callup": "【应急】{title}",
        "follow_up": "再次提醒：{title}",
        "emergency_follow_up": "【应急】再次提醒：{title}",
        "alert": "【预警】{title}",
        "whistle": "【吹哨】{title}",
        "whistle_escalation": "【吹哨未响应】{title}",
    },
    "en": {
        "callup": "Call-up: {title}",
        "reminder": "Reminder: {title}",
        "confirmation": "Confirmed: {title}",
        "declined": "Answer received: {title}",
        "filled": "Position full: {title}",
        "cancellation": "Cancelled: {title}",
        "coordinator": "Notice: {title}",
        "changed": "Changed: {title}",
        "team_callup": "Team call-up: {title}",
        "emergency_callup": "[EMERGENCY] {title}",
        "follow_up": "Still needed: {title}",
        "emergency_follow_up": "[EMERGENCY] Still needed: {title}",
        "alert": "[ALERT] {title}",
        "whistle": "[WHISTLE] {title}",
        "whistle_escalation": "[WHISTLE UNANSWERED] {title}",
    },
}

BODIES = {
    "zh": {
        "callup": "您好，{name}：社区邀请您参加“{title}”（{role}），时间 {when}，地点 {place}。"
                  "请在 {deadline} 前回复：{link}　联系人：{contact}。如已回复请忽略本消息。",
        "reminder": "提醒：“{title}”（{role}）将于 {when} 在 {place} 开始，感谢您的参与！联系人：{contact}。",
        "confirmation": "已确认：您报名参加“{title}”（{role}），时间 {when}，地点 {place}。"
                        "如有变化请联系：{contact}。",
        "declined": "已收到：您不参加“{title}”（{when}）。感谢回复！",
        "filled": "“{title}”（{role}）名额已满，已将您列为候补，如有空位会通知您。感谢！",
        "cancellation": "通知：“{title}”（{when}）已取消。给您带来不便，敬请谅解。",
        "coordinator": "“{title}”：{note}",
        "changed": "变更通知：“{title}”（{role}）现改为 {when}，地点 {place}。{note}"
                   "如无法参加，请回复或联系：{contact}。{link}",
        "team_callup": "您好，{name}：社区邀请您的队伍参加“{title}”（{role}），时间 {when}，地点 {place}，{note}。"
                       "请在 {deadline} 前告知参加人数和名单：{link}　联系人：{contact}。",
        "emergency_callup": "【应急】{name}：“{title}”急需{role}，地点 {place}，时间 {when}，请尽快到岗。"
                            "回复 1 马上到，1 15 / 1 30 / 1 60 表示几分钟内到，2 表示不能来；"
                            "请在 {deadline} 前回复：{link}　联系人：{contact}。",
        "follow_up": "再次提醒，{name}：“{title}”（{role}，{when}，{place}）仍在等您的回复，"
                     "请在 {deadline} 前回复：{link}　联系人：{contact}。如已回复请忽略。",
        "emergency_follow_up": "【应急】再次提醒，{name}：“{title}”急需{role}，地点 {place}，时间 {when}。"
                               "回复 1 马上到，1 15 / 1 30 / 1 60 几分钟内到，2 不能来：{link}　联系人：{contact}。",
        "alert": "【预警】{title}：{note} 地点 {place}，时间 {when}。请网格内人员做好准备、入户提醒，"
                 "并点击确认已收到：{link}",
        "whistle": "【网格吹哨】{name}：{place}发生“{title}”（{note}），请贵单位在 {deadline} 前到场报到处置。"
                   "收到请确认：{link}",
        "whistle_escalation": "【吹哨未响应】{place}的“{title}”（{note}）发出后无部门到场报到，"
                              "请督办。吹哨时间 {when}。",
    },
    "en": {
        "callup": "Hello {name}: your community invites you to \"{title}\" ({role}) on {when} at {place}. "
                  "Please answer by {deadline}: {link} Contact: {contact}. If you already answered, ignore this.",
        "reminder": "Reminder: \"{title}\" ({role}) starts {when} at {place}. Thank you! Contact: {contact}.",
        "confirmation": "Confirmed: you are signed up for \"{title}\" ({role}) on {when} at {place}. "
                        "If plans change, contact {contact}.",
        "declined": "Noted: you will not take part in \"{title}\" ({when}). Thank you for answering!",
        "filled": "\"{title}\" ({role}) is already full; you are on standby and we will tell you if a place frees.",
        "cancellation": "Notice: \"{title}\" ({when}) is cancelled. Sorry for the inconvenience.",
        "coordinator": "\"{title}\": {note}",
        "changed": "Change: \"{title}\" ({role}) is now on {when} at {place}. {note} "
                   "If you cannot come, answer or contact {contact}. {link}",
        "team_callup": "Hello {name}: your community invites your team to \"{title}\" ({role}) on {when} at {place}, "
                       "{note}. Please tell us how many and who by {deadline}: {link} Contact: {contact}.",
        "emergency_callup": "[EMERGENCY] {name}: \"{title}\" urgently needs a {role} at {place}, {when}. "
                            "Reply 1 if you are coming now, 1 15 / 1 30 / 1 60 for within that many minutes, "
                            "2 if you cannot. Answer by {deadline}: {link} Contact: {contact}.",
        "follow_up": "Still waiting for your answer, {name}: \"{title}\" ({role}, {when}, {place}). "
                     "Please answer by {deadline}: {link} Contact: {contact}. If you already answered, ignore this.",
        "emergency_follow_up": "[EMERGENCY] Still needed, {name}: \"{title}\" needs a {role} at {place}, {when}. "
                               "Reply 1 coming now, 1 15 / 1 30 / 1 60 within minutes, 2 cannot: {link} "
                               "Contact: {contact}.",
        "alert": "[ALERT] {title}: {note} At {place}, {when}. Please get ready, warn the households of your grid "
                 "and confirm you received this: {link}",
        "whistle": "[GRID WHISTLE] {name}: \"{title}\" at {place} ({note}). Your unit must report on site by "
                   "{deadline}. Confirm: {link}",
        "whistle_escalation": "[WHISTLE UNANSWERED] \"{title}\" at {place} ({note}), raised {when}: no unit has "
                              "reported on site. Please step in.",
    },
}

SMS_BODIES = {
    "zh": {
        "callup": "召集:{title} {short_when} 回1接受2拒绝 {link}",
        "reminder": "提醒:{title} {short_when} {place}",
        "confirmation": "已报名:{title} {short_when} {place}",
        "declined": "已收到不参加:{title} {short_when}",
        "filled": "名额已满,已列候补:{title}",
        "cancellation": "已取消:{title} {short_when}",
        "coordinator": "{title}:{note}",
        "changed": "变更:{title} 改为{short_when} {place} {link}",
        "team_callup": "队伍召集:{title} {short_when} {note} {link}",
        "emergency_callup": "【应急】{title} {place} {short_when} 回1马上到/1 15/1 30/2不能 {link}",
        "follow_up": "再提醒:{title} {short_when} 回1接受2拒绝 {link}",
        "emergency_follow_up": "【应急】再提醒:{title} {place} 回1马上到/1 15/1 30/2不能 {link}",
        "alert": "【预警】{title} {place} {short_when} {note} 收到请确认 {link}",
        "whistle": "【吹哨】{title} {place} 请于{deadline}前报到 {link}",
        "whistle_escalation": "【吹哨未响应】{title} {place} {short_when} 无部门报到,请督办",
    },
    "en": {
        "callup": "Call-up: {title} {short_when}. Reply 1 yes, 2 no, or {link}",
        "reminder": "Reminder: {title} {short_when} at {place}",
        "confirmation": "Signed up: {title} {short_when} at {place}",
        "declined": "Noted, not taking part: {title} {short_when}",
        "filled": "Full, you are on standby: {title}",
        "cancellation": "Cancelled: {title} {short_when}",
        "coordinator": "{title}: {note}",
        "changed": "Changed: {title} now {short_when} at {place} {link}",
        "team_callup": "Team call-up: {title} {short_when}, {note}: {link}",
        "emergency_callup": "[EMERGENCY] {title} at {place} {short_when}. Reply 1 now / 1 15 / 1 30 mins / 2 no. "
                            "{link}",
        "follow_up": "Still waiting: {title} {short_when}. Reply 1 yes, 2 no, or {link}",
        "emergency_follow_up": "[EMERGENCY] Still needed: {title} at {place}. Reply 1 now / 1 15 / 1 30 / 2 no. "
                               "{link}",
        "alert": "[ALERT] {title} at {place} {short_when}: {note} Confirm: {link}",
        "whistle": "[WHISTLE] {title} at {place}, report by {deadline}: {link}",
        "whistle_escalation": "[WHISTLE UNANSWERED] {title} at {place} {short_when}: no unit on site",
    },
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
    lang = language_of(lang)
    values = {key: str(context.get(key) or "") for key in CONTEXT_KEYS}
    values["contact"] = values["contact"] or ("社区办公室" if lang == "zh" else "your community office")
    subject = SUBJECTS[lang][template].format(**values)
    if channel == "sms":
        limit = (SMS_LONG_LIMIT if template in LONG_SMS_TEMPLATES else SMS_LIMIT)[lang]
        return Text(subject, fit_sms(SMS_BODIES[lang][template], values, limit))
    return Text(subject, BODIES[lang][template].format(**values))


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
