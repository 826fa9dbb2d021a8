"""Notebooks and their test harness (a package, so that its conftest is `notebooks.conftest`
and never shadows `tests/conftest.py`, which tests import as `conftest`)."""
