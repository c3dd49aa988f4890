"""Records per CPU-second of the scrubber, for comparing two versions of its code on one machine.

    python bench/scrubber_cost.py [--code DIR] [--records 10000] [--runs 5]

--code puts DIR first on the import path, so that a copy of an older version of the package
(`git archive <commit> modelops/privacy | tar -x -C DIR`) is measured instead of this checkout's.
Run the two versions one after the other, several times, on the same machine: CPU time, unlike
wall-clock time, barely moves when other processes share the cores.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--code", type=Path, help="a folder holding the modelops package to measure")
parser.add_argument("--records", type=int, default=10000)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--seed", type=int, default=8)
args = parser.parse_args()
if args.code:
    sys.path.insert(0, str(args.code.resolve()))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from bench_scrubber import BATCH, payloads  # noqa: E402
from scrub_corpus import CorpusGenerator  # noqa: E402

from modelops.privacy.pii import Scrubber  # noqa: E402


def main() -> None:
    generator = CorpusGenerator(args.seed)
    values = payloads(generator.records(args.records), generator)
    rates = []
    for _ in range(args.runs):
        scrubber = Scrubber()  # a new one per run: its word caches start cold, as a new batch's words do
        gc.collect()
        started = time.process_time()
        for start in range(0, len(values), BATCH):
            scrubber.scrub_many(values[start:start + BATCH])
        rates.append(len(values) / (time.process_time() - started))
    import modelops.privacy.pii as package
    print(f"{Path(package.__file__).parent}: median {statistics.median(rates):.0f} records per CPU-second "
          f"(runs: {', '.join(f'{rate:.0f}' for rate in rates)})")


if __name__ == "__main__":
    main()
