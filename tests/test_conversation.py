"""Looking inside the calls (issue 7): measures, text sentiment, consistency rules,
distinguishing words, find and read, the chart and the report section. Every value is
checked on hand-made transcripts whose answers are worked out by hand."""

from __future__ import annotations

import json
import math

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from conftest import make_log
from matplotlib.figure import Figure
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

import malakai_analytics as ma
from malakai_analytics import conversation, plots, report, text_sentiment
from malakai_analytics.conversation import (
    MEASURE_COLUMNS,
    RULES,
    Rule,
    UnknownCallError,
    consistency_flags,
    consistency_report,
    conversation_measures,
    conversation_summary,
    distinguishing_words,
    find_turns,
    log_odds_table,
    show_call,
    tokenize,
)
from malakai_analytics.errors import MalakaiError
from malakai_analytics.text_sentiment import (
    call_sentiment,
    cohens_kappa,
    score_texts,
    sentiment_agreement,
    sentiment_label,
    turn_sentiment,
)


def conv(*pairs) -> str:
    """A conversation JSON string from (role, content) pairs."""
    return json.dumps([{"role": role, "content": content} for role, content in pairs])


def load(*records):
    return ma.load_logs(list(records))


def call(call_id, conversation, **fields):
    """The example log (210 s, neutral, goal "no", completed) with this conversation and
    a summary that says nothing about helping (the example's says "unable to")."""
    fields.setdefault("test_result__call_summary", "The user and the assistant talked.")
    return make_log(id=call_id, test_result__conversation=conversation, **fields)


@pytest.fixture
def logs():
    """Five calls whose measures are worked out by hand in the tests."""
    return load(
        # A: placeholder first, a verbatim repeat (ends stripped), 4 questions.
        call("A", conv(("user", "---"),
                       ("assistant", "Hello there. How can I help?"),   # 6 words, 1 ?
                       ("user", "I want a flat."),                     # 4 words
                       ("assistant", "Great. What budget?"),            # 3 words, 1 ?
                       ("assistant", "What budget?"),                   # 2 words, 1 ?
                       ("assistant", "  Great. What budget? "),         # repeat, 3, 1 ?
                       ("user", "Bye."))),                             # 1 word
        # B: the user never says a real word.
        call("B", conv(("user", "---"), ("assistant", "Hello?"), ("user", ""),
                       ("assistant", "Hello, are you there??"))),
        # C: an empty conversation.
        call("C", "[]"),
        # D: an unreadable conversation.
        call("D", "[{bad json"),
        # E: another role, and it speaks last.
        call("E", conv(("system", "You are Ava."), ("user", "Hi there"),
                       ("assistant", "Hello"), ("system", "call ended"))),
    )


# --- per-call measures -----------------------------------------------------------------

def test_measures_have_one_row_per_call_with_documented_dtypes(logs):
    table = conversation_measures(logs)
    assert list(table.columns) == list(MEASURE_COLUMNS)
    assert table["call_id"].tolist() == ["A", "B", "C", "D", "E"]
    for name, (dtype, _) in MEASURE_COLUMNS.items():
        assert str(table[name].dtype) == dtype, name


def test_measures_of_a_call_with_a_repeat_and_a_placeholder(logs):
    row = conversation_measures(logs).set_index("call_id").loc["A"]
    assert row["n_turns"] == 7
    assert (row["user_turns"], row["assistant_turns"], row["user_real_turns"]) == (3, 4, 2)
    assert (row["user_words"], row["assistant_words"]) == (5, 14)
    assert row["assistant_share"] == pytest.approx(14 / 19)
    # Runs: 6 words before the first real user turn (the placeholder does not break it),
    # then 3 + 2 + 3 = 8 words before "Bye.", then 0.
    assert row["longest_assistant_run"] == 8
    assert row["first_user_turn"] == 2
    assert not row["user_silent"]
    assert row["repeated_assistant_turns"] == 1
    assert row["assistant_questions"] == 4
    assert row["last_speaker"] == "user"


