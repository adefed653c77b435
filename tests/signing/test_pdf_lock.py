"""The process-wide PDF lock covers in-memory PDF work only: while one thread waits on a
time-stamping authority or a chain node, other threads sign and validate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from signing.pades import PDF_LOCK, Placement, SignOptions, sign_pdf
from signing.pki import SignerIdentity
from signing.validate import validate_pdf
from tests.signing.conftest import Pki
from tests.signing.slow_tsa import WAIT, SlowTsa, serve_slow_tsa, while_waiting_on_the_tsa


@pytest.fixture
def slow_tsa(pki: Pki) -> Iterator[SlowTsa]:
    with serve_slow_tsa(pki.tsa.respond) as state:
        yield state


def test_signing_validates_others_while_its_time_stamp_is_requested(
    slow_tsa: SlowTsa,
    pki: Pki,
    alice: SignerIdentity,
    bob: SignerIdentity,
    one_page: bytes,
    simple_seal: bytes,
) -> None:
    def sign(signer: SignerIdentity, x: float, timestamper: Any) -> Any:
        return sign_pdf(
            one_page,
            signer,
            simple_seal,
            [Placement.explicit(1, x, 72)],
            SignOptions(level="B-LT"),
            timestamper=timestamper,
            crls=pki.ca.crls(),
        )

    signed_before = sign(bob, 300, pki.timestamper()).signed_pdf
    reports: list[Any] = []

    result, took = while_waiting_on_the_tsa(
        slow_tsa,
        lambda: sign(alice, 72, slow_tsa.timestamper()),
        lambda: reports.append(validate_pdf(signed_before, pki.ca.trust_roots())),
    )
    assert took < WAIT, "validation waited for another thread's time-stamp request"
    assert reports and reports[0].all_valid
    assert not isinstance(result, Exception), result
    (sig,) = validate_pdf(result.signed_pdf, pki.ca.trust_roots()).signatures
    assert sig.bottom_line and sig.timestamp is not None and sig.timestamp.trusted
    assert not PDF_LOCK.held()


def test_released_gives_up_every_level_and_takes_them_back() -> None:
    taken, leave = threading.Event(), threading.Event()

    def other() -> None:
        with PDF_LOCK:
            taken.set()
            leave.wait(timeout=WAIT)

    thread = threading.Thread(target=other)
    with PDF_LOCK:
        with PDF_LOCK:
            with PDF_LOCK.released():
                assert not PDF_LOCK.held()
                thread.start()
                assert taken.wait(timeout=WAIT), "another thread could not take the lock"
                leave.set()
            assert PDF_LOCK.held()  # back, once the other thread let go
        assert PDF_LOCK.held()  # both levels were restored: the outer one is still held
    thread.join(timeout=WAIT)
    assert not PDF_LOCK.held()
    with PDF_LOCK.released():  # a thread that does not hold it just runs the block
        assert not PDF_LOCK.held()
    with pytest.raises(RuntimeError):
        PDF_LOCK.release()


def test_report_verification_reads_the_chain_outside_the_lock(
    instance: Any, tenant: Any, tmp_path: Any
) -> None:
    from reports.bundle import build_bundle
    from reports.verification import verify_upload
    from tests.reports.bundle_fixtures import (
        SUBJECT,
        ChainDouble,
        anchored,
        checkpoint,
        make_pki,
        push,
        report_pdf,
        to_bytes,
    )

    held_during_reads: list[bool] = []

    class RecordingChain(ChainDouble):
        def _up(self, *call: Any) -> None:  # every read of the chain passes here
            held_during_reads.append(PDF_LOCK.held())
            super()._up(*call)

    push(instance, tenant[0], 3)
    checkpoint(instance)
    chain = RecordingChain()
    bundle = anchored(build_bundle(instance, tenant[0], SUBJECT), chain)
    pdf = report_pdf(to_bytes(bundle), make_pki(tmp_path))
    verdict = verify_upload(pdf, instance=instance, signing=instance.signing, chain=chain)
    assert verdict.kind == "report"
    assert {c.name for c in verdict.checks if c.ok} >= {
        "anchor.root_on_chain",
        "anchor.transaction",
    }
    # eth_chainId, rootAt, the receipt and the block, each read once, none under the lock.
    assert len(held_during_reads) == 4 and not any(held_during_reads), held_during_reads
