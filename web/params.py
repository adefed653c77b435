"""Integers in paths and query strings, range-checked the same way on every route.

A number a client writes in a URL reaches SQL as a 64-bit integer: anything larger overflows
the driver (a 500 before this module existed). Every integer of a query string is read with
:func:`int_arg`; every ``<int:...>`` of a path (all count from 1) is checked by the app-wide
URL value preprocessor that :func:`init_app` installs; the OpenAPI states the same bounds
with :func:`int_schema`. A value out of its range is a 400 ``invalid_request`` whose details
name the parameter, where it is, and its bounds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import Flask, request

from evidence_chain.errors import ValidationError

MAX_INT = 2**63 - 1
"""The largest integer a path or query parameter may hold: SQL's BIGINT."""


class InvalidParameterError(ValidationError):
    """A path or query parameter is not an integer, or lies outside its range (the code of
    any invalid request, ``invalid_request``; the details name the parameter and its bounds)."""


def check_int(
    name: str,
    value: int,
    *,
    minimum: int = 0,
    maximum: int = MAX_INT,
    where: str = "query",
) -> int:
    """``value`` if ``minimum <= value <= maximum``; else an InvalidParameterError naming both."""
    if not minimum <= value <= maximum:
        raise InvalidParameterError(
            f"{where} parameter {name!r} must be an integer from {minimum} to {maximum}",
            details={"field": name, "in": where, "minimum": minimum, "maximum": maximum},
        )
    return value


def parse_int(
    name: str, raw: str, *, minimum: int = 0, maximum: int = MAX_INT, where: str = "query"
) -> int:
    """The integer ``raw`` spells (decimal digits, an optional minus), range-checked."""
    text = raw.strip()
    digits = text[1:] if text.startswith("-") else text
    # A bound on the length first: int() of a megabyte of digits is slow by itself.
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        raise InvalidParameterError(
            f"{where} parameter {name!r} must be an integer from {minimum} to {maximum}",
            details={"field": name, "in": where, "minimum": minimum, "maximum": maximum},
        )
    return check_int(name, int(text), minimum=minimum, maximum=maximum, where=where)


def int_arg(
    name: str, *, default: int | None = None, minimum: int = 0, maximum: int = MAX_INT
) -> int | None:
    """The query parameter ``name`` as an integer in its range; ``default`` when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(name, raw, minimum=minimum, maximum=maximum)


def int_schema(minimum: int = 0, maximum: int = MAX_INT, **extra: Any) -> dict[str, Any]:
    """The OpenAPI schema of an integer parameter with these bounds."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


PATH_MINIMUM = 1
"""Every integer in a path counts from 1: a tree size, a document's or a page's number."""


def _check_path_ints(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    for name, value in (values or {}).items():
        if isinstance(value, int) and not isinstance(value, bool):
            check_int(name, value, minimum=PATH_MINIMUM, where="path")


def init_app(app: Flask) -> None:
    """Check every integer of every route's path against ``1..MAX_INT`` before its view runs."""
    app.url_value_preprocessor(_check_path_ints)


def date_arg(name: str, *, end_of_day: bool = False) -> datetime | None:
    """The query parameter ``name`` as a UTC time: a date (``2026-11-24``, its first moment,
    or its last with ``end_of_day``) or an ISO 8601 time (with an offset, else UTC); None when
    absent. Anything else is an InvalidParameterError naming the parameter."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) > 40:
            raise ValueError(raw)
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time.max if end_of_day else time.min)
        else:
            moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidParameterError(
            f"query parameter {name!r} must be a date (YYYY-MM-DD) or an ISO 8601 time",
            details={"field": name, "in": "query", "format": "date or date-time"},
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def text_arg(name: str, *, maximum: int) -> str | None:
    """The query parameter ``name`` stripped (None when absent or blank); longer than
    ``maximum`` characters, or holding a control character, is an InvalidParameterError."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if len(raw) > maximum or any(ord(c) < 32 for c in raw):
        raise InvalidParameterError(
            f"query parameter {name!r} is text of at most {maximum} characters",
            details={"field": name, "in": "query", "maxLength": maximum},
        )
    return raw
