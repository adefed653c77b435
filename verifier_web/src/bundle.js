// The checks of an evidence bundle (format v1, docs/evidence-bundle.md), each under the name
// the command prints. Nothing in a bundle is taken on trust: leaves are recomputed from the
// records, roots from the proofs, checkpoint signatures checked with the log's key, the document
// and certificate lists re-derived from the records, and the anchor read from the chain.
// Verification never throws on bad evidence: each problem is a failed check.

import { decodeUtf8, fromBase64, fromHex, sha256, toHex, utf8 } from "./bytes.js";
import { anchorChainChecks } from "./anchor.js";
import { Failure, detail } from "./failure.js";
import { canonicalize, isInteger, isObject, jsonEqual, numberValue, parseJson } from "./jcs.js";
import { leafHash, verifyConsistency, verifyInclusion } from "./merkle.js";
import { parseVerifierKey, verifyCheckpoint } from "./note.js";

export const BUNDLE_FORMAT = "sealtrail-evidence-bundle";
export const BUNDLE_VERSION = 1;
export const BUNDLE_ATTACHMENT = "evidence-bundle.json";
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
export const MAX_EVENTS = 100000;
const MAX_NOTE_CHARS = 64 * 1024;
const MAX_PROOF = 64; // no RFC 9162 proof in a tree below 2^64 leaves is longer

export const VERIFIED = "VERIFIED";
export const FAILED = "FAILED";
export const INCOMPLETE = "INCOMPLETE";

/** FAILED if a check failed, INCOMPLETE if one was not made (or none was), else VERIFIED. */
export function verdictOf(checks) {
  if (checks.some((c) => c.ok === false)) return FAILED;
  if (checks.length === 0 || checks.some((c) => c.ok === null)) return INCOMPLETE;
  return VERIFIED;
}

/** Raised for input that is not an evidence bundle at all (the command's exit status 64). */
export class NotABundle extends Failure {}

/** Parse a bundle's bytes: strict UTF-8 JSON, an object whose format is the bundle format. */
export function parseBundle(bytes) {
  if (bytes.length > MAX_BUNDLE_BYTES) throw new NotABundle("file.too_big", { size: bytes.length, limit: MAX_BUNDLE_BYTES });
  let value;
  try {
    value = parseJson(decodeUtf8(bytes));
  } catch (e) {
    if (e instanceof Failure) throw new NotABundle(e.key, e.params);
    throw new NotABundle("file.not_utf8");
  }
  if (!isObject(value) || value.format !== BUNDLE_FORMAT) throw new NotABundle("file.no_format", { format: BUNDLE_FORMAT });
  return value;
}

// ---------------------------------------------------------------------------- field access

const bad = (key, params = {}) => new Failure(key, params);

function field(obj, key, kind, where) {
  if (!isObject(obj)) throw bad("field.not_object", { where });
  if (!Object.hasOwn(obj, key)) throw bad("field.missing", { field: `${where}.${key}` });
  const v = obj[key];
  const ok =
    kind === "object" ? isObject(v) : kind === "array" ? Array.isArray(v) : kind === "string" ? typeof v === "string" : false;
  if (!ok) throw bad("field.type", { field: `${where}.${key}` });
  return v;
}

function integer(obj, key, where, low = 0) {
  if (!isObject(obj)) throw bad("field.not_object", { where });
  if (!Object.hasOwn(obj, key)) throw bad("field.missing", { field: `${where}.${key}` });
  const v = obj[key];
  if (!isInteger(v)) throw bad("field.type", { field: `${where}.${key}` });
  if (v < low) throw bad("field.range", { field: `${where}.${key}` });
  return v;
}

/** A 32-byte hash written in hex, either case, with or without 0x. */
export function parseHash(value, what) {
  if (typeof value !== "string") throw bad("field.not_hex", { field: what });
  const hex = value.startsWith("0x") ? value.slice(2) : value;
  const bytes = hex.length === 64 ? fromHex(hex) : null;
  if (bytes === null) throw bad("field.not_hash", { field: what });
  return bytes;
}

function hashField(obj, key, where) {
  return parseHash(field(obj, key, "string", where), `${where}.${key}`);
}

