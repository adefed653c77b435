"""Checks of Chinese identity numbers made before any verification service is asked.

* The unified social credit code of an organisation (统一社会信用代码, GB 32100-2015):
  18 characters from ``0-9`` and the capitals without I, O, Z, S, V; characters 3–8 an
  administrative division (digits); 9–17 the organisation code of GB 11714 with its own check
  character; the 18th the check character of the first 17, modulo 31.
* The citizen identity number (公民身份号码, GB 11643-1999): 17 digits (a division, the date
  of birth ``YYYYMMDD``, a sequence) and a check character, ISO 7064 MOD 11-2 (``0-9`` or X).

Each check raises :class:`~evidence_chain.errors.ValidationError` naming the field and what
is wrong (in English and Chinese), so a typing mistake is caught here, at no cost, and never
reaches a provider. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt

from evidence_chain.errors import ValidationError

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def _refuse(field: str, en: str, zh: str) -> ValidationError:
    return ValidationError(f"{field}: {en} / {zh}", details={"field": field, "reason_zh": zh})


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 are given."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_character(first8: str) -> str:
    """The check character of a GB 11714 organisation code (9th character)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def check_uscc(value: str, field: str = "uscc") -> str:
    """A valid unified social credit code (uppercased, spaces removed), or ValidationError."""
    code = "".join(value.split()).upper() if isinstance(value, str) else ""
    if len(code) != 18:
        raise _refuse(
            field, "a unified social credit code has 18 characters", "统一社会信用代码应为 18 位"
        )
    bad = [c for c in code if c not in USCC_CHARS]
    if bad:
        raise _refuse(
            field,
            f"a unified social credit code has no {bad[0]!r} (I, O, Z, S and V are never used)",
            f"统一社会信用代码中不应出现字符「{bad[0]}」（不使用 I、O、Z、S、V）",
        )
    if not code[2:8].isdigit():
        raise _refuse(
            field,
            "characters 3 to 8 are the administrative division, in digits",
            "第 3 至 8 位应为数字的行政区划码",
        )
    if org_code_check_character(code[8:16]) != code[16]:
        raise _refuse(
            field,
            "the organisation code inside it (characters 9 to 17) does not check",
            "其中的组织机构代码（第 9 至 17 位）校验不通过",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise _refuse(
            field,
            "the check character (the 18th) does not match: a character is mistyped",
            "校验码（第 18 位）不符：有字符输入错误",
        )
    return code


def id_check_character(first17: str) -> str:
    """The 18th character of a citizen identity number whose first 17 digits are given."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def check_resident_id(value: str, field: str = "id_number", *, today: dt.date | None = None) -> str:
    """A valid citizen identity number (X uppercased), or ValidationError."""
    number = value.strip().upper() if isinstance(value, str) else ""
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise _refuse(
            field,
            "a citizen identity number is 17 digits and a digit or X",
            "公民身份号码应为 17 位数字加 1 位数字或 X",
        )
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _refuse(
            field, "characters 7 to 14 are not a date of birth", "第 7 至 14 位不是有效的出生日期"
        ) from None
    if not dt.date(1800, 1, 1) <= born <= (today or dt.date.today()):
        raise _refuse(field, "the date of birth is not possible", "出生日期不合理")
    if id_check_character(number[:17]) != number[17]:
        raise _refuse(
            field,
            "the check character (the 18th) does not match: a digit is mistyped",
            "校验码（第 18 位）不符：有数字输入错误",
        )
    return number


def mask_id(number: str) -> str:
    """The form kept where a person's number may be shown: ``1101**********002X``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
