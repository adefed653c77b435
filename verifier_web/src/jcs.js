// Strict JSON (RFC 8259 with the I-JSON limits of RFC 7493) and the JSON Canonicalization
// Scheme (RFC 8785). Leaf hashes are SHA-256(0x00 || JCS(record)), so this file decides
// whether a record's bytes are the ones the log holds.
//
// Parsing is strict where a lenient reading would make two verifiers disagree: duplicate
// object keys, numbers that a double cannot hold exactly, lone surrogates, nesting deeper
// than MAX_DEPTH and a byte order mark are refused.

import { hasLoneSurrogate } from "./bytes.js";
import { Failure } from "./failure.js";

export const MAX_DEPTH = 128;
const MAX_SAFE = 2 ** 53;

/**
 * A number written with a fraction or an exponent (or an integer beyond 2^53): the same
 * double as a plain number, but not a JSON integer. Fields the format types as "integer"
 * accept plain numbers only.
 */
export class JsonFloat {
  constructor(value) {
    this.value = value;
    Object.freeze(this);
  }
}

/** Raised for text that is not strict JSON; `message` says where. */
export class JsonError extends Failure {}

/** The numeric value of a parsed number (plain or JsonFloat), or undefined. */
export function numberValue(v) {
  if (typeof v === "number") return v;
  if (v instanceof JsonFloat) return v.value;
  return undefined;
}

/** Whether v is a JSON integer literal within +-2^53 (the format's "integer"). */
export function isInteger(v) {
  return typeof v === "number" && Number.isInteger(v);
}

/** Whether v is a parsed JSON object (not an array, not null). */
export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof JsonFloat);
}

/** Value equality of parsed JSON, numbers by value (1 and 1.0 are equal, as in JSON). */
export function jsonEqual(a, b) {
  const na = numberValue(a);
  const nb = numberValue(b);
  if (na !== undefined || nb !== undefined) return na === nb;
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Parse strict JSON text into plain values (objects have no prototype); JsonError otherwise. */
export function parseJson(text) {
  let at = 0;
  const fail = (key, params = {}) => {
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    throw new JsonError(key, { ...params, line, column });
  };
  const space = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) at++;
      else break;
    }
  };
  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

  const number = () => {
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) fail("json.not_value");
    const literal = m[0];
    at += literal.length;
    const value = Number(literal);
    if (!Number.isFinite(value)) fail("json.number_range", { literal });
    if (m[1] === undefined && m[2] === undefined) {
      const exact = BigInt(literal);
      if (exact <= BigInt(MAX_SAFE) && exact >= -BigInt(MAX_SAFE)) return value;
      // Beyond 2^53 an integer literal names one double only if it is exactly that double or
      // that double's canonical text; anything else would be silently rounded.
      if (exact === BigInt(value) || String(value) === literal) return new JsonFloat(value);
      fail("json.big_integer", { literal });
    }
    return new JsonFloat(value);
  };

  const string = () => {
    at++; // opening quote
    let out = "";
    let start = at;
    for (;;) {
      if (at >= text.length) fail("json.unterminated");
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        out += text.slice(start, at);
        at++;
        return out;
      }
      if (c < 0x20) fail("json.control");
      if (c !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(start, at);
      const e = text[at + 1];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e in simple) {
        out += simple[e];
        at += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.substr(at + 2, 4))) {
        out += String.fromCharCode(parseInt(text.substr(at + 2, 4), 16));
        at += 6;
      } else {
        fail("json.escape");
      }
      start = at;
    }
  };

  const value = (depth) => {
    space();
    const c = text[at];
    if (c === "{") {
      if (depth >= MAX_DEPTH) fail("json.deep", { limit: MAX_DEPTH });
      at++;
      const obj = Object.create(null);
      space();
      if (text[at] === "}") {
        at++;
        return obj;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail("json.key");
        const key = string();
        if (Object.hasOwn(obj, key)) fail("json.duplicate", { key });
        space();
        if (text[at] !== ":") fail("json.colon");
        at++;
        Object.defineProperty(obj, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "}") {
          at++;
          return obj;
        }
        fail("json.object");
      }
    }
    if (c === "[") {
      if (depth >= MAX_DEPTH) fail("json.deep", { limit: MAX_DEPTH });
      at++;
      const arr = [];
      space();
      if (text[at] === "]") {
        at++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "]") {
          at++;
          return arr;
        }
        fail("json.array");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", at)) {
      at += 4;
      return true;
    }
    if (text.startsWith("false", at)) {
      at += 5;
      return false;
    }
    if (text.startsWith("null", at)) {
      at += 4;
      return null;
    }
    return number();
  };

  const result = value(0);
  space();
  if (at !== text.length) fail("json.extra");
  return result;
}

/** Raised when a value has no canonical form (a lone surrogate, a non-finite number). */
export class CanonicalError extends Failure {}

function serializeNumber(n) {
  if (!Number.isFinite(n)) throw new CanonicalError("jcs.number", { value: String(n) });
  // RFC 8785 3.2.2.3 defines the number form as ECMAScript's Number::toString, which
  // JSON.stringify applies (and it writes -0 as 0).
  return JSON.stringify(n);
}

function serializeString(s) {
  if (hasLoneSurrogate(s)) throw new CanonicalError("jcs.surrogate");
  // RFC 8785 3.2.2.2: ECMAScript's JSON string form (\b \f \n \r \t \" \\, other controls as
  // \u00xx, everything else as is), which JSON.stringify writes.
  return JSON.stringify(s);
}

function serialize(v, out, depth) {
  if (depth > MAX_DEPTH) throw new CanonicalError("jcs.deep");
  if (v === null) out.push("null");
  else if (v === true) out.push("true");
  else if (v === false) out.push("false");
  else if (typeof v === "string") out.push(serializeString(v));
  else if (typeof v === "number") out.push(serializeNumber(v));
  else if (v instanceof JsonFloat) out.push(serializeNumber(v.value));
  else if (Array.isArray(v)) {
    out.push("[");
    v.forEach((item, i) => {
      if (i) out.push(",");
      serialize(item, out, depth + 1);
    });
    out.push("]");
  } else if (typeof v === "object") {
    // RFC 8785 3.2.3: members sorted by the UTF-16 code units of their names, which is how
    // JavaScript compares strings.
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.push("{");
    keys.forEach((k, i) => {
      if (i) out.push(",");
      out.push(serializeString(k), ":");
      serialize(v[k], out, depth + 1);
    });
    out.push("}");
  } else throw new CanonicalError("jcs.type", { type: typeof v });
}

/** The RFC 8785 canonical text of a parsed JSON value; CanonicalError if it has none. */
export function canonicalize(value) {
  const out = [];
  serialize(value, out, 0);
  return out.join("");
}
