# %% [markdown]
# # Comparing agents: which differences are real?
#
# A goal rate of 60% against 50% means nothing on 12 test calls and a lot on 1,200.
# This notebook compares the agents of the bundled sample export
# (`../data/sample_workflow_logs.json`: agents Ava and Ben on the *viewings* workflow,
# Cleo on *consultations*, 8 weeks of scripted test calls) the way an analyst would
# before telling anyone that one agent is better than another:
#
# 1. each difference with an interval and a test, corrected for the number of
#    comparisons, and a warning when the sample is too small;
# 2. this week against last week, and a longer before/after comparison;
# 3. a control chart, to see whether a change is more than week-to-week noise;
# 4. how many test calls the next round needs.

# %%
import matplotlib.pyplot as plt
import pandas as pd

import malakai_analytics as ma

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

logs = ma.load_logs("../data/sample_workflow_logs.json")
calls = logs.calls
logs

# %% [markdown]
# Logs identify agents and workflows by uuid. A two-column CSV (`id,name`) gives them
# names; the same mapping names the rows of every table and chart below.

# %%
names = ma.read_labels("../data/sample_names.csv")
names

# %% [markdown]
# ## The agents at a glance
#
# Goal rate per agent with its 95% Wilson interval. The fourth "agent" is the vendor's
# example record that the sample includes verbatim: its agent id is the API reference's
# placeholder, and it has a single call.

# %%
ma.apply_labels(ma.goal_rate(calls, by="agent_id"), names)

# %% [markdown]
# ## Each agent against all other calls
#
# `compare_rates` puts each agent's goal rate next to the rate of all other calls and
# gives, per row:
#
# - `diff` and its 95% interval (`diff_low`, `diff_high`; Newcombe's method, which stays
#   honest for small counts and rates near 0 or 1);
# - a two-sided test: Fisher's exact test when an expected count is under 5, else the
#   two-proportion z test;
# - `p_adjusted`: Holm's correction for comparing four agents at once (0.0 in the
#   rounded tables means below 0.0005), and `significant` (adjusted p under 5%);
# - `small_sample`: fewer than 30 calls with a known outcome on either side.

# %%
show = ["agent", "known", "rate", "baseline_rate", "diff", "diff_low", "diff_high", "test",
        "p_adjusted", "significant", "small_sample"]
against_rest = ma.compare_rates(calls, labels=names)
against_rest[show].round(3)

# %% [markdown]
# Ava reaches the goal about 26 percentage points more often than the other calls and
# Cleo about 23 points less often; both intervals are far from 0 and both survive the
# correction. Ben's interval straddles 0: these calls do not tell Ben apart from the
# rest. The vendor's example record is flagged `small_sample`: one failed call is an
# anecdote, and Fisher's test (p = 0.43 before correction) agrees.
#
# The forest plot shows the same table: a point per agent, its interval, and the line of
# no difference. Filled markers are significant after the correction; the dashed line
# marks the small sample.

# %%
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax = ma.plot_rate_comparison(calls, labels=names, ax=ax);

# %% [markdown]
# ## Against a baseline agent
#
# Test teams usually compare a candidate with the agent in production. With
# `baseline="Ava"` (an id, or a name from the mapping) every other agent is compared
# with Ava alone, and Ava's own row is left out.

# %%
against_ava = ma.compare_rates(calls, baseline="Ava", labels=names)
against_ava[show].round(3)

# %%
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
ax = ma.plot_rate_comparison(calls, baseline="Ava", labels=names, ax=ax);

# %% [markdown]
# Ben trails Ava by about 19 points (interval 10 to 28) on the same *viewings* workflow:
# a like-for-like difference. Cleo trails by about 31 points, but Cleo runs a different
# workflow (*consultations*), so that gap mixes the agent with the task; the comparison
# that isolates Cleo is Cleo against Cleo over time, below.
#
# ## Other outcomes
#
# Any boolean outcome can be compared the same way: a boolean column, or one of the
# derived outcomes in `ma.OUTCOMES`. Negative sentiment is NA where the platform gave
# no label, and those calls are left out of the denominators (counted in `unknown`).

# %%
sorted(ma.OUTCOMES)

# %%
negative = ma.compare_rates(calls, "negative_sentiment", labels=names)
negative[["agent", "known", "unknown", "rate", "baseline_rate", "diff", "diff_low",
          "diff_high", "p_adjusted", "significant"]].round(3)

# %% [markdown]
# Callers end Cleo's calls negative twice as often as the other calls (34% against 18%),
# and Ava's half as often. Call length tells the same story from another side:
# `compare_durations` compares medians, with a seeded bootstrap interval (the same data
# always give the same interval) and a Mann-Whitney rank test.