function proofOf(value, what) {
  if (!Array.isArray(value)) throw bad("field.not_list", { field: what });
  if (value.length > MAX_PROOF) throw bad("proof.too_many", { field: what, count: value.length });
  return value.map((h, i) => parseHash(h, `${what}[${i}]`));
}

/** The value of an object's member, or null when it is absent (as JSON readers see it). */
const member = (obj, key) => (isObject(obj) && Object.hasOwn(obj, key) ? obj[key] : null);

// ---------------------------------------------------------------------------- derived lists

const codePoints = (s) => [...s].length;

function roleOf(type, data) {
  const role = member(data, "role");
  if (typeof role === "string" && codePoints(role) > 0 && codePoints(role) <= 40) return role;
  if (/(completed|complete|finalized|finalised)$/.test(type)) return "final";
  if (/(voided|void|cancelled|canceled)$/.test(type)) return "void";
  return "document";
}

const docHash = (v) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? v : null);
const stringOrNull = (v) => (typeof v === "string" ? v : null);

/** The documents one record's `data` names: [sha256, role, name] (docs: "Documents ..."). */
function mentions(type, data) {
  const found = [
    [member(data, "sha256_before"), "original", null],
    [member(data, "sha256_after"), "signed", null],
    [member(data, "sha256"), roleOf(type, data), member(data, "name")],
  ];
  const items = member(data, "documents");
  if (Array.isArray(items)) {
    for (const item of items) {
      if (!isObject(item)) continue;
      const after = member(item, "document_timestamp") === true ? "time-stamped" : "signed";
      found.push(
        [member(item, "sha256"), roleOf(type, item), member(item, "name")],
        [member(item, "sha256_before"), "before", member(item, "name")],
        [member(item, "sha256_after"), after, member(item, "name")],
      );
    }
  }
  return found.filter(([sha]) => docHash(sha) !== null);
}

/** The documents named by records given as [leafIndex, record] pairs, in record order. */
export function documentsOf(records) {
  const out = [];
  for (const [leafIndex, record] of records) {
    const data = member(record, "data");
    if (!isObject(data)) continue;
    const type = typeof member(record, "type") === "string" ? record.type : "";
    for (const [sha, role, name] of mentions(type, data)) {
      out.push({ sha256: sha, role, event_id: member(record, "event_id"), leaf_index: leafIndex, name: stringOrNull(name) });
    }
  }
  return out;
}

/** The signer certificates named by records, one per SHA-256, first mention first. */
export function certificatesOf(records) {
  const seen = new Map();
  for (const record of records) {
    const data = member(record, "data");
    if (!isObject(data)) continue;
    const named = [member(data, "certificate")];
    const items = member(data, "documents");
    if (Array.isArray(items)) for (const item of items) if (isObject(item)) named.push(member(item, "certificate"));
    for (const cert of named) {
      if (!isObject(cert)) continue;
      const sha = docHash(member(cert, "sha256"));
      if (sha === null || seen.has(sha)) continue;
      seen.set(sha, {
        sha256: sha,
        serial: stringOrNull(member(cert, "serial")),
        subject: stringOrNull(member(cert, "subject")),
        issuer: stringOrNull(member(cert, "issuer")),
        pem: stringOrNull(member(cert, "pem")),
      });
    }
  }
  return [...seen.values()];
}

/** The DER of the first CERTIFICATE block of a PEM text, if it is shaped like an X.509 certificate. */
export function certificateDer(pem) {
  const m = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/.exec(pem);
  const der = m ? fromBase64(m[1].replace(/[\r\n]/g, "")) : null;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE, signatureValue BIT STRING }
  if (der === null || der.length < 4 || der[0] !== 0x30) return null;
  const outer = derLength(der, 1);
  if (outer === null || outer.end !== der.length) return null;
  let at = outer.start;
  for (const tag of [0x30, 0x30, 0x03]) {
    if (der[at] !== tag) return null;
    const len = derLength(der, at + 1);
    if (len === null) return null;
    at = len.end;
  }
  return at === der.length ? der : null;
}

function derLength(der, at) {
  let len = der[at];
  if (len === undefined) return null;
  let start = at + 1;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  const end = start + len;
  return end <= der.length ? { start, end } : null;
}

// ---------------------------------------------------------------------------- the checks

class Run {
  constructor(onCheck) {
    this.checks = [];
    this.onCheck = onCheck;
  }

