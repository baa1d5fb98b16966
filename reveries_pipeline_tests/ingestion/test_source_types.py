"""Every source type is captured faithfully: an exact Arrow type, or the exact text COPY gives."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reveries_pipeline.ingestion.change_capture import capture_changes
from reveries_pipeline.ingestion.checkpoints import Checkpoint
from reveries_pipeline.ingestion.source_schema import arrow_type

LU = datetime(2024, 11, 3, 14, 20, 11, 123000)
TEXT_COLUMNS = ("n", "n50", "j", "u", "a", "iv", "t", "b", "m", "bits")


@pytest.fixture
def exotic_source(totesys_dsn):
    with psycopg.connect(totesys_dsn) as conn:
        conn.execute("CREATE DOMAIN price AS numeric(8,3)")
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
        conn.execute(
            "CREATE TABLE exotic (exotic_id serial PRIMARY KEY, last_updated timestamp(3) NOT NULL, n numeric,"
            " n50 numeric(50,2), d numeric(38,10), j json, u uuid, a int[], iv interval, tz timestamptz(3),"
            " t time, b bytea, m money, bits bit(3), r real, f double precision, dom price, e mood,"
            " vc varchar(5), ts6 timestamp)"
        )
        conn.execute(
            "INSERT INTO exotic (last_updated, n, n50, d, j, u, a, iv, tz, t, b, m, bits, r, f, dom, e, vc, ts6)"
            " VALUES (%s, 0.1000000000000000000000000000001, 123456789012345678901234567890123456789012345.67,"
            ' 1234567890123456789012345678.0123456789, \'{"k": [1, "x,y"]}\','
            " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', '1 year 2 mons 03:04:05.678',"
            " '2024-11-03 16:20:11.123+02', '23:59:59.999999', '\\x00ff', 12.34, B'101', 0.1, 0.1,"
            " 12345.678, 'busy', 'héllo', '2024-11-03 14:20:11.123456')",
            (LU,),
        )
        conn.execute("INSERT INTO exotic (last_updated, vc, j) VALUES (%s, '', '\"\"')", (LU,))  # nulls, ''
    return totesys_dsn


def test_every_type_is_captured_exactly(exotic_source, tmp_path):
    with psycopg.connect(exotic_source) as conn:
        expected = conn.execute(
            f"SELECT {', '.join(f'{c}::text' for c in TEXT_COLUMNS)}, r, f FROM exotic ORDER BY exotic_id"
        ).fetchall()
    with psycopg.connect(exotic_source) as conn:
        conn.read_only = True
        result = capture_changes(conn, "exotic", Checkpoint("exotic"), tmp_path / "exotic.parquet")
    assert result.rows == 2
    table = pq.read_table(result.spool_path)
    rows = sorted(table.to_pylist(), key=lambda r: r["exotic_id"])

    for row, want in zip(rows, expected, strict=True):
        assert tuple(row[c] for c in TEXT_COLUMNS) == want[: len(TEXT_COLUMNS)]  # the exact text
        assert row["f"] == want[-1]  # double precision: the same double
        assert row["r"] == (None if want[-2] is None else pytest.approx(want[-2], rel=1e-7))  # real: float32
    first = rows[0]
    assert first["d"] == Decimal("1234567890123456789012345678.0123456789")
    assert first["dom"] == Decimal("12345.678")  # a domain is read as its base type
    assert first["tz"] == datetime(2024, 11, 3, 14, 20, 11, 123000, tzinfo=UTC)
    assert first["ts6"] == datetime(2024, 11, 3, 14, 20, 11, 123456)  # microseconds kept
    assert (first["e"], first["vc"]) == ("busy", "héllo")
    assert (rows[1]["vc"], rows[1]["j"], rows[1]["n"]) == ("", '""', None)  # '' and NULL stay apart

    schema = table.schema
    assert schema.field("d").type == pa.decimal128(38, 10) and schema.field("ts6").type == pa.timestamp("us")
    assert schema.field("dom").metadata[b"postgres_type"] == b"price"
    assert schema.field("n").metadata[b"type_family"] == b"decimal"


@pytest.mark.parametrize(
    ("pg_type", "expected"),
    [
        ("numeric", pa.string()),
        ("numeric(12,2)", pa.decimal128(12, 2)),
        ("numeric(39,2)", pa.string()),
        ("numeric(3,-2)", pa.string()),
        ("character varying", pa.string()),
        ("character(1)", pa.string()),
        ("timestamp(3) without time zone", pa.timestamp("ms")),
        ("timestamp(6) with time zone", pa.timestamp("us", tz="UTC")),
        ("interval", pa.string()),
        ("jsonb[]", pa.string()),
    ],
)
def test_type_mapping(pg_type, expected):
    assert arrow_type(pg_type)[0] == expected