def test_measures_of_a_silent_user(logs):
    row = conversation_measures(logs).set_index("call_id").loc["B"]
    assert (row["user_turns"], row["user_real_turns"], row["user_words"]) == (2, 0, 0)
    assert row["assistant_share"] == 1.0
    assert row["longest_assistant_run"] == 1 + 4  # placeholders never break a run
    assert pd.isna(row["first_user_turn"]) and row["user_silent"]
    assert row["assistant_questions"] == 2  # "??" is one question
    assert row["last_speaker"] == "assistant"


def test_measures_of_empty_and_unreadable_conversations(logs):
    table = conversation_measures(logs).set_index("call_id")
    empty = table.loc["C"]
    for name in ("n_turns", "user_turns", "assistant_turns", "user_words", "assistant_words",
                 "longest_assistant_run", "repeated_assistant_turns", "assistant_questions"):
        assert empty[name] == 0, name
    assert empty["user_silent"]
    assert pd.isna(empty["assistant_share"]) and pd.isna(empty["first_user_turn"])
    assert pd.isna(empty["last_speaker"])
    assert table.loc["D"].isna().all()  # unknown transcript: unknown measures


def test_measures_count_other_roles_only_in_n_turns(logs):
    row = conversation_measures(logs).set_index("call_id").loc["E"]
    assert (row["n_turns"], row["user_turns"], row["assistant_turns"]) == (4, 1, 1)
    assert row["assistant_share"] == pytest.approx(1 / 3)
    assert row["first_user_turn"] == 1
    assert row["last_speaker"] == "system"
    assert list(conversation_measures(logs)["last_speaker"].cat.categories) == [
        "user", "assistant", "system"]


def test_measures_do_not_depend_on_turn_order(logs):
    shuffled = logs.turns.sample(frac=1, random_state=3).reset_index(drop=True)
    again = conversation_measures(ma.CallLogs(logs.calls, shuffled, logs.problems))
    pd.testing.assert_frame_equal(again, conversation_measures(logs))


def test_measures_of_no_calls():
    table = conversation_measures(ma.load_logs([]))
    assert table.empty and list(table.columns) == list(MEASURE_COLUMNS)
    assert str(table["user_words"].dtype) == "Int64"


def test_summary_per_goal_outcome():
    logs = load(
        call("a", conv(("user", "one two"), ("assistant", "three four five six?")),
             test_result__goal_achieved="yes"),
        call("b", conv(("user", "---"), ("assistant", "Hi?"), ("assistant", "Hi?")),
             test_result__goal_achieved="no"),
        call("c", "[{bad", test_result__goal_achieved="no"),
    )
    table = conversation_summary(logs).set_index("goal")
    assert table.index.tolist() == ["achieved", "not achieved", "unknown"]
    assert table["calls"].tolist() == [1, 2, 0] and table["known"].tolist() == [1, 1, 0]
    assert table.loc["achieved", "assistant_word_pct"] == pytest.approx(200 / 3)
    assert table.loc["not achieved", "assistant_word_pct"] == 100.0
    assert table.loc["not achieved", "user_silent"] == 1
    assert table.loc["not achieved", "with_repeats"] == 1
    assert table.loc["not achieved", "mean_questions"] == 2.0
    assert table.loc["achieved", "user_spoke_last"] == 0
    assert pd.isna(table.loc["unknown", "mean_turns"])
    overall = conversation_summary(logs, by=None)
    assert len(overall) == 1 and overall["calls"].iloc[0] == 3


# --- text sentiment --------------------------------------------------------------------

class FakeVader:
    """Scores from a fixed table; counts the texts it was asked about."""

    def __init__(self, scores):
        self.scores, self.asked = scores, []

    def polarity_scores(self, text):
        self.asked.append(text)
        return {"compound": self.scores[text]}


@pytest.fixture
def fake_vader(monkeypatch):
    fake = FakeVader({"u+": 0.4, "u++": 0.2, "u-": -0.6, "hi": 0.0, "bad": -0.9,
                      "good": 0.7, "ok": 0.0})
    monkeypatch.setattr(text_sentiment, "_analyzer", lambda: fake)
    return fake


