// C2SP signed notes with Ed25519 signatures (c2sp.org/signed-note) and the checkpoints they
// carry (c2sp.org/tlog-checkpoint). Pure, apart from the Ed25519 verifier it is given.

import { concat, equalBytes, fromBase64, hasLoneSurrogate, sha256, toHex, utf8 } from "./bytes.js";
import { ed25519Verify } from "./ed25519.js";
import { Failure } from "./failure.js";

export const ALG_ED25519 = 0x01;
export const SIGNATURE_PREFIX = "\u2014 "; // em dash, space
const MAX_SIGNATURES = 100;

/** A note or key that is not in the format, or a signature that does not verify. */
export class NoteError extends Failure {}

function validName(name) {
  // A key name is non-empty and holds no Unicode space and no "+" (signed-note "Keys").
  return name.length > 0 && !/[\s+]/u.test(name) && !hasLoneSurrogate(name);
}

/** The 4-byte key id: SHA-256(name || "\n" || 0x01 || public key)[0:4]. */
export async function keyId(name, publicKey) {
  const digest = await sha256(concat(utf8(name), Uint8Array.of(0x0a, ALG_ED25519), publicKey));
  return digest.slice(0, 4);
}

/** Parse a verifier key `name+hhhhhhhh+base64(0x01 || key)` into {name, publicKey, id}. */
export async function parseVerifierKey(vkey) {
  // <name>+<hex>+<base64>: the name and the hex hold no "+", the base64 may.
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  const [name, hex, b64] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  if (first < 0 || second < 0 || !validName(name) || !/^[0-9a-f]{8}$/.test(hex)) {
    throw new NoteError("note.vkey_format");
  }
  const raw = fromBase64(b64);
  if (raw === null || raw.length !== 33 || raw[0] !== ALG_ED25519) {
    throw new NoteError("note.vkey_not_ed25519");
  }
  const publicKey = raw.slice(1);
  const id = await keyId(name, publicKey);
  if (toHex(id) !== hex) throw new NoteError("note.vkey_id");
  return { name, publicKey, id };
}

/** Split a signed note into its body (with its final newline) and its signature lines. */
export function splitNote(text) {
  if (hasLoneSurrogate(text)) throw new NoteError("note.unicode");
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new NoteError("note.control");
  const cut = text.lastIndexOf("\n\n");
  if (cut < 0) throw new NoteError("note.no_blank_line");
  const body = text.slice(0, cut + 1);
  const tail = text.slice(cut + 2);
  if (!tail.endsWith("\n")) throw new NoteError("note.no_signatures");
  const lines = tail.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError("note.too_many");
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError("note.bad_line");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.lastIndexOf(" ");
    const name = rest.slice(0, space);
    const raw = space > 0 ? fromBase64(rest.slice(space + 1)) : null;
    if (!validName(name) || raw === null || raw.length < 5) throw new NoteError("note.bad_line");
    return { name, id: raw.slice(0, 4), signature: raw.slice(4) };
  });
  return { body, signatures };
}

/**
 * Verify a signed note with a key: exactly one signature line carries the key's name and id,
 * and it is a valid Ed25519 signature of the body's UTF-8 bytes. Returns the body.
 */
export async function openNote(text, key) {
  const { body, signatures } = splitNote(text);
  const mine = signatures.filter((s) => s.name === key.name && equalBytes(s.id, key.id));
  if (mine.length === 0) throw new NoteError("note.unsigned", { name: key.name });
  if (mine.length > 1) throw new NoteError("note.twice", { name: key.name, count: mine.length });
  if (mine[0].signature.length !== 64 || !(await ed25519Verify(key.publicKey, utf8(body), mine[0].signature))) {
    throw new NoteError("note.bad_signature");
  }
  return body;
}

/** Parse a checkpoint body: origin, decimal tree size, base64 root, optional extension lines. */
export function parseCheckpoint(body) {
  const lines = body.slice(0, -1).split("\n");
  if (!body.endsWith("\n") || lines.length < 3) throw new NoteError("note.cp_lines");
  const [origin, size, root64, ...extensions] = lines;
  if (!origin) throw new NoteError("note.cp_origin_empty");
  if (!/^(0|[1-9][0-9]*)$/.test(size) || BigInt(size) >= 2n ** 64n) {
    throw new NoteError("note.cp_size");
  }
  const root = fromBase64(root64);
  if (root === null || root.length !== 32) throw new NoteError("note.cp_root");
  if (extensions.some((l) => l === "")) throw new NoteError("note.cp_extension");
  return { origin, treeSize: BigInt(size), root };
}

/** Verify a checkpoint note with the log's key; returns {origin, treeSize (BigInt), root}. */
export async function verifyCheckpoint(text, key, origin) {
  const cp = parseCheckpoint(await openNote(text, key));
  if (cp.origin !== origin) throw new NoteError("note.cp_origin", { origin: cp.origin, expected: origin });
  return cp;
}
