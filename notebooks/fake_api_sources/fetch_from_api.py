# %% [markdown]
# # Fetch workflow logs from the Malakai API
#
# This notebook fetches fresh test-call logs straight from the Malakai API, saves them
# to a file, and loads that file into the same tidy tables as any export.
#
# **Credentials stay out of the notebook.** Set them in the environment before you
# start Jupyter, never in a cell:
#
#     export MALAKAI_API_KEY=...        # the API key of your Malakai account
#     export MALAKAI_ACCESS_TOKEN=...   # its access token
#     export MALAKAI_BASE_URL=...       # optional; default https://api.getmalakai.com
#
# The client never shows them: not in its repr, its errors, its log lines or the files
# it writes. (When this notebook is tested, the test harness points `MALAKAI_BASE_URL`
# at a local fake Malakai server with dummy credentials, so the numbers below are
# synthetic.)

# %%
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from malakai_analytics import load_logs
from malakai_analytics.client import AsyncMalakaiClient, MalakaiClient
from malakai_analytics.errors import FetchError

pd.set_option("display.width", 120)

required = ["MALAKAI_API_KEY", "MALAKAI_ACCESS_TOKEN"]
print("credentials set:", all(os.environ.get(name) for name in required))

# %% [markdown]
# ## Fetch
#
# Put the ids of your workflows here (the Malakai dashboard shows them). One of the
# four below does not exist, to show what a failure looks like.
#
# `fetch_logs` asks for several workflows at once (at most `concurrency` in flight),
# retries what is worth retrying (rate limits, gateway errors, timeouts, broken
# connections), and never loses the workflows that worked because another failed.

# %%
WORKFLOW_IDS = ["demo-leasing", "demo-sales", "demo-support", "demo-retired"]

with MalakaiClient() as client:
    result = client.fetch_logs(WORKFLOW_IDS, concurrency=4)
result

# %% [markdown]
# The result is a `CallLogs` (tables `calls`, `turns`, `problems`) of the workflows that
# worked, plus `failures`: each workflow that failed, with an error that says what to do.

# %%
print("fetched:", result.workflow_ids)
for workflow_id, error in result.failures.items():
    print(f"failed: {workflow_id}: {type(error).__name__}")
    print(f"  {error}")

# %%
result.calls[["call_id", "workflow_id", "created_at", "sentiment", "goal_achieved",
              "duration_s"]].head(6)

# %% [markdown]
# ## Save, then load
#
# `save` writes what the API answered, exactly as received, with each workflow id and
# the fetch time: the same file `malakai-analytics fetch` writes, and one `load_logs` and
# the report command read. A `.jsonl` name gives one record per line, any other name a
# JSON list. Here the file goes to a temporary folder; keep yours with your project.

# %%
folder = tempfile.TemporaryDirectory()
path = result.save(Path(folder.name) / "workflow_logs.jsonl")

lines = path.read_text(encoding="utf-8").splitlines()
record = json.loads(lines[0])
print(path.name, "-", len(lines), "records")
print("record keys:", sorted(record))
print("first:", record["workflow_id"], "responseCode", record["response"]["responseCode"],
      "-", len(record["response"]["data"]), "call logs")

# %%
logs = load_logs(path)
logs

# %%
logs.calls.groupby("workflow_id").agg(
    calls=("call_id", "size"),
    goal_achieved=("goal_achieved", "sum"),
    mean_duration_s=("duration_s", "mean"),
)

# %% [markdown]
# The same from a terminal, with the credentials in the environment:
#
#     malakai-analytics fetch demo-leasing demo-sales demo-support -o workflow_logs.jsonl
#
# ## When every workflow must succeed
#
# A report over only some of the workflows asked for can mislead. `raise_on_error=True`
# raises a `FetchError` instead; it still carries what succeeded (`error.result`).

# %%
try:
    with MalakaiClient() as client:
        client.fetch_logs(WORKFLOW_IDS, raise_on_error=True)
except FetchError as error:
    print("FetchError for", sorted(error.failures))
    print("kept:", error.result.workflow_ids)

# %% [markdown]
# ## From asyncio code
#
# `AsyncMalakaiClient` has the same methods, awaited; Jupyter runs `await` at the top
# level of a cell.

# %%
async with AsyncMalakaiClient() as client:
    again = await client.fetch_logs(WORKFLOW_IDS[:3], concurrency=3)
print(again)

# %%
folder.cleanup()
