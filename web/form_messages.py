"""The schemas' and services' English messages as the pages say them in Chinese first, and the one way a form's
number becomes the API's integer. One table for every form page (campaign editor, roster edit and import)."""
from __future__ import annotations

# (part of the English message, Chinese), checked in order: the more specific first.
MESSAGES_ZH = (
    ("Missing data for required field", "必填。"), ("Not a valid integer", "请输入整数。"),
    ("Not a valid datetime", "日期或时间无效。"), ("Not a valid date", "日期无效。"),
    ("Not a phone number", "电话号码格式不对。"), ("Must be after start", "结束时间须晚于开始时间。"),
    ("Cannot exceed the headcount", "不能多于人数。"), ("Already registered", "该手机号已登记。"),
    ("Same as row", "与前面的行重复。"), ("Unknown grid code", "网格编码不存在或不在您的管辖范围内。"),
    ("Unknown grid", "网格不存在或不在您的管辖范围内。"), ("Unknown skill", "技能不存在。"),
    ("outside the office", "不在办公网格之内。"), ("Not a valid mobile number", "手机号格式不对。"),
    ("Only a party member", "只有党员才填党支部。"), ("Must be greater than or equal", "超出允许范围。"),
    ("Length must be between", "长度不符合要求。"), ("Shorter than minimum length", "不能为空。"),
    ("Must be one of", "请从列表中选择。"), ("is listed twice", "技能重复。"),
    ("write a weekday and hours", "请写星期和时段，如 周六 09:00-12:00。"),
    ("write skill:level", "请写 技能:等级，如 燃气安全检查:3。"),
    ("Not a valid cron", "cron 表达式无效。"), ("Fires more than once", "重复过于频繁。"),
)


def zh_of(message: str) -> str:
    """The Chinese for a schema or service message, or "" when there is none."""
    return next((text for part, text in MESSAGES_ZH if part in message), "")


def both(message: str) -> str:
    """"中文 English", or the English alone when no Chinese is known."""
    zh = zh_of(message)
    return f"{zh} {message}" if zh else message


def form_int(raw: str):
    """A number typed or chosen, as the API's integer; anything else as written, so the schema names it."""
    raw = raw.strip()
    return int(raw) if raw.isdecimal() and len(raw) <= 10 else raw
