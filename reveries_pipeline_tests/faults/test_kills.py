"""kill -9 in each of the three steps: the next run catches up and nothing is lost or doubled."""

import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source

pytestmark = pytest.mark.faults

# Points in the run's own log: after the first raw batch is stored (its checkpoint may or may not be
# committed), after a processed fact is written but before the processing checkpoint, and after a fact
# table is merged but before the warehouse transaction commits.
KILL_POINTS = {
    "ingestion": r"raw/\w+: wrote \d+ rows",
    "processing": r"fact_sales_order: wrote \d+ rows",
    "warehouse": r"warehouse/fact_sales_order: applied",
}


@pytest.mark.parametrize("step", list(KILL_POINTS))
def test_kill_9_in_a_step_then_the_next_run_catches_up(world, step):
    world.change_source()
    killed = world.run("etl_job", kill_when=KILL_POINTS[step])
    assert killed.killed, f"the run never reached {KILL_POINTS[step]!r}:\n{killed.tail()}"
    world.change_source()
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)
