// Just enough of PDF (ISO 32000) to take an embedded file out of a certificate of evidence:
// the cross-reference chain (tables and streams, incremental updates), indirect objects and
// object streams, the /EmbeddedFiles name tree and FlateDecode. Nothing is rendered or run.

import { Failure } from "./failure.js";

export const MAX_PDF_BYTES = 64 * 1024 * 1024;

/** The file is not a PDF this reader can open (the command's "cannot be read", exit 64). */
export class PdfUnreadable extends Failure {}

class Ref {
  constructor(num, gen) {
    this.num = num;
    this.gen = gen;
  }
}
class Name {
  constructor(name) {
    this.name = name;
  }
}
class Stream {
  constructor(dict, start, end) {
    this.dict = dict;
    this.start = start;
    this.end = end;
  }
}

/** Latin-1 text of bytes, in chunks (no argument-count limit on large slices). */
function latin1(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIM = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/** Whether bytes look like a PDF the way the command decides it: not JSON, a %PDF- header. */
export function looksLikePdf(bytes) {
  let i = 0;
  while (i < bytes.length && WS.has(bytes[i])) i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return false;
  const head = bytes.subarray(0, 1024);
  for (let j = 0; j + 5 <= head.length; j++) {
    if (head[j] === 0x25 && head[j + 1] === 0x50 && head[j + 2] === 0x44 && head[j + 3] === 0x46 && head[j + 4] === 0x2d) return true;
  }
  return false;
}

class Lexer {
  constructor(bytes, at = 0) {
    this.b = bytes;
    this.at = at;
  }

  skip() {
    const b = this.b;
    for (;;) {
      while (this.at < b.length && WS.has(b[this.at])) this.at++;
      if (b[this.at] !== 0x25) return; // % comment to the end of the line
      while (this.at < b.length && b[this.at] !== 0x0a && b[this.at] !== 0x0d) this.at++;
    }
  }

  word() {
    this.skip();
    const start = this.at;
    while (this.at < this.b.length && !WS.has(this.b[this.at]) && !DELIM.has(this.b[this.at])) this.at++;
    return latin1(this.b.subarray(start, this.at));
  }

  /** One object; an integer followed by "G R" becomes a Ref. */
  value(depth = 0) {
    if (depth > 64) throw new PdfUnreadable("pdf.deep");
    this.skip();
    const b = this.b;
    const c = b[this.at];
    if (c === undefined) throw new PdfUnreadable("pdf.truncated");
    if (c === 0x2f) {
      this.at++;
      const start = this.at;
      while (this.at < b.length && !WS.has(b[this.at]) && !DELIM.has(b[this.at])) this.at++;
      const raw = latin1(b.subarray(start, this.at));
      return new Name(raw.replace(/#([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
    }
    if (c === 0x3c && b[this.at + 1] === 0x3c) {
      this.at += 2;
      const dict = new Map();
      for (;;) {
        this.skip();
        if (b[this.at] === 0x3e && b[this.at + 1] === 0x3e) {
          this.at += 2;
          break;
        }
        const key = this.value(depth + 1);
        if (!(key instanceof Name)) throw new PdfUnreadable("pdf.syntax");
        dict.set(key.name, this.value(depth + 1));
      }
      return dict;
    }
    if (c === 0x3c) {
      const end = b.indexOf(0x3e, this.at);
      if (end < 0) throw new PdfUnreadable("pdf.truncated");
      const hex = latin1(b.subarray(this.at + 1, end)).replace(/\s/g, "");
      this.at = end + 1;
      const bytes = new Uint8Array(Math.ceil(hex.length / 2));
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt((hex.substr(2 * i, 2) + "0").slice(0, 2), 16);
      return bytes;
    }
    if (c === 0x28) return this.literal();
    if (c === 0x5b) {
      this.at++;
      const arr = [];
      for (;;) {
        this.skip();
        if (b[this.at] === 0x5d) {
          this.at++;
          return arr;
        }
        arr.push(this.value(depth + 1));
      }
    }
    const w = this.word();
    if (w === "true") return true;
    if (w === "false") return false;
    if (w === "null") return null;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(w)) throw new PdfUnreadable("pdf.syntax");
    if (/^\d+$/.test(w)) {
      const save = this.at;
      const gen = this.word();
      if (/^\d+$/.test(gen) && this.word() === "R") return new Ref(Number(w), Number(gen));
      this.at = save;
    }
    return Number(w);
  }

  literal() {
    const b = this.b;
    this.at++;
    const out = [];
    let depth = 1;
    while (this.at < b.length) {
      const c = b[this.at++];
      if (c === 0x5c) {
        const e = b[this.at++];
        const map = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12 };
        if (e in map) out.push(map[e]);
        else if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && b[this.at] >= 0x30 && b[this.at] <= 0x37; k++) v = v * 8 + (b[this.at++] - 0x30);
          out.push(v & 0xff);
        } else if (e === 0x0d) {
          if (b[this.at] === 0x0a) this.at++;
        } else if (e !== 0x0a) out.push(e);
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) return Uint8Array.from(out);
        out.push(c);
      } else out.push(c);
    }
    throw new PdfUnreadable("pdf.truncated");
  }
}