def test_each_distinct_text_is_scored_once(fake_vader):
    texts = pd.Series(["good", "bad", "good", None, "---", "good", "bad"], dtype="string")
    scores = score_texts(texts)
    assert str(scores.dtype) == "Float64"
    assert scores.tolist()[:3] == [0.7, -0.9, 0.7] and scores.tolist()[5:] == [0.7, -0.9]
    assert pd.isna(scores.iloc[3]) and pd.isna(scores.iloc[4])  # missing; no word
    assert sorted(fake_vader.asked) == ["bad", "good"]


def test_real_vader_scores_are_its_own():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = ["This is useless.", "Wonderful, thank you!", "The flat has two rooms."]
    expected = [SentimentIntensityAnalyzer().polarity_scores(t)["compound"] for t in texts]
    assert score_texts(pd.Series(texts)).tolist() == expected
    assert expected[0] < -0.05 < 0.05 < expected[1]


def test_labels_use_vader_thresholds():
    labels = sentiment_label(pd.Series([0.05, 0.0499, -0.05, -0.0499, None], dtype="Float64"))
    assert labels.tolist()[:4] == ["positive", "neutral", "negative", "neutral"]
    assert pd.isna(labels.iloc[4]) and labels.dtype == ma.schema.SENTIMENT_DTYPE


def test_turn_sentiment_leaves_placeholders_unscored(fake_vader):
    logs = load(call("a", conv(("user", "---"), ("assistant", "hi"), ("user", "bad"))))
    table = turn_sentiment(logs.turns)
    assert list(table.columns) == ["call_id", "turn", "role", "compound", "label"]
    assert pd.isna(table["compound"].iloc[0])
    assert table["compound"].tolist()[1:] == [0.0, -0.9]
    assert table["label"].tolist()[1:] == ["neutral", "negative"]


def test_user_sentiment_per_call_and_its_change(fake_vader):
    logs = load(
        # 6 turns: first half = positions 0-2 (user 0.4, 0.2), second = 3-5 (user -0.6).
        call("six", conv(("user", "u+"), ("assistant", "good"), ("user", "u++"),
                         ("assistant", "good"), ("user", "u-"), ("assistant", "good")),
             test_result__sentiment="positive"),
        # 5 turns: the middle turn (position 2) is in the first half.
        call("five", conv(("user", "---"), ("assistant", "hi"), ("user", "bad"),
                          ("assistant", "hi"), ("user", "good"))),
        # The user speaks only in the first half: no change.
        call("early", conv(("user", "good"), ("assistant", "hi"), ("assistant", "hi"))),
        call("none", "[]"),
    )
    table = call_sentiment(logs).set_index("call_id")
    assert list(table.reset_index().columns) == list(text_sentiment.CALL_SENTIMENT_COLUMNS)
    six = table.loc["six"]
    assert six["user_scored_turns"] == 3
    assert six["user_compound"] == pytest.approx(0.0)
    assert six["user_label"] == "neutral" and six["sentiment"] == "positive"
    assert six["user_first_half"] == pytest.approx(0.3)
    assert six["user_second_half"] == pytest.approx(-0.6)
    assert six["user_change"] == pytest.approx(-0.9)
    five = table.loc["five"]
    assert five["user_scored_turns"] == 2 and five["user_compound"] == pytest.approx(-0.1)
    assert five["user_first_half"] == -0.9 and five["user_second_half"] == 0.7
    assert five["user_change"] == pytest.approx(1.6)
    assert table.loc["early", "user_first_half"] == 0.7
    assert pd.isna(table.loc["early", "user_change"])
    assert table.loc["none", "user_scored_turns"] == 0
    assert pd.isna(table.loc["none", "user_compound"]) and pd.isna(table.loc["none", "user_label"])


