"""Display names for agents and workflows.

Logs identify agents and workflows by uuid; analysts think in names. A label mapping is
a plain dict id -> name, written by hand or read from a CSV file with an `id` and a
`name` column (other columns are ignored):

    id,name
    11e5fbeb-4706-5a65-b52c-5393c451eb5e,Ava
    f01e14f2-d99c-5530-a591-bbae52213ffb,Viewings

One mapping can hold agents and workflows together (their ids differ). Tables get a
name column with `apply_labels`; charts take the same mapping as `labels=`. Values
without a name are shown as a shortened id, the same way in tables and charts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .errors import MalakaiError

#: Id columns that `apply_labels` names by default, when present.
ID_COLUMNS = ("agent_id", "workflow_id")

Labels = Mapping | str | os.PathLike | None


class LabelsError(MalakaiError, ValueError):
    """A label file cannot be read as id,name rows."""


def read_labels(source: Labels) -> dict[str, str]:
    """Return the label mapping of `source`: a mapping, or a CSV file of id,name.

    Args:
        source: a dict-like id -> name (copied, keys and names as text), a path to a
            CSV file with a header naming an `id` and a `name` column, or None
            (no labels: an empty dict).

    Returns:
        dict id -> name. Surrounding spaces are stripped; rows with an empty id or
        name are skipped.

    Raises:
        LabelsError: the file is missing or unreadable, lacks the id or name column,
            or gives one id two different names.
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {str(key): str(name) for key, name in source.items()
                if not pd.isna(key) and not pd.isna(name)}
    path = Path(source)
    try:
        table = pd.read_csv(path, dtype="string", keep_default_na=False,
                            encoding="utf-8-sig", skipinitialspace=True)
    except FileNotFoundError:
        raise LabelsError(f"{path}: no such file (expected a CSV of id,name)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:
        raise LabelsError(f"{path}: not a readable CSV of id,name ({error})") from None
    columns = {str(c).strip().lower(): c for c in table.columns}
    if "id" not in columns or "name" not in columns:
        raise LabelsError(f"{path}: expected a header with columns id,name; "
                          f"found {', '.join(map(str, table.columns)) or 'none'}")
    ids = table[columns["id"]].str.strip()
    names = table[columns["name"]].str.strip()
    keep = ((ids != "") & (names != "")).to_numpy(bool)
    ids, names = ids[keep], names[keep]
    pairs = pd.DataFrame({"id": ids, "name": names}).drop_duplicates()
    clashing = pairs["id"][pairs["id"].duplicated()]
    if not clashing.empty:
        raise LabelsError(f"{path}: id {clashing.iloc[0]!r} has more than one name")
    return dict(zip(pairs["id"].tolist(), pairs["name"].tolist()))


def label_for(value, labels: Mapping | None = None) -> str:
    """Readable name of one id: its name in `labels`, else a shortened id.

    A uuid-like id (more than 12 characters, at least four dashes) is cut to its first
    8 characters and "…"; other values are shown as they are; a missing value is
    "(missing)". Charts name their groups the same way (`plots.group_label`).
    """
    if pd.isna(value):
        return "(missing)"
    if labels and value in labels:
        return str(labels[value])
    text = str(value)
    return text[:8] + "…" if len(text) > 12 and text.count("-") >= 4 else text


def name_column(column: str) -> str:
    """The name column `apply_labels` adds for an id column: agent_id -> agent."""
    return column.removesuffix("_id") if column.endswith("_id") else f"{column}_label"


def apply_labels(
    table: pd.DataFrame,
    labels: Labels = None,
    columns: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Add a readable name column before each id column of a table.

    Args:
        table: any table with id columns (`calls`, a metric or comparison table).
        labels: mapping id -> name or a CSV path (see `read_labels`); ids without a
            name get a shortened id (see `label_for`).
        columns: id column(s) to name; default: those of `ID_COLUMNS` in the table.

    Returns:
        A copy of `table` with a string column inserted before each id column:
        `agent` before agent_id, `workflow` before workflow_id, `<column>_label`
        before a column not ending in _id. The id columns are kept.

    Raises:
        KeyError: a requested column is not in the table.
    """
    mapping = read_labels(labels)
    if columns is None:
        columns = [c for c in ID_COLUMNS if c in table.columns]
    elif isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"no column {missing!r} to label; columns are {list(table.columns)}")
    out = table.copy()
    for column in columns:
        values = out[column]
        unique = pd.unique(values.dropna())
        names = {value: label_for(value, mapping) for value in unique}
        named = values.map(names).astype("string").fillna(label_for(pd.NA))
        target = name_column(column)
        if target in out.columns:
            out = out.drop(columns=target)
        out.insert(out.columns.get_loc(column), target, named)
    return out
