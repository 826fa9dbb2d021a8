"""The sample-data generator and the bundled sample export it wrote."""

from __future__ import annotations

import itertools
import json
import re
import warnings
from urllib.parse import urlparse

import pandas as pd
import pytest

from malakai_analytics import sample
from malakai_analytics.loader import load_logs

EXAMPLE_ID = "d2e86f99-832d-4750-ab14-b50245afa96f"
PLACEHOLDER_ID = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
AVA, BEN, CLEO = (sample.AGENTS[k].id for k in ("ava", "ben", "cleo"))
VIEWINGS, CONSULTATIONS = sample.WORKFLOWS["viewings"], sample.WORKFLOWS["consultations"]



@pytest.fixture(scope="module")
def raw():
    """The bundled file, as plain JSON."""
    return json.loads(sample.sample_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def logs():
    return sample.load_sample()


@pytest.fixture(scope="module")
def clean():
    """The same calls without the messy kinds (same seed, same draws)."""
    return load_logs(sample.generate_logs(messy=False))


# --- determinism --------------------------------------------------------------------

def test_same_seed_gives_same_bytes(tmp_path):
    first = sample.write_sample(tmp_path / "a.json").read_bytes()
    second = sample.write_sample(tmp_path / "b.json").read_bytes()
    other = sample.write_sample(tmp_path / "c.json", seed=8).read_bytes()
    assert first == second
    assert first != other


def test_bundled_file_equals_a_fresh_generation(tmp_path):
    fresh = sample.write_sample(tmp_path / "sample_workflow_logs.json")
    assert fresh.read_bytes() == sample.sample_path().read_bytes()


def test_generate_logs_is_iter_logs_listed(raw):
    logs = sample.generate_logs()
    assert logs == list(sample.iter_logs())
    assert logs == raw["data"]
    assert len(logs) == 722  # 720 calls + 2 older copies of duplicated ids


def test_iter_logs_is_lazy():
    first = list(itertools.islice(sample.iter_logs(100_000), 3))
    assert [type(log) for log in first] == [dict, dict, dict]


def test_jsonl_loads_like_json(tmp_path, logs):
    path = sample.write_sample(tmp_path / "sample.jsonl")
    assert path.read_text(encoding="utf-8").count("\n") == 722
    assert sample.write_sample(tmp_path / "x.txt", fmt="jsonl").read_bytes() == path.read_bytes()
    again = load_logs(path)
    pd.testing.assert_frame_equal(again.calls, logs.calls)
    pd.testing.assert_frame_equal(again.turns, logs.turns)
    pd.testing.assert_frame_equal(again.problems, logs.problems)


def test_file_shape_and_size(raw):
    assert raw["responseCode"] == 2000
    assert raw["message"] == "Workflow logs fetched successfully"
    assert sample.sample_path().stat().st_size < 3_000_000
    assert sample.sample_path().parent.name == "data"


def test_too_small_for_the_messy_kinds():
    with pytest.raises(ValueError, match="messy=True needs n_calls >= 22"):
        sample.generate_logs(10)
    assert sample.generate_logs(1, messy=False) == [sample.EXAMPLE_LOG]
    assert len(sample.generate_logs(22)) == 23  # 21 kinds, 1 each, + 1 duplicate copy


def test_loading_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sample.load_sample()


# --- counts -------------------------------------------------------------------------

def test_calls_agents_workflows(logs):
    calls = logs.calls
    assert len(calls) == 720
    assert calls["call_id"].is_unique
    assert calls["agent_id"].value_counts().to_dict() == {
        AVA: 275, CLEO: 247, BEN: 197, PLACEHOLDER_ID: 1,
    }
    assert calls["workflow_id"].value_counts().to_dict() == {
        VIEWINGS: 472, CONSULTATIONS: 247, PLACEHOLDER_ID: 1,
    }
    by_agent = calls.groupby("agent_id")["workflow_id"].unique().map(list).to_dict()
    assert by_agent == {AVA: [VIEWINGS], BEN: [VIEWINGS], CLEO: [CONSULTATIONS],
                        PLACEHOLDER_ID: [PLACEHOLDER_ID]}


def test_weeks_spanned_and_daytime_pattern(logs):
    created = logs.calls["created_at"]
    assert created.min() == pd.Timestamp("2025-07-07T07:38:15.477Z")
    assert created.max() == pd.Timestamp("2025-08-31T10:39:41.978Z")
    assert created.dt.isocalendar()["week"].nunique() == 8
    assert created.dt.hour.between(7, 18).all()
    weekend = created.dt.isocalendar()["day"] >= 6
    assert weekend.mean() < 0.10


def test_example_record_is_there_verbatim(raw, logs):
    copies = [log for log in raw["data"] if log["id"] == EXAMPLE_ID]
    assert copies == [sample.EXAMPLE_LOG]
    example = sample.EXAMPLE_LOG
    assert example["tester_phone"] == "+1234567890"
    assert example["test_result"]["call_duration"] == "210 seconds"
    assert example["created_at"] == "2025-07-08T11:19:23.689Z"
    assert json.loads(example["test_result"]["conversation"])[2]["content"] == (
        " At Manchester Gauteng Young Tower."
    )
    row = logs.calls.set_index("call_id").loc[EXAMPLE_ID]
    assert row["duration_s"] == 210.0
    assert not row["goal_achieved"]
    assert row["n_turns"] == 4
    assert (row["updated_at"] - row["created_at"]).total_seconds() == 263.068


# --- patterns -----------------------------------------------------------------------

def test_goal_rates_differ_by_agent(logs):
    calls = logs.calls
    rates = calls.groupby("agent_id")["goal_achieved"].agg(["count", "sum"])
    assert rates.loc[[AVA, BEN, CLEO]].to_numpy().tolist() == [[271, 198], [197, 106],
                                                                [245, 102]]
    rate = rates["sum"] / rates["count"]
    assert rate[AVA] > rate[BEN] > rate[CLEO]
    assert round(rate[AVA], 4) == 0.7306
    assert round(rate[BEN], 4) == 0.5381
    assert round(rate[CLEO], 4) == 0.4163


def test_cleo_improves_over_the_weeks(logs):
    cleo = logs.calls[logs.calls["agent_id"] == CLEO]
    week = (cleo["created_at"] - pd.Timestamp("2025-07-07", tz="UTC")).dt.days // 7
    first, last = cleo.loc[week < 4, "goal_achieved"], cleo.loc[week >= 4, "goal_achieved"]
    assert (int(first.sum()), int(first.count())) == (34, 106)
    assert (int(last.sum()), int(last.count())) == (68, 139)


def test_sentiment_follows_agent_and_outcome(logs):
    calls = logs.calls
    counts = calls.groupby(["agent_id", "sentiment"], observed=False).size().unstack()
    assert counts.loc[AVA].tolist() == [37, 111, 124]
    assert counts.loc[BEN].tolist() == [48, 88, 61]
    assert counts.loc[CLEO].tolist() == [84, 95, 66]
    positive = (calls["sentiment"] == "positive").groupby(calls["goal_achieved"]).mean()
    assert positive[True] > 0.5 > 0.2 > positive[False]


def test_failed_calls_are_shorter(logs, clean):
    median = logs.calls.groupby("goal_achieved")["duration_s"].median()
    assert (median[False], median[True]) == (85.0, 188.0)
    turns = clean.calls.groupby("goal_achieved")["n_turns"].agg(["min", "max"])
    assert turns.loc[True].tolist() == [6, 20]
    assert turns.loc[False].tolist() == [2, 14]


def test_updated_after_created_plus_duration(clean):
    calls = clean.calls[clean.calls["call_id"] != EXAMPLE_ID]
    lag = (calls["updated_at"] - calls["created_at"]).dt.total_seconds() - calls["duration_s"]
    assert lag.between(3, 180).all()


def test_conversations_alternate_and_failures_sound_different(clean):
    turns = clean.turns.merge(clean.calls[["call_id", "goal_achieved"]], on="call_id")
    roles = turns["role"].astype("string")
    assert (roles == turns["turn"].mod(2).map({0: "user", 1: "assistant"})).all()
    first = turns[turns["turn"] == 0]
    assert 0.6 < (first["content"] == "---").mean() < 0.8
    words = turns["content"].str.contains("unable|not interested|sorry", case=False)
    by_outcome = words.groupby(turns["call_id"]).any().groupby(
        clean.calls.set_index("call_id")["goal_achieved"]).mean()
    assert by_outcome[True] == 0.0
    assert by_outcome[False] > 0.6


def test_summaries_state_the_outcome(clean):
    calls = clean.calls
    booked = calls["call_summary"].str.contains(r"(?:booked|scheduled) a ", regex=True)
    assert (booked == calls["goal_achieved"]).all()


# --- messy records ------------------------------------------------------------------

def test_messy_counts_are_documented():
    counts = sample.messy_summary()
    assert list(counts) == list(sample.MESSY_KINDS)
    assert sum(counts.values()) == 30
    assert 0.03 <= 30 / 720 <= 0.05
    assert sample.expected_problems() == {
        "duplicate_id": 2, "invalid_json": 2, "missing_field": 3,
        "unknown_duration": 1, "unknown_label": 3,
    }
    assert sample.messy_summary(7200)["placeholder_turns"] == 30
    assert min(sample.messy_summary(100).values()) == 1
    for kind, spec in sample.MESSY_KINDS.items():
        assert kind in sample.__doc__ and spec.description


def test_problems_are_exactly_the_documented_ones(logs):
    problems = logs.problems
    assert problems["problem"].value_counts().sort_index().to_dict() == (
        sample.expected_problems()
    )
    by_field = problems.groupby(["problem", "field"]).size().to_dict()
    assert by_field == {
        ("duplicate_id", "id"): 2,
        ("invalid_json", "test_result.conversation"): 2,
        ("missing_field", "test_result"): 3,
        ("unknown_duration", "test_result.call_duration"): 1,
        ("unknown_label", "test_result.goal_achieved"): 1,
        ("unknown_label", "test_result.sentiment"): 2,
    }
    values = problems.groupby("problem")["value"].agg(lambda v: sorted(v.fillna("<absent>"))).to_dict()
    assert values["unknown_label"] == ["maybe", "mixed", "mixed"]
    assert values["unknown_duration"] == ["N/A"]
    assert values["missing_field"] == ["<absent>", "null", "null"]  # absent: no raw value
    assert problems["call_id"].notna().all()


def test_clean_sample_has_no_problems(clean):
    assert clean.problems.empty
    assert len(clean.calls) == 720


def test_messy_kinds_as_seen_in_the_raw_file(raw):
    data = raw["data"]
    results = [log.get("test_result") for log in data]
    present = [r for r in results if r is not None]
    durations = [r["call_duration"] for r in present]
    assert sum(r is None for r in results) == 3
    assert sum("test_result" not in log for log in data) == 1
    assert sum(r["conversation"] == "[]" for r in present) == 2
    assert sum(r["conversation"] is None for r in present) == 1
    assert sum(r["conversation"] == "" for r in present) == 1
    assert sorted(r["sentiment"] for r in present
                  if r["sentiment"] not in sample._SENTIMENT_LABELS) == [
        "", "", " NEUTRAL", "Neutral ", "mixed", "mixed"]  # "": the in-progress copies
    assert sorted(map(repr, (r["goal_achieved"] for r in present
                             if r["goal_achieved"] not in ("yes", "no")))) == [
        "''", "''", "''", "'No '", "'maybe'", "None"]
    odd = [d for d in durations if not (isinstance(d, str) and d.endswith(" seconds"))]
    assert sorted(map(repr, odd)) == [
        "''", "''", "''", "'00:03:09'", "'1 min 6 s'", "'3:15'", "'N/A'", "175"]
    no_millis = [log for log in data if not re.search(r"\.\d{3}Z$", log["created_at"])]
    assert len(no_millis) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", log["updated_at"])
               for log in no_millis)
    placeholders = [r for r in present if '"content": "..."' in (r["conversation"] or "")]
    assert len(placeholders) == 3


