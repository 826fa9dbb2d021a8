"""Benchmark: conversation measures and text sentiment against the load they follow.

    python benchmarks/bench_conversation.py [--calls 100000] [--repeat 3]

Writes a sample export of `--calls` calls to a temporary file (the sample averages
about 10.3 turns a call: 100,000 calls give 1.03 million turns, `--calls 107300` gives
1.1 million), then times, on one CPU core (the process is pinned to one where the OS allows it):

- load:      `load_logs(path)` (the baseline),
- measures:  `conversation_measures(logs)`, the target being at most 2x the load,
- sentiment: `turn_sentiment(logs.turns)` (VADER once per distinct text), the target
  being 1.1 million turns in under 60 s,
- sentiment, distinct: the same turns with every text made unique (a turn number
  appended), so that nothing is saved by de-duplication: the honest worst case,
- for information: `consistency_report` and `distinguishing_words`.

Each step is run `--repeat` times and the best time is reported (the distinct-text run
once: it is the slow one). Figures are printed as a table, with ratios to the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from malakai_analytics import load_logs  # noqa: E402  (after the path set-up)
from malakai_analytics.conversation import (  # noqa: E402
    consistency_inputs,
    consistency_report,
    conversation_measures,
    distinguishing_words,
)
from malakai_analytics.sample import write_sample  # noqa: E402
from malakai_analytics.text_sentiment import _analyzer, turn_sentiment  # noqa: E402


def best_of(repeat: int, function):
    """(best seconds, last result) of `repeat` runs of `function()`."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        cores = "pinned to 1 core"
    else:
        cores = "not pinned"

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_logs.json"
        start = time.perf_counter()
        write_sample(path, args.calls, seed=7)
        written = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6
        load_s, logs = best_of(args.repeat, lambda: load_logs(path))

    turns = logs.turns
    n_turns = len(turns)
    distinct = int(turns["content"].nunique())
    measures_s, measures = best_of(args.repeat, lambda: conversation_measures(logs))
    start = time.perf_counter()
    _analyzer()  # reads the lexicon once per process
    lexicon_s = time.perf_counter() - start
    sentiment_s, scores = best_of(args.repeat, lambda: turn_sentiment(turns))

    unique = turns.assign(content=turns["content"] + pd.Series(
        [f" #{i}" for i in range(n_turns)], index=turns.index, dtype="string"))
    unique_distinct = int(unique["content"].nunique())
    unique_s, _ = best_of(1, lambda: turn_sentiment(unique))

    inputs_s, inputs = best_of(1, lambda: consistency_inputs(logs, measures=measures))
    rules_s, _ = best_of(args.repeat, lambda: consistency_report(logs, inputs=inputs))
    words_s, _ = best_of(args.repeat, lambda: distinguishing_words(logs))

    rows = [
        ("calls", f"{len(logs.calls):,}"),
        ("turns", f"{n_turns:,}"),
        ("distinct turn texts", f"{distinct:,}"),
        ("export", f"{size_mb:,.0f} MB, written in {written:.1f} s ({cores})"),
        ("load_logs", f"{load_s:.2f} s"),
        ("conversation_measures", f"{measures_s:.2f} s = {measures_s / load_s:.2f} x load"),
        ("VADER lexicon (once)", f"{lexicon_s:.2f} s"),
        ("turn_sentiment", f"{sentiment_s:.2f} s for {n_turns:,} turns, {distinct:,} "
                           f"distinct ({sentiment_s / load_s:.2f} x load)"),
        ("turn_sentiment, all distinct", f"{unique_s:.2f} s for {n_turns:,} turns, "
                                         f"{unique_distinct:,} distinct "
                                         f"({unique_s / load_s:.2f} x load)"),
        ("consistency_inputs (+ sentiment)", f"{inputs_s:.2f} s"),
        ("consistency_report (rules only)", f"{rules_s:.2f} s"),
        ("distinguishing_words", f"{words_s:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    assert scores["compound"].notna().sum() > 0


if __name__ == "__main__":
    main()
