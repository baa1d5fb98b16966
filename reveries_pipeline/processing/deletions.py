"""Change rows that remove source rows: replays dropped, deletes turned into deletion markers.

Before a pass validates anything, each raw table's rows (in change order) are:

1. de-duplicated by change: a row whose (`_commit_lsn`, `_change_seq`) appeared earlier in the pass
   is a replay and is dropped (the first one stays). Rows without them (poll batches) are never
   de-duplicated this way;
2. split by `_op`: `delete` and `truncate` rows are taken out (a delete carries nulls validation
   would reject); every other row (`_op` null, `snapshot`, `insert`, `update`) is modelled as before.

A delete becomes a deletion marker (catalog.DELETED_ROWS): the star table whose primary source the
table is, the row's primary key as natural id, and the deleted version (its `last_updated`). A
table without a star table of its own (department) makes no marker. A delete that names no version
(a null key or `last_updated`) is rejected, and so is a truncate: Reveries does not expand one into
markers, so it is reported in `_rejects` (naming the table) rather than silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import DELETED_ROWS, star_table_marked_by
from reveries_pipeline.ingestion.logical.columns import CHANGE_SEQ, COMMIT_LSN, COMMIT_TIME, OP, Op
from reveries_pipeline.processing.raw_schemas import PRIMARY_KEY, SOURCE_KEY, raw_frame
from reveries_pipeline.processing.schemas import DELETED_ROWS_SCHEMA
from reveries_pipeline.processing.validation import reject_rows

_REMOVALS = [Op.DELETE.value, Op.TRUNCATE.value]
# A raw batch key ends in its write time (lake/object_names.py): when a poll delete was found.
_KEY_TIME = r"-(\d{8}T\d{9})Z\.parquet$"


@dataclass
class SplitChanges:
    """A pass's deletes and truncates, taken out of each raw table in turn (`take_out`)."""

    markers: list[pl.DataFrame] = field(default_factory=list)  # per table with deletes, in change order
    rejects: list[pl.DataFrame] = field(default_factory=list)

    def take_out(self, table: str, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (a raw table's rows, in change order) without replays, deletes and truncates;
        those become deletion markers or rejects here."""
        rows = without_replays(raw_frame(table, frame))
        removal = pl.col(OP).is_in(_REMOVALS).fill_null(False)
        removed = rows.filter(removal)
        if removed.height:
            self.rejects.append(_removal_rejects(table, removed))
            named = pl.col(PRIMARY_KEY[table]).is_not_null() & pl.col("last_updated").is_not_null()
            self.markers.append(_markers(table, removed.filter((pl.col(OP) == Op.DELETE.value) & named)))
        return rows.filter(~removal)

    def deletion_markers(self) -> pl.DataFrame:
        """Every table's markers, each once (the first wins)."""
        if not self.markers:
            return pl.DataFrame(schema=DELETED_ROWS_SCHEMA)
        return pl.concat(self.markers).unique(subset=list(DELETED_ROWS.key), keep="first", maintain_order=True)


def without_replays(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without the changes seen earlier in it (same `_commit_lsn`, `_change_seq`)."""
    positioned = pl.col(COMMIT_LSN).is_not_null() & pl.col(CHANGE_SEQ).is_not_null()
    return frame.filter(~positioned | pl.struct(COMMIT_LSN, CHANGE_SEQ).is_first_distinct())


def _deleted_at() -> pl.Expr:
    """The commit time of a logical delete; for a poll delete, when its batch was written."""
    found = pl.col(SOURCE_KEY).str.extract(_KEY_TIME).str.to_datetime("%Y%m%dT%H%M%S%3f", time_unit="us", strict=False)
    return pl.coalesce(pl.col(COMMIT_TIME), found)


def _markers(table: str, deletes: pl.DataFrame) -> pl.DataFrame:
    star_table = star_table_marked_by(table)
    if star_table is None or deletes.height == 0:
        return pl.DataFrame(schema=DELETED_ROWS_SCHEMA)
    natural_id, version_date, version_time = DELETED_ROWS.key[1:]
    return deletes.select(
        pl.lit(star_table, dtype=pl.String).alias(DELETED_ROWS.key[0]),
        pl.col(PRIMARY_KEY[table]).alias(natural_id),
        pl.col("last_updated").dt.date().alias(version_date),
        pl.col("last_updated").dt.time().alias(version_time),
        _deleted_at().alias(DELETED_ROWS.deleted_at),
    ).cast(dict(DELETED_ROWS_SCHEMA))


def _removal_rejects(table: str, removed: pl.DataFrame) -> pl.DataFrame:
    """Truncates, and deletes that name no version."""
    unnamed = pl.col(PRIMARY_KEY[table]).is_null() | pl.col("last_updated").is_null()
    truncate = pl.col(OP) == Op.TRUNCATE.value
    reason = (
        pl.when(truncate)
        .then(
            pl.lit(
                f"truncate: every {table} row was removed at the source; a truncate is not expanded into "
                "deletion markers, so the rows it removed stay current in the warehouse"
            )
        )
        .otherwise(pl.lit(f"delete: names no version ({PRIMARY_KEY[table]} or last_updated is null)"))
    )
    return reject_rows(table, removed.filter(truncate | unnamed), reason)