@pytest.mark.parametrize("table", [
    [[20, 5], [10, 15]],
    [[52, 51, 38], [44, 43, 180], [10, 9, 226]],
    [[10, 0, 0], [0, 7, 0], [0, 0, 3]],
    [[0, 4], [6, 0]],
    [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
])
def test_kappa_matches_statsmodels(table):
    assert cohens_kappa(table) == pytest.approx(sm_kappa(np.array(table)).kappa, abs=1e-12)


def test_kappa_by_hand_and_edge_cases():
    # p_o = 35/50 = 0.7; p_e = (25*30 + 25*20) / 50**2 = 0.5; kappa = 0.2 / 0.5 = 0.4.
    assert cohens_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)
    assert math.isnan(cohens_kappa([[0, 0], [0, 0]]))
    assert math.isnan(cohens_kappa([[5, 0], [0, 0]]))  # one label only: p_e = 1
    with pytest.raises(ValueError, match="square"):
        cohens_kappa([[1, 2, 3]])


def test_agreement_of_platform_and_text_labels(fake_vader):
    rows = [("p1", "positive", "good"), ("p2", "positive", "bad"), ("n1", "negative", "bad"),
            ("n2", "neutral", "ok"), ("x", "negative", "---"), ("y", "", "good")]
    logs = load(*[call(i, conv(("user", text)), test_result__sentiment=label)
                  for i, label, text in rows])
    result = sentiment_agreement(logs)
    assert result.calls == 4  # x: no user words; y: no platform label
    table = result.table
    assert table.loc["positive", "positive"] == 1 and table.loc["positive", "negative"] == 1
    assert table.loc["negative", "negative"] == 1 and table.loc["neutral", "neutral"] == 1
    assert int(table.to_numpy().sum()) == 4 and list(table.columns) == ["negative", "neutral",
                                                                        "positive"]
    assert result.agreement == 0.75
    assert result.kappa == pytest.approx(sm_kappa(table.to_numpy()).kappa)
    assert "kappa=" in repr(result)


def test_agreement_of_no_calls():
    result = sentiment_agreement(ma.load_logs([]))
    assert result.calls == 0 and math.isnan(result.kappa)
    assert result.table.shape == (3, 3)


# --- consistency rules -----------------------------------------------------------------

@pytest.fixture
def labelled():
    talk = conv(("user", "I would like a viewing on Monday."), ("assistant", "Booked."))
    silent = conv(("user", "---"), ("assistant", "Hello? Are you there?"))
    angry = conv(("user", "This is terrible, I hate it and it is useless."),
                 ("assistant", "Sorry."))
    return load(
        call("ok", talk, test_result__goal_achieved="yes"),
        call("silent_yes", silent, test_result__goal_achieved="yes"),
        call("silent_no", silent, test_result__goal_achieved="no"),
        call("silent_unknown", silent, test_result__goal_achieved=""),
        call("short_yes", talk, test_result__goal_achieved="yes",
             test_result__call_duration="10 seconds"),
        call("edge_yes", talk, test_result__goal_achieved="yes",
             test_result__call_duration="15 seconds"),
        call("short_no", talk, test_result__goal_achieved="no",
             test_result__call_duration="9 seconds"),
        call("angry_positive", angry, test_result__sentiment="positive"),
        call("angry_negative", angry, test_result__sentiment="negative"),
        call("empty_completed", "[]", test_result__status="completed"),
        call("empty_running", "[]", test_result__status="in-progress"),
        call("broken_completed", "[{bad", test_result__status="completed"),
        call("unable_yes", talk, test_result__goal_achieved="yes",
             test_result__call_summary="The assistant was unable to help with the request."),
        call("couldnt_yes", talk, test_result__goal_achieved="Yes",
             test_result__call_summary="The assistant couldn't assist the caller."),
        call("unable_no", talk, test_result__goal_achieved="no",
             test_result__call_summary="The assistant was unable to help."),
        call("able_yes", talk, test_result__goal_achieved="yes",
             test_result__call_summary="The assistant was able to help and booked a viewing."),
    )


def flagged(flags, rule):
    return flags.loc[flags[rule].fillna(False).astype(bool), "call_id"].tolist()