def test_messy_values_keep_their_meaning(logs, clean):
    """Odd formats read back as the clean sample's values; unreadable ones are NA."""
    messy = logs.calls.set_index("call_id")
    plain = clean.calls.set_index("call_id").loc[messy.index]
    for column in ("duration_s", "goal_achieved", "sentiment"):
        known = messy[column].notna()
        assert (messy.loc[known, column] == plain.loc[known, column]).all(), column
    assert messy["duration_s"].isna().sum() == 5  # N/A, "", 3 without test_result
    assert messy["goal_achieved"].isna().sum() == 6  # "", null, maybe, 3 without
    assert messy["sentiment"].isna().sum() == 5  # 2 mixed, 3 without
    assert messy["n_turns"].isna().sum() == 5  # 2 invalid JSON, 3 without
    assert (messy["n_turns"] == 0).sum() == 4  # "[]" x2, null, ""
    moved = messy["created_at"] != plain["created_at"]
    assert moved.sum() == 2  # the timestamps without milliseconds, truncated
    assert (messy.loc[moved, "created_at"] == plain.loc[moved, "created_at"].dt.floor("s")).all()


def test_duplicate_ids_keep_the_completed_copy(raw, logs):
    data = raw["data"]
    seen: dict[str, list[int]] = {}
    for position, log in enumerate(data):
        seen.setdefault(log["id"], []).append(position)
    twice = {key: where for key, where in seen.items() if len(where) > 1}
    assert len(twice) == 2
    calls = logs.calls.set_index("call_id")
    for key, (older, newer) in twice.items():
        assert data[older]["status"] == "in-progress"
        assert data[newer]["status"] == "completed"
        assert data[older]["updated_at"] < data[newer]["updated_at"]
        assert calls.loc[key, "status"] == "completed"
        assert calls.loc[key, "updated_at"] == pd.Timestamp(data[newer]["updated_at"])
    dropped = logs.problems[logs.problems["problem"] == "duplicate_id"]
    assert set(dropped["call_id"]) == set(twice)
    assert all('"status": "in-progress"' in value for value in dropped["value"])


# --- privacy ------------------------------------------------------------------------

def test_no_real_personal_data(raw):
    data = raw["data"]
    results = [log["test_result"] for log in data if log.get("test_result")]
    emails = [log["tester_email"] for log in data] + [r["email"] for r in results]
    assert all(e == "" or e.endswith("@example.com") for e in emails)
    phones = {log["tester_phone"] for log in data}
    assert all(p.startswith("+1-555-01") or p == "+1234567890" for p in phones)
    urls = {r["recording_url"] for r in results} - {""}
    example_url = sample.EXAMPLE_LOG["test_result"]["recording_url"]
    hosts = {urlparse(u).hostname for u in urls - {example_url}}
    assert hosts == {"recordings.example.com"}


def test_sample_path_prefers_the_installed_copy(tmp_path, monkeypatch):
    assert sample.sample_path() == (
        sample.Path(sample.__file__).resolve().parent.parent / "data" / sample.SAMPLE_FILE
    )
    bundled = tmp_path / "data" / sample.SAMPLE_FILE
    bundled.parent.mkdir()
    bundled.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(sample.resources, "files", lambda package: tmp_path)
    assert sample.sample_path() == bundled
