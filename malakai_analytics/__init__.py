"""malakai_analytics: tidy tables, metrics and charts from Malakai workflow logs.

    import malakai_analytics as ma
    logs = ma.load_logs("export.json")      # CallLogs(calls, turns, problems)
    ma.goal_rate(logs.calls, by="agent_id")
    ma.plot_goal_rate(logs.calls, ax=ax)
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"  # before the imports: client.py sends it as the User-Agent

from .client import AsyncMalakaiClient, FetchResult, MalakaiClient
from .errors import MalakaiError, SourceError
from .loader import CallLogs, load_logs
from .metrics import duration_summary, goal_rate, kpis, sentiment_shares, volume
from .plots import (
    GOAL_COLORS,
    SENTIMENT_COLORS,
    plot_duration_distribution,
    plot_goal_rate,
    plot_sentiment_shares,
    plot_sentiment_vs_goal,
    plot_volume,
)
from .plots import plot_distinguishing_words
from .report import write_report
from .stats import wilson_interval
from .store import changes, export, ingest, load_store, sync, sync_log
from .text_sentiment import (
    call_sentiment,
    cohens_kappa,
    score_texts,
    sentiment_agreement,
    turn_sentiment,
)

# Importing conversation registers its report section (report.register_section).
from .conversation import (
    RULES,
    Rule,
    Transcript,
    consistency_flags,
    consistency_inputs,
    consistency_report,
    conversation_measures,
    conversation_summary,
    distinguishing_words,
    find_turns,
    show_call,
)

__all__ = [
    "AsyncMalakaiClient",
    "FetchResult",
    "MalakaiClient",
    "changes",
    "export",
    "ingest",
    "load_store",
    "sync",
    "sync_log",
    "GOAL_COLORS",
    "SENTIMENT_COLORS",
    "CallLogs",
    "MalakaiError",
    "SourceError",
    "duration_summary",
    "goal_rate",
    "kpis",
    "load_logs",
    "plot_duration_distribution",
    "plot_goal_rate",
    "plot_sentiment_shares",
    "plot_sentiment_vs_goal",
    "plot_volume",
    "sentiment_shares",
    "volume",
    "wilson_interval",
    "write_report",
    # issue 7: conversation analysis
    "RULES",
    "Rule",
    "Transcript",
    "call_sentiment",
    "cohens_kappa",
    "consistency_flags",
    "consistency_inputs",
    "consistency_report",
    "conversation_measures",
    "conversation_summary",
    "distinguishing_words",
    "find_turns",
    "plot_distinguishing_words",
    "score_texts",
    "sentiment_agreement",
    "show_call",
    "turn_sentiment",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
