"""Load benchmark: `load_logs` against reading the JSON at all and the hand-written recipe.

    python benchmarks/bench_load.py --calls 100000

Generates the export under benchmarks/data/ (gitignored) with the sample generator if
it is missing, then runs each path on the same file, each run in a fresh process:

    bound    json.loads of the file, then json.loads of every conversation string,
             nothing else (the cost of reading the JSON at all)
    naive    the recipe people write by hand: pd.json_normalize of the logs,
             to_datetime, a regex for durations, .apply(json.loads) on the
             conversations, explode, pd.json_normalize of the turns
    ours     load_logs(path): the full schema, problems and de-duplication
    general  load_logs(path, fast=False): the slow reference path (for information)

Times are wall-clock seconds of the work inside the child (imports excluded), best of
--repeat runs interleaved so that every path sees the same machine load; peak RSS is
the child's VmHWM (whole process: interpreter and imports included). Then it times
`malakai-analytics report` on the file (whole process) as a multiple of ours' load
time, and measures load_logs on JSON Lines at --jsonl-calls sizes (chunked reading:
peak RSS should follow the output tables, not the file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"

TARGETS = {"ours/bound time": 1.3, "naive/ours time": 2.5, "ours/bound RSS": 1.5}


# --- the paths, run in the child ---------------------------------------------------------

def run_bound(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        document = json.loads(file.read())
    n_turns = 0
    for log in document["data"]:
        result = log.get("test_result")
        conversation = result.get("conversation") if isinstance(result, dict) else None
        if isinstance(conversation, str) and conversation:
            try:
                n_turns += len(json.loads(conversation))
            except ValueError:
                pass
    return {"calls": len(document["data"]), "turns": n_turns}


def run_naive(path: str) -> dict:
    import pandas as pd

    with open(path, encoding="utf-8") as file:
        document = json.loads(file.read())
    calls = pd.json_normalize(document["data"])
    for column in ("created_at", "updated_at"):
        calls[column] = pd.to_datetime(calls[column], format="ISO8601", utc=True)
    calls["duration_s"] = (
        calls["test_result.call_duration"].astype("string")
        .str.extract(r"(\d+(?:\.\d+)?)", expand=False).astype(float)
    )

    def decode(text):
        try:
            return json.loads(text) if isinstance(text, str) and text else []
        except ValueError:
            return []

    calls["messages"] = calls["test_result.conversation"].apply(decode)
    exploded = calls[["id", "messages"]].explode("messages").dropna(subset=["messages"])
    messages = pd.json_normalize(exploded["messages"].tolist())
    turns = pd.concat([exploded[["id"]].reset_index(drop=True), messages], axis=1)
    turns["turn"] = turns.groupby("id").cumcount()
    return {"calls": len(calls), "turns": len(turns)}


def run_ours(path: str, fast: bool = True):
    from malakai_analytics.loader import load_logs

    return load_logs(path, fast=fast)


def summary(result) -> dict:
    """Counts of a path's result (computed after the clock stops)."""
    if isinstance(result, dict):
        return result
    frames = (result.calls, result.turns, result.problems)
    return {"calls": len(result.calls), "turns": len(result.turns),
            "problems": len(result.problems),
            "frames_mb": sum(frame.memory_usage(deep=True).sum() for frame in frames) / 2**20}


def run_bound_gc_off(path: str) -> dict:
    """The bound with the cyclic garbage collector paused, as load_logs pauses it."""
    import gc

    gc.disable()
    try:
        return run_bound(path)
    finally:
        gc.enable()


