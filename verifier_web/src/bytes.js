// Bytes, hex, strict base64, UTF-8 and SHA-256 (WebCrypto): the few primitives the checks share.

const HEX = "0123456789abcdef";

/** Lowercase hex of a byte array. */
export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** Bytes of an even-length hex string (either case); null if it is not hex. */
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** Whether two byte arrays hold the same bytes. */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** One byte array made of several. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Bytes of standard, padded base64 (RFC 4648 section 4) in its one canonical spelling; null
 * otherwise. Non-canonical spellings (unused bits set, missing padding) are refused so that one
 * signature has one text.
 */
export function fromBase64(text) {
  if (typeof text !== "string" || text.length % 4 !== 0) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of text.slice(0, text.length - pad)) {
    value = (value << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return null; // leftover bits must be zero
  return out;
}

/** Standard padded base64 of bytes. */
export function toBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

/** Whether a string holds a lone UTF-16 surrogate (it has no UTF-8 form). */
export function hasLoneSurrogate(text) {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; throws on a lone surrogate instead of writing U+FFFD. */
export function utf8(text) {
  if (hasLoneSurrogate(text)) throw new Error("lone surrogate");
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: an invalid sequence throws; a byte order mark is kept (not JSON). */
export function decodeUtf8(bytes) {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** SHA-256 of bytes (WebCrypto, present in every current browser and in Node). */
export async function sha256(bytes) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}
