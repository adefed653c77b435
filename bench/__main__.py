"""Benchmarks: ``make bench`` (or ``python -m bench [names...]``). Prints measured figures.

Targets (from the product's performance goals; checked here, never in unit tests):
- ingest over HTTP, batches of 1,000, durable: >= 10,000 events/s on 2 cores;
- Merkle integration: >= 5x the leaves per second of the ``pymerkle`` package;
- inclusion and consistency proofs from the database at 1,000,000 leaves: p99 < 5 ms;
- inclusion proofs over HTTP while 1,000-event batches are ingested: p99 < 50 ms;
- a 1,000-event subject's evidence bundle: under 150 ms (its proofs built in one pass);
- anchoring: under 80,000 gas per anchor; every event on chain, confirmed, within a minute.
- the browser verifier: the command's verdict on 100- and 1,000-event bundles, timed beside it.
- the installable verifier: wheel size, with its dependencies, install time into a fresh venv,
  the installed command on 100- and 1,000-event certificates.
- the console's contract list at 10,000 envelopes: p95 under 250 ms (server time); search
  (console and API, Chinese names) at 100,000: p95 under 500 ms.
- the operator commands that need neither the chain nor a migration: under 1 s each.
- time-stamping right after a cold start (fresh instances, 4 workers, 8 parallel clients):
  no failed request, no token that does not verify, no instance whose TSA does not chain.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from bench import (
    anchoring,
    backup,
    cli,
    cold_start,
    contracts,
    envelopes,
    group_commit,
    ingest,
    merkle_bench,
    pg_workers,
    proofs,
    proofs_under_ingest,
    reports,
    sequencer,
    signing_bench,
    subject_bundle,
    verifier_web,
    verifier_wheel,
)

BENCHES: dict[str, Callable[[], list[str]]] = {
    "merkle": merkle_bench.run,
    "ingest": ingest.run,
    "proofs": proofs.run,
    "proofs-under-ingest": proofs_under_ingest.run,
    "anchoring": anchoring.run,
    "signing": signing_bench.run,
    "envelopes": envelopes.run,
    "reports": reports.run,
    "subject-bundle": subject_bundle.run,
    "sequencer": sequencer.run,
    "group-commit": group_commit.run,
    "pg-workers": pg_workers.run,
    "verifier_web": verifier_web.run,
    "verifier_wheel": verifier_wheel.run,
    "cold-start": cold_start.run,
    "backup": backup.run,
    "cli": cli.run,
    "contracts": contracts.run,
}


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default) and print their figures."""
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    failures: list[str] = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        failures += BENCHES[name]()
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    if failures:
        print("\nTARGETS MISSED:")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
