/**
 * Client for the Sealtrail evidence service (Node.js 20+, no runtime dependency).
 *
 * - Retries that cannot record twice: connection errors, 429 (after Retry-After) and
 *   502/503/504 are retried with exponential backoff and jitter; every event without an
 *   idempotency_key gets one (a UUID) before the first attempt.
 * - Proofs checked on your side against the log's public key: the checkpoint's Ed25519
 *   signature (C2SP signed note), the record's leaf hash (RFC 8785 + SHA-256), the RFC 9162
 *   inclusion proof and the consistency proof to an anchored tree.
 * - Webhook signatures: HMAC-SHA256 over `t.body`, constant-time, at most 5 minutes old.
 */
import { createHash, createHmac, createPublicKey, randomUUID, timingSafeEqual, verify } from "node:crypto";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Receipt {
  event_id: string;
  leaf_index: number;
  leaf_hash: string;
}

export interface Anchor {
  chain_id: number;
  contract: string;
  tree_size: number;
  root: string;
  status: string;
  [key: string]: Json;
}

export interface Proof {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  inclusion_proof: string[];
  root: string;
  checkpoint: string;
  anchor: Anchor | null;
  consistency_proof: string[] | null;
}

export interface EventInput {
  type: string;
  subject: string;
  occurred_at: string;
  actor?: Json;
  data?: Json;
  idempotency_key?: string;
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  root: Buffer;
}

/** An error answer of the service: its status and JSON error envelope. */
export class SealtrailError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, Json> = {},
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "SealtrailError";
  }
}

/** A proof, checkpoint or record that does not verify; `reason` names the rule. */
export class ProofError extends Error {
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "ProofError";
  }
}

export interface ClientOptions {
  /** The log's public key (GET /api/v1/log, public_key); fetched once if not given. */
  logKey?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Client {
  readonly baseUrl: string;
  logKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(baseUrl: string, readonly apiKey: string, options: ClientOptions = {}) {
    if (!/^https?:\/\//.test(baseUrl)) throw new TypeError("baseUrl is an http or https address");
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.logKey = options.logKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 5;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 20_000;
  }

  /** One API call with retries; the decoded JSON (or the bytes with `raw`). */
  async request(method: string, path: string, opts: { body?: unknown; query?: Record<string, string | number | undefined>; raw?: boolean } = {}): Promise<any> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, "User-Agent": "sealtrail-client-typescript/1.0" };
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        if (attempt >= this.retries) throw error;
        await sleep(this.delay(attempt, null));
        continue;
      }
      if (response.ok) {
        if (opts.raw) return Buffer.from(await response.arrayBuffer());
        const text = await response.text();
        return text ? JSON.parse(text) : null;
      }
      if (RETRY_STATUSES.has(response.status) && attempt < this.retries) {
        await response.arrayBuffer();
        await sleep(this.delay(attempt, response.headers.get("Retry-After")));
        continue;
      }
      throw await errorOf(response);
    }
  }

  private delay(attempt: number, retryAfter: string | null): number {
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    const told = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    return Math.max(backoff, told);
  }

  /** Record one event or a batch; the receipts. Events without a key get one. */
  async push(events: EventInput | EventInput[]): Promise<Receipt[]> {
    const single = !Array.isArray(events);
    const keyed = (single ? [events] : events).map((e) => (e.idempotency_key ? { ...e } : { ...e, idempotency_key: randomUUID() }));
    const answer = await this.request("POST", "/api/v1/events", { body: single ? keyed[0] : { events: keyed } });
    return answer.receipts as Receipt[];
  }

  /** The event and the exact record that was hashed into its leaf. */
  async event(eventId: string): Promise<{ event_id: string; leaf_index: number; leaf_hash: string; record: Json }> {
    return this.request("GET", `/api/v1/events/${encodeURIComponent(eventId)}`);
  }

  /** The event's inclusion proof (409 not_yet_checkpointed until a checkpoint covers it). */
  async proof(eventId: string, opts: { treeSize?: number; anchored?: boolean } = {}): Promise<Proof> {
    return this.request("GET", `/api/v1/events/${encodeURIComponent(eventId)}/proof`, {
      query: { tree_size: opts.treeSize, anchored: opts.anchored ? "true" : undefined },
    });
  }

  /** The proof once a checkpoint (with `anchored`: a confirmed anchor) covers the event. */
  async waitForProof(eventId: string, opts: { anchored?: boolean; timeoutMs?: number } = {}): Promise<Proof> {
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      let wait = 1000;
      try {
        const proof = await this.proof(eventId);
        if (!opts.anchored || proof.anchor?.status === "confirmed") return proof;
      } catch (error) {
        if (!(error instanceof SealtrailError) || error.code !== "not_yet_checkpointed") throw error;
        wait = Number(error.details.retry_after ?? 1) * 1000;
      }
      if (Date.now() + wait > deadline) throw new Error("no proof within the time given");
      await sleep(wait);
    }
  }

  /** Check the event's proof here, with its record, against the log key. */
  async verify(eventId: string, proof?: Proof): Promise<Checkpoint> {
    const found = proof ?? (await this.proof(eventId));
    const { record } = await this.event(eventId);
    return verifyProof(found, await this.publicKey(), { record });
  }

  /** The log key proofs are checked against (fetched once if not given). */
  async publicKey(): Promise<string> {
    if (this.logKey === undefined) this.logKey = String((await this.request("GET", "/api/v1/log")).public_key);
    return this.logKey;
  }

  async bundle(subject: string): Promise<Json> {
    return this.request("GET", `/api/v1/subjects/${encodeURIComponent(subject)}/bundle`);
  }

  async certificate(subject: string, lang?: "zh" | "en"): Promise<Buffer> {
    return this.request("GET", `/api/v1/subjects/${encodeURIComponent(subject)}/report.pdf`, { query: { lang }, raw: true });
  }

  async addWebhook(url: string, events?: string[]): Promise<{ id: string; secret: string; [key: string]: Json }> {
    return this.request("POST", "/api/v1/webhooks", { body: events ? { url, events } : { url } });
  }
}

