"""Warehouse asset checks: reconciliation against the source, orphan keys, current tables true to the history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue
from psycopg import sql

from reveries_pipeline.asset_keys import warehouse_key
from reveries_pipeline.catalog import FACT_TABLES, FOREIGN_KEYS, STAR_TABLES
from reveries_pipeline.warehouse import count_cache, reporting
from reveries_pipeline.warehouse.schema import DELETED_ROWS_TABLE, FACT_VERSION_KEY, RECORD_ID

# warehouse table -> the source table whose row count it reconciles with
RECONCILED: dict[str, str] = {t: s.reconciled_with for t, s in STAR_TABLES.items() if s.reconciled_with}


def check_specs() -> list[AssetCheckSpec]:
    specs = [
        AssetCheckSpec(
            "reconciles_with_source",
            asset=warehouse_key(t),
            description=f"Current natural ids / rows not marked deleted equal the source `{src}` (warns: a "
            "live source moves).",
        )
        for t, src in RECONCILED.items()
    ]
    for fact in FACT_TABLES:
        specs.append(AssetCheckSpec("no_orphan_keys", asset=warehouse_key(fact), description="Every key resolves."))
        specs.append(
            AssetCheckSpec(
                "current_matches_history",
                asset=warehouse_key(fact),
                description=f"`{fact}_current` holds the newest version, not marked deleted, of each id the load "
                "touched, as recomputed from the history.",
            )
        )
        specs.append(
            AssetCheckSpec(
                "fx_rate_for_every_created_date",
                asset=warehouse_key(fact),
                description="Every (currency, created date) of a current row has an FX rate, so the reporting "
                "currency totals leave nothing out (warns: the newest day's rates arrive the next night).",
            )
        )
    return specs


def evaluate_checks(
    wh_conn, since_record_ids: Mapping[str, int], live_rows: Mapping[str, int], source_rows: Mapping[str, int]
) -> Iterator[AssetCheckResult]:
    """Every check, after a load: the fact checks look only at record ids above `since_record_ids`;
    the reconciliation compares `live_rows` (the load's kept counts) with `source_rows` (source_row_counts)."""
    for table in RECONCILED:
        yield reconciliation(wh_conn, None, table, live_rows[table], source_rows[table])
    for fact in FACT_TABLES:
        yield orphan_keys(wh_conn, fact)
        if since_record_ids[fact] == 0:  # the fact was empty: the loader recomputed `_current` whole
            yield _recomputed_whole(fact)
        else:
            yield current_matches_history(wh_conn, fact, since_record_ids[fact])
        yield fx_rate_coverage(wh_conn, fact)


def _count(conn, query: sql.Composable) -> int:
    return conn.execute(query).fetchone()[0]


def _live_rows(table: str) -> sql.Composed:
    """How many rows of `table` the source should still have: a fact's ids in its _current view (a
    deleted id is hidden there), a dimension's rows without a deletion marker."""
    if table in FACT_VERSION_KEY:  # _current's primary key is the natural id: one row per id, no DISTINCT
        return sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(f"{table}_current"))
    key = sql.Identifier(STAR_TABLES[table].natural_id)
    return sql.SQL(
        "SELECT count(*) FROM {table} AS t WHERE NOT EXISTS "
        "(SELECT 1 FROM {markers} AS d WHERE d.star_table = {name} AND d.natural_id = t.{key})"
    ).format(table=sql.Identifier(table), markers=sql.Identifier(DELETED_ROWS_TABLE), name=sql.Literal(table), key=key)


def live_rows_measure(table: str) -> count_cache.Measure:
    """The reconciled count of `table` as a kept count: stamped by the tables it reads; a fact's is
    tracked by its pre-aggregate by created date, whose row_count sums to its _current rows."""
    if table not in FACT_VERSION_KEY:
        return count_cache.Measure(f"live:{table}", _live_rows(table), (table, DELETED_ROWS_TABLE))
    tracker = sql.SQL("SELECT coalesce(sum(row_count), 0) FROM {}").format(
        sql.Identifier(reporting.BY_CREATED_DATE[table])
    )
    return count_cache.Measure(f"live:{table}", _live_rows(table), (f"{table}_current",), tracker)


