"""Password hashing and rules: argon2id with the stated parameters, length and the common-password list."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from accounts.passwords import (MIN_LENGTH, check_password_rules, common_passwords, hash_password, needs_rehash,
                                verify_password)
from core.errors import ValidationFailed


def test_passwords_are_hashed_with_argon2id_19mib_t2_p1():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")


def test_passwords_same_input_gets_a_fresh_salt():
    assert hash_password("same-password-123") != hash_password("same-password-123")


def test_passwords_malformed_hash_never_matches():
    assert verify_password("not-a-hash", "anything") is False
    assert needs_rehash("not-a-hash") is True


def test_passwords_hash_with_old_parameters_needs_rehash():
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=2, type=Type.ID).hash("pw-from-2020")
    assert needs_rehash(old)
    assert verify_password(old, "pw-from-2020")  # still accepted, then upgraded by the sign-in service
    assert not needs_rehash(hash_password("pw-from-2020"))


@pytest.mark.parametrize("password", ["12345678", "password", "qwerty123", "88888888", "11111111", "a1234567",
                                      "woaini1314", "PassWord", "  iloveyou  "])
def test_passwords_common_ones_are_refused_naming_the_field(password):
    with pytest.raises(ValidationFailed) as caught:
        check_password_rules(password)
    assert "too common" in caught.value.errors["password"][0]


@pytest.mark.parametrize("password", ["", "a", "7chars!"])
def test_passwords_shorter_than_eight_are_refused(password):
    with pytest.raises(ValidationFailed) as caught:
        check_password_rules(password)
    assert str(MIN_LENGTH) in caught.value.errors["password"][0]


@pytest.mark.parametrize("password", ["tiger lily river", "abcdefgz", "长城脚下的小院子啊", "x" * 128])
def test_passwords_no_composition_rules(password):
    check_password_rules(password)  # lower-case only, spaces, Chinese: all fine when long and uncommon


def test_passwords_over_128_characters_are_refused():
    with pytest.raises(ValidationFailed):
        check_password_rules("x" * 129)


def test_passwords_list_is_loaded_lowercase_and_sizeable():
    words = common_passwords()
    assert len(words) >= 100
    assert all(word == word.lower() and not word.startswith("#") for word in words)
