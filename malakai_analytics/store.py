"""Local history in DuckDB: ingest, sync, read back, change tracking, export.

The API returns every log a workflow still holds on each call, and nothing older. The
store accumulates them across fetches and workflows in one DuckDB file:

    calls, turns, problems   the tables of design.md, the newest version of each call
    raw_logs                 every version of every call log, as received (JSON text)
    call_history             every version of every call row, for `changes`
    syncs                    one row per ingest: when, what, received/new/updated/...
    meta                     the store's schema version

Upsert is by call id: the copy with the newest `updated_at` wins, an older or equal copy
never overwrites what is stored, and a call's turns and problems are replaced with it.
Each ingest is one transaction, so a process killed in the middle leaves the store as it
was; running the same ingest twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from . import schema
from .errors import MalakaiError
from .loader import CallLogs, logs_from_records, read_records

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_FILE = "malakai.duckdb"


class StoreError(MalakaiError):
    """The store cannot be opened or written."""


class StoreBusyError(StoreError):
    """Another process has the store open."""


class StoreVersionError(StoreError):
    """The store file was written by another schema version."""


_SQL_TYPES = {"string": "VARCHAR", "boolean": "BOOLEAN", "Float64": "DOUBLE",
              "Int64": "BIGINT", schema.UTC_TIME: "TIMESTAMPTZ"}


def _sql_type(dtype) -> str:
    return _SQL_TYPES.get(str(dtype), "VARCHAR")  # categoricals are stored as text


def _columns_sql(spec: Mapping[str, Any]) -> str:
    return ", ".join(f'"{name}" {_sql_type(dtype)}' for name, dtype in spec.items())


_DDL = [
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    f"CREATE TABLE calls ({_columns_sql(schema.CALLS)}, seq BIGINT, ingest_id BIGINT)",
    f"CREATE TABLE turns ({_columns_sql(schema.TURNS)}, seq BIGINT)",
    f"CREATE TABLE problems ({_columns_sql(schema.PROBLEMS)}, ingest_id BIGINT, pos BIGINT)",
    f"CREATE TABLE call_history ({_columns_sql(schema.CALLS)}, ingest_id BIGINT)",
    # zstd: the raw JSON is the bulk of the file; it compresses 10x, and writes twice as
    # fast as DuckDB's default string compression (measured on 100,000 logs).
    "CREATE TABLE raw_logs (call_id VARCHAR, updated_at TIMESTAMPTZ, ingest_id BIGINT, "
    "raw VARCHAR USING COMPRESSION zstd)",
    "CREATE TABLE syncs (ingest_id BIGINT PRIMARY KEY, started_at TIMESTAMPTZ, "
    "finished_at TIMESTAMPTZ, kind VARCHAR, workflow_id VARCHAR, source VARCHAR, "
    "received BIGINT, new BIGINT, updated BIGINT, unchanged BIGINT, problems BIGINT, "
    "error VARCHAR)",
]


def store_path(db: str | os.PathLike | None = None) -> Path:
    """The store file: `db`, else $MALAKAI_DB, else malakai.duckdb in the working folder."""
    return Path(db or os.environ.get("MALAKAI_DB") or DEFAULT_FILE)


@contextmanager
def connect(db: str | os.PathLike | None = None, *, read_only: bool = False):
    """Open the store (creating it when writable and new) and check its schema version.

    Raises:
        StoreBusyError: another process holds the file.
        StoreVersionError: the file is from another schema version.
        StoreError: the file cannot be opened as a store.
    """
    path = store_path(db)
    if read_only and not path.exists():
        raise StoreError(f"{path}: no store here; create one with `malakai-analytics ingest`")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise StoreBusyError(
                f"{path}: store in use by another process; wait for it to finish and retry"
            ) from None
        raise StoreError(f"{path}: cannot open the store ({error})") from None
    except duckdb.Error as error:
        raise StoreError(f"{path}: not a DuckDB store ({error})") from None
    try:
        con.execute("SET enable_progress_bar = false")  # the library never prints
        _check_schema(con, path, read_only)
        yield con
    finally:
        con.close()


def _check_schema(con, path: Path, read_only: bool) -> None:
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables")
              .fetchall()}
    if "meta" not in tables:
        if tables:
            raise StoreError(f"{path}: a DuckDB file that is not a malakai store")
        if read_only:
            raise StoreError(f"{path}: empty file, not a malakai store")
        con.execute("BEGIN TRANSACTION")
        for statement in _DDL:
            con.execute(statement)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
        logger.info("created store %s (schema version %d)", path, SCHEMA_VERSION)
        return
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    found = rows[0][0] if rows else None
    if found != str(SCHEMA_VERSION):
        raise StoreVersionError(
            f"{path}: store schema version {found}, this malakai_analytics uses "
            f"{SCHEMA_VERSION}; export it with the version that wrote it, or start a new "
            "store and ingest the exports again"
        )


# --- ingest --------------------------------------------------------------------------

@dataclass(frozen=True)
class IngestResult:
    """What one ingest did.

    Attributes:
        ingest_id: the row of `syncs` it wrote.
        received: records received (before de-duplication within the batch).
        new: calls not in the store before.
        updated: calls whose newer version replaced the stored one.
        unchanged: calls already stored at the same or a newer `updated_at`.
        problems: problem rows stored with this ingest.
    """

    ingest_id: int
    received: int
    new: int
    updated: int
    unchanged: int
    problems: int

    def summary(self) -> str:
        return (f"{self.received} received: {self.new} new, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.problems} problems")


def ingest(source: Any, db: str | os.PathLike | None = None, *,
           workflow_id: str | None = None) -> IngestResult:
    """Add the logs of `source` (anything `load_logs` reads) to the store.

    Args:
        source: path(s), envelope(s) or list of logs.
        db: the store file (see `store_path`).
        workflow_id: recorded in the sync log (for `sync`); not a filter.

    Returns:
        The counts of the ingest, also written to the `syncs` table.
    """
    records, source_problems = read_records(source)
    label = _source_label(source)
    with connect(db) as con:
        return _ingest_records(con, records, source_problems, kind="ingest",
                               source=label, workflow_id=workflow_id)


def _source_label(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (list, tuple)) and source and all(
            isinstance(s, (str, os.PathLike)) for s in source):
        return ", ".join(str(s) for s in source)
    return f"<{type(source).__name__}>"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ingest_records(con, records: list, source_problems: list, *, kind: str, source: str,
                    workflow_id: str | None) -> IngestResult:
    started = _now()
    logs = logs_from_records(records, source_problems)
    calls = logs.calls
    raw = _raw_of_kept(records, calls)
    con.execute("BEGIN TRANSACTION")
    logger.info("ingest transaction started (%d records)", len(records))
    try:
        ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM syncs").fetchall()[0][0]
        first_seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM calls").fetchall()[0][0]
        incoming = calls.assign(seq=range(first_seq, first_seq + len(calls)))
        incoming = incoming[incoming["call_id"].notna()]
        con.register("incoming", _for_sql(incoming))
        status = con.execute(
            """SELECT i.call_id,
                      CASE WHEN c.call_id IS NULL THEN 'new'
                           WHEN i.updated_at > c.updated_at
                                OR (c.updated_at IS NULL AND i.updated_at IS NOT NULL)
                           THEN 'updated' ELSE 'unchanged' END AS status
               FROM incoming i LEFT JOIN calls c USING (call_id)"""
        ).df()
        status = status.set_index("call_id")["status"]
        is_winner = incoming["call_id"].map(status).isin(["new", "updated"]).to_numpy(bool)
        winners = incoming[is_winner].assign(ingest_id=ingest_id)
        updated_ids = status.index[(status == "updated").to_numpy()]
        con.register("winners", _for_sql(winners))
        if len(updated_ids):
            con.register("gone", pd.DataFrame({"call_id": updated_ids.astype(str)}))
            for table in ("calls", "turns", "problems"):
                con.execute(f"DELETE FROM {table} WHERE call_id IN (SELECT call_id FROM gone)")
        columns = ", ".join(f'"{c}"' for c in schema.CALLS)
        con.execute(f"INSERT INTO calls SELECT {columns}, seq, ingest_id FROM winners")
        con.execute(f"INSERT INTO call_history SELECT {columns}, ingest_id FROM winners")
        # One hash lookup per row both selects the winners' rows and gives their seq.
        seq_of = winners.set_index("call_id")["seq"]
        turn_seq = logs.turns["call_id"].map(seq_of)
        turns = logs.turns[turn_seq.notna().to_numpy()]
        turns = turns.assign(seq=turn_seq.dropna().astype("int64").to_numpy())
        con.register("new_turns", _for_sql(turns))
        con.execute("INSERT INTO turns SELECT * FROM new_turns")
        problems = logs.problems.assign(ingest_id=ingest_id, pos=range(len(logs.problems)))
        keep = problems["call_id"].isna() | problems["call_id"].map(seq_of).notna()
        problems = problems[keep.to_numpy(bool)]
        con.register("new_problems", _for_sql(problems))
        # Problems of id-less records are kept once: the same one seen again is not new.
        con.execute("""INSERT INTO problems SELECT * FROM new_problems n
                       WHERE n.call_id IS NOT NULL OR NOT EXISTS (
                           SELECT 1 FROM problems p WHERE p.call_id IS NULL
                           AND p.field = n.field AND p.problem = n.problem
                           AND p.value IS NOT DISTINCT FROM n.value)""")
        stored_problems = con.execute("SELECT count(*) FROM problems WHERE ingest_id = ?",
                                      [ingest_id]).fetchall()[0][0]
        raw = raw[(raw["call_id"].isna() | raw["call_id"].map(seq_of).notna()).to_numpy(bool)]
        con.register("new_raw", _for_sql(raw.assign(ingest_id=ingest_id)))
        con.execute("""INSERT INTO raw_logs SELECT call_id, updated_at, ingest_id, raw
                       FROM new_raw n WHERE n.call_id IS NOT NULL OR NOT EXISTS (
                           SELECT 1 FROM raw_logs r WHERE r.call_id IS NULL AND r.raw = n.raw)""")
        counts = status.value_counts()
        result = IngestResult(int(ingest_id), len(records), int(counts.get("new", 0)),
                              int(counts.get("updated", 0)), int(counts.get("unchanged", 0)),
                              int(stored_problems))
        _log_sync(con, result, started, kind, source, workflow_id, None)
        logger.debug("ingest %d written, committing", ingest_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for view in ("incoming", "winners", "gone", "new_turns", "new_problems", "new_raw"):
            try:
                con.unregister(view)
            except duckdb.Error:
                pass
    logger.info("ingest %d: %s", result.ingest_id, result.summary())
    return result


def _log_sync(con, result: IngestResult | None, started, kind, source, workflow_id, error):
    if result is None:
        ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM syncs").fetchall()[0][0]
        values = [ingest_id, started, _now(), kind, workflow_id, source, 0, 0, 0, 0, 0, error]
    else:
        values = [result.ingest_id, started, _now(), kind, workflow_id, source, result.received,
                  result.new, result.updated, result.unchanged, result.problems, error]
    con.execute("INSERT INTO syncs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)


def _raw_of_kept(records: list, calls: pd.DataFrame) -> pd.DataFrame:
    """The raw JSON text of the record each kept call came from (plus id-less records)."""
    ids = pd.Series([r.get("id") for r in records], dtype="object").astype("string")
    stamps = pd.Series([r.get("updated_at") for r in records], dtype="object").astype("string")
    stamps = pd.to_datetime(stamps, format="ISO8601", utc=True, errors="coerce")
    frame = pd.DataFrame({"call_id": ids, "updated_at": stamps.astype(schema.UTC_TIME),
                          "pos": range(len(records))})
    kept = calls[["call_id", "updated_at"]].dropna(subset=["call_id"])
    # The kept copy is the last record with the winning (id, updated_at).
    chosen = frame.merge(kept, on=["call_id", "updated_at"], how="inner")
    chosen = chosen.drop_duplicates("call_id", keep="last")
    no_id = frame[frame["call_id"].isna()]
    chosen = pd.concat([chosen, no_id]).sort_values("pos")
    chosen["raw"] = [json.dumps(records[i], ensure_ascii=False) for i in chosen["pos"]]
    return chosen[["call_id", "updated_at", "raw"]]


def _for_sql(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table (DuckDB scans it without copying strings), with
    categoricals as plain text so that DuckDB stores VARCHAR, not an ENUM."""
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("string")
    return pa.Table.from_pandas(out, preserve_index=False)