async function errorOf(response: Response): Promise<SealtrailError> {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text);
    return new SealtrailError(response.status, String(error.code), String(error.message), error.details ?? {});
  } catch {
    return new SealtrailError(response.status, "http_error", text.slice(0, 200));
  }
}

// --- proofs ------------------------------------------------------------------------------------

const sha256 = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const node = (left: Buffer, right: Buffer) => sha256(Buffer.from([1]), left, right);

/** The RFC 9162 leaf hash of `data`. */
export function leafHash(data: Buffer): Buffer {
  return sha256(Buffer.from([0]), data);
}

/** RFC 9162 section 2.1.3.2. */
export function verifyInclusion(leafIndex: number, treeSize: number, leaf: Buffer, path: Buffer[], root: Buffer): void {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) throw new ProofError("the leaf index is outside the tree", "bad_inclusion");
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new ProofError("the inclusion proof is too long", "bad_inclusion");
    if ((fn & 1n) === 1n || fn === sn) {
      r = node(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !r.equals(root)) throw new ProofError("the inclusion proof does not lead to the root", "bad_inclusion");
}

/** RFC 9162 section 2.1.4.2. */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: Buffer[]): void {
  if (!(first > 0 && first <= second)) throw new ProofError("consistency needs 0 < first <= second", "bad_consistency");
  if (first === second) {
    if (proof.length || !firstRoot.equals(secondRoot)) throw new ProofError("equal trees must have equal roots", "bad_consistency");
    return;
  }
  if (!proof.length) throw new ProofError("the consistency proof is empty", "bad_consistency");
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("the consistency proof is too long", "bad_consistency");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = node(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !fr.equals(firstRoot) || !sr.equals(secondRoot)) throw new ProofError("the consistency proof does not hold", "bad_consistency");
}

const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");

