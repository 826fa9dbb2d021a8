"""Deterministic sample data: realistic Malakai workflow logs, with documented mess.

`iter_logs` yields raw call logs in exactly the shape of the documented API (every field
of the reference example, `test_result.conversation` a JSON-encoded string,
`call_duration` a string such as "210 seconds", `goal_achieved` "yes"/"no", times in
ISO 8601 UTC with milliseconds and "Z"). `generate_logs` collects them in a list and
`write_sample` streams them into an envelope file. The same arguments always give the
same bytes: every random draw comes from one `numpy.random.default_rng(seed)`, using
only `random()` and `integers()`, whose streams numpy keeps stable.

What the data looks like (defaults: 720 calls from 2025-07-07 over 8 weeks):

- Two workflows. Workflow "viewings" holds agents "ava" and "ben", workflow
  "consultations" holds agent "cleo" (ids in `AGENTS`, `WORKFLOWS`; uuid5 of fixed
  names). Calls are split 40/30/30 between the three agents.
- The documented example record (`EXAMPLE_LOG`) is included verbatim, once, at its
  place in time. Its agent and workflow ids are the reference's redacted
  "xxxxxxxx-..." placeholders, so a load shows them as a fourth agent and third
  workflow with a single call.
- Calls fall on weekdays far more than on weekends, between 07:00 and 19:00 UTC with a
  late-morning and mid-afternoon peak; volume grows slightly week by week.
- Goal rates differ by agent: about 0.70 for ava, 0.55 for ben, and for cleo a rate
  that improves from 0.25 in the first week to 0.55 in the last (about 0.40 overall).
- Failed calls are shorter: they have fewer turns (2 to 14, mostly short; successful
  calls have 6 to 20) and the duration is about 12 s plus 9-19 s per turn.
- Sentiment follows the outcome (successful calls mostly positive or neutral, failed
  ones mostly neutral or negative), shifted a little towards positive for ava and
  towards negative for cleo.
- Conversations alternate user/assistant starting with the user, whose first turn is
  the placeholder "---" in about 70% of calls. Failed calls have their own vocabulary
  (four reasons: not interested, budget too low, unclear request, off-topic request;
  2-turn calls get no answer and 3-turn calls a hang-up), and `call_summary` states
  the outcome.
- `updated_at` is `created_at` + duration + 3 s to about 3 min.
- No real personal data: first names or "Doe"/"Sample" names, +1-555-01xx phone
  numbers, example.com e-mail addresses and recording URLs.

Messy records (`messy=True`): each kind below touches distinct calls, never the
example. `messy_summary(n_calls)` gives the counts (the numbers below are for 720 calls;
other sizes scale them, at least 1 each) and `expected_problems(n_calls)` the rows they
produce in `load_logs(...).problems`:

    kind                 count  what                                    problem
    placeholder_turns      3    a middle user turn "..." and a middle   -
                                assistant turn ""
    empty_conversation     2    conversation "[]"                       -
    conversation_null      1    conversation null                       -
    conversation_blank     1    conversation ""                         -
    invalid_json           2    conversation cut off mid-JSON           invalid_json
    test_result_null       2    test_result null, status "failed"      missing_field
    test_result_missing    1    no test_result key, status "failed"    missing_field
    sentiment_unknown      2    sentiment "mixed"                       unknown_label
    sentiment_odd_case     2    "Positive " / " NEGATIVE" style         -
    goal_padded            1    goal_achieved "Yes " / "No "            -
    goal_blank             1    goal_achieved ""                        -
    goal_null              1    goal_achieved null                      -
    goal_unknown           1    goal_achieved "maybe"                   unknown_label
    duration_min_s         1    call_duration "3 min 30 s"              -
    duration_hms           1    call_duration "00:03:30"                -
    duration_ms            1    call_duration "3:30"                    -
    duration_number        1    call_duration 210 (a JSON number)       -
    duration_na            1    call_duration "N/A"                     unknown_duration
    duration_blank         1    call_duration ""                        -
    timestamp_no_ms        2    created_at/updated_at without millis    -
    duplicate_id           2    an "in-progress" copy of the call, then duplicate_id
                                the completed copy (later updated_at,
                                status and outcome changed) 1-40
                                records later

That is 30 messy calls (4.2%) and 722 records for 720 calls: `n_calls` counts calls
after de-duplication, so a load always has exactly `n_calls` rows in `calls`. The
odd durations express the call's true length, so `duration_s` stays right.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .loader import CallLogs, load_logs

logger = logging.getLogger(__name__)

#: The documented example record, verbatim (`data[0]` of the reference's example body).
EXAMPLE_LOG: dict[str, Any] = {
    "id": "d2e86f99-832d-4750-ab14-b50245afa96f",
    "tester_name": "Laura",
    "tester_phone": "+1234567890",
    "tester_email": "",
    "agent_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "workflow_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "test_result": {
        "name": "Laura",
        "email": "",
        "status": "completed",
        "address": "Temp Address",
        "call_sid": "CAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sentiment": "neutral",
        "contact_id": "",
        "session_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        "call_summary": (
            "The user provided a vague location without any specific details about their "
            "real estate needs. The assistant attempted to gather more information by "
            "asking about the user's budget and desired property features, but the user "
            "did not provide any additional details. The assistant was unable to fully "
            "address the user's request based on the limited information provided."
        ),
        "conversation": (
            '[{"role": "user", "content": "---"}, {"role": "assistant", "content": '
            '"Hello, this is Laura from Massive Properties. How can I assist you with your '
            'real estate needs today?"}, {"role": "user", "content": " At Manchester '
            'Gauteng Young Tower."}, {"role": "assistant", "content": "Wonderful, I\'d be '
            "happy to assist you with that. Can you tell me a bit more about your budget "
            'and the specific features you\'re looking for in a condo?"}]'
        ),
        "call_duration": "210 seconds",
        "goal_achieved": "no",
        "recording_url": (
            "https://malakai-audio-files.s3.us-east-1.amazonaws.com/"
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx-1751973826580.mp3"
        ),
    },
    "status": "completed",
    "session_id": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "created_at": "2025-07-08T11:19:23.689Z",
    "updated_at": "2025-07-08T11:23:46.757Z",
}

ENVELOPE_CODE = 2000
ENVELOPE_MESSAGE = "Workflow logs fetched successfully"
SAMPLE_FILE = "sample_workflow_logs.json"

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/malakai-analytics/sample")


def _fixed_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


#: Workflow key -> workflow id.
WORKFLOWS: dict[str, str] = {
    "viewings": _fixed_id("workflow/viewings"),
    "consultations": _fixed_id("workflow/consultations"),
}


class Agent(NamedTuple):
    """One simulated voice agent."""

    id: str
    workflow: str  # key of WORKFLOWS
    persona: str  # the name the agent gives on the phone
    company: str
    meeting: str  # what a successful call books
    share: float  # share of all calls
    goal_first: float  # goal probability at the start of the period
    goal_last: float  # ... and at its end (linear in between)
    positive_shift: float  # moves this much probability from negative to positive


#: Agent key -> Agent.
AGENTS: dict[str, Agent] = {
    "ava": Agent(_fixed_id("agent/ava"), "viewings", "Ava", "Northwind Realty", "viewing",
                 0.40, 0.70, 0.70, 0.05),
    "ben": Agent(_fixed_id("agent/ben"), "viewings", "Ben", "Northwind Realty", "viewing",
                 0.30, 0.55, 0.55, 0.0),
    "cleo": Agent(_fixed_id("agent/cleo"), "consultations", "Cleo", "Bluebay Homes",
                  "consultation", 0.30, 0.25, 0.55, -0.05),
}


class MessyKind(NamedTuple):
    """One kind of messy record, as documented in the module docstring."""

    count: int  # records of this kind per 720 calls
    problem: str | None  # the problem code it produces in `load_logs`, if any
    description: str


#: Kind -> MessyKind, in the order the kinds are assigned.
MESSY_KINDS: dict[str, MessyKind] = {
    "placeholder_turns": MessyKind(3, None, 'a middle user turn "..." and assistant turn ""'),
    "empty_conversation": MessyKind(2, None, 'conversation "[]"'),
    "conversation_null": MessyKind(1, None, "conversation null"),
    "conversation_blank": MessyKind(1, None, 'conversation ""'),
    "invalid_json": MessyKind(2, "invalid_json", "conversation cut off mid-JSON"),
    "test_result_null": MessyKind(2, "missing_field", "test_result null"),
    "test_result_missing": MessyKind(1, "missing_field", "no test_result key"),
    "sentiment_unknown": MessyKind(2, "unknown_label", 'sentiment "mixed"'),
    "sentiment_odd_case": MessyKind(2, None, 'sentiment "Positive " / " NEGATIVE"'),
    "goal_padded": MessyKind(1, None, 'goal_achieved "Yes " / "No "'),
    "goal_blank": MessyKind(1, None, 'goal_achieved ""'),
    "goal_null": MessyKind(1, None, "goal_achieved null"),
    "goal_unknown": MessyKind(1, "unknown_label", 'goal_achieved "maybe"'),
    "duration_min_s": MessyKind(1, None, 'call_duration "3 min 30 s"'),
    "duration_hms": MessyKind(1, None, 'call_duration "00:03:30"'),
    "duration_ms": MessyKind(1, None, 'call_duration "3:30"'),
    "duration_number": MessyKind(1, None, "call_duration 210 (a number)"),
    "duration_na": MessyKind(1, "unknown_duration", 'call_duration "N/A"'),
    "duration_blank": MessyKind(1, None, 'call_duration ""'),
    "timestamp_no_ms": MessyKind(2, None, "created_at/updated_at without milliseconds"),
    "duplicate_id": MessyKind(2, "duplicate_id", "in-progress copy, then the completed one"),
}

_BASE_CALLS = 720


def messy_summary(n_calls: int = _BASE_CALLS) -> dict[str, int]:
    """Number of messy calls of each kind in a sample of `n_calls` calls.

    The counts of `MESSY_KINDS` are per 720 calls; other sizes scale them
    proportionally (rounded half up), with at least one call of each kind.
    """
    return {kind: max(1, int(spec.count * n_calls / _BASE_CALLS + 0.5))
            for kind, spec in MESSY_KINDS.items()}


def expected_problems(n_calls: int = _BASE_CALLS) -> dict[str, int]:
    """Rows per problem code that `load_logs` reports for a messy sample of `n_calls`."""
    out: dict[str, int] = {}
    for kind, count in messy_summary(n_calls).items():
        problem = MESSY_KINDS[kind].problem
        if problem:
            out[problem] = out.get(problem, 0) + count
    return dict(sorted(out.items()))


# --- text templates ---------------------------------------------------------------------

_TESTERS = (  # name, phone, e-mail ("" = unknown, as in the reference)
    ("Laura", "+1-555-0100", ""),
    ("Alex", "+1-555-0101", "alex@example.com"),
    ("Sam", "+1-555-0102", "sam@example.com"),
    ("Priya", "+1-555-0103", ""),
    ("Noah", "+1-555-0104", "noah@example.com"),
)
_CONTACTS = ("Jane Doe", "John Doe", "Alex Sample", "Sam Example", "Taylor Test",
             "Jordan Demo", "Casey Doe", "Morgan Sample")
_ADDRESSES = ("Temp Address", "1 Example Street, Springfield", "22 Sample Road, Riverton",
              "5 Placeholder Lane, Lakeside", "")

_SLOTS = {
    "area": ("Riverside", "Old Town", "Maple Heights", "Harbor Point", "Cedar Park",
             "Westfield"),
    "ptype": ("condo", "townhouse", "loft", "family home"),
    "beds": ("one", "two", "three", "four"),
    "budget": ("250", "320", "400", "475", "550", "650"),
    "low_budget": ("90", "120", "150"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "time": ("9:30 am", "11 am", "1 pm", "2:30 pm", "4 pm", "5:30 pm"),
    "street": ("Elm Street", "Harbor Road", "Oak Avenue", "Mill Lane", "Station Road"),
    "feature": ("a balcony", "a garden", "two parking spaces", "a home office", "a pool",
                "an open kitchen"),
}
_SLOT_NAMES = tuple(_SLOTS)

_GREETINGS = (
    "Hello, this is {persona} from {company}. How can I assist you with your real estate "
    "needs today?",
    "Hi, this is {persona} calling from {company}. Do you have a moment to talk about "
    "your property search?",
    "Good day, {persona} here from {company}. I'm following up on your enquiry. How can I "
    "help?",
)
_USER_OPENERS = ("Hello?", "Hi, who is this?", "Yes, speaking.", "Hello, yes?",
                 "Hi there.")

# outcome -> part -> choices. "open", "middle" and "close" hold (user, assistant) pairs;
# "final" holds the user's last words when a call has an odd number of turns.
_POOLS: dict[str, dict[str, tuple]] = {
    "success": {
        "open": (
            ("I'm looking for a {beds}-bedroom {ptype} in {area}.",
             "Wonderful, I'd be happy to help. What budget do you have in mind?"),
            ("We want to move to {area}, ideally a {ptype} with {beds} bedrooms.",
             "Great choice. Can you tell me a bit more about your budget and the features "
             "you're looking for?"),
            ("I saw your listing on {street} and I'm interested.",
             "Wonderful, that one is still available. What budget do you have in mind?"),
        ),
        "middle": (
            ("My budget is around ${budget},000.",
             "That is well within the range of what we have available."),
            ("I'd love {feature}.", "We have a {ptype} on {street} with {feature}."),
            ("Is it close to schools and public transport?",
             "Yes, the area is very well connected and there are good schools nearby."),
            ("What are the monthly fees?",
             "The monthly fees are moderate and include maintenance."),
            ("Are pets allowed in the building?", "Pets are welcome in most of our buildings."),
            ("How big is the living room?",
             "It's a generous open-plan space with a lot of natural light."),
            ("Is there parking?", "Yes, there is parking for residents."),
            ("That sounds great, tell me more.",
             "It was recently renovated and it's close to the shops in {area}."),
        ),
        "close": (
            ("Yes, let's book a {meeting}. {day} at {time} works for me.",
             "Your {meeting} is booked for {day} at {time}. You'll receive a confirmation "
             "by email."),
            ("Can we meet on {day} at {time}?",
             "Excellent, I've scheduled the {meeting} for {day} at {time}. Have a great day!"),
            ("I'd like to see it. Is {day} at {time} possible?",
             "Yes, you're all set for {day} at {time}. Thank you for your time!"),
        ),
        "final": ("Thank you, see you then.", "Perfect, thanks.", "Great, bye."),
    },
    "not_interested": {
        "open": (
            ("I'm not interested, thanks.",
             "I understand. May I ask if you plan to move in the next year?"),
            ("Who gave you my number?",
             "You left your details on our website. Is now a good time?"),
            ("Sorry, I'm not interested right now.",
             "No problem. Would another time suit you better?"),
        ),
        "middle": (
            ("I said I'm not interested.",
             "I'm sorry to hear that. Is there anything I can help with?"),
            ("I don't have time for this.", "I understand, I won't take much of your time."),
            ("We're not looking to move.", "Of course, I'll make a note of that."),
            ("Maybe next year.", "That's fine, we can talk again later."),
        ),
        "close": (
            ("Please take me off your list.",
             "I understand. Sorry for the interruption, goodbye."),
            ("Not interested, goodbye.", "Thank you for your time. Have a good day."),
        ),
        "final": ("Bye.", "Please don't call again."),
    },
    "budget": {
        "open": (
            ("I'm looking for a {ptype} in {area}.", "Thanks. What budget do you have in mind?"),
            ("I need a {beds}-bedroom place, but my budget is tight.",
             "Sure. What price range are you considering?"),
        ),
        "middle": (
            ("I can spend about ${low_budget},000 at most.",
             "Our listings in {area} start at ${budget},000."),
            ("Is there anything cheaper?", "Unfortunately nothing we have is in that range."),
            ("What about a smaller place?", "Even our smallest units are above that budget."),
        ),
        "close": (
            ("That's too expensive for me, sorry.",
             "I'm sorry, I'm unable to help with that budget right now."),
            ("I can't afford that.", "I'm afraid we have nothing in that range. Goodbye."),
        ),
        "final": ("Then I'll keep looking, bye.", "Okay, thanks anyway."),
    },
    "unclear": {
        "open": (
            ("Somewhere around {area}, I guess.",
             "Could you tell me a bit more about what you're looking for?"),
            (" At {street}.",
             "Wonderful, I'd be happy to assist you with that. Can you tell me a bit more "
             "about your budget and the features you need?"),
            ("I'm not sure yet.", "No problem. What kind of property are you thinking of?"),
        ),
        "middle": (
            ("Maybe, I don't know.", "I'm sorry, I didn't catch that. Could you repeat it?"),
            ("Something nice.", "Could you be more specific about the area or the budget?"),
            ("Whatever you have.",
             "I don't have enough information to suggest a property yet."),
            ("Hmm.", "Are you looking to buy or to rent?"),
        ),
        "close": (
            ("I'd have to think about it.",
             "I'm unable to help without more details. Please call us back."),
            ("I don't know, let me call you back.",
             "I'm sorry I couldn't help today. Goodbye."),
        ),
        "final": ("Okay.", "Bye."),
    },
    "off_topic": {
        "open": (
            ("Can you help me with my mortgage payments?",
             "I'm unable to help with that. I can only help with property {meeting}s."),
            ("I want to complain about my landlord.", "I'm sorry, I don't have that information."),
            ("Do you do car insurance?", "I'm unable to help with that request."),
        ),
        "middle": (
            ("Can you transfer me to someone else?", "I'm sorry, that is outside what I can do."),
            ("So you can't help me?", "I don't have access to that information."),
            ("I just need a quick answer.", "I'm unable to help with that request."),
        ),
        "close": (
            ("This is useless.", "I'm sorry I couldn't help. Goodbye."),
            ("Fine, forget it.",
             "Unfortunately I'm unable to help with that. Have a good day."),
        ),
        "final": ("Bye.", "Whatever, goodbye."),
    },
    "hung_up": {"final": ("Sorry, wrong number.", "Not now, bye.", "Bye.")},
}

_SUMMARIES = {
    "success": (
        "The user was looking for a {beds}-bedroom {ptype} in {area}. The assistant "
        "discussed their budget and preferences and booked a {meeting} for {day} at "
        "{time}.",
        "The user showed interest in a property on {street}. The assistant answered their "
        "questions and scheduled a {meeting} for {day} at {time}, which the user confirmed.",
    ),
    "not_interested": (
        "The user said they were not interested and asked not to be contacted. The "
        "assistant apologised and ended the call without booking a {meeting}.",
        "The user declined the call, saying they were not looking to move. No {meeting} "
        "was booked.",
    ),
    "budget": (
        "The user was looking for a {ptype} but their budget of about ${low_budget},000 was "
        "below the available listings. The assistant was unable to offer a suitable "
        "property and no {meeting} was booked.",
    ),
    "unclear": (
        "The user gave vague answers about their real estate needs. The assistant asked "
        "about budget and features but could not gather enough details, and no {meeting} "
        "was booked.",
    ),
    "off_topic": (
        "The user asked for help with a request unrelated to property {meeting}s. The "
        "assistant was unable to help with that request and the call ended without an "
        "appointment.",
    ),
    "hung_up": (
        "The user ended the call right after the assistant's greeting, without discussing "
        "their needs. No {meeting} was booked.",
    ),
    "no_response": (
        "The user did not respond after the assistant's greeting, and the call ended "
        "without an appointment.",
    ),
}

_FAILURE_REASONS = ("not_interested", "budget", "unclear", "off_topic")
_FAILURE_WEIGHTS = (0.35, 0.2, 0.25, 0.2)
_SENTIMENT_LABELS = ("negative", "neutral", "positive")

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000
_N_PICKS = 7  # template choices per call: 6 for the conversation, 1 for the summary
_WEEKDAY_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.35, 0.15])
_HOUR_WEIGHTS = np.zeros(24)
_HOUR_WEIGHTS[7:19] = [0.3, 0.7, 1.0, 1.2, 1.1, 0.7, 0.8, 1.1, 1.2, 0.9, 0.6, 0.3]


# --- generation -------------------------------------------------------------------------

def _weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights, by inverse CDF."""
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1)


