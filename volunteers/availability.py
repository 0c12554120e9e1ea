"""Weekly availability: "HH:MM" windows ⇄ a packed mask of 336 half-hour slots.

Slot 0 is Monday 00:00-00:30 local time; slot i is bit ``7 - i % 8`` of byte
``i // 8`` (numpy.packbits' default big-endian bit order), 42 bytes in all.
"""
from __future__ import annotations

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
WEEK_SLOTS = 7 * SLOTS_PER_DAY
MASK_BYTES = WEEK_SLOTS // 8


def parse_hhmm(text: str, *, allow_24: bool = False) -> int:
    """Minutes after midnight of "HH:MM" on a half-hour boundary; ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError("Use HH:MM, e.g. 09:00.")
    total = int(hours) * 60 + int(minutes)
    limit = 24 * 60 if allow_24 else 24 * 60 - 1
    if int(minutes) >= 60 or total > limit:
        raise ValueError("Not a time of day.")
    if total % SLOT_MINUTES:
        raise ValueError("Use whole or half hours (HH:00 or HH:30).")
    return total


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_to_mask(windows: list[tuple[int, int, int]]) -> bytes:
    """Pack (weekday, start_minute, end_minute) windows into the weekly mask."""
    bits = bytearray(MASK_BYTES)
    for weekday, start, end in windows:
        for slot in range(weekday * SLOTS_PER_DAY + start // SLOT_MINUTES,
                          weekday * SLOTS_PER_DAY + end // SLOT_MINUTES):
            bits[slot // 8] |= 0x80 >> (slot % 8)
    return bytes(bits)


def mask_slots(mask: bytes) -> list[int]:
    """The slot numbers set in a mask."""
    return [slot for slot in range(WEEK_SLOTS) if mask[slot // 8] & (0x80 >> (slot % 8))]