def test_each_rule_flags_exactly_its_calls(labelled):
    flags = consistency_flags(labelled)
    assert list(flags.columns) == ["call_id", *[rule.name for rule in RULES]]
    assert flagged(flags, "goal_without_user_words") == ["silent_yes"]
    assert flagged(flags, "goal_in_short_call") == ["short_yes"]
    assert flagged(flags, "positive_label_negative_text") == ["angry_positive"]
    assert flagged(flags, "completed_without_turns") == ["empty_completed"]
    assert flagged(flags, "unable_to_help_but_goal") == ["unable_yes", "couldnt_yes"]


def test_rules_leave_unknown_inputs_unchecked(labelled):
    flags = consistency_flags(labelled).set_index("call_id")
    assert pd.isna(flags.loc["silent_unknown", "goal_without_user_words"])  # goal unknown
    assert pd.isna(flags.loc["broken_completed", "completed_without_turns"])  # turns unknown
    assert not flags.loc["empty_running", "completed_without_turns"]
    assert pd.isna(flags.loc["silent_yes", "positive_label_negative_text"])  # no user words
    assert flags.loc["edge_yes", "goal_in_short_call"] == False  # noqa: E712 (15 s: not < 15)


def test_report_counts_shares_and_examples(labelled):
    table = consistency_report(labelled, examples=1).set_index("rule")
    assert list(table.reset_index().columns) == ["rule", "description", "calls", "checked",
                                                 "share", "examples"]
    assert table.index.tolist() == [rule.name for rule in RULES]
    row = table.loc["goal_without_user_words"]
    # Checked: calls with a known goal and a known transcript (16 - silent_unknown -
    # broken_completed).
    assert (row["calls"], row["checked"]) == (1, 14)
    assert row["share"] == pytest.approx(1 / 14) and row["examples"] == "silent_yes"
    assert table.loc["completed_without_turns", "checked"] == 15
    row = table.loc["unable_to_help_but_goal"]
    assert (row["calls"], row["examples"]) == (2, "unable_yes")
    full = consistency_report(labelled).set_index("rule")
    assert full.loc["unable_to_help_but_goal", "examples"] == "unable_yes, couldnt_yes"
    assert all(rule.description for rule in RULES)


def test_rules_are_data_and_a_new_one_is_one_line(labelled):
    long_run = Rule("long_assistant_run", "Assistant talks 4 or more words in one go.",
                    ("longest_assistant_run",), lambda f: f["longest_assistant_run"] >= 4)
    table = consistency_report(labelled, rules=[*RULES, long_run])
    row = table.set_index("rule").loc["long_assistant_run"]
    assert row["calls"] == 3  # the three "silent" calls: "Hello? Are you there?"
    assert len(table) == len(RULES) + 1


def test_report_of_no_calls():
    table = consistency_report(ma.load_logs([]))
    assert table["calls"].tolist() == [0] * len(RULES)
    assert table["checked"].tolist() == [0] * len(RULES)
    assert table["share"].isna().all() and table["examples"].isna().all()


# --- distinguishing words --------------------------------------------------------------

def test_tokenize_keeps_inner_apostrophes():
    assert tokenize("I'm NOT interested—really? It’s $320,000.") == [
        "i'm", "not", "interested", "really", "it's", "320", "000"]


def test_log_odds_by_hand():
    failed = pd.Series({"a": 3, "b": 1})
    succeeded = pd.Series({"a": 1, "b": 3})
    table = log_odds_table(failed, succeeded).set_index("word")
    # Prior a_w = pooled counts: a_a = a_b = 4, a_0 = 8; n_f = n_s = 4.
    delta_a = math.log((3 + 4) / (4 + 8 - 3 - 4)) - math.log((1 + 4) / (4 + 8 - 1 - 4))
    se_a = math.sqrt(1 / (3 + 4) + 1 / (1 + 4))
    assert delta_a == pytest.approx(2 * math.log(1.4))
    assert table.loc["a", "log_odds"] == pytest.approx(delta_a)
    assert table.loc["a", "se"] == pytest.approx(se_a)
    assert table.loc["a", "z"] == pytest.approx(delta_a / se_a)
    assert table.loc["b", "z"] == pytest.approx(-delta_a / se_a)
    assert table.index.tolist() == ["a", "b"]  # z descending