_EPOCH = datetime(1970, 1, 1)  # naive UTC


def _iso(ms: int, *, millis: bool = True) -> str:
    """Epoch milliseconds as ISO 8601 UTC text ending in "Z", e.g. 2025-07-08T11:19:23.689Z."""
    stamp = _EPOCH + timedelta(milliseconds=int(ms))
    return stamp.isoformat(timespec="milliseconds" if millis else "seconds") + "Z"


def _uuid(raw: np.ndarray) -> str:
    """16 random bytes as a version-4 UUID string."""
    return str(uuid.UUID(bytes=raw.tobytes(), version=4))


def _conversation(outcome: str, n_turns: int, placeholder_first: bool, picks: np.ndarray,
                  slots: dict[str, str]) -> list[dict[str, str]]:
    """Alternating user/assistant messages of one call, built from the templates.

    The user opens (or says the placeholder "---"), the assistant greets, then come
    question/answer pairs: an opening pair, middle pairs in turn, a closing pair, and
    the user's last words when the number of turns is odd.
    """
    lines = ["---" if placeholder_first else _USER_OPENERS[picks[0] % len(_USER_OPENERS)],
             _GREETINGS[picks[1] % len(_GREETINGS)]]
    if n_turns > 2:
        pool = _POOLS[outcome]
        n_pairs = (n_turns - 2) // 2
        pairs = [] if n_pairs < 2 else [pool["open"][picks[2] % len(pool["open"])]]
        middle = pool.get("middle", ())
        pairs += [middle[(picks[3] + k) % len(middle)] for k in range(max(n_pairs - 2, 0))]
        pairs += [pool["close"][picks[4] % len(pool["close"])]] if n_pairs else []
        for pair in pairs:
            lines.extend(pair)
        if n_turns % 2:
            lines.append(pool["final"][picks[5] % len(pool["final"])])
    return [{"role": "assistant" if turn % 2 else "user", "content": line.format(**slots)}
            for turn, line in enumerate(lines)]