  add(name, ok, d) {
    const c = { name, ok, detail: d };
    this.checks.push(c);
    if (this.onCheck) this.onCheck(c);
  }

  /** Run `body`; it returns the detail of success or throws the failure. */
  async check(name, body) {
    try {
      const d = await body();
      this.add(name, true, d);
      return true;
    } catch (e) {
      this.add(name, false, e instanceof Failure ? detail(e.key, e.params) : detail("malformed", { error: String(e) }));
      return false;
    }
  }
}

/**
 * Verify every claim of a parsed bundle. `chain` reads the chain (see anchor.js; null: no RPC
 * URL given), `documentSha256` is the hex SHA-256 of a document to look for. Returns
 * {checks: [{name, ok (true, false or null: not checked), detail}], verdict}.
 */
export async function verifyBundle(bundle, { chain = null, documentSha256 = null, onCheck = null } = {}) {
  const run = new Run(onCheck);
  if (!(await run.check("bundle.format", () => checkFormat(bundle)))) {
    return { checks: run.checks, verdict: FAILED };
  }
  let lg = null;
  await run.check("log.verifier_key", async () => {
    const log = field(bundle, "log", "object", "bundle");
    const origin = field(log, "origin", "string", "log");
    const vkey = field(log, "verifier_key", "string", "log");
    if (vkey.length > 1000) throw bad("log.key_too_long");
    const key = await parseVerifierKey(vkey);
    if (key.name !== origin) throw bad("log.key_name", { name: key.name, origin });
    lg = { origin, key, logId: await sha256(utf8(origin)) };
    return detail("ok.verifier_key", { origin });
  });
  await run.check("log.log_id", async () => {
    const log = field(bundle, "log", "object", "bundle");
    const stated = hashField(log, "log_id", "log");
    const origin = field(log, "origin", "string", "log");
    const expected = await sha256(utf8(origin));
    if (toHex(stated) !== toHex(expected)) throw bad("log.log_id", { stated: toHex(stated), expected: toHex(expected) });
    return detail("ok.log_id", { origin, log_id: toHex(expected) });
  });

  const verified = [];
  await run.check("checkpoint.signature", () => checkCheckpoint(member(bundle, "checkpoint"), lg, verified, "checkpoint"));
  const cp = verified[0] ?? looseCheckpoint(member(bundle, "checkpoint"));

  const records = await checkEvents(run, bundle, cp);
  if (records !== null) {
    await run.check("bundle.documents", () => {
      const stated = field(bundle, "documents", "array", "bundle");
      const derived = documentsOf(records);
      if (!jsonEqual(stated, derived)) throw bad("documents.differ");
      return detail("ok.documents", { count: derived.length });
    });
    await run.check("bundle.certificates", () => checkCertificates(bundle, records));
  }
  await checkAnchor(run, bundle, lg, cp, chain);
  // Lifecycle status (completed, voided, withdrawn, ...) derived from the records will be
  // printed here, beside the verdict, once the bundle format defines it.
  if (documentSha256 !== null) {
    await run.check("document.hash", () => {
      if (records === null) throw bad("document.no_records");
      const hits = documentsOf(records).filter((d) => d.sha256 === documentSha256.toLowerCase());
      if (hits.length === 0) throw bad("document.absent", { sha256: documentSha256.toLowerCase() });
      return detail("ok.document", { sha256: documentSha256.toLowerCase(), hits });
    });
  }
  return { checks: run.checks, verdict: verdictOf(run.checks) };
}

function checkFormat(bundle) {
  if (!isObject(bundle)) throw bad("format.not_object");
  if (bundle.format !== BUNDLE_FORMAT) throw bad("format.format", { format: String(bundle.format) });
  if (numberValue(bundle.version) !== BUNDLE_VERSION) throw bad("format.version", { version: JSON.stringify(bundle.version ?? null) });
  const subject = field(bundle, "subject", "string", "bundle");
  field(bundle, "tenant", "string", "bundle");
  return detail("ok.format", { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, subject });
}

