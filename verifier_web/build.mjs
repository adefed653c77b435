// Build the browser verifier into ONE self-contained HTML file, byte for byte reproducible:
//   node verifier_web/build.mjs          write verifier_web/build/sealtrail-verifier.html
//   node verifier_web/build.mjs --check  exit 1 if the checked-in file differs from a rebuild
// The script and the style are inlined; the page's Content-Security-Policy allows exactly
// those two (by their SHA-256) and network connections only for the JSON-RPC calls.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));
export const OUTPUT = join(HERE, "build", "sealtrail-verifier.html");

const b64sha256 = (text) => createHash("sha256").update(text, "utf8").digest("base64");

/** The HTML text of the verifier. */
export async function buildHtml() {
  const bundle = await esbuild.build({
    entryPoints: [join(HERE, "src", "ui.js")],
    bundle: true,
    format: "iife",
    target: ["es2020"],
    charset: "utf8",
    legalComments: "inline",
    minify: false, // readable: a court's expert can read what runs
    write: false,
    absWorkingDir: HERE,
    logLevel: "silent",
  });
  // "</script" inside the code would end the element early.
  const script = bundle.outputFiles[0].text.replaceAll("</script", "<\\/script");
  const style = readFileSync(join(HERE, "src", "page.css"), "utf8");
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${b64sha256(script)}'`,
    `style-src 'sha256-${b64sha256(style)}'`,
    "connect-src http: https:",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const build = createHash("sha256").update(script).update(style).digest("hex").slice(0, 12);
  const template = readFileSync(join(HERE, "src", "page.html"), "utf8");
  // Functions as replacements: "$" sequences in the code must stay as they are.
  return template
    .replace("{{CSP}}", () => csp)
    .replace("{{BUILD}}", () => build)
    .replace("{{STYLE}}", () => style)
    .replace("{{SCRIPT}}", () => script);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const html = await buildHtml();
  if (process.argv.includes("--check")) {
    const current = readFileSync(OUTPUT, "utf8");
    if (current !== html) {
      console.error(`${OUTPUT} differs from a rebuild: run \`node verifier_web/build.mjs\``);
      process.exit(1);
    }
    console.log(`${OUTPUT} is up to date`);
  } else {
    writeFileSync(OUTPUT, html);
    console.log(`wrote ${OUTPUT} (${Buffer.byteLength(html)} bytes)`);
  }
}
