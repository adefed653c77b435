// The TypeScript client against a running Sealtrail service, as an integrator's Node code
// uses it. Run by tests/clients/test_typescript_client.py with the compiled client:
//   node test/e2e.mjs <compiled index.js> <base url> <api key> <delivery.json>
// Prints one JSON object of what it observed; exits 1 on an unexpected error.
const [, , compiled, baseUrl, apiKey, deliveryFile] = process.argv;
const { Client, ProofError, SealtrailError, verifyProof, verifySignature } = await import(compiled);
const { readFile } = await import("node:fs/promises");

const out = {};
const client = new Client(baseUrl, apiKey, { backoffMs: 50 });
const event = (step, extra = {}) => ({
  type: "contract.signed",
  subject: "合同-TS-001",
  occurred_at: "2026-11-24T09:00:00+08:00",
  actor: { name: "李四" },
  data: { step, ratio: 0.1, big: 1e21 },
  ...extra,
});

const [first] = await client.push([event(1, { idempotency_key: "ts-order-1" })]);
const [again] = await client.push([event(1, { idempotency_key: "ts-order-1" })]);
out.replayed = first.event_id === again.event_id && first.leaf_index === again.leaf_index;
try {
  await client.push([event(2, { idempotency_key: "ts-order-1" })]);
  out.conflict = null;
} catch (error) {
  out.conflict = error instanceof SealtrailError ? error.status : String(error);
}
const [second] = await client.push(event(3));
const proof = await client.waitForProof(second.event_id, { anchored: true, timeoutMs: 90_000 });
out.anchor_status = proof.anchor.status;
const checkpoint = await client.verify(second.event_id, proof);
out.checkpoint_size = checkpoint.treeSize;
out.proof_size = proof.tree_size;

const { record } = await client.event(first.event_id);
const older = await client.proof(first.event_id, { treeSize: proof.tree_size });
verifyProof(older, await client.publicKey(), { record });
out.record_checked = true;
const refuse = (f) => {
  try {
    f();
    return null;
  } catch (error) {
    return error instanceof ProofError ? error.reason : String(error);
  }
};
out.tampered_leaf = refuse(() => verifyProof({ ...proof, leaf_hash: "00".repeat(32) }, client.logKey));
out.tampered_record = refuse(() =>
  verifyProof(older, client.logKey, { record: { ...record, type: "contract.voided" } }),
);
out.tampered_checkpoint = refuse(() =>
  verifyProof({ ...proof, checkpoint: proof.checkpoint.replace(/\n(\d+)\n/, (m, n) => `\n${Number(n) + 1}\n`) }, client.logKey),
);

const delivery = JSON.parse(await readFile(deliveryFile, "utf8"));
const body = Buffer.from(delivery.body_base64, "base64");
out.webhook_ok = verifySignature(delivery.secret, delivery.signature, body);
out.webhook_altered = verifySignature(delivery.secret, delivery.signature, Buffer.concat([body, Buffer.from(" ")]));
out.webhook_wrong_secret = verifySignature("whsec_wrong", delivery.signature, body);
out.webhook_stale = verifySignature(delivery.secret, delivery.signature, body, { now: Date.now() / 1000 + 3600 });

try {
  await new Client(baseUrl, "stk_not_a_key", { retries: 0 }).push(event(9));
} catch (error) {
  out.unauthorized = error instanceof SealtrailError ? [error.status, error.code] : String(error);
}
console.log(JSON.stringify(out));
