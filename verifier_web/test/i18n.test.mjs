// Every message the verifier can show exists in English and Chinese, with the same placeholders.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { MESSAGE_KEYS, defaultLanguage, t } from "../src/i18n.js";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

test("every message key used in the sources has a text in both languages", () => {
  const used = new Set();
  const call = /(?:bad|detail|fail|Failure|NoteError|ProofError|JsonError|CanonicalError|NotABundle|ChainUnreachable|PdfUnreadable|Unusable|key:)\(?\s*"([a-z_0-9]+(?:\.[a-z_0-9]+)*)"/g;
  for (const name of readdirSync(SRC).filter((n) => n.endsWith(".js"))) {
    for (const m of readFileSync(join(SRC, name), "utf8").matchAll(call)) used.add(m[1]);
  }
  assert.ok(used.size > 100, `found only ${used.size} keys`);
  const missing = [...used].filter((k) => !MESSAGE_KEYS.includes(k));
  assert.deepEqual(missing, []);
});

test("both texts of a message have the same placeholders, and the Chinese one is Chinese", () => {
  for (const key of MESSAGE_KEYS) {
    const en = t("en", key);
    const zh = t("zh", key);
    const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(holes(zh), holes(en), key);
    assert.notEqual(en, zh, key);
  }
});

test("the browser's preferred language picks the page's", () => {
  assert.equal(defaultLanguage(["zh-CN", "en"]), "zh");
  assert.equal(defaultLanguage(["en-GB", "zh"]), "en");
  assert.equal(defaultLanguage(["fr"]), "en");
});
