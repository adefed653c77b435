"""The identity-number checks against published examples: the unified social credit code of
GB 32100-2015 and the citizen identity number of GB 11643-1999, valid ones accepted and every
one-character typo, transposition or impossible date refused with the field named."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence_chain.errors import ValidationError
from people.identity_numbers import (
    USCC_CHARS,
    check_resident_id,
    check_uscc,
    id_check_character,
    mask_id,
    uscc_check_character,
)

# GB 32100-2015's own example, and a published one
VALID_USCC = ["91350100M000100Y43", "91110000600037341L"]
# GB 11643-1999's examples (its appendix)
VALID_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("code", VALID_USCC)
def test_published_credit_codes_are_accepted(code: str) -> None:
    assert check_uscc(code) == code
    assert check_uscc(code.lower()[:9] + " " + code[9:]) == code  # case and spaces forgiven


@pytest.mark.parametrize("number", VALID_IDS)
def test_published_identity_numbers_are_accepted(number: str) -> None:
    assert check_resident_id(number.lower()) == number


@pytest.mark.parametrize("code", VALID_USCC)
def test_every_single_character_change_of_a_credit_code_is_refused(code: str) -> None:
    for i in range(18):
        for c in USCC_CHARS:
            if c == code[i]:
                continue
            changed = code[:i] + c + code[i + 1 :]
            with pytest.raises(ValidationError):  # mod 31, a prime: any one change shows
                check_uscc(changed)
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("number", VALID_IDS)
def test_every_single_digit_change_and_swap_of_an_identity_number_is_refused(number: str) -> None:
    for i in range(17):
        for d in "0123456789":
            if d != number[i]:
                with pytest.raises(ValidationError):
                    check_resident_id(number[:i] + d + number[i + 1 :])
        if i < 16 and number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            with pytest.raises(ValidationError):
                check_resident_id(swapped)
    assert id_check_character(number[:17]) == number[17]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100O43", "'O'"),
        ("9135A100M000100Y43", "administrative division"),
        ("91350100M000100Y44", "check character"),
    ],
)
def test_a_bad_credit_code_says_why_in_both_languages(value: str, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_uscc(value)
    assert said in refused.value.message and refused.value.details["field"] == "uscc"
    assert refused.value.details["reason_zh"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("1101051949123100", "17 digits"),
        ("11010519490231002X", "not a date of birth"),  # 31 February
        ("110105" + "20990101" + "0012", "not possible"),
        ("11010519491231002Y", "17 digits"),
    ],
)
def test_a_bad_identity_number_says_why(value: str, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_resident_id(value, today=dt.date(2026, 11, 24))
    assert said in refused.value.message and refused.value.details["field"] == "id_number"


def test_a_number_is_shown_masked() -> None:
    assert mask_id("11010519491231002X") == "1101**********002X"
