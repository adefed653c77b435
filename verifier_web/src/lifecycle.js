// The subject's lifecycle status, read from its records as docs/evidence-bundle.md states the
// rule ("Lifecycle status"): a record's type ends in a word (the last part between ".", ":",
// "/", "_" or "-"); the words below set the state, the latest record with one wins, and a
// subject whose records set none is in progress. The time is that record's occurred_at, the
// reason its data.reason. Written apart from the command's evidence_chain/core/subject.py; the
// shared case table (tests/verifier_web/cases.py) makes both give the same status.

import { isInteger, isObject } from "./jcs.js";

const WORDS = new Map([
  ["completed", "completed"],
  ["complete", "completed"],
  ["finalized", "completed"],
  ["finalised", "completed"],
  ["voided", "voided"],
  ["void", "voided"],
  ["cancelled", "voided"],
  ["canceled", "voided"],
  ["withdrawn", "withdrawn"],
  ["declined", "declined"],
  ["rejected", "declined"],
  ["expired", "expired"],
]);
const MAX_REASON = 300;

const own = (obj, key) => (isObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined);
const text = (v) => (typeof v === "string" ? v : null);

/** The state a record of this type sets, or null. */
export function stateOfType(type) {
  const parts = type.toLowerCase().split(/[.:/_-]/);
  return WORDS.get(parts[parts.length - 1]) ?? null;
}

function actorName(actor) {
  if (typeof actor === "string" && actor !== "") return actor;
  for (const key of ["name", "organisation", "organization", "email", "common_name"]) {
    const v = own(actor, key);
    if (typeof v === "string" && v !== "") return v;
  }
  return null;
}

/** The status of a bundle's subject: {state, at, reason, event_type, subject_seq, by, subject}, or null. */
export function lifecycleOf(bundle) {
  const events = own(bundle, "events");
  if (!Array.isArray(events)) return null;
  const records = events.map((e) => own(e, "record")).filter(isObject);
  if (records.length === 0) return null;
  const subject = text(own(bundle, "subject"));
  let found = null;
  for (const record of records) {
    const type = own(record, "type");
    const state = typeof type === "string" ? stateOfType(type) : null;
    if (state === null) continue;
    const reason = own(own(record, "data"), "reason");
    const seq = own(record, "subject_seq");
    found = {
      subject,
      state,
      at: text(own(record, "occurred_at")),
      reason: typeof reason === "string" && reason !== "" ? reason : null,
      event_type: type,
      subject_seq: isInteger(seq) ? seq : null,
      by: actorName(own(record, "actor")),
    };
  }
  if (found !== null) return found;
  const last = records[records.length - 1];
  return {
    subject,
    state: "in_progress",
    at: text(own(last, "occurred_at")),
    reason: null,
    event_type: text(own(last, "type")),
    subject_seq: null,
    by: null,
  };
}

// ---------------------------------------------------------------------------- sentences

const PHRASE = {
  en: {
    completed: "was COMPLETED on {at}",
    voided: "was VOIDED on {at}",
    withdrawn: "was WITHDRAWN on {at}",
    declined: "was DECLINED on {at}",
    expired: "EXPIRED on {at}",
    in_progress: "is IN PROGRESS (not completed; last step {at})",
  },
  zh: {
    completed: "已于 {at} 完成签署（COMPLETED）",
    voided: "已于 {at} 作废（VOIDED）",
    withdrawn: "已于 {at} 撤回（WITHDRAWN）",
    declined: "已于 {at} 被拒签（DECLINED）",
    expired: "已于 {at} 过期（EXPIRED）",
    in_progress: "签署进行中（IN PROGRESS，尚未完成；最后一步 {at}）",
  },
};
const NOUN = {
  envelope: ["the contract", "该合同"],
  contract: ["the contract", "该合同"],
  document: ["the document", "该文件"],
};
const VERDICT = {
  VERIFIED: ["VERIFIED: the evidence is intact", "已核验（VERIFIED）：证据完整"],
  INCOMPLETE: [
    "INCOMPLETE: nothing failed, but not every check could be made",
    "未完成（INCOMPLETE）：没有检查失败，但并非所有检查都已完成",
  ],
  FAILED: [
    "FAILED: a check failed; the file cannot be relied on as it stands",
    "失败（FAILED）：有检查未通过；该文件现状不可采信",
  ],
};

function timeText(v) {
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return `${v.slice(0, 10)} ${v.slice(11, 16)} UTC`;
  return v === null ? "an unstated time" : String(v);
}

const quote = (s) => JSON.stringify(s);

/** The status in words, e.g. `the contract was VOIDED on 2026-11-23 10:00 UTC (reason: "…")`. */
export function statusSentence(status, lang) {
  const zh = lang === "zh";
  const kind = (status.subject ?? "").split(":")[0];
  const noun = (Object.hasOwn(NOUN, kind) ? NOUN[kind] : ["the subject", "该事项"])[zh ? 1 : 0];
  const phrase = PHRASE[zh ? "zh" : "en"][status.state].replace("{at}", timeText(status.at));
  let reason = status.reason;
  if (reason !== null && [...reason].length > MAX_REASON) reason = `${[...reason].slice(0, MAX_REASON - 1).join("")}\u2026`;
  let out = zh ? `${noun}${phrase}` : `${noun} ${phrase}`;
  if (status.by !== null && status.state === "declined") out += zh ? `，拒签方 ${quote(status.by)}` : ` by ${quote(status.by)}`;
  if (reason !== null) out += zh ? `（原因：${quote(reason)}）` : ` (reason: ${quote(reason)})`;
  return out;
}

/** The verdict with the status beside it, as the command prints it (`kind` "contract": a
 * signed contract alone, whose status needs its evidence). */
export function verdictLine(verdict, status, lang, kind = null) {
  const zh = lang === "zh";
  const head = (VERDICT[verdict] ?? [verdict, verdict])[zh ? 1 : 0];
  if (status === null && kind === "contract" && verdict !== "FAILED") {
    return zh
      ? `${head}；合同的状态及其在日志中的记录需要其证据证书或证据包（--report/--bundle）`
      : `${head}; the contract's status and its place in the log need its certificate of evidence or bundle (--report/--bundle)`;
  }
  if (status === null) return head;
  const said = statusSentence(status, lang);
  if (verdict === "FAILED") {
    return zh ? `失败（FAILED）：有检查未通过；其记录称${said}，但不可采信` : `FAILED: a check failed; its records say ${said}, which cannot be relied on`;
  }
  return `${head}${zh ? "；" : "; "}${said}`;
}
