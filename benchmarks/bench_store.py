"""Benchmark the DuckDB store against `load_logs` on the same export.

    python benchmarks/bench_store.py --calls 100000

Each step runs in a fresh process (no warm caches shared between them), best of
--repeat runs. Reported as ratios of the same run:

- ingest / load_logs: ingest parses with load_logs and then writes; target <= 1.5x.
- load_logs / load_store: reading history back must beat re-parsing JSON; target >= 3x.

The export is generated once under benchmarks/data/ (gitignored) by the sample
generator, seed 7.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

STEPS = {
    "load_logs": "from malakai_analytics import load_logs\nlogs = load_logs(SOURCE)",
    "ingest": "from malakai_analytics import store\nstore.ingest(SOURCE, DB)",
    "load_store": "from malakai_analytics import store\nlogs = store.load_store(DB)",
}

CHILD = """
import json, resource, sys, time
SOURCE, DB = sys.argv[1], sys.argv[2]
import malakai_analytics  # imports are not part of the timing
start = time.perf_counter()
{code}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "peak_mb": peak}}))
"""


def run_step(name: str, source: Path, db: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD.format(code=STEPS[name]), str(source),
                           str(db)], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from malakai_analytics.sample import write_sample

    source = HERE / "data" / f"export_{args.calls}.json"
    if not source.exists():
        print(f"generating {source} ...", flush=True)
        write_sample(source, n_calls=args.calls)
    print(f"{args.calls} calls, {source.stat().st_size / 1e6:.0f} MB, {os.cpu_count()} cores, "
          f"best of {args.repeat}")
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.repeat):
            db = Path(folder) / f"bench_{round_}.duckdb"
            for name in STEPS:  # ingest before load_store: it fills this round's store
                result = run_step(name, source, db)
                if name not in best or result["seconds"] < best[name]["seconds"]:
                    best[name] = result
    for name, result in best.items():
        print(f"  {name:<10} {result['seconds']:7.2f} s   peak RSS {result['peak_mb']:7.0f} MB")
    ingest_ratio = best["ingest"]["seconds"] / best["load_logs"]["seconds"]
    read_ratio = best["load_logs"]["seconds"] / best["load_store"]["seconds"]
    print(f"ingest / load_logs      {ingest_ratio:5.2f}x  (target <= 1.5x)")
    print(f"load_logs / load_store  {read_ratio:5.2f}x  (target >= 3x)")


if __name__ == "__main__":
    main()