def source_row_counts(src_conn) -> dict[str, int]:
    """Per reconciled table, its source table's rows: the one count no summary can give (the source is
    live and not ours), so the load runs it beside its own work."""
    return {table: _count(src_conn, _source_rows(table)) for table in RECONCILED}


def _source_rows(table: str) -> sql.Composed:
    return sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(RECONCILED[table]))


def reconciliation(
    wh_conn, src_conn, table: str, ours: int | None = None, theirs: int | None = None
) -> AssetCheckResult:
    """The warehouse's live rows (`ours`, else counted now) against the source table's rows (`theirs`,
    else counted now)."""
    if ours is None:
        ours = _count(wh_conn, _live_rows(table))
    if theirs is None:
        theirs = _count(src_conn, _source_rows(table))
    return AssetCheckResult(
        asset_key=warehouse_key(table),
        check_name="reconciles_with_source",
        passed=ours == theirs,
        severity=AssetCheckSeverity.WARN,
        metadata={"warehouse": MetadataValue.int(ours), "source": MetadataValue.int(theirs)},
    )


def max_record_ids(conn) -> dict[str, int]:
    """The highest record id per fact: checks after a load look only at rows above it."""
    return {
        fact: _count(
            conn,
            sql.SQL("SELECT coalesce(max({}), 0) FROM {}").format(
                sql.Identifier(RECORD_ID[fact]), sql.Identifier(fact)
            ),
        )
        for fact in FACT_TABLES
    }


def _wrote_since(conn, fact: str, since_record_id: int) -> bool:
    """Whether any version was written above `since_record_id`: one probe of the record-id index, so
    a load that added nothing costs the checks over its rows nothing (their scope is empty)."""
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} > %s)").format(
        sql.Identifier(fact), sql.Identifier(RECORD_ID[fact])
    )
    return conn.execute(query, (since_record_id,)).fetchone()[0]


def _enforced_by_foreign_keys(conn, fact: str) -> bool:
    """Whether every reference of the fact has its foreign-key constraint, validated: PostgreSQL then
    holds every row to it (those inserted with the constraint in place were checked by its trigger,
    those inserted while the loader had it dropped when it was re-added)."""
    expected = sum(1 for fk in FOREIGN_KEYS if fk.table == fact)
    validated = _count(
        conn,
        sql.SQL(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass({}) AND contype = 'f' AND convalidated"
        ).format(sql.Literal(fact)),
    )
    return validated >= expected


def orphan_keys(conn, fact: str) -> AssetCheckResult:
    """Fact rows whose keys miss their dimension, in one pass per fact.

    While the fact table has all its foreign-key constraints, validated, PostgreSQL already guarantees
    there are none, and nothing is read (an initial load of 48 M rows would otherwise sweep them all
    again). Without them (a warehouse built without constraints, one dropped by hand, or one added
    NOT VALID) the whole table is swept."""
    fks = [(fk.column, fk.references, fk.referenced_column) for fk in FOREIGN_KEYS if fk.table == fact]
    enforced = _enforced_by_foreign_keys(conn, fact)
    row = [0] * len(fks) if enforced else _orphan_counts(conn, fact, fks)
    orphans = {f"{column} -> {dim}": n for (column, dim, _), n in zip(fks, row, strict=True) if n}
    return AssetCheckResult(
        asset_key=warehouse_key(fact),
        check_name="no_orphan_keys",
        passed=not orphans,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "orphans": MetadataValue.json(orphans),
            "scope": MetadataValue.text("none: enforced by validated foreign keys" if enforced else "whole table"),
        },
    )


