"""The `malakai-analytics` command. The only module that prints.

Each sub-command is a pair of functions: `add_<name>_command(subparsers)` declares its
arguments, `run_<name>(args)` does the work and returns the exit code. Errors of the
package's hierarchy become one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import __version__
from .errors import MalakaiError

PROG = "malakai-analytics"


# --- fetch ----------------------------------------------------------------------

def add_fetch_command(commands) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="fetch workflow logs from the Malakai API into a file",
        description=(
            "Fetch the logs of one or more workflows from the Malakai API and save the "
            "answers exactly as received, with each workflow id and fetch time, to a "
            "JSON (list of records) or JSONL (one record per line) file that `report` "
            "and load_logs read. Credentials come from the environment variables "
            "MALAKAI_API_KEY and MALAKAI_ACCESS_TOKEN, never from the command line."
        ),
    )
    fetch.add_argument("workflow_ids", nargs="+", metavar="WORKFLOW_ID", type=_workflow_id,
                       help="workflow whose test-call logs to fetch")
    fetch.add_argument("-o", "--output", default="workflow_logs.json", metavar="FILE",
                       help="file to write; .jsonl for JSON Lines (default: %(default)s)")
    fetch.add_argument("--base-url", default=None, metavar="URL",
                       help="API root (default: $MALAKAI_BASE_URL, else "
                            "https://api.getmalakai.com)")
    fetch.add_argument("--concurrency", type=_positive_int, default=10, metavar="N",
                       help="workflows fetched at the same time (default: %(default)s)")
    fetch.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                       help="read timeout per request (default: 60)")
    fetch.set_defaults(run=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    import httpx

    from .client import DEFAULT_TIMEOUT, MalakaiClient, save_fetch_records

    timeout = DEFAULT_TIMEOUT
    if args.timeout is not None:
        timeout = httpx.Timeout(connect=timeout.connect, read=args.timeout,
                                write=timeout.write, pool=timeout.pool)
    ids = list(dict.fromkeys(args.workflow_ids))
    progress = _FetchProgress(len(ids)) if len(ids) > 3 else None
    with MalakaiClient(base_url=args.base_url, timeout=timeout,
                       max_connections=args.concurrency) as client:
        result = client.fetch_logs(ids, concurrency=args.concurrency, progress=progress)
    if progress is not None:
        progress.finish()
    if result.records:
        path = save_fetch_records(result.records, args.output)
        n_logs = sum(len(r["response"].get("data") or ()) for r in result.records)
        print(f"fetched {len(result.records)} of {len(ids)} workflow(s), {n_logs} call log(s), "
              f"into {path}")
    else:
        print(f"fetched 0 of {len(ids)} workflow(s); nothing written")
    for workflow_id, error in result.failures.items():
        print(f"{PROG}: error: workflow {workflow_id}: {error}", file=sys.stderr)
    return 1 if result.failures else 0


class _FetchProgress:
    """A one-line progress bar on stderr (redrawn on a terminal, else every 10 %)."""

    WIDTH = 30

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        step = done * 10 // total
        if not self.tty and step == self.shown:
            return
        self.shown = step
        filled = done * self.WIDTH // total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"fetching [{bar}] {done}/{total} workflows"
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr, flush=True)


def _workflow_id(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a workflow id must not be empty")
    return text.strip()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Reports and data from Malakai voice-agent test-call logs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_report_command(commands)
    add_fetch_command(commands)
    add_store_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=f"{PROG}: %(levelname)s: %(message)s",
    )
    try:
        return args.run(args)
    except MalakaiError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (replaces the closed pipe)
        return 141
    except Exception as error:  # a bug: still one line, the traceback only on request
        if args.verbose:
            raise
        print(f"{PROG}: unexpected error: {type(error).__name__}: {error} "
              "(run with --verbose for the traceback)", file=sys.stderr)
        return 2


# --- report ---------------------------------------------------------------------

def add_report_command(commands) -> None:
    report = commands.add_parser(
        "report",
        help="write a report folder of charts and tables",
        description="Load logs exports and write a report folder: every chart as PNG, "
        "the metric tables and the tidy frames as CSV, and index.html.",
    )
    report.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="logs export(s): .json or .jsonl (default: the bundled sample)")
    report.add_argument("-o", "--out", default="report", metavar="DIR",
                        help="report folder to write (default: ./report)")
    report.add_argument("--since", metavar="DATE", help="keep calls created at or after DATE (UTC)")
    report.add_argument("--until", metavar="DATE", help="keep calls created before DATE (UTC)")
    report.add_argument("--agent", action="append", metavar="AGENT_ID",
                        help="filter: keep this agent's calls (repeatable)")
    report.add_argument("--workflow", action="append", metavar="WORKFLOW_ID",
                        help="filter: keep this workflow's calls (repeatable); to fetch a "
                             "workflow from the API use --workflow-id")
    report.add_argument("--title", default="Malakai workflow report", help="page heading")
    report.add_argument("--db", metavar="PATH",
                        help="report on the local store instead of files (see `ingest`)")
    report.add_argument("--workflow-id", action="append", metavar="WORKFLOW_ID",
                        dest="fetch_ids", type=_workflow_id,
                        help="source: fetch this workflow from the API instead of reading "
                             "files (repeatable; needs MALAKAI_API_KEY and "
                             "MALAKAI_ACCESS_TOKEN)")
    report.add_argument("--names", metavar="FILE.csv",
                        help="CSV of id,name: display names of agents and workflows in "
                             "charts and tables (the bundled sample is named without it)")
    report.set_defaults(run=run_report)


def _timestamp(option: str, value: str | None):
    if value is None:
        return None
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise MalakaiError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def run_report(args: argparse.Namespace) -> int:
    from .loader import load_logs
    from .report import write_report

    since = _timestamp("--since", args.since)
    until = _timestamp("--until", args.until)
    labels = None
    if args.db or args.fetch_ids:
        if args.sources:
            raise MalakaiError("give files, --db or --workflow-id, not several")
        if args.db and args.fetch_ids:
            raise MalakaiError("give --db or --workflow-id, not both")
    if args.db:
        from .store import load_store, store_path

        sources = [store_path(args.db)]
        logs = load_store(args.db)
        what = f"the store {sources[0]}"
    elif args.fetch_ids:
        from .client import fetch_for_report

        ids = list(dict.fromkeys(args.fetch_ids))
        progress = _FetchProgress(len(ids)) if len(ids) > 3 else None
        logs = fetch_for_report(ids, progress=progress)
        if progress is not None:
            progress.finish()
        sources = ids
        what = "the Malakai API, workflow(s) " + ", ".join(ids)
    elif args.sources:
        sources = args.sources
        logs = load_logs(list(sources))
        what = ", ".join(str(s) for s in sources)
    else:
        from .sample import sample_names, sample_path

        sources = [sample_path()]
        logs = load_logs(sources)
        what = "the bundled sample export (synthetic test calls)"
        labels = sample_names()
    loaded = len(logs.calls)
    logs = logs.filter(since=since, until=until, agents=args.agent, workflows=args.workflow)
    note = f"Source: {what}"
    if len(logs.calls) != loaded:
        note += f" ({len(logs.calls)} of {loaded} calls after filters)"
    if loaded and logs.calls.empty:
        print(f"{PROG}: warning: no call of the {loaded} loaded matches the filters; "
              "the report is empty", file=sys.stderr)
    if args.names:
        from .labels import read_labels

        labels = read_labels(args.names)
    report = write_report(logs, args.out, title=args.title, labels=labels, source_note=note)
    print(f"Loaded {loaded} calls from {len(sources)} source(s); reporting on "
          f"{len(logs.calls)} calls, {len(logs.turns)} turns, {len(logs.problems)} problems.")
    for metric, value in report.kpis.itertuples(index=False):
        print(f"  {metric:<26} {value}")
    print(f"Wrote {len(report.files)} files to {report.folder}/:")
    folders = {"index.html": 0, "charts": 1, "tables": 2, "data": 3}
    for path in sorted(report.files, key=lambda p: folders.get(p.parts[0], 9)):
        print(f"  {path}")
    print(f"Open {report.index} in a browser.")
    return 0


# --- store: ingest, sync, export -------------------------------------------------

def add_store_commands(commands) -> None:
    db_help = "store file (default: $MALAKAI_DB, else ./malakai.duckdb)"
    ingest = commands.add_parser("ingest", help="add exported logs files to the local store",
                                 description="Add exported logs files (any file `report` reads) "
                                 "to the local DuckDB store; newer copies of a call win.")
    ingest.add_argument("files", nargs="+", metavar="FILE",
                        help="logs export: .json or .jsonl, as `report` reads")
    ingest.add_argument("--db", metavar="PATH", help=db_help)
    ingest.set_defaults(run=run_ingest)

    sync = commands.add_parser("sync", help="fetch workflows from the API into the store",
                               description="Fetch each workflow's logs from the Malakai API "
                               "and ingest them into the local store (credentials from "
                               "MALAKAI_API_KEY and MALAKAI_ACCESS_TOKEN).")
    sync.add_argument("workflow_ids", nargs="+", metavar="WORKFLOW_ID", type=_workflow_id,
                      help="workflow whose logs to fetch and store")
    sync.add_argument("--db", metavar="PATH", help=db_help)
    sync.add_argument("--base-url", default=None, metavar="URL",
                      help="API root (default: $MALAKAI_BASE_URL, else "
                           "https://api.getmalakai.com)")
    sync.set_defaults(run=run_sync)

    export = commands.add_parser("export", help="write the store as Parquet or CSV",
                                 description="Write calls and turns from the store, "
                                 "partitioned by call month, plus a data dictionary.")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                        help="file format (default: %(default)s)")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write (required)")
    export.add_argument("--db", metavar="PATH", help=db_help)
    export.set_defaults(run=run_export)


def run_ingest(args: argparse.Namespace) -> int:
    from .store import ingest, store_path

    for path in args.files:
        result = ingest(path, args.db)
        print(f"ingested {path} into {store_path(args.db)}: {result.summary()}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from .client import MalakaiClient
    from .store import store_path, sync

    ids = list(dict.fromkeys(args.workflow_ids))
    with MalakaiClient(base_url=args.base_url) as client:
        results = sync(ids, args.db, client=client)
    failed = 0
    for workflow_id, result in results.items():
        if isinstance(result, Exception):
            failed += 1
            print(f"{PROG}: error: workflow {workflow_id}: {result}", file=sys.stderr)
        else:
            print(f"synced {workflow_id} into {store_path(args.db)}: {result.summary()}")
    return 1 if failed else 0


def run_export(args: argparse.Namespace) -> int:
    from .store import export

    files = export(args.out, args.db, fmt=args.format)
    data = [f for f in files if f.suffix == f".{args.format}" and f.name != "data_dictionary.csv"]
    print(f"exported {len(data)} {args.format} file(s) (calls and turns by month) and "
          f"data_dictionary.csv to {args.out}/")
    return 0