# --- sync ----------------------------------------------------------------------------

def sync(workflow_ids: Iterable[str], db: str | os.PathLike | None = None, *,
         client=None) -> dict[str, IngestResult | Exception]:
    """Fetch each workflow's logs with the API client and ingest them.

    Each workflow is its own ingest (one transaction, one row of `syncs`). A workflow
    whose fetch fails is logged in `syncs` with its error; the others still go in.

    Args:
        workflow_ids: workflows to fetch.
        db: the store file.
        client: an object with `get_workflow_logs(workflow_id) -> list`; by default a
            `MalakaiClient` from the environment.

    Returns:
        workflow id -> IngestResult, or the exception its fetch raised.
    """
    own = client is None
    if own:
        from .client import MalakaiClient

        client = MalakaiClient()
    results: dict[str, IngestResult | Exception] = {}
    try:
        with connect(db) as con:
            for workflow_id in workflow_ids:
                started = _now()
                try:
                    logs = client.get_workflow_logs(workflow_id)
                except MalakaiError as error:
                    # INFO: the caller gets the error in the result (the CLI prints it).
                    logger.info("sync %s failed: %s", workflow_id, error)
                    _log_sync(con, None, started, "sync", "api", workflow_id, str(error))
                    results[workflow_id] = error
                    continue
                records, problems = read_records(list(logs))
                results[workflow_id] = _ingest_records(
                    con, records, problems, kind="sync", source="api", workflow_id=workflow_id)
    finally:
        if own:
            client.close()
    return results


