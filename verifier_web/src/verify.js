// Verify a file as the command does: a certificate of evidence (PDF) or an evidence bundle.

import { sha256, toHex } from "./bytes.js";
import { BUNDLE_ATTACHMENT, FAILED, MAX_BUNDLE_BYTES, NotABundle, parseBundle, verdictOf, verifyBundle } from "./bundle.js";
import { Failure, detail } from "./failure.js";
import { lifecycleOf } from "./lifecycle.js";
import { PdfFile, PdfUnreadable, looksLikePdf } from "./pdf.js";

export { FAILED, INCOMPLETE, VERIFIED } from "./bundle.js";

/** The file is neither a certificate of evidence nor a bundle (the command's exit status 64). */
export class Unusable extends Failure {}

/**
 * Verify a file's bytes: a PDF is checked as a certificate of evidence (its attached bundle),
 * anything else as a bundle. Returns {kind, checks, verdict, bundle, status} (status: the
 * subject's lifecycle status from its records, lifecycle.js); throws Unusable when the
 * file is neither. `chain` reads the chain (anchor.js), `document` is a document's bytes.
 */
export async function verifyFile(bytes, { chain = null, document = null, onCheck = null } = {}) {
  const documentSha256 = document === null ? null : toHex(await sha256(document));
  if (looksLikePdf(bytes)) {
    let pdf;
    try {
      pdf = await PdfFile.open(bytes);
    } catch (e) {
      throw new Unusable("file.pdf_unreadable", { reason: e instanceof Failure ? e.key : String(e) });
    }
    const checks = [];
    const add = (c) => {
      checks.push(c);
      if (onCheck) onCheck(c);
    };
    // A PDF without the evidence attachment (and not naming it) is a signed contract, as the
    // command reads it: its signatures are for a PDF reader or the command, and whether it was
    // recorded needs its evidence, so nothing here fails a good contract.
    if (!(await hasAttachment(pdf)) && !contains(bytes, BUNDLE_ATTACHMENT)) {
      if (!contains(bytes, "/ByteRange") || !contains(bytes, "/Contents")) {
        add({ name: "signatures", ok: false, detail: detail("contract.no_signature") });
      } else {
        add({ name: "signatures", ok: null, detail: detail("contract.signatures_not_checked") });
      }
      add({ name: "contract.in_evidence", ok: null, detail: detail("contract.needs_evidence") });
      return { kind: "contract", checks, verdict: verdictOf(checks), bundle: null, status: null };
    }
    // The PDF signature (PAdES) over the certificate is checked by the command and by PDF
    // readers; this page checks the evidence the certificate carries, so it says so.
    add({ name: "report.signature", ok: null, detail: detail("report.signature_not_checked") });
    let raw;
    let bundle;
    try {
      raw = await pdf.embeddedFile(BUNDLE_ATTACHMENT, MAX_BUNDLE_BYTES);
      if (raw === null) throw new Failure("report.no_attachment", { name: BUNDLE_ATTACHMENT });
      bundle = parseBundle(raw);
    } catch (e) {
      add({ name: "report.attachment", ok: false, detail: e instanceof Failure ? detail(e.key, e.params) : detail("malformed", { error: String(e) }) });
      return { kind: "report", checks, verdict: FAILED, bundle: null, status: null };
    }
    add({
      name: "report.attachment",
      ok: true,
      detail: detail("ok.attachment", { name: BUNDLE_ATTACHMENT, size: raw.length, sha256: toHex(await sha256(raw)) }),
    });
    const result = await verifyBundle(bundle, { chain, documentSha256, onCheck });
    checks.push(...result.checks);
    return { kind: "report", checks, verdict: verdictOf(checks), bundle, status: lifecycleOf(bundle) };
  }
  let bundle;
  try {
    bundle = parseBundle(bytes);
  } catch (e) {
    if (e instanceof NotABundle) throw new Unusable("file.not_bundle", { reason: e.key, params: e.params });
    throw e;
  }
  const result = await verifyBundle(bundle, { chain, documentSha256, onCheck });
  return { kind: "bundle", checks: result.checks, verdict: result.verdict, bundle, status: lifecycleOf(bundle) };
}

/** Whether the PDF's embedded files name the bundle (a broken tree counts as naming it: the
 * certificate's checks then say what is wrong). */
async function hasAttachment(pdf) {
  try {
    return (await pdf.embeddedFile(BUNDLE_ATTACHMENT, MAX_BUNDLE_BYTES)) !== null;
  } catch {
    return true;
  }
}

/** Whether the bytes contain this ASCII text. */
function contains(bytes, text) {
  const needle = [...text].map((c) => c.charCodeAt(0));
  outer: for (let i = bytes.indexOf(needle[0]); i !== -1 && i <= bytes.length - needle.length; i = bytes.indexOf(needle[0], i + 1)) {
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export { PdfUnreadable };
