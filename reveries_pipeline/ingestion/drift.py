"""Schema drift in a source table: which changes stop its capture, and which are only reported.

A column the star schema reads (catalog.SOURCE_TABLES) that is dropped, or retyped outside its type
family, stops that table alone: capturing it would hand processing batches it can't model. Anything
else (a new column, a widened type, a dropped or retyped column nobody reads) keeps flowing, and is
recorded in the batch's schema metadata.
"""

from __future__ import annotations

from collections.abc import Mapping

from reveries_pipeline.catalog import SOURCE_TABLES, TypeFamily
from reveries_pipeline.ingestion.source_schema import SourceTable

_AS = {
    TypeFamily.INTEGER: "an integer",
    TypeFamily.DECIMAL: "a decimal",
    TypeFamily.TEXT: "text",
    TypeFamily.TIMESTAMP: "a timestamp without time zone",
    TypeFamily.BOOLEAN: "a boolean",
    TypeFamily.DATE: "a date",
}


class SchemaDriftError(Exception):
    """A source table changed in a way the star schema can't absorb. Permanent: retrying won't help."""


def required_columns(source: SourceTable) -> Mapping[str, TypeFamily]:
    spec = SOURCE_TABLES.get(source.name)
    if spec is not None:
        return spec.star_columns
    # not modelled downstream: capture itself still needs an integer key and the change timestamp
    return {source.primary_key: TypeFamily.INTEGER, "last_updated": TypeFamily.TIMESTAMP}


def check_star_columns(source: SourceTable, recorded: Mapping[str, str] | None) -> None:
    """Raise SchemaDriftError naming every needed column that was dropped or retyped.

    The old type is the one recorded at the table's last capture or, if none was, the family the
    star schema expects.
    """
    problems = []
    for name, family in required_columns(source).items():
        old = (recorded or {}).get(name) or family.value
        column = source.column(name)
        if column is None:
            problems.append(f"column {name} was dropped (was {old})")
        elif column.family != family:
            problems.append(
                f"column {name} changed type from {old} to {column.pg_type}; the star schema reads it as {_AS[family]}"
            )
    if problems:
        raise SchemaDriftError(f"raw/{source.name}: " + "; ".join(problems))


def describe_changes(source: SourceTable, recorded: Mapping[str, str] | None) -> list[str]:
    """Changes since the last capture, for the run's log and metadata (empty on the first capture)."""
    if not recorded:
        return []
    now = source.pg_types
    changes = [f"added {name} {pg_type}" for name, pg_type in now.items() if name not in recorded]
    changes += [f"dropped {name} (was {pg_type})" for name, pg_type in recorded.items() if name not in now]
    changes += [
        f"{name} changed type from {recorded[name]} to {pg_type}"
        for name, pg_type in now.items()
        if name in recorded and recorded[name] != pg_type
    ]
    return changes
