"""Shared fixtures: the vendor's documented example and record builders."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
EXAMPLE_PATH = DATA / "get_workflow_logs_example.json"


def example_envelope() -> dict:
    """The API reference's example response, unchanged."""
    return json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))


def make_log(_drop: tuple[str, ...] = (), **fields) -> dict:
    """The example's log with `fields` replaced (cases say: fields not shown are as in
    the example). Keys of `test_result` are given as `test_result__<key>`; `_drop`
    removes top-level keys (or `test_result__<key>`)."""
    log = copy.deepcopy(example_envelope()["data"][0])
    for key, value in fields.items():
        if key.startswith("test_result__"):
            log["test_result"][key.removeprefix("test_result__")] = value
        else:
            log[key] = value
    for key in _drop:
        if key.startswith("test_result__"):
            del log["test_result"][key.removeprefix("test_result__")]
        else:
            del log[key]
    return log


def envelope(logs: list[dict]) -> dict:
    return {"responseCode": 2000, "message": "Workflow logs fetched successfully", "data": logs}


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE_PATH
