# %% [markdown]
# # Inside the calls: talk balance, text sentiment and label checks
#
# Malakai labels every test call with a sentiment, a yes/no goal outcome and a summary.
# Those labels come from a model, and models are wrong in ways that matter: a call can
# "achieve its goal" although the caller never said a word. This notebook reads the
# transcripts themselves, measures them, and checks the platform's labels against them.
#
# It uses the bundled sample export (`../data/sample_workflow_logs.json`: 720 scripted
# test calls of three agents over 8 weeks, with some deliberately messy records). Point
# `load_logs` at your own export to do the same with real data.

# %%
import matplotlib.pyplot as plt
import pandas as pd

import malakai_analytics as ma
from malakai_analytics.sample import AGENTS

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 14)
pd.set_option("display.max_colwidth", 70)

logs = ma.load_logs("../data/sample_workflow_logs.json")
calls = logs.calls
agent_names = {agent.id: key for key, agent in AGENTS.items()}
logs

# %% [markdown]
# ## Per-call measures
#
# `conversation_measures` gives one row per call, computed over all turns at once.
# A turn is *real* when it carries words; the placeholder `---` that opens many calls
# is not real, so the user "speaks" only in real turns.
#
# | column | meaning |
# |---|---|
# | `n_turns`, `user_turns`, `assistant_turns` | turns in total and per role (placeholders included) |
# | `user_real_turns` | user turns with words |
# | `user_words`, `assistant_words` | words per role |
# | `assistant_share` | the assistant's share of all words |
# | `longest_assistant_run` | most assistant words in a row before the user speaks again |
# | `first_user_turn` | position of the user's first real turn |
# | `user_silent` | the user said no real word |
# | `repeated_assistant_turns` | assistant turns repeating, verbatim, an earlier one of the same call |
# | `assistant_questions` | questions the assistant asked |
# | `last_speaker` | role of the last turn with words |
#
# Calls with an empty conversation get 0 counts; calls whose conversation could not be
# read get NA (their transcript is unknown, not empty).

# %%
measures = ma.conversation_measures(logs)
measures.head()

# %% [markdown]
# The same measures per goal outcome. In the sample, failed calls are short, the
# assistant does about three quarters of the talking in them, and the assistant
# repeats itself only in failed calls.

# %%
ma.conversation_summary(logs, by="goal")

# %% [markdown]
# Per agent, with readable names:

# %%
by_agent = ma.conversation_summary(logs, by="agent_id", measures=measures)
by_agent.assign(agent_id=by_agent["agent_id"].map(lambda a: agent_names.get(a, "example")))

# %% [markdown]
# ## Text sentiment of the user side
#
# Each turn is scored with VADER, a lexicon model that ships its lexicon (nothing is
# downloaded, the same text always gets the same score). Its *compound* score runs from
# -1 to +1; 0.05 or more reads as positive, -0.05 or less as negative. Texts are scored
# once per distinct text, so a million templated turns take well under a second.
#
# `call_sentiment` averages the user's real turns per call, and compares the first half
# of the call with the second (`user_change`).

# %%
sentiment = ma.call_sentiment(logs)
sentiment.head()

# %% [markdown]
# Successful calls read positive, failed ones slightly negative; in both the user's
# text gets a little more positive in the second half of the call.

# %%
with_goal = sentiment.assign(goal_achieved=calls["goal_achieved"])
with_goal.groupby("goal_achieved")[["user_compound", "user_first_half", "user_second_half",
                                    "user_change"]].mean().round(3)

# %% [markdown]
# ### Does the platform's label agree with the text?
#
# Rows are the platform's label, columns the user's text label, over the calls that
# have both. Cohen's kappa measures the agreement beyond what the two sets of labels
# would reach by chance (0: chance, 1: perfect).

# %%
agreement = ma.sentiment_agreement(logs, sentiment=sentiment)
agreement

# %%
agreement.table

# %% [markdown]
# A kappa around 0.2 is weak agreement. Most of the disagreement is a platform label of
# "neutral" where the user's words read positive: the text scale is not the platform's
# scale, so read this table for the off-diagonal corners (a "positive" label on
# negative text), not as a verdict on the platform.

# %% [markdown]
# ## Consistency checks
#
# `consistency_report` runs named rules (`ma.RULES`), each a short documented check of
# a label against the transcript. For each: the calls it flags, the calls it could
# check (those whose needed values are known), the share and a few example ids.

# %%
for rule in ma.RULES:
    print(f"{rule.name}: {rule.description}")

# %%
consistency = ma.consistency_report(logs)
consistency

