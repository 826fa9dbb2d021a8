"""Benchmark: fetching 50 workflows concurrently against fetching them one by one.

The fake Malakai server on 127.0.0.1 answers every request after 100 ms. Named
baselines, measured in the same run:

- `sequential`: `MalakaiClient.get_workflow_logs`, one workflow after the other
  (expected about 50 x 100 ms = 5 s).
- `bound`: the best a concurrency of 10 can do, ceil(50 / 10) = 5 rounds x 100 ms = 0.5 s.

Measured: `AsyncMalakaiClient.fetch_logs(concurrency=10)` and the sync client's
threaded `MalakaiClient.fetch_logs(concurrency=10)`, each building the tables too.
Target: within 1.5x of the bound. Each timing is the median of `--repeat` runs.

    PYTHONPATH=. python benchmarks/bench_fetch.py [--workflows 50] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

from malakai_analytics.client import AsyncMalakaiClient, MalakaiClient
from malakai_analytics.fake_server import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_API_KEY,
    FakeMalakaiServer,
    demo_workflows,
)

TARGET = 1.5


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    workflows = demo_workflows(args.workflows)
    ids = list(workflows)
    credentials = (DEFAULT_API_KEY, DEFAULT_ACCESS_TOKEN)
    bound = math.ceil(args.workflows / args.concurrency) * args.latency

    with FakeMalakaiServer(workflows, latency=args.latency, lifetime=600) as server:
        options = {"base_url": server.url, "max_connections": args.concurrency}

        def sequential() -> None:
            with MalakaiClient(*credentials, **options) as client:
                logs = [client.get_workflow_logs(w) for w in ids]
            assert sum(map(len, logs)) == 3 * args.workflows

        def concurrent_async() -> None:
            async def run():
                async with AsyncMalakaiClient(*credentials, **options) as client:
                    return await client.fetch_logs(ids, concurrency=args.concurrency)
            result = asyncio.run(run())
            assert result.ok and len(result.calls) == 3 * args.workflows

        def concurrent_threads() -> None:
            with MalakaiClient(*credentials, **options) as client:
                result = client.fetch_logs(ids, concurrency=args.concurrency)
            assert result.ok and len(result.calls) == 3 * args.workflows

        timings = {
            name: statistics.median(timed(run) for _ in range(args.repeat))
            for name, run in (
                ("sequential", sequential),
                ("concurrent (async)", concurrent_async),
                ("concurrent (threads)", concurrent_threads),
            )
        }
        in_flight = server.max_in_flight

    base = timings["sequential"]
    print(f"{args.workflows} workflows, {args.latency * 1000:.0f} ms latency, "
          f"concurrency {args.concurrency}, median of {args.repeat}")
    print(f"bound: {math.ceil(args.workflows / args.concurrency)} rounds x "
          f"{args.latency * 1000:.0f} ms = {bound:.3f} s; target <= {TARGET}x bound")
    print(f"{'run':<22}{'time (s)':>10}{'speed-up':>10}{'x bound':>10}")
    for name, seconds in timings.items():
        print(f"{name:<22}{seconds:>10.3f}{base / seconds:>10.1f}{seconds / bound:>10.2f}")
    print(f"most requests in flight at the server: {in_flight}")
    for name in ("concurrent (async)", "concurrent (threads)"):
        verdict = "within" if timings[name] <= TARGET * bound else "OUTSIDE"
        print(f"{name}: {verdict} {TARGET}x of the bound")


if __name__ == "__main__":
    main()
