// Compiles EvidenceAnchor.sol with the solc version pinned in package.json and writes the
// checked-in artifact. The output is deterministic (fixed settings, no metadata hash), so a
// rebuild on any machine must reproduce build/EvidenceAnchor.json byte for byte.
//
// Usage: node contracts_sol/build.mjs [--out DIR]   (default DIR: contracts_sol/build)

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const CONTRACT = "EvidenceAnchor";
const SOURCE_NAME = `${CONTRACT}.sol`;

// Changing any of these changes the bytecode; the artifact records them.
const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 10000 },
  metadata: { bytecodeHash: "none" },
};

function parseArgs(argv) {
  let out = join(HERE, "build");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) {
      out = resolve(argv[++i]);
    } else if (argv[i].startsWith("--out=")) {
      out = resolve(argv[i].slice("--out=".length));
    } else {
      throw new Error(`unknown argument: ${argv[i]} (usage: build.mjs [--out DIR])`);
    }
  }
  return { out };
}

function pinnedSolcVersion() {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  return pkg.devDependencies.solc;
}

function main() {
  const { out } = parseArgs(process.argv.slice(2));

  // A stray solc in node_modules must not silently produce a different artifact.
  const version = solc.version();
  const pinned = pinnedSolcVersion();
  if (!version.startsWith(`${pinned}+`)) {
    throw new Error(`solc ${version} is installed, package.json pins ${pinned}: run npm ci`);
  }

  const sourceBytes = readFileSync(join(HERE, SOURCE_NAME));
  const input = {
    language: "Solidity",
    sources: { [SOURCE_NAME]: { content: sourceBytes.toString("utf8") } },
    settings: {
      ...SETTINGS,
      outputSelection: {
        [SOURCE_NAME]: { [CONTRACT]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));

  const diagnostics = output.errors ?? [];
  for (const d of diagnostics) {
    process.stderr.write(d.formattedMessage ?? `${d.severity}: ${d.message}\n`);
  }
  if (diagnostics.some((d) => d.severity === "error")) {
    process.exit(1);
  }

  const compiled = output.contracts[SOURCE_NAME][CONTRACT];
  const artifact = {
    contractName: CONTRACT,
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
    compiler: { name: "solc", version },
    settings: SETTINGS,
    sourceSha256: createHash("sha256").update(sourceBytes).digest("hex"),
  };

  mkdirSync(out, { recursive: true });
  const target = join(out, `${CONTRACT}.json`);
  writeFileSync(target, `${JSON.stringify(artifact, null, 2)}\n`);
  process.stdout.write(`wrote ${target} (solc ${version})\n`);
}

main();