# --- read back -----------------------------------------------------------------------

def load_store(db: str | os.PathLike | None = None, *, since: Any = None, until: Any = None,
               workflow_ids: Iterable[str] | None = None,
               agent_ids: Iterable[str] | None = None) -> CallLogs:
    """Read the stored calls back as CallLogs, with exactly the columns and dtypes of
    `load_logs`.

    Args:
        db: the store file.
        since, until: keep calls created in [since, until) (UTC).
        workflow_ids, agent_ids: keep only these.

    Returns:
        CallLogs(calls, turns, problems), calls in ingest order. Problems of records
        with no id are included only when no filter is given.
    """
    where, params = [], []
    for column, op, value in (("created_at", ">=", since), ("created_at", "<", until)):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(_utc(value).to_pydatetime())
    for column, values in (("workflow_id", workflow_ids), ("agent_id", agent_ids)):
        if values is not None:
            values = [values] if isinstance(values, str) else list(values)
            where.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
            params.append(values)
    condition = ("WHERE " + " AND ".join(where)) if where else ""
    columns = ", ".join(f'c."{c}"' for c in schema.CALLS)
    with connect(db, read_only=True) as con:
        con.execute(f"CREATE TEMP TABLE chosen AS SELECT call_id, seq FROM calls {condition}",
                    params)
        calls = _frame(con, f"SELECT {columns} FROM calls c JOIN chosen USING (call_id) "
                            "ORDER BY c.seq")
        turns = _frame(con, "SELECT t.* EXCLUDE (seq) FROM turns t JOIN chosen USING (call_id) "
                            "ORDER BY t.seq, t.turn")
        orphans = "OR p.call_id IS NULL" if not where else ""
        problems = _frame(
            con, "SELECT p.call_id, p.field, p.problem, p.value FROM problems p "
            f"WHERE p.call_id IN (SELECT call_id FROM chosen) {orphans} "
            "ORDER BY p.ingest_id, p.pos")
    return CallLogs(schema.conform(calls, "calls"), schema.conform(turns, "turns"),
                    schema.conform(problems, "problems"))


