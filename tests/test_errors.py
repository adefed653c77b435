"""Errors know nothing of HTTP; the web edge answers each with the status of its table."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from evidence_chain import errors as E
from evidence_chain.core import errors as core_errors
from web.errors import STATUSES, status_of

PACKAGES = ("evidence_chain", "signing", "webhooks", "messages", "reports", "runtime")


def _all_error_classes() -> set[type[E.EvidenceError]]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)
    found: set[type[E.EvidenceError]] = set()
    todo: list[type[E.EvidenceError]] = [E.EvidenceError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_no_error_class_carries_an_http_status() -> None:
    classes = _all_error_classes()
    assert len(classes) > 20  # the walk found the project's errors, not only the base
    with_status = sorted(c.__qualname__ for c in classes if hasattr(c, "status"))
    assert with_status == []


def test_the_core_errors_are_the_base_of_every_error() -> None:
    assert E.EvidenceError is core_errors.EvidenceError
    assert issubclass(E.NotFoundError, core_errors.EvidenceError)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (E.ValidationError("x"), 400),
        (E.AuthenticationError("x"), 401),
        (E.ForbiddenError("x"), 403),
        (E.NotFoundError("x"), 404),
        (E.ConflictError("x"), 409),
        (E.GoneError("x"), 410),
        (E.PayloadTooLargeError("x"), 413),
        (E.VerificationError("x"), 422),
        (E.KeyDecryptionError("x"), 422),
        (E.RateLimitedError("x"), 429),
        (E.IntegrityError("x"), 500),
        (E.ChainError("x"), 503),
    ],
)
def test_each_error_answers_with_its_status(error: E.EvidenceError, status: int) -> None:
    assert status_of(error) == status


def test_a_narrow_error_answers_with_its_nearest_listed_ancestor() -> None:
    from signing.errors import NotAPdfError, PdfTooLargeError

    assert NotAPdfError not in STATUSES
    assert status_of(NotAPdfError("x")) == 400
    assert status_of(PdfTooLargeError("x")) == 413

    class Unlisted(E.EvidenceError):
        code = "unlisted"

    assert status_of(Unlisted("x")) == 500
