# %% [markdown]
# # Workflow report: is the agent reaching its goal?
#
# This notebook walks through a Malakai workflow-logs export the way an analyst would:
# load it into tidy tables, read the headline numbers, then look at goal rate,
# sentiment, call length and the trend over time. It reads the bundled sample export
# (`../data/sample_workflow_logs.json`: 8 weeks of synthetic test calls of three agents,
# Ava, Ben and Cleo, on two workflows, plus the API reference's own example record,
# whose ids are redacted placeholders: it shows up as a fourth "agent", *Vendor
# example*, with a single call). Point `load_logs` at your own export to do the same
# with real data.
#
# Every rate below comes with its denominator and an interval, because a goal rate of
# 60% means little on 12 calls and a lot on 1,200.

# %%
import matplotlib.pyplot as plt
import pandas as pd

import malakai_analytics as ma

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

logs = ma.load_logs("../data/sample_workflow_logs.json")
names = ma.read_labels("../data/sample_names.csv")  # a CSV of id,name
logs

# %% [markdown]
# `load_logs` returns three tables. `calls` has one row per call, `turns` one row per
# message of each conversation, and `problems` one row per value that could not be read
# (it is NA in its column; the raw value is kept here, so nothing is lost). Ids are
# long; `apply_labels` adds a readable `agent` column from the names file.

# %%
calls = logs.calls
ma.apply_labels(calls, names)[["call_id", "agent", "created_at", "sentiment",
                               "goal_achieved", "duration_s", "n_turns"]].head()

# %% [markdown]
# ## Key numbers
#
# The goal rate counts only the calls whose outcome is known: calls with a missing or
# unreadable `goal_achieved` are reported as *unknown*, not as failures.

# %%
ma.kpis(calls)

# %% [markdown]
# ## Goal rate by agent
#
# `ci_low` and `ci_high` bound a 95% Wilson score interval: the range of true goal rates
# that these calls are consistent with. Read it as "with this many calls, the agent's
# real rate is most likely somewhere in here". When two agents' intervals overlap
# substantially, this sample does not tell which agent is better; more test calls
# narrow the intervals.

# %%
ma.apply_labels(ma.goal_rate(calls, by="agent_id"), names)

# %% [markdown]
# Charts take the `calls` frame and an `ax` and return the Axes, like seaborn. (Plot
# cells end in an assignment and `;` so that no object repr is stored in the notebook.)

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax = ma.plot_goal_rate(calls, by="agent_id", labels=names, ax=ax);

# %% [markdown]
# The same table works for any grouping, for example by workflow. The Vendor example's
# single call shows how the interval reads on one call: 0 of 1 is anything from 0% to 79%.

# %%
ma.apply_labels(ma.goal_rate(calls, by="workflow_id"), names)

# %% [markdown]
# ## Sentiment
#
# The platform labels each call negative, neutral or positive. Shares are over the calls
# that carry a label; every label appears for every agent, with 0 where none has it.

# %%
ma.apply_labels(ma.sentiment_shares(calls, by="agent_id"), names)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
ax = ma.plot_sentiment_shares(calls, by="agent_id", labels=names, ax=ax);

# %% [markdown]
# Does the sentiment label go with the goal outcome? Each bar is one label, split by
# outcome.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax = ma.plot_sentiment_vs_goal(calls, ax=ax);

# %% [markdown]
# ## Call length
#
# Durations come from `call_duration` ("210 seconds", "3 min 30 s", "00:03:30", ...),
# never from the log's timestamps, which include set-up time. The 90th percentile (p90)
# shows how long the long calls are.

# %%
ma.duration_summary(calls, by="goal_achieved")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax = ma.plot_duration_distribution(calls, ax=ax);

# %% [markdown]
# ## Over time
#
# Calls and goal rate per week (weeks start Monday, UTC). The band is the weekly
# interval: a week with few calls has a wide band, so a dip there may be noise.

# %%
weekly = ma.volume(calls, freq="W")
weekly

# %%
fig, ax = plt.subplots(figsize=(9, 4))
ax = ma.plot_volume(calls, freq="W", ax=ax);

# %% [markdown]
# Per agent, the weekly goal rate shows which agent moves: Cleo climbs over the eight
# weeks. Weekly rates on 20-40 calls are noisy; `notebooks/agent_comparison.ipynb` tests
# whether the change is more than noise.

# %%
by_agent = ma.apply_labels(ma.volume(calls, freq="W", by="agent_id"), names)
by_agent.pivot(index="period_start", columns="agent", values="rate").round(3)

# %% [markdown]
# ## Data quality
#
# Values the loader could not read, by field and problem. Each is NA in `calls` and
# kept with its raw text in `problems`.

# %%
logs.problems.groupby(["field", "problem"]).size().rename("rows").reset_index()

# %%
logs.problems.head(10)

# %% [markdown]
# ## Inside one call
#
# `turns` holds every message in order. The first user turn is often the placeholder
# `---`, flagged by `is_placeholder`.

# %%
first = calls["call_id"].iloc[0]
logs.turns[logs.turns["call_id"] == first][["turn", "role", "n_words", "is_placeholder",
                                            "content"]]

# %% [markdown]
# ## The same as a report folder
#
# `malakai-analytics report --out report` writes every chart above as PNG, the tables
# and the three tidy frames as CSV, and an `index.html` that opens offline.
