"""The one verification every fault case ends with: the warehouse against the source.

- every source row's current version is in its fact table, once; no version appears twice;
- no fact or dimension id the source doesn't have;
- the `_current` tables give one row per id, and it is the source's current version, with its values;
- every dimension holds exactly the source's ids, with the source's values;
- every pre-aggregate the loader keeps by difference equals its sums recomputed from the `_current` tables;
- the load ledger has no duplicate batch keys.

`excluded` names source rows the case made invalid on purpose, as {(source table, id)}: their current
version must NOT be in the warehouse (they are rejected or held back), and nothing else may be missing.
"""

from __future__ import annotations

import psycopg

from reveries_pipeline_tests.faults.harness import FaultWorld
from reveries_pipeline_tests.warehouse.aggregates_oracle import aggregate_mismatches

# source table -> (fact, natural id, last-updated time column, value columns compared source = warehouse)
FACTS = {
    "sales_order": ("fact_sales_order", "sales_order_id", "last_updated_time", ("units_sold", "unit_price")),
    "purchase_order": (
        "fact_purchase_order",
        "purchase_order_id",
        "last_updated_time",
        ("item_quantity", "item_unit_price"),
    ),
    "payment": ("fact_payment", "payment_id", "last_updated", ("payment_amount", "paid")),
}

# dimension -> (its id, source table, source id, (source column, dimension column) pairs compared)
DIMENSIONS = {
    "dim_staff": ("staff_id", "staff", "staff_id", (("first_name", "first_name"), ("email_address", "email_address"))),
    "dim_location": ("location_id", "address", "address_id", (("city", "city"), ("phone", "phone"))),
    "dim_design": ("design_id", "design", "design_id", (("design_name", "design_name"),)),
    "dim_counterparty": (
        "counterparty_id",
        "counterparty",
        "counterparty_id",
        (("counterparty_legal_name", "counterparty_legal_name"),),
    ),
    "dim_currency": ("currency_id", "currency", "currency_id", ()),
    "dim_payment_type": ("payment_type_id", "payment_type", "payment_type_id", (("payment_type_name",) * 2,)),
    "dim_transaction": ("transaction_id", "transaction", "transaction_id", (("transaction_type::text",) * 2,)),
}


def _fact_problems(world: FaultWorld, source: str, excluded: set[tuple[str, int]]) -> list[str]:
    fact, natural_id, time_column, values = FACTS[source]
    value_list = ", ".join(values)
    src = {
        row[0]: row[1:]
        for row in world.source(
            f"SELECT {natural_id}, last_updated::date, last_updated::time, {value_list} FROM {source}"  # noqa: S608
        )
    }
    versions = world.warehouse(
        f"SELECT {natural_id}, last_updated_date, {time_column}, count(*) FROM {fact} GROUP BY 1, 2, 3"  # noqa: S608
    )
    current = {
        row[0]: row[1:]
        for row in world.warehouse(
            f"SELECT {natural_id}, last_updated_date, {time_column}, {value_list} FROM {fact}_current"  # noqa: S608
        )
    }
    (current_rows,) = world.warehouse(f"SELECT count(*) FROM {fact}_current")[0]  # noqa: S608
    problems = [f"{fact}: version {v[:3]} stored {v[3]} times" for v in versions if v[3] > 1]
    have = {v[:3] for v in versions}
    problems += [f"{fact}: {n} ids the source doesn't have" for n in [len(set(current) - set(src))] if n]
    if current_rows != len(current):
        problems.append(f"{fact}_current: {current_rows} rows for {len(current)} ids")
    for id_, row in src.items():
        version = (id_, row[0], row[1])
        if (source, id_) in excluded:
            if version in have:
                problems.append(f"{fact}: excluded {source} {id_} was loaded")
        elif version not in have:
            problems.append(f"{fact}: source version {version} missing")
        elif current.get(id_) != row:
            problems.append(f"{fact}_current: id {id_} is {current.get(id_)}, source has {row}")
    return problems


def _dimension_problems(world: FaultWorld, dim: str, excluded: set[tuple[str, int]]) -> list[str]:
    dim_id, source, source_id, pairs = DIMENSIONS[dim]
    src_cols = ", ".join([source_id, *(s for s, _ in pairs)])
    dim_cols = ", ".join([dim_id, *(d for _, d in pairs)])
    src = {r[0]: r[1:] for r in world.source(f"SELECT {src_cols} FROM {source}")}  # noqa: S608
    ours = {r[0]: r[1:] for r in world.warehouse(f"SELECT {dim_cols} FROM {dim}")}  # noqa: S608
    wanted = {k: v for k, v in src.items() if (source, k) not in excluded}
    problems = [f"{dim}: id {k} missing" for k in sorted(set(wanted) - set(ours))[:10]]
    problems += [f"{dim}: id {k} not in the source" for k in sorted(set(ours) - set(src))[:10]]
    problems += [f"{dim}: id {k} is {ours[k]}, source has {v}" for k, v in wanted.items() if k in ours and ours[k] != v]
    return problems[:20]


def _aggregate_problems(world: FaultWorld) -> list[str]:
    with psycopg.connect(world.warehouse_dsn) as conn:
        return aggregate_mismatches(conn)


def warehouse_problems(world: FaultWorld, excluded: set[tuple[str, int]] = frozenset()) -> list[str]:
    problems: list[str] = []
    for source in FACTS:
        problems += _fact_problems(world, source, set(excluded))
    for dim in DIMENSIONS:
        problems += _dimension_problems(world, dim, set(excluded))
    problems += _aggregate_problems(world)
    ((keys, distinct),) = world.warehouse("SELECT count(*), count(DISTINCT batch_key) FROM reveries_load_ledger")
    if keys != distinct:
        problems.append(f"ledger: {keys} rows for {distinct} batch keys")
    return problems


def assert_warehouse_matches_source(world: FaultWorld, excluded: set[tuple[str, int]] = frozenset()) -> None:
    problems = warehouse_problems(world, excluded)
    assert not problems, "warehouse differs from the source:\n" + "\n".join(problems[:40])