def _orphan_counts(conn, fact: str, fks: list[tuple[str, str, str]]) -> tuple[int, ...]:
    """Per foreign key, the fact rows whose key has no dimension row."""
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE f.{c} IS NOT NULL AND {a}.{dc} IS NULL)").format(
            c=sql.Identifier(column), a=sql.Identifier(f"d{i}"), dc=sql.Identifier(dim_column)
        )
        for i, (column, _dim, dim_column) in enumerate(fks)
    )
    joins = sql.SQL(" ").join(
        sql.SQL("LEFT JOIN {d} {a} ON {a}.{dc} = f.{c}").format(
            d=sql.Identifier(dim), a=sql.Identifier(f"d{i}"), dc=sql.Identifier(dim_column), c=sql.Identifier(column)
        )
        for i, (column, dim, dim_column) in enumerate(fks)
    )
    return conn.execute(
        sql.SQL("SELECT {counts} FROM {fact} f {joins}").format(counts=counts, fact=sql.Identifier(fact), joins=joins)
    ).fetchone()


def current_matches_history(conn, fact: str, since_record_id: int = 0) -> AssetCheckResult:
    """`<fact>_current` holds exactly the newest unmarked version of each id this load touched (every id
    after a first load), as recomputed from the fact's history: the loader keeps it by difference."""
    current = sql.Identifier(f"{fact}_current")
    if since_record_id and not _wrote_since(conn, fact, since_record_id):
        return _current_result(fact, 0, 0)  # no id touched: nothing to compare, and nothing read
    if since_record_id == 0:
        restrict = sql.SQL("")
        shown = sql.SQL("SELECT * FROM {}").format(current)
    else:
        spec = STAR_TABLES[fact]
        touched = reporting.ids_written_since(fact, since_record_id)
        restrict = sql.SQL("WHERE f.{id} IN ({touched})").format(id=sql.Identifier(spec.natural_id), touched=touched)
        shown = sql.SQL("SELECT * FROM {current} WHERE {id} IN ({touched})").format(
            current=current, id=sql.Identifier(spec.natural_id), touched=touched
        )
    expected = reporting.newest_versions(fact, restrict)
    extra, missing = conn.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM ({shown} EXCEPT ALL {expected}) AS x),"
            " (SELECT count(*) FROM ({expected} EXCEPT ALL {shown}) AS y)"
        ).format(shown=shown, expected=expected)
    ).fetchone()
    return _current_result(fact, extra, missing)


def _current_result(fact: str, extra: int, missing: int) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=warehouse_key(fact),
        check_name="current_matches_history",
        passed=extra == missing == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"rows_not_current": MetadataValue.int(extra), "current_rows_missing": MetadataValue.int(missing)},
    )


def _recomputed_whole(fact: str) -> AssetCheckResult:
    """After a first load or a rebuild, `_current` was computed by the very query the check would
    compare it with: comparing 1 M rows with themselves proves nothing, so the check says so instead."""
    return AssetCheckResult(
        asset_key=warehouse_key(fact),
        check_name="current_matches_history",
        passed=True,
        severity=AssetCheckSeverity.ERROR,
        metadata={"scope": MetadataValue.text("recomputed whole by this load (the fact was empty before)")},
    )


def fx_rate_coverage(conn, fact: str) -> AssetCheckResult:
    """The (created date, currency) pairs of `fact`'s current rows without a rate: read from the
    pre-aggregate by created date (one row per day and currency), never from the history."""
    missing = reporting.created_dates_without_rate(conn, fact)
    metadata = {"pairs_without_rate": MetadataValue.int(len(missing))}
    if missing:
        first, last = missing[0][0], missing[-1][0]
        metadata["first_missing"] = MetadataValue.json([f"{day} {code}" for day, code in missing[:10]])
        metadata["fix"] = MetadataValue.text(
            "dagster asset materialize -m reveries_pipeline.definitions --select reference/fx_rates "
            f"--partition-range {first}...{last}"
        )
    return AssetCheckResult(
        asset_key=warehouse_key(fact),
        check_name="fx_rate_for_every_created_date",
        passed=not missing,
        severity=AssetCheckSeverity.WARN,
        metadata=metadata,
    )