def test_log_odds_with_a_weaker_prior_by_hand():
    failed = pd.Series({"no": 4, "thanks": 1})
    succeeded = pd.Series({"yes": 2, "thanks": 3})
    table = log_odds_table(failed, succeeded, prior_scale=0.5).set_index("word")
    # a = 0.5 * pooled: no 2, thanks 2, yes 1; a_0 = 5; n_f = 5, n_s = 5.
    delta = math.log((4 + 2) / (5 + 5 - 4 - 2)) - math.log((0 + 2) / (5 + 5 - 0 - 2))
    se = math.sqrt(1 / 6 + 1 / 2)
    assert table.loc["no", "log_odds"] == pytest.approx(delta)
    assert table.loc["no", "z"] == pytest.approx(delta / se)
    assert (table.loc["yes", "failed"], table.loc["yes", "succeeded"]) == (0, 2)


def test_distinguishing_words_per_role():
    logs = load(
        call("f1", conv(("user", "No, no thanks."), ("assistant", "Sorry.")),
             test_result__goal_achieved="no"),
        call("f2", conv(("user", "---"), ("user", "No."), ("assistant", "Sorry, goodbye.")),
             test_result__goal_achieved="no"),
        call("s1", conv(("user", "Yes thanks."), ("assistant", "Booked, goodbye.")),
             test_result__goal_achieved="yes"),
        call("u", conv(("user", "unknown words")), test_result__goal_achieved=""),
    )
    table = distinguishing_words(logs)
    assert list(table.columns) == ["role", "word", "failed", "succeeded", "log_odds", "se", "z"]
    user = table[table["role"] == "user"].set_index("word")
    assert user.index.tolist()[0] == "no" and "unknown" not in user.index
    assert (user.loc["no", "failed"], user.loc["no", "succeeded"]) == (3, 0)
    assert (user.loc["thanks", "failed"], user.loc["thanks", "succeeded"]) == (1, 1)
    expected = log_odds_table(pd.Series({"no": 3, "thanks": 1}),
                              pd.Series({"yes": 1, "thanks": 1})).set_index("word")
    assert user["z"].to_dict() == pytest.approx(expected["z"].to_dict())
    assistant = table[table["role"] == "assistant"].set_index("word")
    assert (assistant.loc["goodbye", "failed"], assistant.loc["goodbye", "succeeded"]) == (1, 1)
    assert assistant.loc["sorry", "z"] > 0 > assistant.loc["booked", "z"]
    assert distinguishing_words(logs, min_count=2)["word"].tolist() == [
        "no", "thanks", "sorry", "goodbye"]


def test_distinguishing_words_of_no_calls():
    table = distinguishing_words(ma.load_logs([]))
    assert table.empty and list(table.columns)[:2] == ["role", "word"]


# --- find and read ---------------------------------------------------------------------

@pytest.fixture
def two_calls():
    return load(
        call("late", conv(("user", "Budget is $400,000."), ("assistant", "What BUDGET?")),
             created_at="2025-07-09T10:00:00Z", agent_id="agent-b",
             test_result__goal_achieved="no"),
        call("early", conv(("user", "---"), ("assistant", "<b>Hi</b> & welcome"),
                           ("user", "my budget is low")),
             created_at="2025-07-08T10:00:00Z", agent_id="agent-a",
             test_result__goal_achieved="yes", test_result__sentiment="positive"),
    )