_ARROW_TO_PANDAS = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(),
                    pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(),
                    pa.float64(): pd.Float64Dtype()}


def _frame(con, query: str) -> pd.DataFrame:
    """A query's result through Arrow straight into the nullable dtypes of `schema`
    (4x faster than DuckDB's `.df()` followed by conversions, on 1 M turns)."""
    table = con.sql(query).to_arrow_table()
    return table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def sync_log(db: str | os.PathLike | None = None) -> pd.DataFrame:
    """The `syncs` table: one row per ingest or sync, oldest first.

    Returns:
        Columns ingest_id, started_at, finished_at, kind, workflow_id, source,
        received, new, updated, unchanged, problems, error.
    """
    with connect(db, read_only=True) as con:
        return con.execute("SELECT * FROM syncs ORDER BY ingest_id").df()


def changes(db: str | os.PathLike | None = None, *, since: int | Any = 0) -> pd.DataFrame:
    """Calls that are new or changed after a sync (an ingest id) or a time.

    Args:
        db: the store file.
        since: an ingest id (int: changes made by later ingests) or a time (changes
            ingested after it).

    Returns:
        One row per changed field: call_id, change ("new" or "updated"), field (NA for
        a new call), before, after (values as text), ingest_id (the ingest that made
        the change). `updated_at` itself is not listed as a field.
    """
    with connect(db, read_only=True) as con:
        if isinstance(since, int):
            since_id = since
        else:
            since_id = con.execute("SELECT coalesce(max(ingest_id), 0) FROM syncs "
                                   "WHERE finished_at <= ?",
                                   [_utc(since).to_pydatetime()]).fetchall()[0][0]
        history = con.execute(
            "SELECT * FROM call_history WHERE call_id IN "
            "(SELECT call_id FROM call_history WHERE ingest_id > ?) ORDER BY ingest_id",
            [since_id]).df()
    columns = ["call_id", "change", "field", "before", "after", "ingest_id"]
    if history.empty:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "ingest_id" else "string")
                             for c in columns})
    after = history.drop_duplicates("call_id", keep="last").set_index("call_id")
    before = history[history["ingest_id"] <= since_id].drop_duplicates("call_id", keep="last")
    before = before.set_index("call_id")
    fields = [c for c in schema.CALLS if c not in ("call_id", "updated_at")]
    new_ids = after.index.difference(before.index)
    rows = [pd.DataFrame({"call_id": new_ids, "change": "new", "field": pd.NA, "before": pd.NA,
                          "after": pd.NA, "ingest_id": after.loc[new_ids, "ingest_id"].to_numpy()})]
    common = after.index.intersection(before.index)
    for field in fields:
        old = before.loc[common, field].astype("string")
        new = after.loc[common, field].astype("string")
        differs = ~((old == new).fillna(False) | (old.isna() & new.isna()))
        if differs.any():
            ids = common[differs.to_numpy()]
            rows.append(pd.DataFrame({
                "call_id": ids, "change": "updated", "field": field,
                "before": old[differs].to_numpy(), "after": new[differs].to_numpy(),
                "ingest_id": after.loc[ids, "ingest_id"].to_numpy()}))
    table = pd.concat(rows, ignore_index=True)
    table = table.astype({c: "string" for c in columns[:-1]} | {"ingest_id": "Int64"})
    return table.sort_values(["ingest_id", "call_id", "field"], kind="stable",
                             na_position="first").reset_index(drop=True)


