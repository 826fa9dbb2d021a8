"""Test harness of notebooks/fetch_from_api.ipynb: it runs against the fake Malakai server.

nbval starts one kernel per notebook, during the set-up of the notebook's first cell,
and the kernel process inherits `os.environ` as it is at that moment. So, around the
set-up of each cell of fetch_from_api.ipynb (and of no other notebook), this file:

1. starts `FakeMalakaiServer` once per test session, on 127.0.0.1, serving the
   notebook's demo workflows;
2. sets MALAKAI_BASE_URL to the server's URL, MALAKAI_API_KEY and
   MALAKAI_ACCESS_TOKEN to its dummy credentials, and puts the project root on
   PYTHONPATH (the kernel imports the package from this source tree);
3. restores the test process's environment right after, so no other test sees them.

The server stops at the end of the session (and by itself after its lifetime).

To re-execute the committed notebook from its percent-format source,
notebooks/fake_api_sources/fetch_from_api.py, under the same fake server (kernel
`python3`, stable cell ids, no stderr allowed):

    PYTHONPATH=. python notebooks/conftest.py

The source is kept out of notebooks/sources/ because the notebook builder there runs
its notebooks without a fake server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOK = "fetch_from_api.ipynb"
#: The workflows the notebook fetches; "demo-retired" is left unknown on purpose.
DEMO_WORKFLOWS = ("demo-leasing", "demo-sales", "demo-support")
ENV_NAMES = ("MALAKAI_BASE_URL", "MALAKAI_API_KEY", "MALAKAI_ACCESS_TOKEN", "PYTHONPATH")

_server = None


def _start_server():
    from malakai_analytics.fake_server import FakeMalakaiServer, demo_workflows

    workflows = demo_workflows(DEMO_WORKFLOWS, calls_per_workflow=4)
    return FakeMalakaiServer(workflows, lifetime=600).start()


def _fake_env(server) -> dict[str, str]:
    from malakai_analytics.fake_server import DEFAULT_ACCESS_TOKEN, DEFAULT_API_KEY

    pythonpath = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {
        "MALAKAI_BASE_URL": server.url,
        "MALAKAI_API_KEY": DEFAULT_API_KEY,
        "MALAKAI_ACCESS_TOKEN": DEFAULT_ACCESS_TOKEN,
        "PYTHONPATH": pythonpath,
    }


@contextlib.contextmanager
def fake_api_environment(server) -> Iterator[None]:
    """Set the notebook's environment for the duration of the block, then restore it."""
    saved = {name: os.environ.get(name) for name in ENV_NAMES}
    os.environ.update(_fake_env(server))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    global _server
    if item.path.name != NOTEBOOK:
        yield
        return
    if _server is None:
        _server = _start_server()
    with fake_api_environment(_server):
        yield


def pytest_sessionfinish(session, exitstatus):
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def _execute() -> Path:
    """Build fetch_from_api.ipynb from its percent-format source and execute it."""
    from notebooks.build import build

    server = _start_server()
    try:
        return build(NOTEBOOK.removesuffix(".ipynb"), timeout=120,
                     sources=HERE / "fake_api_sources",
                     environment=lambda: fake_api_environment(server))
    finally:
        server.stop()


if __name__ == "__main__":
    print(_execute())
