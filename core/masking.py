"""Masking of personal data for lists and logs (138****1234)."""
from __future__ import annotations


def mask_mobile(mobile: str | None) -> str | None:
    """Keep the first three and last four digits of a mobile number."""
    if not mobile:
        return mobile
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Keep the family name (first character) of a Chinese name: 张**."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)