# --- export --------------------------------------------------------------------------

def export(out: str | os.PathLike, db: str | os.PathLike | None = None, *,
           fmt: str = "parquet") -> list[Path]:
    """Write calls and turns partitioned by call month, plus a data dictionary.

    The output is plain Parquet (or CSV) in hive layout (`calls/month=2025-07/...`),
    readable by DuckDB, pandas/pyarrow and Spark-style engines without this package.

    Args:
        out: folder to write (created; existing files of the same names are replaced).
        db: the store file.
        fmt: "parquet" or "csv".

    Returns:
        The files written.
    """
    if fmt not in ("parquet", "csv"):
        raise StoreError(f"export format must be parquet or csv, not {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    options = "FORMAT PARQUET" if fmt == "parquet" else "FORMAT CSV, HEADER"
    month = "coalesce(strftime(created_at AT TIME ZONE 'UTC', '%Y-%m'), 'unknown')"
    calls_columns = ", ".join(f'"{c}"' for c in schema.CALLS)
    turn_columns = ", ".join(f't."{c}"' for c in schema.TURNS)
    with connect(db, read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"COPY (SELECT {calls_columns}, {month} AS month FROM calls ORDER BY seq) "
            f"TO '{_sql_path(out / 'calls')}' ({options}, PARTITION_BY (month), "
            "OVERWRITE_OR_IGNORE)")
        con.execute(
            f"COPY (SELECT {turn_columns}, {month.replace('created_at', 'c.created_at')} AS month "
            "FROM turns t JOIN calls c USING (call_id) ORDER BY t.seq, t.turn) "
            f"TO '{_sql_path(out / 'turns')}' ({options}, PARTITION_BY (month), "
            "OVERWRITE_OR_IGNORE)")
    dictionary = data_dictionary()
    dictionary.to_csv(out / "data_dictionary.csv", index=False)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    logger.info("exported %d files to %s", len(files), out)
    return files


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def data_dictionary() -> pd.DataFrame:
    """Every column of calls and turns: table, column, dtype, meaning."""
    rows = [(table, column, str(dtype) if column not in ("sentiment", "role") else "category",
             schema.DESCRIPTIONS[table][column])
            for table in ("calls", "turns") for column, dtype in schema.TABLES[table].items()]
    rows += [(table, "month", "string", "Partition key: the call's created_at month (UTC), "
              "YYYY-MM") for table in ("calls", "turns")]
    return pd.DataFrame(rows, columns=["table", "column", "dtype", "meaning"])
