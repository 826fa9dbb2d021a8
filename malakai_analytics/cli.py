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


# --- report ---------------------------------------------------------------------

def add_report_command(commands) -> None:
    report = commands.add_parser("report", help="write a report folder of charts and tables")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    raise MalakaiError("report is not written yet")
