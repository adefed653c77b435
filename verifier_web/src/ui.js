// The page: pick or drop a file, optionally a document and an RPC URL, verify, show each check
// as the command prints it. Nothing here leaves the page but the JSON-RPC calls of anchor.js.

import { rpcChain, utcTime, rfc3339Seconds } from "./anchor.js";
import { BUNDLE_VERSION } from "./bundle.js";
import { ed25519Implementation, useEd25519 } from "./ed25519.js";
import { Failure } from "./failure.js";
import { LANGUAGES, defaultLanguage, detailText, t } from "./i18n.js";
import { verdictLine } from "./lifecycle.js";
import { verifyFile } from "./verify.js";

const MARK = { true: "\u2713", false: "\u2717", null: "\u2013" };
const $ = (id) => document.getElementById(id);

const state = { lang: defaultLanguage(navigator.languages), result: null, error: null, fileName: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

async function applyLanguage() {
  const lang = state.lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t(lang, "page.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(lang, node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(lang, node.dataset.i18nPlaceholder);
  $("language").textContent = t(lang, "page.language");
  $("about").textContent = t(lang, "page.about", {
    format: BUNDLE_VERSION,
    built: document.documentElement.dataset.built ?? "",
    ed25519: await ed25519Implementation(),
  });
  render();
}

function summaryOf(result, lang) {
  const count = (ok) => result.checks.filter((c) => c.ok === ok).length;
  const lines = [
    t(lang, "summary", {
      verdict: result.verdict,
      kind: t(lang, `kind.${result.kind}`),
      total: result.checks.length,
      held: count(true),
      failed: count(false),
      unchecked: count(null),
    }),
  ];
  const failed = result.checks.filter((c) => c.ok === false).map((c) => c.name);
  if (failed.length) lines.push(t(lang, "summary.failed", { names: failed.join(", ") }));
  // The verdict with the status beside it, in both languages, as the command prints them.
  lines.push(verdictLine(result.verdict, result.status, "en", result.kind), verdictLine(result.verdict, result.status, "zh", result.kind));
  return lines;
}

function render() {
  const lang = state.lang;
  const out = $("result");
  out.replaceChildren();
  $("error").hidden = state.error === null;
  if (state.error !== null) {
    $("error-text").textContent = t(lang, state.error.key, state.error.params);
    return;
  }
  const result = state.result;
  if (result === null) return;
  const { verdict, checks } = result;
  const failed = checks.filter((c) => c.ok === false).map((c) => c.name);
  const unchecked = checks.filter((c) => c.ok === null).map((c) => c.name);

  const banner = el("section", { id: "verdict", class: `verdict ${verdict.toLowerCase()}`, "data-verdict": verdict, "aria-live": "polite" });
  banner.append(
    el("h2", { id: "verdict-title" }, `${t(lang, `verdict.${verdict}`)}${lang === "zh" ? `（${verdict}）` : ""}`),
    el("p", {}, t(lang, `verdict.${verdict}.text`, { failed: failed.join(", "), unchecked: unchecked.join(", ") })),
  );
  if (unchecked.includes("report.signature")) banner.append(el("p", { class: "hint" }, t(lang, "verdict.report_hint")));
  // The lifecycle status (completed, voided with reason and time, withdrawn, declined, expired,
  // in progress), beside the verdict, derived from the records (lifecycle.js).
  if (result.status) {
    banner.append(
      el(
        "p",
        { id: "lifecycle", "data-state": result.status.state, "data-at": result.status.at ?? "", "data-reason": result.status.reason ?? "" },
        el("strong", {}, `${t(lang, "page.lifecycle")}: `),
        verdictLine(verdict, result.status, lang),
      ),
    );
  }
  out.append(banner);

  const b = result.bundle;
  if (b && typeof b === "object") {
    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => facts.append(el("dt", {}, t(lang, k)), el("dd", {}, String(v)));
    if (state.fileName) fact("page.file_name", state.fileName);
    fact("page.subject", b.subject);
    fact("page.tenant", b.tenant);
    if (Array.isArray(b.events)) fact("page.events", b.events.length);
    const a = b.anchor;
    if (a && typeof a === "object") {
      let time = a.block_time;
      try {
        time = utcTime(rfc3339Seconds(a.block_time, "")) ;
      } catch {
        // shown as the bundle states it
      }
      fact("page.anchor", t(lang, "page.anchor_value", { chain: a.chain_id, block: a.block_number, time, tx: a.tx_hash }));
    } else fact("page.anchor", t(lang, "page.not_anchored"));
    out.append(facts);
  }

  const table = el("table", { class: "checks" });
  table.append(
    el("caption", {}, t(lang, "page.checks")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t(lang, "page.col_result")), el("th", { scope: "col" }, t(lang, "page.col_check")), el("th", { scope: "col" }, t(lang, "page.col_detail")))),
  );
  const body = el("tbody");
  for (const c of checks) {
    const row = el("tr", { "data-check": c.name, "data-ok": String(c.ok), class: `ok-${c.ok}` });
    row.append(
      el("td", { class: "mark", title: t(lang, `mark.${c.ok}`) }, `${MARK[c.ok]} ${t(lang, `mark.${c.ok}`)}`),
      el("td", { class: "name" }, el("code", {}, c.name)),
      el("td", { class: "detail" }, detailText(lang, c.detail)),
    );
    body.append(row);
  }
  table.append(body);
  out.append(table);

  const width = Math.max(...checks.map((c) => c.name.length));
  const text = checks.map((c) => `${MARK[c.ok]} ${c.name.padEnd(width)}  ${detailText(lang, c.detail)}`);
  out.append(
    el("h3", {}, t(lang, "page.output")),
    el("pre", { id: "output" }, [...text, "", ...summaryOf(result, lang)].join("\n")),
  );
}