async function checkCheckpoint(raw, lg, out, where) {
  const treeSize = integer(raw, "tree_size", where, 1);
  const root = hashField(raw, "root", where);
  const note = field(raw, "note", "string", where);
  if (note.length > MAX_NOTE_CHARS) throw bad("checkpoint.note_long", { where });
  const cp = { treeSize, root };
  if (lg === null) {
    out.push(cp); // proofs are still checked against it, the signature cannot be
    throw bad("checkpoint.no_key");
  }
  const body = await verifyCheckpoint(note, lg.key, lg.origin);
  if (body.treeSize !== BigInt(treeSize)) throw bad("checkpoint.size", { signed: String(body.treeSize), stated: treeSize });
  if (toHex(body.root) !== toHex(root)) throw bad("checkpoint.root", { signed: toHex(body.root), stated: toHex(root) });
  out.push(cp);
  return detail("ok.checkpoint", { origin: lg.origin, size: treeSize, root: toHex(root) });
}

function looseCheckpoint(raw) {
  try {
    return { treeSize: integer(raw, "tree_size", "checkpoint", 1), root: hashField(raw, "root", "checkpoint") };
  } catch {
    return null;
  }
}

async function checkEvents(run, bundle, cp) {
  const events = member(bundle, "events");
  const shaped = await run.check("bundle.events", () => {
    if (!Array.isArray(events) || events.length === 0) throw bad("events.empty");
    if (events.length > MAX_EVENTS) throw bad("events.too_many", { count: events.length, limit: MAX_EVENTS });
    return detail("ok.events", { count: events.length });
  });
  if (!shaped) return null;
  const subject = member(bundle, "subject");
  const tenant = member(bundle, "tenant");
  const records = [];
  let prevLeaf = null;
  let prevIndex = -1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const where = `events[${i}]`;
    let computed = null;
    await run.check(`record[${i}].leaf_hash`, async () => {
      const record = field(event, "record", "object", where);
      const index = integer(event, "leaf_index", where);
      const stated = hashField(event, "leaf_hash", where);
      computed = await leafHash(utf8(canonicalize(record)));
      if (toHex(computed) !== toHex(stated)) throw bad("record.leaf_hash", { computed: toHex(computed), stated: toHex(stated) });
      if (!jsonEqual(member(record, "event_id"), member(event, "event_id"))) throw bad("record.event_id");
      return detail("ok.leaf_hash", { index, hash: toHex(computed) });
    });
    const prev = prevLeaf;
    const last = prevIndex;
    await run.check(`record[${i}].subject_chain`, () => {
      const record = field(event, "record", "object", where);
      const index = integer(event, "leaf_index", where);
      if (member(record, "subject") !== subject) throw bad("chain.subject", { found: JSON.stringify(member(record, "subject")), subject });
      if (member(record, "tenant") !== tenant) throw bad("chain.tenant", { found: JSON.stringify(member(record, "tenant")), tenant });
      const seq = member(record, "subject_seq");
      if (numberValue(seq) !== i) throw bad("chain.seq", { seq: JSON.stringify(seq), expected: i });
      if (index <= last) throw bad("chain.order", { index, last });
      if (i > 0 && prev === null) throw bad("chain.no_previous");
      const want = prev === null ? null : toHex(prev);
      if (member(record, "prev_leaf_hash") !== want) {
        throw bad("chain.prev", { found: JSON.stringify(member(record, "prev_leaf_hash")), expected: String(want) });
      }
      return i === 0 ? detail("ok.chain_first") : detail("ok.chain_next", { previous: i - 1 });
    });
    await run.check(`inclusion[${i}]`, async () => {
      if (computed === null) throw bad("inclusion.no_leaf");
      if (cp === null) throw bad("inclusion.no_checkpoint");
      const index = integer(event, "leaf_index", where);
      const proof = proofOf(member(event, "inclusion_proof"), `${where}.inclusion_proof`);
      await verifyInclusion(computed, index, cp.treeSize, proof, cp.root);
      return detail("ok.inclusion", { index, size: cp.treeSize });
    });
    prevLeaf = computed;
    if (isObject(event)) {
      const index = event.leaf_index;
      if (isInteger(index)) prevIndex = index;
      // The documents are derived from every record whose event has a leaf index, as the
      // command does; a leaf index of true/false counts as 1/0 there (Python's bool is an int),
      // so it does here too and both verifiers report the same checks.
      if (isObject(event.record) && (isInteger(index) || typeof index === "boolean")) records.push([Number(index), event.record]);
    }
  }
  return records;
}

