from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from dagster import DagsterInstance, materialize

from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.totesys.schema import apply_totesys_ddl

T0 = datetime(2024, 11, 3, 14, 20, 11, 123000)


def insert_minimal_source(conn: psycopg.Connection) -> None:
    """One row per table (enough for every FK), with millisecond timestamps and exact numerics."""
    ts = T0
    conn.execute(
        "INSERT INTO address (address_line_1, address_line_2, district, city, postal_code, country, phone,"
        " created_at, last_updated) VALUES ('6826 Herzog Via', NULL, '', 'New Patienceburgh', '28441',"
        " 'Turkey', '1803 637401', %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO counterparty (counterparty_legal_name, legal_address_id, created_at, last_updated)"
        " VALUES ('Fahey and Sons', 1, %s, %s)",
        (ts, ts),
    )
    conn.execute("INSERT INTO currency (currency_code, created_at, last_updated) VALUES ('GBP', %s, %s)", (ts, ts))
    conn.execute(
        "INSERT INTO department (department_name, location, manager, created_at, last_updated)"
        " VALUES ('Sales', 'Manchester', 'Richard Roma', %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO design (design_name, file_location, file_name, created_at, last_updated)"
        " VALUES ('Wooden', '/usr', 'wooden-20220717-npgz.json', %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO payment_type (payment_type_name, created_at, last_updated) VALUES ('SALES_RECEIPT', %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO staff (first_name, last_name, department_id, email_address, created_at, last_updated)"
        " VALUES ('Jeremie', 'O''Franey', 1, 'jeremie.ofraney@terrifictotes.com', %s, %s)",
        (ts, ts),
    )
    add_sales_order(conn, ts, Decimal("3.94"))
    conn.execute(
        "INSERT INTO purchase_order (staff_id, counterparty_id, item_code, item_quantity, item_unit_price,"
        " currency_id, agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id,"
        " created_at, last_updated) VALUES (1, 1, 'ZDOI5EA', 371, 361.39, 1, '2022-11-09',"
        " '2022-11-07', 1, %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO transaction (transaction_type, sales_order_id, created_at, last_updated)"
        " VALUES ('SALE', 1, %s, %s)",
        (ts, ts),
    )
    conn.execute(
        "INSERT INTO payment (transaction_id, counterparty_id, payment_amount, currency_id,"
        " payment_type_id, paid, payment_date, company_ac_number, counterparty_ac_number,"
        " created_at, last_updated) VALUES (1, 1, 12345678.91, 1, 1, false, '2022-11-05', 67305075,"
        " 31622269, %s, %s)",
        (ts, ts),
    )


def add_sales_order(conn, last_updated: datetime, unit_price=Decimal("2.50")) -> int:
    return conn.execute(
        "INSERT INTO sales_order (design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id,"
        " agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id, created_at, last_updated)"
        " VALUES (1, 1, 1, 1000, %s, 1, '2022-11-10', '2022-11-08', 1, %s, %s) RETURNING sales_order_id",
        (unit_price, last_updated, last_updated),
    ).fetchone()[0]


@pytest.fixture
def source(totesys_dsn):
    with psycopg.connect(totesys_dsn) as conn:
        apply_totesys_ddl(conn)
        insert_minimal_source(conn)
    return totesys_dsn


@pytest.fixture
def run_ingestion(source, ingestion_store: ObjectStore):
    instance = DagsterInstance.ephemeral()

    def run(lookback_minutes: float = 15, raise_on_error: bool = True, selection=None):
        return materialize(
            [raw_totesys_tables],
            selection=selection,
            instance=instance,
            resources={
                "totesys": PostgresResource(dsn=source),
                "ingestion_lake": ingestion_store,
                "raw_io_manager": RawBatchIOManager(store=ingestion_store),
            },
            run_config={"ops": {"raw_totesys_tables": {"config": {"lookback_minutes": lookback_minutes}}}},
            raise_on_error=raise_on_error,
        )

    return run