async function run() {
  const file = $("file").files[0];
  state.result = null;
  state.error = null;
  if (!file) {
    state.error = { key: "error.no_file", params: {} };
    render();
    return;
  }
  const rpc = $("rpc").value.trim();
  if (rpc && !/^https?:\/\//i.test(rpc)) {
    state.error = { key: "error.rpc_url", params: {} };
    render();
    return;
  }
  const button = $("verify");
  button.disabled = true;
  button.textContent = t(state.lang, "page.working");
  const started = performance.now();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const docFile = $("document").files[0];
    const document_ = docFile ? new Uint8Array(await docFile.arrayBuffer()) : null;
    state.fileName = file.name;
    state.result = await verifyFile(bytes, { chain: rpc ? rpcChain(rpc) : null, document: document_ });
  } catch (e) {
    state.error = e instanceof Failure ? { key: e.key, params: e.params } : { key: "error.read", params: { error: String(e) } };
  } finally {
    button.disabled = false;
    button.textContent = t(state.lang, "page.verify");
  }
  render();
  $("result").dataset.ms = String(Math.round(performance.now() - started));
}

function init() {
  if (/(^|[#&])ed25519=library\b/.test(location.hash)) useEd25519("library");
  $("language").addEventListener("click", () => {
    state.lang = LANGUAGES[(LANGUAGES.indexOf(state.lang) + 1) % LANGUAGES.length];
    applyLanguage();
  });
  $("verify").addEventListener("click", run);
  $("file").addEventListener("change", () => {
    if ($("file").files.length) run();
  });
  const zone = $("drop");
  const stop = (e) => {
    e.preventDefault();
    e.stopPropagation();
  };
  for (const type of ["dragenter", "dragover"]) zone.addEventListener(type, (e) => (stop(e), zone.classList.add("over")));
  zone.addEventListener("dragleave", (e) => (stop(e), zone.classList.remove("over")));
  zone.addEventListener("drop", (e) => {
    stop(e);
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) {
      $("file").files = e.dataTransfer.files;
      run();
    }
  });
  // A file dropped anywhere else would make the browser open it in place of this page.
  window.addEventListener("dragover", stop);
  window.addEventListener("drop", stop);
  applyLanguage();
}

init();
