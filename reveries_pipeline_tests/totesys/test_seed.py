"""seed_totesys against a real PostgreSQL: the profile of the real snapshot, FKs, sequences, and the same
bytes through either load path (the generator alone: test_generator.py)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from reveries_pipeline.totesys import seed as seed_mod
from reveries_pipeline.totesys.dimension_rows import staff_email
from reveries_pipeline.totesys.generator import table_sizes
from reveries_pipeline.totesys.schema import TOTESYS_TABLES
from reveries_pipeline.totesys.seed import seed_totesys
from reveries_pipeline.totesys.vocabulary import DESIGN_WORDS

ORDERS = ("sales_order", "purchase_order")


@pytest.fixture(scope="module")
def module_db(pg_server, pg_admin_uri):
    """A factory of databases that live for the module."""
    names: list[str] = []

    def make() -> str:
        name = f"t_seed_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        names.append(name)
        return pg_server.get_uri(name)

    yield make
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def seeded(module_db):
    dsn = module_db()
    calls: list[tuple[str, int, int]] = []
    counts = seed_totesys(dsn, scale=1.0, seed=42, progress=lambda t, d, n: calls.append((t, d, n)))
    return dsn, counts, calls


@pytest.fixture(scope="module")
def conn(seeded):
    with psycopg.connect(seeded[0], autocommit=True) as c:
        yield c


def one(conn, query: str, params=None):
    return conn.execute(query, params).fetchone()[0]


def fingerprint(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as c:
        return {
            t: c.execute(
                sql.SQL("SELECT md5(string_agg(x::text, '|' ORDER BY {pk})) FROM {t} x").format(
                    pk=sql.Identifier(f"{t}_id"), t=sql.Identifier(t)
                )
            ).fetchone()[0]
            for t in TOTESYS_TABLES
        }


# ------------------------------------------------------------------------------------------- counts


def test_counts_match_the_profile(seeded, conn):
    _, counts, _ = seeded
    actual = {t: one(conn, f'SELECT count(*) FROM "{t}"') for t in TOTESYS_TABLES}
    assert actual == counts == table_sizes(1.0)
    assert counts["currency"] == 3 and counts["department"] == 8 and counts["payment_type"] == 4
    assert counts["address"] == 30 and counts["counterparty"] == 20 and counts["staff"] == 20
    assert 400 <= counts["design"] <= 550
    assert 10_000 <= counts["sales_order"] <= 12_500
    assert 4_000 <= counts["purchase_order"] <= 5_200
    assert counts["transaction"] == counts["payment"] == counts["sales_order"] + counts["purchase_order"]


def test_progress_reports_every_table(seeded):
    _, counts, calls = seeded
    finals = {t: (d, n) for t, d, n in calls if d == n}
    assert finals == {t: (counts[t], counts[t]) for t in TOTESYS_TABLES}
    assert all(0 <= d <= n for _, d, n in calls)


def test_sequences_continue_after_the_data(conn):
    with conn.transaction(force_rollback=True):
        for t in TOTESYS_TABLES:
            n = one(conn, f'SELECT max("{t}_id") FROM "{t}"')
            assert one(conn, "SELECT nextval(pg_get_serial_sequence(%s, %s))", (t, f"{t}_id")) == n + 1


def test_every_foreign_key_holds(conn):
    fks = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, pa.attname"
        " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    assert len(fks) == 17
    for child, col, parent, pcol in fks:
        orphans = one(
            conn,
            sql.SQL(
                "SELECT count(*) FROM {c} x WHERE x.{col} IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM {p} y WHERE y.{pcol} = x.{col})"
            ).format(
                c=sql.Identifier(child), col=sql.Identifier(col), p=sql.Identifier(parent), pcol=sql.Identifier(pcol)
            ),
        )
        assert orphans == 0, (child, col)


# ------------------------------------------------------------------------------------------- dimensions


def test_fixed_dimensions(conn):
    assert conn.execute("SELECT currency_id, currency_code FROM currency ORDER BY 1").fetchall() == [
        (1, "GBP"),
        (2, "USD"),
        (3, "EUR"),
    ]
    types = conn.execute("SELECT payment_type_id, payment_type_name::text FROM payment_type ORDER BY 1")
    assert types.fetchall() == [
        (1, "SALES_RECEIPT"),
        (2, "SALES_REFUND"),
        (3, "PURCHASE_PAYMENT"),
        (4, "PURCHASE_REFUND"),
    ]
    deps = conn.execute("SELECT department_name, location, manager FROM department ORDER BY 1").fetchall()
    assert sorted(d[0] for d in deps) == sorted(
        ["Sales", "Purchasing", "Production", "Dispatch", "Finance", "Facilities", "Communications", "HR"]
    )
    assert {d[1] for d in deps} == {"Manchester", "Leeds"}
    assert all(len(d[2].split()) >= 2 for d in deps)


def test_addresses(conn):
    assert one(conn, r"SELECT count(*) FROM address WHERE phone !~ '^\d{4} \d{6}$'") == 0
    line2_null = one(conn, "SELECT avg((address_line_2 IS NULL)::int) FROM address")
    district_null = one(conn, "SELECT avg((district IS NULL)::int) FROM address")
    assert 0.45 <= line2_null <= 0.85
    assert 0.25 <= district_null <= 0.75
    assert (
        one(
            conn,
            r"SELECT count(*) FROM address"
            r" WHERE address_line_1 !~ '^\d+ [A-Z][a-z]+ [A-Z][a-z]+$'",
        )
        == 0
    )
    assert one(conn, "SELECT count(DISTINCT city) FROM address") >= 10
    assert one(conn, "SELECT count(DISTINCT country) FROM address") >= 8


def test_counterparties(conn):
    n, distinct_addr = conn.execute("SELECT count(*), count(DISTINCT legal_address_id) FROM counterparty").fetchone()
    assert distinct_addr < n  # several share one legal address
    assert one(conn, "SELECT count(DISTINCT counterparty_legal_name) FROM counterparty") == n
    assert (
        one(
            conn,
            "SELECT count(*) FROM counterparty WHERE commercial_contact !~ '^\\S+ \\S+$'"
            " OR delivery_contact !~ '^\\S+ \\S+$'",
        )
        == 0
    )


def test_staff_emails(conn):
    rows = conn.execute("SELECT first_name, last_name, email_address FROM staff").fetchall()
    for first, last, email in rows:
        assert email == f"{first}.{last}@terrifictotes.com".lower().replace("'", "")
    assert (
        one(
            conn,
            r"SELECT count(*) FROM staff"
            r" WHERE email_address !~ '^[a-z]+\.[a-z]+@terrifictotes\.com$'",
        )
        == 0
    )
    assert len({(f, la) for f, la, _ in rows}) == len(rows)
    assert staff_email("Jeremie", "O'Keefe") == "jeremie.okeefe@terrifictotes.com"


def test_designs(conn):
    words = one(conn, "SELECT array_agg(DISTINCT design_name) FROM design")
    assert set(words) == set(DESIGN_WORDS)
    assert (
        one(
            conn,
            r"SELECT count(*) FROM design WHERE file_name !~ '^[a-z]+-\d{8}-[a-z]{4}\.json$'"
            " OR split_part(file_name, '-', 1) <> lower(design_name)",
        )
        == 0
    )
    assert (
        one(conn, "SELECT count(*) FROM design WHERE to_date(split_part(file_name, '-', 2), 'YYYYMMDD') IS NULL") == 0
    )
    assert one(conn, "SELECT count(*) FROM design WHERE file_location !~ '^/[A-Za-z]'") == 0
    assert one(conn, "SELECT count(DISTINCT file_location) FROM design") >= 10
    # The catalogue keeps growing, and orders only use designs that already exist.
    assert one(conn, "SELECT count(DISTINCT created_at::date) FROM design") > 100
    assert (
        one(
            conn, "SELECT count(*) FROM sales_order s JOIN design d USING (design_id) WHERE d.created_at > s.created_at"
        )
        == 0
    )


# ------------------------------------------------------------------------------------------- orders


def test_sales_orders(conn):
    lo_u, hi_u, lo_p, hi_p, scale = conn.execute(
        "SELECT min(units_sold), max(units_sold), min(unit_price), max(unit_price), max(scale(unit_price))"
        " FROM sales_order"
    ).fetchone()
    assert 1_000 <= lo_u < 5_000 and 95_000 < hi_u <= 100_000
    assert 2 <= lo_p < 2.1 and 3.9 < hi_p <= 4 and scale == 2
    first, last = conn.execute("SELECT min(created_at), max(created_at) FROM sales_order").fetchone()
    assert first.date().isoformat() == "2022-11-03"
    assert "2024-11-01" <= last.date().isoformat() <= "2024-11-15"
    per_day = one(conn, "SELECT count(*)::float / (max(created_at)::date - min(created_at)::date + 1) FROM sales_order")
    assert 10 <= per_day <= 25


def test_purchase_orders(conn):
    assert one(conn, "SELECT count(*) FROM purchase_order WHERE item_code !~ '^[A-Z0-9]{7}$'") == 0
    lo_q, hi_q, lo_p, hi_p = conn.execute(
        "SELECT min(item_quantity), max(item_quantity), min(item_unit_price), max(item_unit_price) FROM purchase_order"
    ).fetchone()
    assert 1 <= lo_q < 10 and 990 < hi_q <= 999
    assert 3 <= lo_p < 10 and 990 < hi_p <= 1000


@pytest.mark.parametrize("table", ORDERS)
def test_order_dates_and_timestamps(conn, table):
    t = sql.Identifier(table)
    bad_format = one(
        conn,
        sql.SQL(
            r"SELECT count(*) FROM {} WHERE agreed_delivery_date !~ '^\d{{4}}-\d{{2}}-\d{{2}}$'"
            r" OR agreed_payment_date !~ '^\d{{4}}-\d{{2}}-\d{{2}}$'"
        ).format(t),
    )
    assert bad_format == 0
    offsets = conn.execute(
        sql.SQL(
            "SELECT min(d), max(d), min(p), max(p) FROM (SELECT agreed_delivery_date::date - created_at::date d,"
            " agreed_payment_date::date - created_at::date p FROM {}) x"
        ).format(t)
    ).fetchone()
    assert offsets == (0, 7, 0, 7)
    ms_share, edited, bad_edit = conn.execute(
        sql.SQL(
            "SELECT avg((extract(milliseconds FROM created_at)::numeric % 1000 <> 0)::int),"
            " avg((last_updated > created_at)::int), count(*) FILTER (WHERE last_updated < created_at)"
            " FROM {}"
        ).format(t)
    ).fetchone()
    assert ms_share > 0.95  # real millisecond values, not .000
    assert 0.07 <= edited <= 0.13
    assert bad_edit == 0


def test_one_transaction_per_order(conn):
    assert (
        one(
            conn,
            "SELECT count(*) FROM transaction WHERE (transaction_type = 'SALE')"
            " <> (sales_order_id IS NOT NULL AND purchase_order_id IS NULL)",
        )
        == 0
    )
    assert (
        one(
            conn,
            "SELECT count(*) FROM transaction WHERE (transaction_type = 'PURCHASE')"
            " <> (purchase_order_id IS NOT NULL AND sales_order_id IS NULL)",
        )
        == 0
    )
    assert (
        one(
            conn,
            "SELECT count(*) FROM sales_order s WHERE (SELECT count(*) FROM transaction t"
            " WHERE t.sales_order_id = s.sales_order_id) <> 1",
        )
        == 0
    )
    assert (
        one(
            conn,
            "SELECT count(*) FROM purchase_order p WHERE (SELECT count(*) FROM transaction t"
            " WHERE t.purchase_order_id = p.purchase_order_id) <> 1",
        )
        == 0
    )
    assert (
        one(
            conn,
            "SELECT count(*) FROM transaction t JOIN sales_order s USING (sales_order_id)"
            " WHERE t.created_at <> s.created_at",
        )
        == 0
    )


def test_one_payment_per_transaction(conn):
    assert (
        one(
            conn,
            "SELECT count(*) FROM transaction t WHERE (SELECT count(*) FROM payment p"
            " WHERE p.transaction_id = t.transaction_id) <> 1",
        )
        == 0
    )
    sales_mismatch = one(
        conn,
        """
        SELECT count(*) FROM payment p JOIN transaction t USING (transaction_id)
        JOIN sales_order s USING (sales_order_id)
        WHERE p.payment_type_id <> 1 OR p.payment_amount <> s.units_sold * s.unit_price
           OR p.currency_id <> s.currency_id OR p.counterparty_id <> s.counterparty_id
           OR p.payment_date <> s.agreed_payment_date""",
    )
    purchase_mismatch = one(
        conn,
        """
        SELECT count(*) FROM payment p JOIN transaction t USING (transaction_id)
        JOIN purchase_order o USING (purchase_order_id)
        WHERE p.payment_type_id <> 3 OR p.payment_amount <> o.item_quantity * o.item_unit_price
           OR p.currency_id <> o.currency_id OR p.counterparty_id <> o.counterparty_id
           OR p.payment_date <> o.agreed_payment_date""",
    )
    assert sales_mismatch == 0 and purchase_mismatch == 0
    assert one(conn, "SELECT count(DISTINCT payment_type_id) FROM payment") == 2
    assert (
        one(
            conn,
            "SELECT count(*) FROM payment WHERE company_ac_number NOT BETWEEN 10000000 AND 99999999"
            " OR counterparty_ac_number NOT BETWEEN 10000000 AND 99999999",
        )
        == 0
    )


def test_paid_payments(conn):
    share = one(conn, "SELECT avg(paid::int) FROM payment")
    assert 0.6 <= share <= 0.8
    assert (
        one(
            conn,
            "SELECT count(*) FROM payment WHERE paid AND (last_updated::date <> payment_date::date"
            " OR last_updated <= created_at)",
        )
        == 0
    )
    assert one(conn, "SELECT count(*) FROM payment WHERE NOT paid AND last_updated <> created_at") == 0
    assert one(conn, "SELECT max(last_updated) FROM payment") < one(conn, "SELECT '2024-11-15'::timestamp")


# ------------------------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_data_and_another_seed_differs(module_db, monkeypatch):
    a, b, c = module_db(), module_db(), module_db()
    seed_totesys(a, scale=0.2, seed=7)
    # The other database goes through the parallel, FK-trigger-free load path: same bytes either way.
    monkeypatch.setattr(seed_mod, "PARALLEL_MIN_ROWS", 0)
    seed_totesys(b, scale=0.2, seed=7)
    seed_totesys(c, scale=0.2, seed=8)
    fa, fb, fc = fingerprint(a), fingerprint(b), fingerprint(c)
    assert all(fa.values())
    assert fa == fb
    for t in ("address", "staff", "design", "sales_order", "purchase_order", "transaction", "payment"):
        assert fa[t] != fc[t], t
    # Reseeding in place truncates and reproduces the same content.
    seed_totesys(c, scale=0.2, seed=7)
    assert fingerprint(c) == fa
