"""The signer's side: signing a party's documents, declining, downloading; the VOID stamp."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, update

from evidence_chain import db
from evidence_chain.clock import aware as _aware
from evidence_chain.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    ValidationError,
)
from signing.envelopes import rules
from signing.envelopes.appearance import compose_appearance, is_latin, page_boxes, party_appearance
from signing.envelopes.codes import EnvelopeCodes
from signing.envelopes.intake import checked_text
from signing.envelopes.rules import OPEN, EnvelopeAction, EnvelopeStatus, PartyAction, PartyStatus
from signing.envelopes.store import DOCUMENT, ENVELOPE, FIELD, PARTY, SEAL, _Loaded
from signing.envelopes.views import SYSTEM_ACTOR, RequestContext, SignerView, _actor_party
from signing.pades import PDF_LOCK, serialised, unlocked_timestamper
from signing.pki import Identity

if TYPE_CHECKING:
    from signing.service import SigningService


@serialised
def stamp_void(pdf: bytes, banner: str) -> bytes:
    """An incremental update marking every page VOID: a large diagonal "VOID" watermark and
    a horizontal ``banner`` line (the reason) across the top of the page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing import seals

    boxes = page_boxes(pdf, len(pdf) + 1)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for ix, (llx, lly, urx, ury) in enumerate(boxes):
        width, height = urx - llx, ury - lly
        size = max(7.0, min(12.0, (width - 72) / max(len(banner), 1) * 1.9))
        layers = (
            seals.page_overlay(width, height, watermark="VOID"),
            compose_appearance(
                width, height, None, (0, 0, width, height), [(36, height - 30, size, banner)]
            ),
        )
        xobjects = generic.DictionaryObject()
        paint = b""
        for k, layer in enumerate(layers):
            name = f"/SealtrailVoid{ix}_{k}"
            xobjects[pdf_name(name)] = writer.import_page_as_xobject(
                PdfFileReader(io.BytesIO(layer)), 0
            )
            paint += b"q 1 0 0 1 %.4f %.4f cm %s Do Q\n" % (llx, lly, name.encode())
        resources = generic.DictionaryObject({pdf_name("/XObject"): xobjects})
        # isolate the original content's graphics state from ours
        writer.add_stream_to_page(
            ix, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True
        )
        writer.add_stream_to_page(ix, writer.add_object(generic.StreamObject(stream_data=b"Q")))
        writer.add_stream_to_page(
            ix, writer.add_object(generic.StreamObject(stream_data=paint)), resources
        )
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def document_timestamp(pdf: bytes, service: SigningService) -> bytes:
    """Add a PAdES document time-stamp (the B-LTA archive time-stamp) in a new revision."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    timestamper = unlocked_timestamper(service.timestamper())
    with PDF_LOCK:  # pyHanko's work; the time-stamp request itself steps out of the lock
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = signers.PdfTimeStamper(timestamper).timestamp_pdf(
            writer, md_algorithm="sha256", in_place=False
        )
        return bytes(out.getvalue())


class EnvelopeSigner(EnvelopeCodes):
    """What a party does through its link: view, sign every document it has fields in, decline."""

    def signer_view(self, token: str) -> SignerView:
        """The party's view of its envelope, without recording anything."""
        party, loaded = self._open(token)
        return self._view(party, loaded)

    def open_link(self, token: str, ctx: RequestContext) -> SignerView:
        """The party's view, recording an ``envelope.link_opened`` event."""
        party, loaded = self._open(token)
        with self.engine.begin() as conn:
            self._event(conn, loaded, "envelope.link_opened", _actor_party(party), ctx, {})
        return self._view(party, loaded)

    def record_view(self, token: str, document: int, ctx: RequestContext) -> None:
        """Record that the party viewed document ``document`` (``envelope.document_viewed``)."""
        party, loaded = self._open(token)
        doc = self._doc(loaded, document)
        with self.engine.begin() as conn:
            self._event(
                conn,
                loaded,
                "envelope.document_viewed",
                _actor_party(party),
                ctx,
                {"document": int(doc.n), "name": doc.name, "sha256": doc.sha256_current},
            )

    def document_pdf(self, token: str, document: int) -> bytes:
        """The current PDF of document ``document`` (1-based) as the party may see it."""
        _party, loaded = self._open(token)
        return self.blobs.get(self._doc(loaded, document).sha256_current)

    def sign(
        self,
        token: str,
        ctx: RequestContext,
        *,
        placements: Mapping[str, tuple[int, float, float]],
        texts: Mapping[str, str],
        intent: bool,
    ) -> SignerView:
        """Sign every document the party has a signature or seal field in.

        ``placements``: field id -> (page, x, y) for the party's "anywhere" fields (PDF
        points, bottom-left corner of the field); ``texts``: values of its text fields.
        ForbiddenError before the code is accepted; ConflictError "not your turn" while an
        earlier group is signing; ValidationError if ``intent`` is false or a placement or
        text is missing.
        """
        for _attempt in range(5):
            done = self._sign_once(token, ctx, placements, texts, intent)
            if done is not None:
                return done
        raise ConflictError("the envelope is busy; try again")

    def _sign_once(
        self,
        token: str,
        ctx: RequestContext,
        placements: Mapping[str, tuple[int, float, float]],
        texts: Mapping[str, str],
        intent: bool,
    ) -> SignerView | None:
        party, loaded = self._open(token, finished_ok=False)
        now = self.clock()
        rules.advance_party(party.status, PartyAction.SIGN)  # a party signs once
        until = _aware(party.authenticated_until)
        if until is None or until <= now:
            raise ForbiddenError("enter the one-time code first")
        if loaded.turn() != party.routing_order:
            raise ConflictError(
                "not your turn: an earlier party has not signed yet",
                details={"your_order": int(party.routing_order), "turn": loaded.turn()},
            )
        if intent is not True:
            raise ValidationError(
                "confirm that you intend to sign (intent must be true)", details={"field": "intent"}
            )
        mine = loaded.party_fields(int(party.id))
        resolved = self._resolve_fields(mine, loaded, placements, texts)
        others_pending = [
            p for p in loaded.parties if p.status == PartyStatus.PENDING and p.id != party.id
        ]
        last = not others_pending
        service = self.signing
        signer = service.signer_for(loaded.env.tenant_id, self._identity(party))
        mark = self._mark(party, int(loaded.env.tenant_id))
        results: list[dict[str, Any]] = []
        new_docs: dict[int, tuple[str, bool]] = {}
        signed_at = self.clock()
        for doc in loaded.documents:
            n = int(doc.n)
            pdf = self.blobs.get(doc.sha256_current)
            on_doc = [r for r in resolved if r["document"] == n]
            if not on_doc:
                if last:  # the archive time-stamp goes on every document at completion
                    out = document_timestamp(pdf, service)
                    new_docs[n] = (self.blobs.put(out), bool(doc.certified))
                    results.append(
                        {
                            "n": n,
                            "name": doc.name,
                            "sha256_before": doc.sha256_current,
                            "sha256_after": new_docs[n][0],
                            "document_timestamp": True,
                        }
                    )
                continue
            # One PDF operation at a time per process (signing.pdf_lock), in-memory work only:
            # blobs and database outside it; the time-stamp requests step out of it.
            with PDF_LOCK:
                res = self._sign_document(
                    service, loaded, doc, pdf, party, on_doc, mark, signer, signed_at, last
                )
            new_docs[n] = (self.blobs.put(res["pdf"]), res["certified"] or bool(doc.certified))
            results.append(
                {
                    "n": n,
                    "name": doc.name,
                    "sha256_before": doc.sha256_current,
                    "sha256_after": new_docs[n][0],
                    **{k: v for k, v in res.items() if k != "pdf"},
                }
            )
        with self.engine.begin() as conn:
            # Compare-and-set on the version: another party of a parallel group may have
            # signed while we worked; then our signatures sit on stale bytes: start again.
            changed = conn.execute(
                update(ENVELOPE)
                .where(ENVELOPE.c.id == loaded.env.id, ENVELOPE.c.version == loaded.env.version)
                .values(version=ENVELOPE.c.version + 1)
            ).rowcount
            if changed != 1:
                return None
            env = self._lock_envelope(conn, int(loaded.env.id))
            if env.status not in OPEN:  # finished meanwhile: the link no longer works
                raise GoneError(f"this envelope is {env.status}")
            for doc in loaded.documents:
                if int(doc.n) in new_docs:
                    sha, certified = new_docs[int(doc.n)]
                    conn.execute(
                        update(DOCUMENT)
                        .where(DOCUMENT.c.id == doc.id)
                        .values(sha256_current=sha, certified=certified)
                    )
            for r in resolved:
                conn.execute(
                    update(FIELD)
                    .where(FIELD.c.id == r["row_id"])
                    .values(page=r["page"], x=r["x"], y=r["y"], value=r["value"])
                )
            self._advance_party(
                conn,
                int(party.id),
                party.status,
                PartyAction.SIGN,
                signed_at=signed_at,
                authenticated_until=None,
            )
            fresh = self._load(conn, env)
            self._event(
                conn,
                fresh,
                "envelope.signed",
                _actor_party(party),
                ctx,
                {
                    "intent": True,
                    "documents": results,
                    "fields": [
                        {
                            k: r[k]
                            for k in ("id", "kind", "document", "page", "x", "y", "w", "h", "value")
                        }
                        for r in resolved
                    ],
                },
            )
            self._webhook(
                conn, fresh, "party.signed", party={"id": party.public_id, "name": party.name}
            )
            status = EnvelopeStatus(env.status)
            if status == EnvelopeStatus.SENT:
                status = self._advance(conn, int(env.id), status, EnvelopeAction.FIRST_SIGNATURE)
                self._webhook(conn, fresh, "envelope.in_progress")
            if last:
                self._advance(
                    conn, int(env.id), status, EnvelopeAction.COMPLETE, completed_at=signed_at
                )
                done = self._load(conn, self._lock_envelope(conn, int(env.id)))
                self._event(
                    conn,
                    done,
                    "envelope.completed",
                    SYSTEM_ACTOR,
                    None,
                    {
                        "documents": [
                            {
                                "n": int(d.n),
                                "name": d.name,
                                "sha256_original": d.sha256_original,
                                "sha256": d.sha256_current,
                            }
                            for d in done.documents
                        ]
                    },
                )
                self._webhook(conn, done, "envelope.completed")
            else:
                self._notify_turn(conn, fresh)
            final = self._load(conn, self._lock_envelope(conn, int(env.id)))
            me = conn.execute(select(PARTY).where(PARTY.c.id == party.id)).one()
            return self._view(me, final)

    def _resolve_fields(
        self,
        mine: list[Any],
        loaded: _Loaded,
        placements: Mapping[str, tuple[int, float, float]],
        texts: Mapping[str, str],
    ) -> list[dict[str, Any]]:
        ids = {f.public_id for f in mine}
        for key in (*placements, *texts):
            if key not in ids:
                raise ValidationError(f"{key!r} is not one of your fields", details={"field": key})
        out = []
        for f in mine:
            page, x, y = f.page, f.x, f.y
            if f.anywhere:
                if f.public_id not in placements:
                    raise ValidationError(
                        f"place the {f.kind} field {f.label or f.public_id} on the page first",
                        details={"field": f.public_id},
                    )
                try:
                    page, x, y = placements[f.public_id]
                    page, x, y = int(page), float(x), float(y)
                except (TypeError, ValueError):
                    raise ValidationError(
                        f"placement of {f.public_id} must be (page, x, y)",
                        details={"field": f.public_id},
                    ) from None
                doc = self._doc(loaded, int(f.document_n))
                if not 1 <= page <= int(doc.pages) or not (math.isfinite(x) and math.isfinite(y)):
                    raise ValidationError(
                        f"field {f.public_id}: page {page} is not in the document",
                        details={"field": f.public_id},
                    )
            elif f.public_id in placements:
                raise ValidationError(
                    f"field {f.public_id} has a fixed place", details={"field": f.public_id}
                )
            value = f.value
            if f.kind == "text":
                given = texts.get(f.public_id)
                if given is not None:
                    if not isinstance(given, str) or len(given) > 200:
                        raise ValidationError(
                            "a text value is at most 200 characters", details={"field": f.public_id}
                        )
                    value = given.strip()
                if not value:
                    raise ValidationError(
                        f"fill in the text field {f.label or f.public_id}",
                        details={"field": f.public_id},
                    )
            elif f.kind == "date":
                value = self.clock().date().isoformat()
            out.append(
                {
                    "row_id": f.id,
                    "id": f.public_id,
                    "kind": f.kind,
                    "document": int(f.document_n),
                    "page": page,
                    "x": x,
                    "y": y,
                    "w": float(f.w),
                    "h": float(f.h),
                    "label": f.label,
                    "value": value,
                }
            )
        for n in {r["document"] for r in out}:
            pages = {r["page"] for r in out if r["document"] == n}
            if len(pages) > 1:
                raise ValidationError(
                    "your date and text fields go on the page of your signature",
                    details={"document": n},
                )
        return out

    @staticmethod
    def _identity(party: Any) -> Identity:
        if party.kind == "organisation":
            return Identity(common_name=str(party.organisation)[:64], kind="organization")
        return Identity(common_name=str(party.name)[:64], kind="person", email=party.email)

    def _mark(self, party: Any, tenant_id: int) -> tuple[bytes | None, bool]:
        """The party's mark: the organisation's seal, a CJK personal seal, or a framed name."""
        if party.kind == "organisation":
            with db.reading(self.engine) as conn:
                row = conn.execute(
                    select(SEAL.c.appearance).where(
                        SEAL.c.public_id == party.seal_id, SEAL.c.tenant_id == tenant_id
                    )
                ).first()
            if row is None:
                raise NotFoundError(f"the seal {party.seal_id} no longer exists")
            return bytes(row.appearance), False
        if not is_latin(party.name):
            from signing.seals import SealSpec, draw_seal

            return draw_seal(SealSpec("personal", str(party.name)[:40])), False
        return None, True

    def _sign_document(
        self,
        service: SigningService,
        loaded: _Loaded,
        doc: Any,
        pdf: bytes,
        party: Any,
        on_doc: list[dict[str, Any]],
        mark: tuple[bytes | None, bool],
        signer: Any,
        signed_at: dt.datetime,
        last: bool,
    ) -> dict[str, Any]:
        """One party's incremental PAdES signature on one document, showing its fields."""
        from signing.pades import FieldReservation, Placement, SignOptions, sign_pdf

        x0 = min(r["x"] for r in on_doc)
        y0 = min(r["y"] for r in on_doc)
        x1 = max(r["x"] + r["w"] for r in on_doc)
        y1 = max(r["y"] + r["h"] for r in on_doc)
        page = on_doc[0]["page"]
        appearance = party_appearance(party, on_doc, mark, signed_at, (x0, y0, x1 - x0, y1 - y0))
        first = not doc.certified and doc.sha256_current == doc.sha256_original
        reserve: list[FieldReservation] = []
        certify = False
        if first:
            others = self._others_on(loaded, party, int(doc.n))
            if all(not any(f.anywhere for f in fs) for fs in others.values()):
                certify = True
                for pid, fs in others.items():
                    rx0 = min(f.x for f in fs)
                    ry0 = min(f.y for f in fs)
                    rx1 = max(f.x + f.w for f in fs)
                    ry1 = max(f.y + f.h for f in fs)
                    reserve.append(
                        FieldReservation(
                            f"Sig_{pid}", int(fs[0].page), rx0, ry0, rx1 - rx0, ry1 - ry0
                        )
                    )
        if doc.certified:
            placement = Placement.named_field(f"Sig_{party.public_id}")
        else:
            placement = Placement.explicit(page, x0, y0, x1 - x0, y1 - y0)
        result = sign_pdf(
            pdf,
            signer,
            appearance,
            [placement],
            SignOptions(
                level="B-LTA" if last else "B-LT",
                field_name=None if doc.certified else f"Sig_{party.public_id}",
                reason=f"Signed by {party.name} ({loaded.env.title})"[:200],
                certify=certify,
                reserve_fields=tuple(reserve),
                max_bytes=service.max_document_bytes,
            ),
            timestamper=service.timestamper(),
            crls=service.ca.crls(),
            trust_roots=service.ca.trust_roots(),
        )
        cert = result.certificate
        return {
            "pdf": result.signed_pdf,
            "field": result.field_name,
            "certified": result.certified,
            "level": result.level,
            "certificate": {
                "serial": format(cert.serial_number, "x"),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "sha256": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
            },
        }

    @staticmethod
    def _others_on(loaded: _Loaded, party: Any, n: int) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for p in loaded.parties:
            if p.id == party.id:
                continue
            fs = [f for f in loaded.party_fields(int(p.id)) if int(f.document_n) == n]
            if fs:
                out[p.public_id] = fs
        return out

    def decline(self, token: str, reason: str, ctx: RequestContext) -> SignerView:
        """Decline to sign, with a reason: the envelope becomes ``declined``."""
        text = checked_text(reason, "reason", 1000, required=True)
        party, loaded = self._open(token, finished_ok=False)
        rules.advance_party(party.status, PartyAction.DECLINE)  # before the lock: a quick no
        with self.engine.begin() as conn:
            env = self._lock_envelope(conn, int(loaded.env.id))
            if not rules.allows(env.status, EnvelopeAction.DECLINE):  # finished meanwhile
                raise GoneError(f"this envelope is {env.status}")
            party = conn.execute(select(PARTY).where(PARTY.c.id == party.id)).one()
            now = self.clock()
            self._advance_party(
                conn,
                int(party.id),
                party.status,
                PartyAction.DECLINE,
                declined_at=now,
                decline_reason=text,
            )
            self._advance(
                conn,
                int(env.id),
                env.status,
                EnvelopeAction.DECLINE,
                finished_at=now,
                finished_reason=text,
            )
            fresh = self._load(conn, self._lock_envelope(conn, int(env.id)))
            self._event(
                conn,
                fresh,
                "envelope.declined",
                _actor_party(party),
                ctx,
                {"reason": text, "status_before": env.status},
            )
            self._webhook(
                conn, fresh, "envelope.declined", party={"id": party.public_id, "reason": text}
            )
            me = conn.execute(select(PARTY).where(PARTY.c.id == party.id)).one()
            return self._view(me, fresh)

    def download(self, token: str, ctx: RequestContext) -> tuple[str, bytes]:
        """The final PDF (file name, bytes) once the envelope is completed (one document),
        or a ZIP of all of them; ConflictError before completion."""
        party, loaded = self._open(token)
        if loaded.env.status != EnvelopeStatus.COMPLETED:
            raise ConflictError("the documents can be downloaded once everyone has signed")
        files = [(d.name, self.blobs.get(d.sha256_current), d) for d in loaded.documents]
        with self.engine.begin() as conn:
            self._event(
                conn,
                loaded,
                "envelope.downloaded",
                _actor_party(party),
                ctx,
                {
                    "documents": [
                        {"n": int(d.n), "name": d.name, "sha256": d.sha256_current}
                        for _, _, d in files
                    ]
                },
            )
        if len(files) == 1:
            name = files[0][0] if files[0][0].lower().endswith(".pdf") else files[0][0] + ".pdf"
            return name, files[0][1]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data, d in files:
                zf.writestr(f"{int(d.n)}-{name}", data)
        return f"{loaded.env.public_id}.zip", buf.getvalue()
