// The anchor on chain, read through a JSON-RPC endpoint the user names: the root the contract
// holds (rootAt), the transaction that anchored it (its receipt and CheckpointAnchored log) and
// the block it is in (number, hash, time). These are the only network calls of the verifier.

import { fromHex, toHex } from "./bytes.js";
import { Failure, detail } from "./failure.js";
import { isInteger } from "./jcs.js";

/** keccak256("rootAt(bytes32,uint64)")[0:4], the function selector of EvidenceAnchor.rootAt. */
export const ROOT_AT_SELECTOR = "930b6ace";
/** keccak256("CheckpointAnchored(bytes32,uint64,bytes32)"), the event's topic 0. */
export const CHECKPOINT_ANCHORED_TOPIC = "3583cdb91e784f2f9d3e4f21f733e36b507963e72ea63f4dad0930e3d3155264";

/** The checks read from the chain, in the order they are printed. */
export const CHAIN_CHECKS = [
  "anchor.root_on_chain",
  "anchor.transaction",
  "anchor.block_number",
  "anchor.block_hash",
  "anchor.block_timestamp",
];

/** The endpoint could not be asked (network, CORS, HTTP or JSON-RPC error): not checked. */
export class ChainUnreachable extends Failure {}

const word = (n) => BigInt(n).toString(16).padStart(64, "0");

/** The eth_call data of rootAt(logId, treeSize). */
export function rootAtCallData(logId, treeSize) {
  return "0x" + ROOT_AT_SELECTOR + toHex(logId) + word(treeSize);
}

/**
 * A chain reader over JSON-RPC 2.0 by fetch: only POSTs of JSON-RPC requests to `url`, with
 * no credentials, no referrer and no cache. `timeoutMs` bounds each call.
 */
export function rpcChain(url, { timeoutMs = 15000 } = {}) {
  let id = 0;
  const call = async (method, params) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response;
    let body;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
        credentials: "omit",
        referrerPolicy: "no-referrer",
        cache: "no-store",
        redirect: "error",
        signal: controller.signal,
      });
      body = await response.json();
    } catch (e) {
      throw new ChainUnreachable("chain.unreachable", { url, error: String(e && e.message ? e.message : e) });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw new ChainUnreachable("chain.unreachable", { url, error: `HTTP ${response.status}` });
    if (body === null || typeof body !== "object" || body.error) {
      const error = body && body.error ? String(body.error.message ?? JSON.stringify(body.error)) : "no result";
      throw new ChainUnreachable("chain.rpc_error", { url, method, error: error.slice(0, 200) });
    }
    return body.result;
  };
  return {
    url,
    async chainId() {
      return quantity(await call("eth_chainId", []), "eth_chainId", url);
    },
    async code(address) {
      return String(await call("eth_getCode", [address, "latest"]));
    },
    async rootAt(address, logId, treeSize) {
      const out = await call("eth_call", [{ to: address, data: rootAtCallData(logId, treeSize) }, "latest"]);
      const bytes = typeof out === "string" && out.startsWith("0x") ? fromHex(out.slice(2)) : null;
      if (bytes === null || bytes.length !== 32) throw new ChainUnreachable("chain.rpc_error", { url, method: "eth_call", error: "not a bytes32" });
      return bytes;
    },
    async receipt(txHash) {
      return call("eth_getTransactionReceipt", ["0x" + toHex(txHash)]);
    },
    async blockByNumber(number) {
      return call("eth_getBlockByNumber", ["0x" + number.toString(16), false]);
    },
  };
}

function quantity(value, method, url) {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{1,16}$/.test(value)) {
    throw new ChainUnreachable("chain.rpc_error", { url, method, error: "not a quantity" });
  }
  return Number(BigInt(value));
}

const hex0x = (v) => (typeof v === "string" ? v.toLowerCase() : "");
const bad = (key, params = {}) => new Failure(key, params);

function hashOf(anchor, key) {
  const v = anchor[key];
  const bytes = typeof v === "string" && /^(0x)?[0-9a-fA-F]{64}$/.test(v) ? fromHex(v.replace(/^0x/, "")) : null;
  if (bytes === null) throw bad(Object.hasOwn(anchor, key) ? "field.not_hash" : "field.missing", { field: `anchor.${key}` });
  return "0x" + toHex(bytes);
}

function blockNumberOf(anchor) {
  if (!Object.hasOwn(anchor, "block_number")) throw bad("field.missing", { field: "anchor.block_number" });
  if (!isInteger(anchor.block_number) || anchor.block_number < 0) throw bad("field.type", { field: "anchor.block_number" });
  return anchor.block_number;
}

/** Seconds since 1970 of an RFC 3339 time (`2026-11-21T06:28:09Z`); Failure if it is not one. */
export function rfc3339Seconds(text, what) {
  const m = typeof text === "string" && /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.exec(text);
  const ms = m ? Date.parse(text.toUpperCase()) : NaN;
  if (!m || Number.isNaN(ms)) throw bad("field.not_time", { field: what });
  return Math.floor(ms / 1000);
}

/** The UTC RFC 3339 form of seconds since 1970. */
export const utcTime = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