PATHS = {
    "bound": run_bound,
    "bound_gc_off": run_bound_gc_off,
    "naive": run_naive,
    "ours": run_ours,
    "general": lambda path: run_ours(path, fast=False),
}


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, path: str) -> None:
    if kind == "profile":
        from pyinstrument import Profiler

        from malakai_analytics.loader import load_logs

        with Profiler(interval=0.001) as profiler:
            load_logs(path)
        print(profiler.output_text(unicode=False, color=False))
        return
    if not kind.startswith("bound"):  # imports are not part of the measured work
        import pandas  # noqa: F401

        if kind in ("ours", "general"):
            import malakai_analytics.loader  # noqa: F401
    rss_before = _peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    result = PATHS[kind](path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = _peak_rss_mb()
    out = {**summary(result), "seconds": seconds, "cpu_s": cpu, "rss_mb": rss}
    out["rss_before_mb"] = rss_before
    print(json.dumps(out))


# --- the parent --------------------------------------------------------------------------

def spawn(kind: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{kind} failed on {path}:\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = wall
    return out


def export(n_calls: int, fmt: str) -> Path:
    path = DATA / f"logs_{n_calls}.{fmt}"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from malakai_analytics.sample import write_sample

        print(f"generating {path.relative_to(ROOT)} ...", flush=True)
        write_sample(path, n_calls, fmt=fmt, weeks=13)  # a quarter
    return path


def best(runs: list[dict]) -> dict:
    top = min(runs, key=lambda run: run["seconds"])
    return {**top, "rss_mb": min(run["rss_mb"] for run in runs),
            "process_s": min(run["process_s"] for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the export")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path (best is kept)")
    parser.add_argument("--paths", default="bound,bound_gc_off,naive,ours,general",
                        help="comma-separated paths to run")
    parser.add_argument("--jsonl-calls", default="100000,300000",
                        help="sizes of the JSON Lines memory runs ('' to skip)")
    parser.add_argument("--no-report", action="store_true", help="skip the report timing")
    parser.add_argument("--profile", action="store_true",
                        help="print a pyinstrument profile of ours instead "
                        "(pip install '.[bench]')")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    path = export(args.calls, "json")
    if args.profile:
        sys.exit(subprocess.run([sys.executable, __file__, "--child", "profile", str(path)],
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode)
    kinds = [kind for kind in args.paths.split(",") if kind]
    size_mb = path.stat().st_size / 2**20
    print(f"{path.relative_to(ROOT)}: {args.calls} calls, {size_mb:.0f} MB; "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, best of {args.repeat}")
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(args.repeat):
        for kind in kinds:
            runs[kind].append(spawn(kind, path))
    results = {kind: best(found) for kind, found in runs.items()}

    print(f"\n{'path':<13} {'load s':>7} {'cpu s':>6} {'process s':>10} {'peak RSS MB':>12} "
          f"{'RSS before MB':>14} {'calls':>8} {'turns':>9}")
    for kind, out in results.items():
        print(f"{kind:<13} {out['seconds']:>7.2f} {out['cpu_s']:>6.2f} {out['process_s']:>10.2f} "
              f"{out['rss_mb']:>12.0f} {out['rss_before_mb']:>14.0f} {out['calls']:>8} "
              f"{out['turns']:>9}")

    ratios = {}
    if {"ours", "bound"} <= results.keys():
        ratios["ours/bound time"] = results["ours"]["seconds"] / results["bound"]["seconds"]
        ratios["ours/bound RSS"] = results["ours"]["rss_mb"] / results["bound"]["rss_mb"]
    if {"naive", "ours"} <= results.keys():
        ratios["naive/ours time"] = results["naive"]["seconds"] / results["ours"]["seconds"]
        ratios["naive/ours RSS"] = results["naive"]["rss_mb"] / results["ours"]["rss_mb"]
    if {"bound_gc_off", "ours"} <= results.keys():
        ratios["ours/bound_gc_off time"] = (results["ours"]["seconds"]
                                            / results["bound_gc_off"]["seconds"])
    if {"general", "ours"} <= results.keys():
        ratios["general/ours time"] = results["general"]["seconds"] / results["ours"]["seconds"]

    report = None
    if not args.no_report and "ours" in results:
        folder = DATA / f"report_{args.calls}"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "malakai_analytics", "report", str(path),
                               "--out", str(folder)], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        report = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"report failed:\n{done.stderr}")
        ratios["report/ours load time"] = report / results["ours"]["seconds"]

    print()
    for name, value in ratios.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = value <= target if name.startswith("ours/") else value >= target
            verdict = f"  target {'<=' if name.startswith('ours/') else '>='} {target}: " \
                      f"{'met' if met else 'MISSED'}"
        print(f"{name:<24} {value:6.2f}{verdict}")
    if report is not None:
        print(f"report (whole process)  {report:.1f} s")

    jsonl = {}
    sizes = [int(n) for n in args.jsonl_calls.split(",") if n]
    if sizes:
        print(f"\nJSON Lines, load_logs (chunked), best of {args.repeat}:")
        print(f"{'calls':>8} {'file MB':>8} {'load s':>7} {'peak RSS MB':>12} {'frames MB':>10}")
    for n_calls in sizes:
        lines = export(n_calls, "jsonl")
        out = best([spawn("ours", lines) for _ in range(args.repeat)])
        out["file_mb"] = lines.stat().st_size / 2**20
        jsonl[n_calls] = out
        print(f"{n_calls:>8} {out['file_mb']:>8.0f} {out['seconds']:>7.2f} {out['rss_mb']:>12.0f} "
              f"{out['frames_mb']:>10.0f}")

    RESULTS.mkdir(exist_ok=True)
    record = {"calls": args.calls, "cores": os.cpu_count(), "file_mb": size_mb,
              "results": results, "ratios": ratios, "report_s": report, "jsonl": jsonl}
    (RESULTS / f"bench_load_{args.calls}.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
