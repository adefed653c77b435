// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing and proof verification,
// section 2.1.1 (hashes), 2.1.3.2 (inclusion) and 2.1.4.2 (consistency). Pure: bytes in,
// a thrown ProofError out when a proof does not hold.

import { concat, equalBytes, sha256, toHex } from "./bytes.js";
import { Failure } from "./failure.js";

export const LEAF_PREFIX = Uint8Array.of(0x00);
export const NODE_PREFIX = Uint8Array.of(0x01);

/** A proof that does not verify; `expected` and `calculated` are the roots when known. */
export class ProofError extends Failure {
  constructor(key, params = {}, expected = null, calculated = null) {
    super(key, { ...params, expected: expected ? toHex(expected) : null, calculated: calculated ? toHex(calculated) : null });
  }
}

/** SHA-256(0x00 || data): the hash of a leaf. */
export function leafHash(data) {
  return sha256(concat(LEAF_PREFIX, data));
}

/** SHA-256(0x01 || left || right): the hash of an inner node. */
export function nodeHash(left, right) {
  return sha256(concat(NODE_PREFIX, left, right));
}

const big = (n) => BigInt(n);

/**
 * Verify that `leaf` (a leaf hash) is at `index` in the tree of `size` leaves whose root is
 * `root`, with the RFC 9162 2.1.3.2 algorithm. Requires 0 <= index < size.
 */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (!(index >= 0 && index < size)) {
    throw new ProofError("proof.index", { index, size });
  }
  let fn = big(index);
  let sn = big(size) - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError("proof.too_long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("proof.too_short");
  if (!equalBytes(r, root)) {
    throw new ProofError("proof.root", {}, root, r);
  }
}

/**
 * Verify that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
 * with root `root1`, with the RFC 9162 2.1.4.2 algorithm. Requires 0 < size1 <= size2.
 */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  if (!(size1 > 0 && size1 <= size2)) {
    throw new ProofError("proof.sizes", { size1, size2 });
  }
  if (size1 === size2) {
    if (proof.length !== 0) throw new ProofError("proof.equal_not_empty");
    if (!equalBytes(root1, root2)) throw new ProofError("proof.root", {}, root2, root1);
    return;
  }
  if (proof.length === 0) throw new ProofError("proof.empty");
  let path = proof;
  // If size1 is an exact power of 2, the old root is the first node of the path.
  const s1 = big(size1);
  if ((s1 & (s1 - 1n)) === 0n) path = [root1, ...proof];
  let fn = s1 - 1n;
  let sn = big(size2) - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("proof.too_long");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("proof.too_short");
  if (!equalBytes(fr, root1)) throw new ProofError("proof.root", {}, root1, fr);
  if (!equalBytes(sr, root2)) throw new ProofError("proof.root", {}, root2, sr);
}
