"""A signed contract, checked as the command checks it: every signature and document
time-stamp (pyHanko's validation), then whether this exact file is a version recorded in a
certificate of evidence or a bundle.

A signed PDF alone proves who signed what and when, not that the signing was recorded in the
log: that needs the evidence, so without ``--report``/``--bundle`` the check
``contract.in_evidence`` is not made and the verdict is at best INCOMPLETE, never FAILED for a
good file. Only the verifier imports this module (pyHanko, asn1crypto, the core; no service).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from evidence_chain.core.bundle import Check
from evidence_chain.core.subject import recorded_versions

__all__ = ["check_signatures", "evidence_check", "load_certs", "no_evidence_check"]

IN_EVIDENCE = "contract.in_evidence"


def load_certs(pems: Sequence[bytes]) -> list[Any]:
    """asn1crypto certificates from PEM (one or several) or DER files."""
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    certs = []
    for data in pems:
        if asn1_pem.detect(data):
            for _kind, _headers, der in asn1_pem.unarmor(data, multiple=True):
                certs.append(asn1_x509.Certificate.load(der))
        else:
            certs.append(asn1_x509.Certificate.load(data))
    return certs


def _cn(cert: Any) -> str:
    return str(cert.subject.human_friendly)


def _context(reader: Any, emb: Any, given: list[Any]) -> tuple[Any, list[Any]]:
    """A validation context: the CMS and DSS certificates, the roots given (else the file's
    self-signed ones), revocation data from the file only, no fetching."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator import ValidationContext

    certs = list(emb.other_embedded_certs)
    with contextlib.suppress(Exception):  # no DSS: the CMS certificates are what there is
        certs += list(DocumentSecurityStore.read_dss(reader).load_certs())
    roots = given or [c for c in certs if c.self_signed in ("maybe", "yes")]
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "other_certs": certs,
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
    }
    try:
        ctx = DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
    except Exception:
        ctx = ValidationContext(**kwargs)
    return ctx, roots


def _root_text(status: Any, given: bool) -> str:
    root = None
    with contextlib.suppress(Exception):  # the root is only described
        root = status.validation_path.trust_anchor.authority.certificate
    text = f"{_cn(root)} (SHA-256 {root.sha256.hex()})" if root is not None else "?"
    if given:
        return f"chains to your trust root {text}"
    return (
        f"chains to the root in the file {text}: compare its fingerprint with the one the "
        "signing service publishes, or pass --trust ROOT.pem"
    )


_CHANGES = {
    "NONE": "nothing changed after it",
    "LTA_UPDATES": "after it only validation data and time-stamps were added",
    "FORM_FILLING": "after it only form filling and later signatures, which it allows",
    "ANNOTATIONS": "after it only annotations, form filling and later signatures",
    "OTHER": "the file was changed after it in ways beyond form filling and signing",
}


def _signature_check(i: int, emb: Any, reader: Any, given: list[Any]) -> Check:
    from pyhanko.sign.validation import validate_pdf_signature

    name = f"signature[{i}]"
    try:
        ctx, _roots = _context(reader, emb, given)
        status = validate_pdf_signature(emb, signer_validation_context=ctx)
        signer = _cn(status.signing_cert)
    except Exception as exc:
        return Check(name, False, f"the signature cannot be validated: {type(exc).__name__}")
    field = emb.field_name
    who = f"{field}, signed by {signer}"
    if not status.intact:
        return Check(name, False, f"{who}: the signed bytes were changed")
    if not status.valid:
        return Check(name, False, f"{who}: the signature does not verify")
    if status.revoked:
        return Check(name, False, f"{who}: the signer's certificate is revoked")
    if not status.trusted:
        where = "a trust root you gave (--trust)" if given else "a root certificate in the file"
        return Check(name, False, f"{who}: no valid chain to {where}")
    level = getattr(status.modification_level, "name", None)
    changes = _CHANGES.get(str(level), f"modification level {level}")
    if status.docmdp_ok is False or level == "OTHER":
        return Check(name, False, f"{who}, but {changes}: changes the signature does not allow")
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        return Check(
            name,
            False,
            f"{who}, but its time-stamp does not verify (intact {stamp.intact}, valid "
            f"{stamp.valid}, trusted {stamp.trusted})",
        )
    if stamp is not None:
        when = f"time-stamped {stamp.timestamp.isoformat()}"
    else:
        claimed = emb.self_reported_timestamp
        when = f"claims {claimed.isoformat()} (no time-stamp)" if claimed else "no time-stamp"
    return Check(
        name, True, f"{who}: intact and valid, {when}; {changes}; {_root_text(status, bool(given))}"
    )


