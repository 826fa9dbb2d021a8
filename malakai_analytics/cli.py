"""The `malakai-analytics` command. The only module that prints.

Each sub-command is a pair of functions: `add_<name>_command(subparsers)` declares its
arguments, `run_<name>(args)` does the work and returns the exit code. Errors of the
package's hierarchy become one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__
from .errors import MalakaiError

PROG = "malakai-analytics"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Reports and data from Malakai voice-agent test-call logs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_report_command(commands)
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
                        help="keep this agent's calls (repeatable)")
    report.add_argument("--workflow", action="append", metavar="WORKFLOW_ID",
                        help="keep this workflow's calls (repeatable)")
    report.add_argument("--title", default="Malakai workflow report", help="page heading")
    report.add_argument("--names", metavar="FILE.csv",
                        help="CSV of id,name: display names of agents and workflows")
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
    if args.sources:
        sources = args.sources
    else:
        from .sample import sample_path

        sources = [sample_path()]
    logs = load_logs(list(sources))
    loaded = len(logs.calls)
    logs = logs.filter(since=since, until=until, agents=args.agent, workflows=args.workflow)
    note = "Source: " + ", ".join(str(s) for s in sources)
    if len(logs.calls) != loaded:
        note += f" ({len(logs.calls)} of {loaded} calls after filters)"
    labels = None
    if args.names:
        from .labels import read_labels

        labels = read_labels(args.names)
    report = write_report(logs, args.out, title=args.title, labels=labels, source_note=note)
    print(f"Loaded {loaded} calls from {len(sources)} source(s); reporting on "
          f"{len(logs.calls)} calls, {len(logs.turns)} turns, {len(logs.problems)} problems.")
    for metric, value in report.kpis.itertuples(index=False):
        print(f"  {metric:<26} {value}")
    print(f"Wrote {len(report.files)} files to {report.folder}/:")
    for path in report.files:
        print(f"  {path}")
    print(f"Open {report.index} in a browser.")
    return 0