/**
 * Add the chain checks of an anchor whose fields (`parsed`: chainId, contract, logId, treeSize,
 * root) already held. Without `chain` they are not checked; if the endpoint cannot be reached,
 * neither; if it serves another chain, they fail.
 */
export async function anchorChainChecks(run, anchor, parsed, chain) {
  if (chain === null) {
    for (const name of CHAIN_CHECKS) run.add(name, null, detail("chain.no_rpc"));
    return;
  }
  let served;
  try {
    served = await chain.chainId();
  } catch (e) {
    const d = e instanceof Failure ? detail(e.key, e.params) : detail("malformed", { error: String(e) });
    for (const name of CHAIN_CHECKS) run.add(name, null, d);
    return;
  }
  if (served !== parsed.chainId) {
    for (const name of CHAIN_CHECKS) run.add(name, false, detail("chain.wrong_chain", { served, chain: parsed.chainId }));
    return;
  }
  const { chainId, contract, logId, treeSize, root } = parsed;
  const once = (f) => {
    let p = null;
    return () => (p ??= f());
  };
  const receipt = once(async () => {
    const r = await chain.receipt(fromHex(hashOf(anchor, "tx_hash").slice(2)));
    if (r === null || typeof r !== "object") throw bad("chain.no_receipt", { tx: hashOf(anchor, "tx_hash"), chain: chainId });
    return r;
  });
  const block = once(async () => {
    const number = blockNumberOf(anchor);
    const b = await chain.blockByNumber(number);
    if (b === null || typeof b !== "object") throw bad("chain.no_block", { number, chain: chainId });
    return b;
  });

  await chainCheck(run, "anchor.root_on_chain", async () => {
    const code = await chain.code(contract);
    if (!/^0x[0-9a-fA-F]+$/.test(code) || /^0x0*$/.test(code)) throw bad("chain.no_contract", { contract, chain: chainId });
    const onChain = await chain.rootAt(contract, logId, treeSize);
    if (onChain.every((b) => b === 0)) throw bad("chain.no_root", { contract, chain: chainId, size: treeSize });
    if (toHex(onChain) !== toHex(root)) throw bad("chain.root_differs", { size: treeSize, chain: chainId, found: toHex(onChain), root: toHex(root) });
    return detail("ok.root_on_chain", { size: treeSize, chain: chainId, contract, root: toHex(onChain) });
  });

  await chainCheck(run, "anchor.transaction", async () => {
    const tx = hashOf(anchor, "tx_hash");
    const r = await receipt();
    if (hex0x(r.status) !== "0x1") throw bad("chain.tx_failed", { tx });
    const topics = ["0x" + CHECKPOINT_ANCHORED_TOPIC, "0x" + toHex(logId), "0x" + word(treeSize)];
    const found = (Array.isArray(r.logs) ? r.logs : []).some(
      (log) =>
        log &&
        hex0x(log.address) === contract.toLowerCase() &&
        Array.isArray(log.topics) &&
        log.topics.length === 3 &&
        log.topics.every((t, i) => hex0x(t) === topics[i]) &&
        hex0x(log.data) === "0x" + toHex(root),
    );
    if (!found) throw bad("chain.no_log", { tx, contract, size: treeSize });
    return detail("ok.transaction", { tx, contract, size: treeSize });
  });

  await chainCheck(run, "anchor.block_number", async () => {
    const number = blockNumberOf(anchor);
    const r = await receipt();
    const mined = quantity(r.blockNumber, "eth_getTransactionReceipt", chain.url);
    if (mined !== number) throw bad("chain.block_number", { mined, number });
    return detail("ok.block_number", { number });
  });

  await chainCheck(run, "anchor.block_hash", async () => {
    const stated = hashOf(anchor, "block_hash");
    const r = await receipt();
    if (hex0x(r.blockHash) !== stated) throw bad("chain.receipt_block_hash", { found: hex0x(r.blockHash), stated });
    const b = await block();
    if (hex0x(b.hash) !== stated) throw bad("chain.block_hash", { number: blockNumberOf(anchor), found: hex0x(b.hash), stated });
    return detail("ok.block_hash", { hash: stated, number: blockNumberOf(anchor) });
  });

  await chainCheck(run, "anchor.block_timestamp", async () => {
    if (!Object.hasOwn(anchor, "block_time")) throw bad("field.missing", { field: "anchor.block_time" });
    const stated = rfc3339Seconds(anchor.block_time, "anchor.block_time");
    const b = await block();
    const seconds = quantity(b.timestamp, "eth_getBlockByNumber", chain.url);
    if (seconds !== stated) throw bad("chain.block_time", { found: utcTime(seconds), stated: anchor.block_time });
    return detail("ok.block_time", { time: utcTime(seconds), number: blockNumberOf(anchor) });
  });
}

async function chainCheck(run, name, body) {
  try {
    run.add(name, true, await body());
  } catch (e) {
    if (e instanceof ChainUnreachable) run.add(name, null, detail(e.key, e.params));
    else if (e instanceof Failure) run.add(name, false, detail(e.key, e.params));
    else run.add(name, false, detail("malformed", { error: String(e) }));
  }
}
