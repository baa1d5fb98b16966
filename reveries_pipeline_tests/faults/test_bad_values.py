"""Bad source values: an unparseable date is rejected (and only that row); long, quoted and unicode
text arrives intact."""

import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.support import lake_keys

pytestmark = pytest.mark.faults

AWKWARD = 'O\'Brien "the, quoted" Żółć 東京 🚀\\N'


def test_bad_dates_long_names_quotes_and_unicode(world):
    (bad_order,) = world.source("SELECT min(sales_order_id) FROM sales_order")[0]
    world.source(
        "UPDATE sales_order SET agreed_delivery_date = '31/02/2024', last_updated = now() WHERE sales_order_id = %s",
        (bad_order,),
    )
    world.source("UPDATE design SET design_name = %s, last_updated = now() WHERE design_id = 1", ("x" * 2000,))
    world.source("UPDATE staff SET first_name = %s, last_updated = now() WHERE staff_id = 1", (AWKWARD,))
    world.source(
        "UPDATE counterparty SET counterparty_legal_name = %s, last_updated = now() WHERE counterparty_id = 2",
        ("line\nbreak, and ''quotes''",),
    )
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world, excluded={("sales_order", bad_order)})
    assert world.warehouse("SELECT first_name FROM dim_staff WHERE staff_id = 1") == [(AWKWARD,)]
    rejects = lake_keys(world.processed, "_rejects/")
    assert rejects, "the unparseable date was not reported"
