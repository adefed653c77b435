// The verification core against the project's external vectors (tests/core/vectors, see
// SOURCES.md there): RFC 8785 JCS, RFC 6962/9162 Merkle trees and proofs, C2SP signed notes.
// Run: node --test verifier_web/test/ (pytest runs it too: tests/verifier_web/test_core_js.py).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { fromHex, sha256, toHex, utf8 } from "../src/bytes.js";
import { useEd25519 } from "../src/ed25519.js";
import { JsonError, canonicalize, parseJson } from "../src/jcs.js";
import { leafHash, nodeHash, verifyConsistency, verifyInclusion } from "../src/merkle.js";
import { openNote, parseVerifierKey } from "../src/note.js";

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "core", "vectors");
const load = (p) => JSON.parse(readFileSync(join(VECTORS, p), "utf8"));
const bytes = (h) => fromHex(h ?? "");

test("JCS: the cyberphone test files, byte for byte", () => {
  const dir = join(VECTORS, "jcs", "cyberphone");
  const names = readdirSync(join(dir, "input"));
  assert.ok(names.length >= 6);
  for (const name of names) {
    const input = readFileSync(join(dir, "input", name), "utf8");
    const expected = readFileSync(join(dir, "output", name), "utf8");
    assert.equal(canonicalize(parseJson(input)), expected, name);
    const hex = readFileSync(join(dir, "outhex", name.replace(".json", ".txt")), "utf8").replace(/\s/g, "");
    assert.equal(toHex(utf8(canonicalize(parseJson(input)))), hex, name);
  }
});

function doubleOf(ieeeHex) {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + ieeeHex));
  return view.getFloat64(0);
}

test("JCS: RFC 8785 appendix B numbers", () => {
  for (const v of load("jcs/rfc8785_appendix_b_numbers.json").vectors) {
    const value = doubleOf(v.ieee_hex);
    if (v.expected === null) assert.throws(() => canonicalize([value]), v.comment);
    else assert.equal(canonicalize(value), v.expected, v.comment);
  }
});

test("JCS: the first 10,000 generated ES6 numbers", () => {
  const lines = readFileSync(join(VECTORS, "jcs", "es6_numbers_first10000.txt"), "utf8").trim().split("\n");
  assert.equal(lines.length, 10000);
  for (const line of lines) {
    const [hex, expected] = line.split(",");
    assert.equal(canonicalize(doubleOf(hex.padStart(16, "0"))), expected, line);
  }
});

test("strict JSON: what two verifiers could read differently is refused", () => {
  for (const text of ['{"a":1,"a":2}', "[1,]", "NaN", "1e400", "9007199254740993", "\ufeff{}", "[" .repeat(129) + "]".repeat(129), '"\u0001"', "{} x"]) {
    assert.throws(() => parseJson(text), JsonError, text);
  }
  assert.equal(canonicalize(parseJson("[9007199254740992, 72057594037927940, -0, 1.0, 1e2]")), "[9007199254740992,72057594037927940,0,1,100]");
  assert.throws(() => canonicalize(parseJson('"\\ud800"')), /jcs.surrogate/);
  assert.equal(canonicalize(parseJson('{"__proto__": 1, "b": [true, null]}')), '{"__proto__":1,"b":[true,null]}');
});

test("Merkle: RFC 6962 hasher vectors", async () => {
  for (const v of load("rfc6962/hasher.json").vectors) {
    let got;
    if (v.kind === "empty_root") got = await sha256(new Uint8Array(0));
    else if (v.kind === "leaf") got = await leafHash(bytes(v.data_hex));
    else got = await nodeHash(bytes(v.left_hex), bytes(v.right_hex));
    assert.equal(toHex(got), v.expected, v.kind);
  }
});

test("Merkle: the reference tree of 8 leaves, every inclusion and consistency proof", async () => {
  const tree = load("rfc6962/reference_tree_8.json");
  assert.ok(tree.inclusion_proofs.length >= 5 && tree.consistency_proofs.length >= 4);
  for (const p of tree.inclusion_proofs) {
    const leaf = await leafHash(bytes(tree.leaves[p.leaf_index]));
    await verifyInclusion(leaf, p.leaf_index, p.tree_size, p.proof.map(bytes), bytes(p.root));
    if (p.proof.length) {
      const wrong = p.proof.map(bytes);
      wrong[0] = wrong[0].map((b, i) => (i === 0 ? b ^ 1 : b));
      await assert.rejects(verifyInclusion(leaf, p.leaf_index, p.tree_size, wrong, bytes(p.root)));
    }
  }
  for (const p of tree.consistency_proofs) {
    await verifyConsistency(p.size1, p.size2, p.proof.map(bytes), bytes(p.root1), bytes(p.root2));
  }
});

async function holds(promise) {
  try {
    await promise;
    return true;
  } catch {
    return false;
  }
}

test("Merkle: transparency-dev inclusion and consistency probes give the upstream verdicts", async () => {
  const inclusion = load("rfc6962/inclusion_probes.json").vectors;
  for (const v of inclusion) {
    const proof = (v.proof ?? []).map(bytes);
    const shaped = proof.every((h) => h.length === 32) && bytes(v.root).length === 32;
    const ok = shaped && (await holds(verifyInclusion(bytes(v.leaf_hash), v.leaf_index, v.tree_size, proof, bytes(v.root))));
    assert.equal(ok, v.valid, v.id);
  }
  for (const v of load("rfc6962/consistency_probes.json").vectors) {
    const proof = (v.proof ?? []).map(bytes);
    const shaped = proof.every((h) => h.length === 32);
    const ok = shaped && (await holds(verifyConsistency(v.size1, v.size2, proof, bytes(v.root1), bytes(v.root2))));
    assert.equal(ok, v.valid, v.id);
  }
});

test("a verifier key whose base64 holds '+' parses (the name and id hold none)", async () => {
  const key = await parseVerifierKey("sealtrail.test/verifiers+d8f2c47d+AUmZDjKKfMhERYdQDy+R1KH7WC0KHW1dpxP7gCpF3bYk");
  assert.equal(key.name, "sealtrail.test/verifiers");
  await assert.rejects(parseVerifierKey("sealtrail.test/verifiers+d8f2c47e+AUmZDjKKfMhERYdQDy+R1KH7WC0KHW1dpxP7gCpF3bYk"));
});

for (const mode of ["auto", "library"]) {
  test(`signed note: the C2SP example verifies, a changed byte does not (Ed25519 ${mode})`, async () => {
    useEd25519(mode);
    for (const v of load("signed_note/c2sp_examples.json").vectors) {
      const key = await parseVerifierKey(v.vkey);
      assert.equal(await holds(openNote(v.note, key)), v.valid);
      const changed = v.note.replace("example message", "example massage");
      assert.equal(await holds(openNote(changed, key)), false);
    }
    useEd25519("auto");
  });
}
