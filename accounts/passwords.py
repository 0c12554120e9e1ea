"""Password hashing (argon2id) and the password rules: length and a list of very common passwords."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import ValidationFailed
from core.i18n import _l

# argon2id with m=19 MiB, t=2, p=1 (OWASP's minimum); hashes made with other parameters are
# upgraded on the next successful sign-in (see ``needs_rehash``).
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                        type=Type.ID)
MIN_LENGTH = 8
# Long enough for any passphrase; caps the work an attacker can ask the hash to do.
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, field: str = "password") -> None:
    """Raise ValidationFailed naming ``field`` unless the password is 8–128 characters and not a common one.

    No composition rules (NIST SP 800-63B, ASVS 6.2): length and a deny-list only.
    """
    if len(password) < MIN_LENGTH:
        raise ValidationFailed.field(field, _l("Use at least %(min_length)s characters.",
                                               min_length=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise ValidationFailed.field(field, _l("Use at most %(max_length)s characters.",
                                               max_length=MAX_LENGTH))
    if password.strip().lower() in common_passwords():
        raise ValidationFailed.field(field, _l("This password is too common; choose another."))


def hash_password(password: str) -> str:
    """The stored form of a password (salted argon2id, parameters in the string)."""
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; a malformed hash never matches."""
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than ``HASHER``'s."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("not-a-real-password-only-for-timing")


def burn_verify_time(password: str) -> None:
    """Spend the time of one verification, so an unknown login answers as slowly as a known one."""
    verify_password(_dummy_hash(), password)