/** Verify a signed checkpoint (C2SP) with the log key; what it states. */
export function verifyCheckpoint(note: string, vkey: string, origin?: string): Checkpoint {
  const [name, hexId, encoded] = splitKey(vkey);
  const raw = Buffer.from(encoded, "base64");
  if (raw.length !== 33 || raw[0] !== 1 || raw.toString("base64") !== encoded) throw new ProofError("the log key is not an Ed25519 note key", "bad_key");
  const keyId = sha256(Buffer.from(`${name}\n`, "utf8"), raw).subarray(0, 4);
  if (keyId.toString("hex") !== hexId) throw new ProofError("the log key's id does not match it", "bad_key");
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new ProofError("the checkpoint is not a signed note", "malformed_note");
  const body = note.slice(0, split + 1);
  const mine: Buffer[] = [];
  for (const line of note.slice(split + 2, -1).split("\n")) {
    if (!line.startsWith("\u2014 ")) throw new ProofError("a signature line is malformed", "malformed_note");
    const at = line.lastIndexOf(" ");
    const sig = Buffer.from(line.slice(at + 1), "base64");
    if (line.slice(2, at) === name && sig.subarray(0, 4).equals(keyId)) mine.push(sig.subarray(4));
  }
  if (mine.length !== 1) throw new ProofError("the checkpoint is not signed (once) by this log's key", "unsigned");
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw.subarray(1)]), format: "der", type: "spki" });
  if (!verify(null, Buffer.from(body, "utf8"), key, mine[0]!)) throw new ProofError("the checkpoint's signature does not verify", "bad_signature");
  const head = body.split("\n");
  if (head.length < 4 || !/^\d+$/.test(head[1]!)) throw new ProofError("the checkpoint body is malformed", "malformed_checkpoint");
  const root = Buffer.from(head[2]!, "base64");
  if (root.length !== 32) throw new ProofError("the checkpoint root is not 32 bytes", "malformed_checkpoint");
  if (origin !== undefined && head[0] !== origin) throw new ProofError("the checkpoint is of another log", "wrong_origin");
  return { origin: head[0]!, treeSize: Number(head[1]), root };
}

function splitKey(vkey: string): [string, string, string] {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0 || second - first !== 9) throw new ProofError("the log key is not <name>+<key id>+<base64 key>", "bad_key");
  return [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
}

/** Check a proof of GET /api/v1/events/{id}/proof on your side (see the module's comment). */
export function verifyProof(proof: Proof, vkey: string, opts: { record?: Json } = {}): Checkpoint {
  const cp = verifyCheckpoint(proof.checkpoint, vkey);
  const root = Buffer.from(proof.root, "hex");
  if (cp.treeSize !== proof.tree_size || !cp.root.equals(root)) throw new ProofError("the checkpoint states another tree than the proof", "wrong_tree");
  const leaf = Buffer.from(proof.leaf_hash, "hex");
  if (opts.record !== undefined && !leafHash(Buffer.from(canonicalJson(opts.record), "utf8")).equals(leaf)) {
    throw new ProofError("the record does not hash to the leaf", "bad_record");
  }
  verifyInclusion(proof.leaf_index, cp.treeSize, leaf, proof.inclusion_proof.map((h) => Buffer.from(h, "hex")), cp.root);
  if (proof.anchor && proof.consistency_proof) {
    verifyConsistency(cp.treeSize, proof.anchor.tree_size, cp.root, Buffer.from(proof.anchor.root.replace(/^0x/, ""), "hex"), proof.consistency_proof.map((h) => Buffer.from(h, "hex")));
  }
  return cp;
}

/** RFC 8785 (JCS): ECMAScript's own number and string forms, keys sorted by UTF-16 code units. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("JSON has no NaN or infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(",")}}`;
}

// --- webhooks ----------------------------------------------------------------------------------

/** True when the Sealtrail-Signature header signs the raw body with the secret, recently. */
export function verifySignature(secret: string, header: string, body: Buffer | string, opts: { toleranceSeconds?: number; now?: number } = {}): boolean {
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const item of header.split(",")) {
    const [key, value = ""] = item.trim().split("=", 2);
    if (key === "t" && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === "v1") candidates.push(value);
  }
  if (timestamp === undefined || !candidates.length) return false;
  const now = opts.now ?? Date.now() / 1000;
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  return candidates.some((c) => {
    const given = Buffer.from(c, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