# %% [markdown]
# What the sample shows:
#
# - **positive_label_negative_text**: 6 calls are labelled positive although the user's
#   words are clearly negative. All six failed ("Sorry, wrong number.", "not
#   interested").
# - **completed_without_turns**: 4 calls are "completed" with no turns at all (empty,
#   null or blank conversations).
# - **goal_without_user_words**: 1 call achieved its goal with an empty conversation.
# - **goal_in_short_call** and **unable_to_help_but_goal** find nothing: the sample has
#   no call under 15 seconds (its shortest lasts over a minute) and its summaries never
#   say the assistant was unable to help in a successful call. The sample simply has no
#   such case; the small example further down shows both rules firing.
#
# These are the sample's inconsistent labels, one row per call and rule:

# %%
flags = ma.consistency_flags(logs)
long = flags.melt(id_vars="call_id", var_name="rule", value_name="flagged")
hits = long[long["flagged"].fillna(False).astype(bool)].drop(columns="flagged")
inconsistent = hits.merge(calls, on="call_id").merge(
    sentiment[["call_id", "user_compound"]], on="call_id")
inconsistent[["rule", "call_id", "goal_achieved", "sentiment", "duration_s", "n_turns",
              "user_compound", "call_summary"]]

# %% [markdown]
# ### Reading a flagged call
#
# `show_call` renders one transcript with its labels (HTML in a notebook; `print` it in
# a terminal). This one is labelled positive:

# %%
first_flagged = hits.loc[hits["rule"] == "positive_label_negative_text", "call_id"].iloc[0]
ma.show_call(logs, first_flagged)

# %% [markdown]
# ### The rules the sample cannot trigger
#
# Two hand-made calls show the other two rules at work: a "successful" 9-second call,
# and a successful call whose summary says the assistant could not help.

# %%
def demo_log(call_id, duration, summary):
    return {
        "id": call_id, "agent_id": "demo-agent", "workflow_id": "demo-workflow",
        "status": "completed", "created_at": "2025-07-08T10:00:00Z",
        "updated_at": "2025-07-08T10:05:00Z",
        "test_result": {
            "status": "completed", "sentiment": "positive", "goal_achieved": "yes",
            "call_duration": duration, "call_summary": summary,
            "conversation": [{"role": "user", "content": "Hi, I'd like a viewing."},
                             {"role": "assistant", "content": "Booked for Monday."}],
        },
    }


demo = ma.load_logs([
    demo_log("demo-short", "9 seconds", "The assistant booked a viewing."),
    demo_log("demo-unable", "95 seconds", "The assistant was unable to help with the request."),
])
ma.consistency_report(demo)[["rule", "calls", "checked", "examples"]]

# %% [markdown]
# ### Adding a rule
#
# Rules are data: a name, a description, the columns it needs and a test on the frame
# of `consistency_inputs` (every `calls` column, the measures and the user's text
# sentiment). For example, failed calls in which the assistant repeated itself word for
# word:

# %%
repeating = ma.Rule(
    "failed_with_repeats",
    "Goal not achieved and the assistant repeated an earlier turn verbatim.",
    ("goal_achieved", "repeated_assistant_turns"),
    lambda f: ~f["goal_achieved"] & (f["repeated_assistant_turns"] > 0),
)
ma.consistency_report(logs, rules=[*ma.RULES, repeating]).tail(2)

# %% [markdown]
# ## What failed calls say
#
# Which words are typical of failed calls, and which of successful ones? The weighted
# log-odds with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008)
# compares each word's rate in failed and successful calls, shrinks rare words towards
# their overall rate, and divides by the standard error: a z-score. |z| above 1.96 is
# unlikely to be chance. Users and the assistant are compared separately.

# %%
words = ma.distinguishing_words(logs)
words.groupby("role", sort=False).head(8)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
ax = ma.plot_distinguishing_words(words, role="user", ax=axes[0]);
ax = ma.plot_distinguishing_words(words, role="assistant", ax=axes[1]);

# %% [markdown]
# Failed calls sound like refusals ("not", "don't", "sorry", "please take me off your
# list") and apologies from the assistant ("sorry", "unable", "understand"); successful
# ones like bookings ("the", "and", times and days). Words such as "cleo" and
# "bluebay" lean towards failure only because that agent fails more often: the method
# finds words that go with failure, not words that cause it.

# %% [markdown]
# ## Find and read
#
# `find_turns` searches the turns (a regular expression, case-insensitive by default)
# and returns each match with its call's agent, outcome and time. Here: where does the
# assistant say it is unable to help?

# %%
unable = ma.find_turns(logs, r"unable to help", role="assistant")
unable.groupby("goal_achieved", dropna=False).size().rename("turns").reset_index()

# %%
unable.head()

# %% [markdown]
# All of them are in failed calls, which is why the summary rule finds nothing in the
# sample. The report command (`malakai-analytics report`) adds a section "Inside the
# calls" with the measures per goal outcome, the consistency table and the
# distinguishing-words chart.