def _timestamp_check(i: int, emb: Any, reader: Any, given: list[Any]) -> Check:
    from pyhanko.sign.validation import validate_pdf_timestamp

    name = f"doc_timestamp[{i}]"
    try:
        ctx, _roots = _context(reader, emb, given)
        status = validate_pdf_timestamp(emb, validation_context=ctx)
    except Exception as exc:
        return Check(name, False, f"the time-stamp cannot be validated: {type(exc).__name__}")
    tsa = "?"
    with contextlib.suppress(Exception):
        tsa = _cn(status.signing_cert)
    if not (status.intact and status.valid):
        return Check(name, False, f"by {tsa}: the time-stamp does not verify")
    if not status.trusted:
        return Check(name, False, f"by {tsa}: no valid chain to a trust root")
    level = getattr(status.modification_level, "name", None)
    if level not in (None, "NONE", "LTA_UPDATES"):
        return Check(name, False, f"by {tsa}: the file was changed after it ({level})")
    return Check(name, True, f"a document time-stamp of {status.timestamp.isoformat()} by {tsa}")


def check_signatures(reader: Any, trust_roots: Sequence[bytes]) -> list[Check]:
    """One check per signature and per document time-stamp, in the file's order."""
    try:
        given = load_certs(trust_roots)
    except Exception as exc:
        return [Check("signatures", False, f"a --trust certificate cannot be read: {exc}"[:300])]
    try:
        sigs = list(reader.embedded_regular_signatures)
        stamps = list(reader.embedded_timestamp_signatures)
    except Exception as exc:
        return [Check("signatures", False, f"the signatures cannot be read: {type(exc).__name__}")]
    if not sigs:
        return [
            Check(
                "signatures",
                False,
                "the file carries no signature: it is neither a signed contract nor a "
                "certificate of evidence",
            )
        ]
    checks = [_signature_check(i, emb, reader, given) for i, emb in enumerate(sigs)]
    checks += [_timestamp_check(i, emb, reader, given) for i, emb in enumerate(stamps)]
    return checks


def no_evidence_check() -> Check:
    """What is left open without the evidence: whether the file was recorded in the log."""
    return Check(
        IN_EVIDENCE,
        None,
        "whether this exact file was recorded in the evidence log needs its certificate of "
        "evidence or bundle: pass --report FILE or --bundle FILE",
    )


def _anchor_text(bundle: Mapping[str, Any]) -> str:
    anchor = bundle.get("anchor")
    if not isinstance(anchor, Mapping):
        return "not yet anchored on chain"
    return (
        f"under the anchor of tree size {anchor.get('tree_size')} on chain "
        f"{anchor.get('chain_id')}, block {anchor.get('block_number')}, transaction "
        f"{anchor.get('tx_hash')}"
    )


def evidence_check(sha256: str, bundle: Mapping[str, Any] | None) -> Check:
    """Whether the evidence names this exact file (its SHA-256): which step, who, which anchor."""
    if bundle is None:
        return Check(IN_EVIDENCE, False, "the evidence could not be read")
    events = bundle.get("events")
    pairs = [
        (int(e["leaf_index"]), e["record"])
        for e in (events if isinstance(events, list) else [])
        if isinstance(e, Mapping)
        and isinstance(e.get("record"), Mapping)
        and isinstance(e.get("leaf_index"), int)
    ]
    found = recorded_versions(pairs, sha256)
    if not found:
        return Check(
            IN_EVIDENCE,
            False,
            f"SHA-256 {sha256} is not a version recorded in this evidence (subject "
            f"{bundle.get('subject')!r}): this file is not the one that was signed there",
        )
    where = "; ".join(v.describe() for v in found)
    return Check(IN_EVIDENCE, True, f"SHA-256 {sha256}: {where}; {_anchor_text(bundle)}")