def _clock(seconds: int, kind: str) -> str | int:
    """The duration written in the odd format of a messy `duration_*` kind."""
    minutes, secs = divmod(seconds, 60)
    if kind == "duration_min_s":
        return f"{minutes} min {secs} s"
    if kind == "duration_hms":
        return f"{minutes // 60:02d}:{minutes % 60:02d}:{secs:02d}"
    if kind == "duration_ms":
        return f"{minutes}:{secs:02d}"
    if kind == "duration_number":
        return seconds
    return "N/A" if kind == "duration_na" else ""


def iter_logs(n_calls: int = _BASE_CALLS, *, seed: int = 7, start: str = "2025-07-07",
              weeks: int = 8, messy: bool = True) -> Iterator[dict[str, Any]]:
    """Yield sample call logs one at a time, in order of `created_at`.

    The completed copy of a `duplicate_id` call comes 1 to 40 records after its older
    in-progress copy. All random draws are made up front as arrays (about half a
    kilobyte per call), then each record is built and yielded, so 100,000 calls stream
    in about 50 MB.

    Args:
        n_calls: calls after de-duplication, the documented example included.
        seed: seed of `numpy.random.default_rng`; the same seed gives the same logs.
        start: first day of the period, "YYYY-MM-DD" (UTC).
        weeks: length of the period in weeks.
        messy: include the messy records of `MESSY_KINDS` (see `messy_summary`).

    Yields:
        Raw call-log dicts in the documented API shape (`messy=True` adds one extra
        record per `duplicate_id` call).

    Raises:
        ValueError: `n_calls` < 1, `weeks` < 1, or too few calls for the messy kinds.
    """
    if n_calls < 1 or weeks < 1:
        raise ValueError("n_calls and weeks must be at least 1")
    counts = messy_summary(n_calls) if messy else {}
    n = n_calls - 1  # generated calls, besides the example
    if sum(counts.values()) > n:
        raise ValueError(
            f"messy=True needs n_calls >= {sum(counts.values()) + 1}; pass messy=False "
            "for smaller samples"
        )
    rng = np.random.default_rng(seed)
    start_ms = int(np.datetime64(start, "ms").astype(np.int64))
    n_days = weeks * 7

    # When: weekday and hour patterns, slight growth over the weeks; sorted in time.
    days = np.arange(n_days)
    weekday = (np.datetime64(start, "D").astype(np.int64) + 3 + days) % 7  # 0 = Monday
    day_weights = _WEEKDAY_WEIGHTS[weekday] * (1 + 0.04 * (days // 7))
    day = _weighted(rng, day_weights, n)
    hour = _weighted(rng, _HOUR_WEIGHTS, n)
    created = np.sort(start_ms + day * _DAY_MS + hour * _HOUR_MS
                      + rng.integers(0, _HOUR_MS, n))
    progress = (created - start_ms) / (n_days * _DAY_MS)

    # Who and how it went.
    agents = list(AGENTS.values())
    agent = _weighted(rng, np.array([a.share for a in agents]), n)
    first = np.array([a.goal_first for a in agents])[agent]
    last = np.array([a.goal_last for a in agents])[agent]
    goal = rng.random(n) < first + (last - first) * progress
    n_turns = np.where(goal, 6 + np.floor(15 * rng.random(n) ** 0.9),
                       2 + np.floor(13 * rng.random(n) ** 1.6)).astype(np.int64)
    reason = np.array(_FAILURE_REASONS)[_weighted(rng, np.array(_FAILURE_WEIGHTS), n)]
    short = np.where(n_turns == 2, "no_response", "hung_up")
    outcome = np.where(goal, "success", np.where(n_turns <= 3, short, reason))
    duration = np.round(12 + n_turns * (9 + 10 * rng.random(n))).astype(np.int64)
    updated = created + duration * 1000 + (3000 + 170_000 * rng.random(n) ** 2).astype(np.int64)
    p_positive = np.where(goal, 0.55, 0.08) + np.array([a.positive_shift for a in agents])[agent]
    p_negative = np.where(goal, 0.07, 0.45) - np.array([a.positive_shift for a in agents])[agent]
    u = rng.random(n)
    sentiment = np.where(u < p_negative, 0, np.where(u < 1 - p_positive, 1, 2))
    placeholder_first = (rng.random(n) < 0.7) | (outcome == "no_response")

    # Identities and text choices.
    id_bytes = rng.integers(0, 256, (n, 3, 16), dtype=np.uint8)  # id, session, call SID
    tester = rng.integers(0, len(_TESTERS), n)
    contact = rng.integers(0, len(_CONTACTS), n)
    contact_email = rng.random(n) < 0.5
    address = rng.integers(0, len(_ADDRESSES), n)
    contact_id = np.where(rng.random(n) < 0.3, rng.integers(10_000, 100_000, n), 0)
    slot_picks = rng.integers(0, 1 << 16, (n, len(_SLOT_NAMES)))
    turn_picks = rng.integers(0, 1 << 16, (n, _N_PICKS))

    # Messy kinds on distinct random calls.
    positions = np.argsort(rng.random(n), kind="stable")[: sum(counts.values())]
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    kind_of = dict(zip(positions.tolist(), kinds))
    delays = rng.integers(1, 41, n)
    pending: dict[int, list[dict]] = {}
    seen: dict[str, int] = {}

    example_at = int(np.searchsorted(created, _example_ms(), side="right"))
    for i in range(n):
        if i == example_at:
            yield copy.deepcopy(EXAMPLE_LOG)
        agent_i = agents[agent[i]]
        slots = {name: _SLOTS[name][slot_picks[i, k] % len(_SLOTS[name])]
                 for k, name in enumerate(_SLOT_NAMES)}
        slots.update(persona=agent_i.persona, company=agent_i.company,
                     meeting=agent_i.meeting)
        messages = _conversation(str(outcome[i]), int(n_turns[i]), bool(placeholder_first[i]),
                                 turn_picks[i], slots)
        summaries = _SUMMARIES[str(outcome[i])]
        summary = summaries[turn_picks[i, -1] % len(summaries)].format(**slots)
        name = _CONTACTS[contact[i]]
        tester_name, tester_phone, tester_email = _TESTERS[tester[i]]
        session = _uuid(id_bytes[i, 1])
        record = {
            "id": _uuid(id_bytes[i, 0]),
            "tester_name": tester_name,
            "tester_phone": tester_phone,
            "tester_email": tester_email,
            "agent_id": agent_i.id,
            "workflow_id": WORKFLOWS[agent_i.workflow],
            "test_result": {
                "name": name,
                "email": name.lower().replace(" ", ".") + "@example.com"
                if contact_email[i] else "",
                "status": "completed",
                "address": _ADDRESSES[address[i]],
                "call_sid": "CA" + id_bytes[i, 2].tobytes().hex(),
                "sentiment": _SENTIMENT_LABELS[sentiment[i]],
                "contact_id": f"contact-{contact_id[i]}" if contact_id[i] else "",
                "session_id": session,
                "call_summary": summary,
                "conversation": json.dumps(messages),
                "call_duration": f"{duration[i]} seconds",
                "goal_achieved": "yes" if goal[i] else "no",
                "recording_url": (f"https://recordings.example.com/malakai/"
                                  f"{session}-{updated[i]}.mp3"),
            },
            "status": "completed",
            "session_id": session,
            "created_at": _iso(created[i]),
            "updated_at": _iso(updated[i]),
        }
        kind = kind_of.get(i)
        if kind == "duplicate_id":
            later = copy.deepcopy(record)
            pending.setdefault(min(i + int(delays[i]), n - 1), []).append(later)
            record = _in_progress(record, messages, int(created[i]))
        elif kind:
            seen[kind] = seen.get(kind, 0) + 1
            _make_messy(record, kind, messages, int(duration[i]), int(created[i]),
                        int(updated[i]), sentiment_index=int(sentiment[i]), nth=seen[kind])
        yield record
        yield from pending.pop(i, ())
    if example_at >= n:
        yield copy.deepcopy(EXAMPLE_LOG)


def _example_ms() -> int:
    return int(np.datetime64(EXAMPLE_LOG["created_at"].rstrip("Z"), "ms").astype(np.int64))


def _in_progress(record: dict, messages: list[dict], created_ms: int) -> dict:
    """The older copy of a `duplicate_id` call: logged while the call was running."""
    older = copy.deepcopy(record)
    older["status"] = "in-progress"
    older["updated_at"] = _iso(created_ms + 4000)
    result = older["test_result"]
    result.update(status="in-progress", sentiment="", call_summary="", call_duration="",
                  goal_achieved="", recording_url="", conversation=json.dumps(messages[:2]))
    return older


def _make_messy(record: dict, kind: str, messages: list[dict], duration: int,
                created_ms: int, updated_ms: int, *, sentiment_index: int, nth: int) -> None:
    """Turn `record` into a messy record of `kind` (its `nth` one, from 1), in place."""
    result = record["test_result"]
    if kind == "placeholder_turns":
        messages = [dict(m) for m in messages]
        while len(messages) < 6:  # room for two middle turns
            messages.append({"role": "user" if len(messages) % 2 == 0 else "assistant",
                             "content": "Okay."})
        messages[2]["content"] = "..."
        messages[3]["content"] = ""
        result["conversation"] = json.dumps(messages)
    elif kind == "empty_conversation":
        result["conversation"] = "[]"
    elif kind == "conversation_null":
        result["conversation"] = None
    elif kind == "conversation_blank":
        result["conversation"] = ""
    elif kind == "invalid_json":
        text = result["conversation"]
        result["conversation"] = text[: len(text) // 2]
    elif kind in ("test_result_null", "test_result_missing"):
        record["status"] = "failed"
        if kind == "test_result_null":
            record["test_result"] = None
        else:
            del record["test_result"]
    elif kind == "sentiment_unknown":
        result["sentiment"] = "mixed"
    elif kind == "sentiment_odd_case":
        label = _SENTIMENT_LABELS[sentiment_index]
        result["sentiment"] = f"{label.capitalize()} " if nth % 2 else f" {label.upper()}"

    elif kind == "goal_padded":
        goal = result["goal_achieved"]
        result["goal_achieved"] = f"{goal.capitalize()} " if nth % 2 else f" {goal.upper()}"
    elif kind == "goal_blank":
        result["goal_achieved"] = ""
    elif kind == "goal_null":
        result["goal_achieved"] = None
    elif kind == "goal_unknown":
        result["goal_achieved"] = "maybe"
    elif kind.startswith("duration_"):
        result["call_duration"] = _clock(duration, kind)
    elif kind == "timestamp_no_ms":
        record["created_at"] = _iso(created_ms, millis=False)
        record["updated_at"] = _iso(updated_ms, millis=False)
    else:
        raise ValueError(f"unknown messy kind {kind!r}")


def generate_logs(n_calls: int = _BASE_CALLS, *, seed: int = 7, start: str = "2025-07-07",
                  weeks: int = 8, messy: bool = True) -> list[dict[str, Any]]:
    """Return the sample call logs as a list; see `iter_logs` for the arguments."""
    return list(iter_logs(n_calls, seed=seed, start=start, weeks=weeks, messy=messy))


# --- files ------------------------------------------------------------------------------

def write_sample(path: str | Path, n_calls: int = _BASE_CALLS, *, seed: int = 7,
                 fmt: str | None = None, start: str = "2025-07-07", weeks: int = 8,
                 messy: bool = True) -> Path:
    """Write a sample export, streaming one log at a time.

    Args:
        path: file to write (parent folders are created).
        n_calls, seed, start, weeks, messy: as for `iter_logs`.
        fmt: "json" writes one envelope {"responseCode": 2000, "message": ..., "data":
            [...]} with one log per line; "jsonl" writes one log per line and no
            envelope. None picks "jsonl" for a .jsonl/.ndjson suffix, else "json".

    Returns:
        The path written.
    """
    path = Path(path)
    fmt = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "json")
    if fmt not in ("json", "jsonl"):
        raise ValueError(f"fmt must be 'json' or 'jsonl', not {fmt!r}")
    logs = iter_logs(n_calls, seed=seed, start=start, weeks=weeks, messy=messy)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        if fmt == "jsonl":
            for log in logs:
                out.write(json.dumps(log) + "\n")
        else:
            out.write(f'{{"responseCode": {ENVELOPE_CODE}, '
                      f'"message": {json.dumps(ENVELOPE_MESSAGE)}, "data": [')
            for k, log in enumerate(logs):
                out.write(("\n" if k == 0 else ",\n") + json.dumps(log))
            out.write("\n]}\n")
    logger.info("wrote %d sample calls to %s", n_calls, path)
    return path


def sample_names() -> dict[str, str]:
    """Display names of the sample's agents and workflows (id -> name), as in
    data/sample_names.csv; the reference example's placeholder id is "Vendor example"."""
    names = {agent.id: agent.persona for agent in AGENTS.values()}
    names |= {workflow_id: key.capitalize() for key, workflow_id in WORKFLOWS.items()}
    names[EXAMPLE_LOG["agent_id"]] = "Vendor example"
    return names


def sample_path() -> Path:
    """Path of the bundled sample export.

    The wheel ships it as `malakai_analytics/data/sample_workflow_logs.json`; in a source
    checkout it is `data/sample_workflow_logs.json` next to the package folder.
    """
    bundled = resources.files("malakai_analytics").joinpath("data", SAMPLE_FILE)
    if bundled.is_file():
        return Path(str(bundled))
    return Path(__file__).resolve().parent.parent / "data" / SAMPLE_FILE


def load_sample() -> CallLogs:
    """Load the bundled sample export with `load_logs` (see its returned columns)."""
    return load_logs(sample_path())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m malakai_analytics.sample",
        description="Regenerate the deterministic sample export.",
    )
    parser.add_argument("--out", default=f"data/{SAMPLE_FILE}", help="file to write")
    parser.add_argument("--n", type=int, default=_BASE_CALLS, help="calls after de-duplication")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2025-07-07", help="first day (UTC)")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--format", choices=("json", "jsonl"), default=None)
    parser.add_argument("--clean", action="store_true", help="no messy records")
    args = parser.parse_args()
    write_sample(args.out, args.n, seed=args.seed, fmt=args.format, start=args.start,
                 weeks=args.weeks, messy=not args.clean)