# %%
durations = ma.compare_durations(calls, labels=names)
durations[["agent", "known", "median", "baseline_median", "diff", "diff_low", "diff_high",
           "p_adjusted", "significant", "small_sample"]].round(3)

# %% [markdown]
# Ava's calls run about 24 s longer than the rest (successful calls are longer), Cleo's
# about 24 s shorter.
#
# ## Does the tester matter?
#
# Any column can be the grouping. If one tester's calls succeeded much more often, the
# agents' numbers would partly measure the testers. Here no tester differs from the
# others after the correction (every adjusted p-value is 1).

# %%
testers = ma.compare_rates(calls, by="tester_name")
testers[["tester_name", "known", "rate", "baseline_rate", "diff", "diff_low", "diff_high",
         "p_value", "p_adjusted"]].round(3)

# %% [markdown]
# ## This week against last week
#
# `compare_periods` puts the KPIs of two windows side by side. By default the current
# window is the week of the latest call and the previous one the week before.

# %%
weekly = ma.compare_periods(calls)
weekly.attrs["current"], weekly.attrs["previous"]

# %%
period_columns = ["metric", "current", "previous", "delta", "delta_low", "delta_high",
                  "test", "p_adjusted", "significant", "small_sample"]
weekly[period_columns].round(3)

# %% [markdown]
# Nothing moved beyond noise from one week to the next. Per agent (`by="agent_id"`), each
# agent has only 22 to 43 calls a week, so several rows are flagged `small_sample` and
# none is significant, including Cleo's 12-point rise:

# %%
per_agent = ma.compare_periods(calls, by="agent_id", labels=names)
per_agent.loc[per_agent["metric"] == "goal rate",
              ["agent", "current", "previous", "delta", "delta_low", "delta_high",
               "p_adjusted", "significant", "current_n", "previous_n", "small_sample"]
              ].round(3)

# %% [markdown]
# A longer window answers the question a week cannot. Cleo's last four weeks against
# the first four:

# %%
ids = {name: key for key, name in names.items()}
cleo = calls[calls["agent_id"] == ids["Cleo"]]
halves = ma.compare_periods(cleo, current=("2025-08-04", "2025-09-01"),
                            previous=("2025-07-07", "2025-08-04"))
halves[period_columns].round(3)

# %% [markdown]
# Cleo's goal rate rose from 32% to 49% (17 points, interval 4 to 28), significant
# after correcting for the three tests. Negative sentiment did not move.
#
# ## Control chart
#
# A p-chart shows whether any single period is out of line with a baseline. The center
# line is Cleo's goal rate over the first four weeks (`baseline=4`); each week's limits
# are three standard errors around it, wider for weeks with fewer calls.

# %%
chart = ma.p_chart(cleo, freq="W", baseline=4)
chart.round({"rate": 3, "center": 3, "lcl": 3, "ucl": 3})

# %%
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
ax = ma.plot_p_chart(cleo, freq="W", baseline=4, ax=ax);

# %% [markdown]
# No single week leaves the limits: with 21 to 42 calls a week, a week's rate would have
# to pass 54% to 63% to signal on its own. All four weeks since August sit above the
# baseline center, though, and the before/after comparison above confirms that the
# improvement is real. The chart is the tool for catching a sudden break (a bad
# release, a broken prompt) in the weeks to come.
#
# ## How many test calls are enough?
#
# `calls_needed(rate_a, rate_b)` is the number of calls with a known outcome each agent
# needs so that a two-sided 5% test detects the difference 80% of the time. Starting
# from Ben's 55%:

# %%
planning = pd.DataFrame({"goal rate": [0.60, 0.65, 0.70, 0.75]})
planning["calls per agent"] = [ma.calls_needed(0.55, rate) for rate in planning["goal rate"]]
planning["at 90% power"] = [ma.calls_needed(0.55, rate, power=0.9)
                            for rate in planning["goal rate"]]
planning

# %% [markdown]
# Detecting a 15-point gap takes about 160 calls per agent (Ben trails Ava by 19 points
# on 197 and 271 calls, which is why that gap shows); a 5-point gap takes over 1,500.
# A week of about 30 calls per agent reliably detects only gaps of 30 to 35 points,
# which is why the weekly comparisons above find nothing and the four-week comparison
# does.
#
# ## The same in the report
#
# `malakai-analytics report --names data/sample_names.csv` adds a "Comparing agents"
# section to the report: the forest plot and the comparison tables, with significant
# rows marked `*` and small samples flagged.