/** Bytes of a PDF text string (UTF-16BE with a BOM, UTF-8 with a BOM, else PDFDocEncoding ~ Latin-1). */
function textOf(v) {
  if (!(v instanceof Uint8Array)) return null;
  if (v[0] === 0xfe && v[1] === 0xff) return new TextDecoder("utf-16be").decode(v.subarray(2));
  if (v[0] === 0xef && v[1] === 0xbb && v[2] === 0xbf) return new TextDecoder("utf-8").decode(v.subarray(3));
  return latin1(v);
}

async function inflate(data, limit) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch {
      throw new Failure("pdf.inflate");
    }
    if (step.done) break;
    size += step.value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Failure("pdf.too_big", { limit });
    }
    chunks.push(step.value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Undo the PNG predictors (2 "up" and the others) of an xref stream's rows. */
function unpredict(data, columns) {
  const row = columns + 1;
  const out = new Uint8Array((data.length / row) * columns);
  let prev = new Uint8Array(columns);
  for (let r = 0; r * row < data.length; r++) {
    const type = data[r * row];
    const cur = out.subarray(r * columns, (r + 1) * columns);
    for (let i = 0; i < columns; i++) {
      const x = data[r * row + 1 + i];
      const a = i > 0 ? cur[i - 1] : 0; // the bytes are 1 wide in xref streams
      const up = prev[i];
      const c = i > 0 ? prev[i - 1] : 0;
      let v;
      if (type === 0) v = x;
      else if (type === 1) v = x + a;
      else if (type === 2) v = x + up;
      else if (type === 3) v = x + ((a + up) >> 1);
      else if (type === 4) {
        const p = a + up - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? up : c);
      } else throw new PdfUnreadable("pdf.predictor");
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

/** A PDF's objects, found through its cross-reference sections. */
export class PdfFile {
  constructor(bytes) {
    if (bytes.length > MAX_PDF_BYTES) throw new PdfUnreadable("file.too_big", { size: bytes.length, limit: MAX_PDF_BYTES });
    this.b = bytes;
    this.offsets = new Map(); // num -> byte offset
    this.inStreams = new Map(); // num -> [object stream num, index]
    this.cache = new Map();
    this.trailer = null;
  }

  static async open(bytes) {
    const pdf = new PdfFile(bytes);
    await pdf.readXref();
    return pdf;
  }

  async readXref() {
    const tail = latin1(this.b.subarray(Math.max(0, this.b.length - 2048)));
    const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail) ?? /startxref\s+(\d+)/.exec(tail.slice(tail.lastIndexOf("startxref")));
    if (!m) throw new PdfUnreadable("pdf.no_xref");
    const seen = new Set();
    let at = Number(m[1]);
    while (at !== null) {
      if (seen.has(at) || at >= this.b.length || seen.size > 1000) throw new PdfUnreadable("pdf.bad_xref");
      seen.add(at);
      const trailer = await this.readSection(at);
      if (this.trailer === null) this.trailer = trailer;
      const prev = trailer.get("Prev");
      at = typeof prev === "number" ? prev : null;
    }
    if (!(this.trailer.get("Root") instanceof Ref)) throw new PdfUnreadable("pdf.no_root");
  }

  setEntry(num, offset) {
    if (!this.offsets.has(num) && !this.inStreams.has(num)) this.offsets.set(num, offset);
  }

  async readSection(at) {
    const lx = new Lexer(this.b, at);
    if (lx.word() === "xref") {
      for (;;) {
        const save = lx.at;
        const w = lx.word();
        if (w === "trailer") break;
        const count = Number(lx.word());
        if (!/^\d+$/.test(w) || !Number.isInteger(count)) {
          lx.at = save;
          throw new PdfUnreadable("pdf.bad_xref");
        }
        for (let i = 0; i < count; i++) {
          const offset = Number(lx.word());
          lx.word(); // generation
          const kind = lx.word();
          if (kind === "n") this.setEntry(Number(w) + i, offset);
          else if (kind === "f") this.setEntry(Number(w) + i, null);
          else throw new PdfUnreadable("pdf.bad_xref");
        }
      }
      const trailer = lx.value();
      if (!(trailer instanceof Map)) throw new PdfUnreadable("pdf.bad_xref");
      return trailer;
    }
    // A cross-reference stream (PDF 1.5).
    const obj = this.parseAt(at);
    if (!(obj instanceof Stream) || this.nameOf(obj.dict.get("Type")) !== "XRef") throw new PdfUnreadable("pdf.bad_xref");
    const data = await this.streamData(obj, true);
    const w = obj.dict.get("W");
    const size = obj.dict.get("Size");
    const index = obj.dict.get("Index") ?? [0, size];
    if (!Array.isArray(w) || w.length !== 3) throw new PdfUnreadable("pdf.bad_xref");
    const width = w[0] + w[1] + w[2];
    let p = 0;
    const field = (n, dflt) => {
      if (n === 0) return dflt;
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + data[p++];
      return v;
    };
    for (let s = 0; s + 1 < index.length; s += 2) {
      for (let i = 0; i < index[s + 1]; i++) {
        if (p + width > data.length) throw new PdfUnreadable("pdf.bad_xref");
        const num = index[s] + i;
        const type = field(w[0], 1);
        const f2 = field(w[1], 0);
        const f3 = field(w[2], 0);
        if (this.offsets.has(num) || this.inStreams.has(num)) continue;
        if (type === 1) this.offsets.set(num, f2);
        else if (type === 2) this.inStreams.set(num, [f2, f3]);
        else this.offsets.set(num, null);
      }
    }
    return obj.dict;
  }

  nameOf(v) {
    return v instanceof Name ? v.name : null;
  }

  /** Parse `N G obj ... endobj` at a byte offset. */
  parseAt(at) {
    const lx = new Lexer(this.b, at);
    const num = lx.word();
    const gen = lx.word();
    if (!/^\d+$/.test(num) || !/^\d+$/.test(gen) || lx.word() !== "obj") throw new PdfUnreadable("pdf.bad_object");
    const v = lx.value();
    const save = lx.at;
    if (v instanceof Map && lx.word() === "stream") {
      let start = lx.at;
      if (this.b[start] === 0x0d) start++;
      if (this.b[start] === 0x0a) start++;
      let length = v.get("Length");
      if (length instanceof Ref) length = this.peekNumber(length);
      let end = typeof length === "number" ? start + length : -1;
      if (end < start || end > this.b.length || !this.endstreamAt(end)) end = this.findEndstream(start);
      return new Stream(v, start, end);
    }
    lx.at = save;
    return v;
  }

  peekNumber(ref) {
    const off = this.offsets.get(ref.num);
    if (typeof off !== "number") return null;
    try {
      const v = this.parseAt(off);
      return typeof v === "number" ? v : null;
    } catch {
      return null;
    }
  }

  endstreamAt(end) {
    const lx = new Lexer(this.b, end);
    return lx.word() === "endstream";
  }

  findEndstream(start) {
    const needle = [0x65, 0x6e, 0x64, 0x73, 0x74, 0x72, 0x65, 0x61, 0x6d]; // endstream
    for (let i = start; i + needle.length <= this.b.length; i++) {
      if (needle.every((c, k) => this.b[i + k] === c)) {
        let end = i;
        if (this.b[end - 1] === 0x0a) end--;
        if (this.b[end - 1] === 0x0d) end--;
        return Math.max(start, end);
      }
    }
    throw new PdfUnreadable("pdf.truncated");
  }

  /** The object a value refers to (values that are not references are returned as they are). */
  async resolve(v, depth = 0) {
    if (!(v instanceof Ref)) return v;
    if (depth > 32) throw new Failure("pdf.ref_loop");
    if (this.cache.has(v.num)) return this.cache.get(v.num);
    let obj = null;
    if (this.offsets.has(v.num)) {
      const off = this.offsets.get(v.num);
      obj = off === null ? null : this.parseAt(off);
    } else if (this.inStreams.has(v.num)) {
      const [sn, idx] = this.inStreams.get(v.num);
      const os = await this.resolve(new Ref(sn, 0), depth + 1);
      if (!(os instanceof Stream)) throw new Failure("pdf.bad_object");
      const data = await this.streamData(os, true);
      const n = os.dict.get("N");
      const first = os.dict.get("First");
      const lx = new Lexer(data);
      const pairs = [];
      for (let i = 0; i < n; i++) pairs.push([Number(lx.word()), Number(lx.word())]);
      const pair = pairs.find(([num]) => num === v.num) ?? pairs[idx];
      if (!pair) throw new Failure("pdf.bad_object");
      obj = new Lexer(data, first + pair[1]).value();
    }
    const out = await this.resolve(obj, depth + 1);
    this.cache.set(v.num, out);
    return out;
  }

  /** A stream's decoded bytes: no filter, or FlateDecode (with PNG predictors when `predictors`). */
  async streamData(stream, predictors = false, limit = MAX_PDF_BYTES) {
    const raw = this.b.subarray(stream.start, stream.end);
    let filters = await this.resolve(stream.dict.get("Filter"));
    filters = filters === undefined || filters === null ? [] : Array.isArray(filters) ? filters : [filters];
    const names = filters.map((f) => this.nameOf(f));
    const parms = await this.resolve(stream.dict.get("DecodeParms"));
    if (names.length === 0) return raw;
    if (names.length !== 1 || names[0] !== "FlateDecode") throw new Failure("pdf.filter", { filters: names.join(" ") });
    const data = await inflate(raw, limit);
    if (parms instanceof Map) {
      const predictor = parms.get("Predictor") ?? 1;
      if (!predictors || predictor < 10) {
        if (predictor !== 1) throw new Failure("pdf.predictor");
        return data;
      }
      return unpredict(data, parms.get("Columns") ?? 1);
    }
    return data;
  }

  async root() {
    return this.resolve(this.trailer.get("Root"));
  }

  /** The entries [name, file specification] of the document's /EmbeddedFiles name tree. */
  async embeddedFiles() {
    const root = await this.root();
    if (!(root instanceof Map)) throw new Failure("pdf.no_root");
    const names = await this.resolve(root.get("Names"));
    const tree = names instanceof Map ? await this.resolve(names.get("EmbeddedFiles")) : null;
    const out = [];
    const walk = async (node, depth) => {
      if (depth > 16) throw new Failure("pdf.tree_deep");
      node = await this.resolve(node);
      if (!(node instanceof Map)) return;
      const pairs = await this.resolve(node.get("Names"));
      if (Array.isArray(pairs)) for (let i = 0; i + 1 < pairs.length; i += 2) out.push([textOf(await this.resolve(pairs[i])), pairs[i + 1]]);
      const kids = await this.resolve(node.get("Kids"));
      if (Array.isArray(kids)) for (const kid of kids) await walk(kid, depth + 1);
    };
    if (tree) await walk(tree, 0);
    return out;
  }

  /** The bytes of the embedded file called `name` (by its key, /UF or /F), or null. */
  async embeddedFile(name, limit) {
    for (const [key, specRef] of await this.embeddedFiles()) {
      const spec = await this.resolve(specRef);
      if (!(spec instanceof Map)) continue;
      const fileName = textOf(await this.resolve(spec.get("UF") ?? spec.get("F"))) ?? key;
      if (key !== name && fileName !== name) continue;
      const ef = await this.resolve(spec.get("EF"));
      const stream = ef instanceof Map ? await this.resolve(ef.get("F")) : null;
      if (!(stream instanceof Stream)) throw new Failure("pdf.bad_attachment");
      if (stream.dict.has("DecodeParms")) throw new Failure("pdf.filter", { filters: "DecodeParms" });
      return this.streamData(stream, false, limit);
    }
    return null;
  }
}
