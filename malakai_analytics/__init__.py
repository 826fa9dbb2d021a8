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
from .compare import (
    OUTCOMES,
    calls_needed,
    compare_durations,
    compare_periods,
    compare_rates,
    comparison_section,
    outcome_values,
    p_chart,
    readable_comparison,
)
from .errors import MalakaiError, SourceError
from .labels import LabelsError, apply_labels, label_for, read_labels
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

from .conversation import (
    RULES,
    Rule,
    Transcript,
    consistency_flags,
    conversation_section,
    consistency_inputs,
    consistency_report,
    conversation_measures,
    conversation_summary,
    distinguishing_words,
    find_turns,
    show_call,
)
from .plots import COMPARISON_COLORS, plot_p_chart, plot_rate_comparison
from .report import register_section
from .stats import holm_adjust, newcombe_interval

# The sections `write_report` (and so `malakai-analytics report`) adds after its core.
register_section(comparison_section)
register_section(conversation_section)

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
    # comparisons (issue 6)
    "COMPARISON_COLORS",
    "OUTCOMES",
    "LabelsError",
    "apply_labels",
    "calls_needed",
    "compare_durations",
    "compare_periods",
    "compare_rates",
    "comparison_section",
    "holm_adjust",
    "label_for",
    "newcombe_interval",
    "outcome_values",
    "p_chart",
    "plot_p_chart",
    "plot_rate_comparison",
    "read_labels",
    "readable_comparison",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