def test_find_turns_with_context(two_calls):
    found = find_turns(two_calls, "budget")
    assert list(found.columns) == conversation.FOUND_COLUMNS
    assert list(zip(found["call_id"], found["turn"])) == [("early", 2), ("late", 0), ("late", 1)]
    assert found["agent_id"].tolist() == ["agent-a", "agent-b", "agent-b"]
    assert found["goal_achieved"].tolist() == [True, False, False]
    assert str(found["created_at"].dtype) == "datetime64[us, UTC]"
    assert find_turns(two_calls, "budget", role="assistant")["turn"].tolist() == [1]
    assert find_turns(two_calls, "BUDGET", case=True)["call_id"].tolist() == ["late"]
    assert find_turns(two_calls, "$400", regex=False)["call_id"].tolist() == ["late"]
    assert find_turns(two_calls, "nothing like this").empty


def test_show_call_as_text(two_calls):
    transcript = show_call(two_calls, "early")
    text = str(transcript)
    assert text == repr(transcript)
    lines = text.splitlines()
    assert lines[0] == "Call early"
    assert "agent: agent-a" in text and "created: 2025-07-08 10:00:00 UTC" in text
    assert "goal achieved: yes" in text and "sentiment: positive" in text
    assert "duration: 210 s" in text
    assert lines[-3:] == ["    0 user       (placeholder '---')",
                          "    1 assistant  <b>Hi</b> & welcome",
                          "    2 user       my budget is low"]


def test_show_call_as_html_is_escaped_and_deterministic(two_calls):
    page = show_call(two_calls, "early")._repr_html_()
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; welcome" in page and "<b>Hi</b>" not in page
    assert "placeholder &#x27;---&#x27;" in page
    assert page == show_call(two_calls, "early")._repr_html_()
    assert "0x" not in page and "id=" not in page


def test_show_call_of_an_unknown_id(two_calls):
    with pytest.raises(UnknownCallError, match="no call with id 'nope'") as caught:
        show_call(two_calls, "nope")
    assert isinstance(caught.value, MalakaiError)


def test_show_call_with_no_turns():
    assert "(no turns)" in str(show_call(load(call("c", "[]")), "c"))


# --- chart and report section ----------------------------------------------------------

def test_distinguishing_words_chart():
    words = pd.DataFrame({
        "role": pd.array(["user"] * 5 + ["assistant"], dtype="string"),
        "word": pd.array(["no", "bye", "ok", "yes", "great", "sorry"], dtype="string"),
        "failed": [9, 5, 2, 0, 1, 4], "succeeded": [0, 1, 2, 8, 6, 0],
        "z": pd.array([3.0, 2.0, 0.0, -4.0, -1.0, 2.5], dtype="Float64"),
    })
    ax = Figure().subplots()
    assert plots.plot_distinguishing_words(words, role="user", top=2, ax=ax) is ax
    bars = ax.patches
    assert [round(b.get_width(), 6) for b in bars] == [-4.0, -1.0, 2.0, 3.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["yes", "great", "bye", "no"]
    hexes = [mcolors.to_hex(b.get_facecolor()) for b in bars]
    assert hexes == [plots.GOAL_COLORS["achieved"]] * 2 + [plots.GOAL_COLORS["not achieved"]] * 2
    assert "user" in ax.get_title() and "z-score" in ax.get_xlabel()
    empty = plots.plot_distinguishing_words(words.iloc[:0], ax=Figure().subplots())
    assert [t.get_text() for t in empty.texts] == ["No calls"]


def test_section_is_registered_and_written(labelled, tmp_path):
    assert conversation.conversation_section in report.SECTIONS
    written = ma.write_report(labelled, tmp_path / "out")
    names = {str(p) for p in written.files}
    assert {"charts/distinguishing_words.png", "tables/consistency_report.csv",
            "tables/conversation_by_goal.csv"} <= names
    table = pd.read_csv(written.folder / "tables/consistency_report.csv")
    assert table["calls"].tolist() == consistency_report(labelled)["calls"].tolist()
    page = written.index.read_text(encoding="utf-8")
    assert "<h2>Inside the calls</h2>" in page and "Cohen&#x27;s kappa" in page
    assert 'id="distinguishing_words"' in page


def test_section_of_no_calls(tmp_path):
    written = ma.write_report(ma.load_logs([]), tmp_path / "empty")
    assert (written.folder / "charts/distinguishing_words.png").stat().st_size > 0
