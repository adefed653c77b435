// Ed25519 signature verification (RFC 8032) for checkpoint notes.
//
// The browser's own WebCrypto Ed25519 is used where it exists (Chromium 137+, Firefox 129+,
// Safari 17+): no code of ours or a library's stands between the signature and the verdict.
// Older browsers fall back to @noble/ed25519 (audited, dependency-free, bundled into the page),
// in strict RFC 8032 mode (zip215: false) so that both paths, and the command's OpenSSL, accept
// the same signatures.

import { verifyAsync } from "@noble/ed25519";

import { fromHex } from "./bytes.js";

const RFC8032_KEY = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const RFC8032_SIG = fromHex(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
);

let native = null; // undefined once probed and absent; a Promise<boolean> while probing

/** Force the bundled library (tests run both paths); "auto" restores the default. */
export function useEd25519(mode) {
  native = mode === "library" ? undefined : null;
}

async function nativeAvailable() {
  if (native === null) {
    native = (async () => {
      try {
        // RFC 8032 section 7.1, test 1: the empty message, a known key and signature.
        const k = await crypto.subtle.importKey("raw", RFC8032_KEY, { name: "Ed25519" }, false, ["verify"]);
        return await crypto.subtle.verify({ name: "Ed25519" }, k, RFC8032_SIG, new Uint8Array(0));
      } catch {
        return false;
      }
    })();
  }
  return native === undefined ? false : native;
}

/** Which implementation verifies signatures here: "WebCrypto" or "@noble/ed25519". */
export async function ed25519Implementation() {
  return (await nativeAvailable()) ? "WebCrypto" : "@noble/ed25519";
}

/** Whether `signature` (64 bytes) is a valid Ed25519 signature of `message` by `publicKey`. */
export async function ed25519Verify(publicKey, message, signature) {
  if (await nativeAvailable()) {
    try {
      const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch {
      return false; // a key that is not a curve point
    }
  }
  try {
    return await verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