async function checkCertificates(bundle, records) {
  const stated = field(bundle, "certificates", "array", "bundle");
  const derived = new Map(certificatesOf(records.map(([, r]) => r)).map((c) => [c.sha256, c]));
  if (stated.length !== derived.size) throw bad("certificates.count", { listed: stated.length, named: derived.size });
  for (let i = 0; i < stated.length; i++) {
    const where = `certificates[${i}]`;
    const cert = stated[i];
    const sha = field(cert, "sha256", "string", where);
    const named = derived.get(sha);
    if (named === undefined) throw bad("certificates.unnamed", { where, sha256: sha });
    for (const key of ["serial", "subject", "issuer"]) {
      if (!jsonEqual(member(cert, key), named[key])) throw bad("certificates.field", { field: `${where}.${key}` });
    }
    const pem = member(cert, "pem");
    if (pem === null) continue;
    const der = typeof pem === "string" && pem.length <= 64 * 1024 ? certificateDer(pem) : null;
    if (der === null) throw bad("certificates.pem", { where });
    const fingerprint = toHex(await sha256(der));
    if (fingerprint !== sha) throw bad("certificates.fingerprint", { where, fingerprint, sha256: sha });
  }
  return detail("ok.certificates", { count: stated.length });
}

async function checkAnchor(run, bundle, lg, cp, chain) {
  const anchor = member(bundle, "anchor");
  if (anchor === null) {
    run.add("anchor", null, detail("anchor.not_anchored"));
    return;
  }
  let parsed = null;
  const fieldsOk = await run.check("anchor.log_id", () => {
    const chainId = integer(anchor, "chain_id", "anchor", 1);
    const contract = field(anchor, "contract", "string", "anchor");
    if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) throw bad("anchor.contract");
    const statedId = hashField(anchor, "log_id", "anchor");
    const treeSize = integer(anchor, "tree_size", "anchor", 1);
    const root = hashField(anchor, "root", "anchor");
    if (lg === null) throw bad("anchor.no_log");
    if (toHex(statedId) !== toHex(lg.logId)) throw bad("anchor.log_id", { stated: toHex(statedId), expected: toHex(lg.logId) });
    parsed = { chainId, contract, logId: statedId, treeSize, root };
    return detail("ok.anchor_fields", { chain: chainId, contract, size: treeSize });
  });
  if (!fieldsOk) return;

  const anchored = [];
  const rawAcp = member(bundle, "anchor_checkpoint");
  if (rawAcp === null) {
    await run.check("anchor.checkpoint", () => {
      if (cp === null) throw bad("anchor.no_checkpoint");
      if (member(bundle, "consistency_proof") !== null) throw bad("anchor.stray_proof");
      if (parsed.treeSize !== cp.treeSize) throw bad("anchor.unbridged", { anchored: parsed.treeSize, size: cp.treeSize });
      anchored.push(cp);
      return detail("ok.anchor_checkpoint", { size: parsed.treeSize });
    });
  } else {
    await run.check("anchor_checkpoint.signature", () => checkCheckpoint(rawAcp, lg, anchored, "anchor_checkpoint"));
    if (anchored.length === 0) anchored.push(looseCheckpoint(rawAcp) ?? { treeSize: parsed.treeSize, root: parsed.root });
    await run.check("consistency", async () => {
      if (cp === null) throw bad("anchor.no_checkpoint");
      const acp = anchored[0];
      const proof = proofOf(member(bundle, "consistency_proof"), "consistency_proof");
      await verifyConsistency(cp.treeSize, acp.treeSize, proof, cp.root, acp.root);
      return detail("ok.consistency", { size2: acp.treeSize, size1: cp.treeSize });
    });
  }
  await run.check("anchor.root", () => {
    const acp = anchored[0];
    if (acp === undefined) throw bad("anchor.no_anchored_checkpoint");
    if (acp.treeSize !== parsed.treeSize || toHex(acp.root) !== toHex(parsed.root)) {
      throw bad("anchor.root", { size: parsed.treeSize, root: toHex(parsed.root), cpSize: acp.treeSize, cpRoot: toHex(acp.root) });
    }
    return detail("ok.anchor_root", { root: toHex(parsed.root), size: parsed.treeSize });
  });
  await anchorChainChecks(run, anchor, parsed, chain);
}
