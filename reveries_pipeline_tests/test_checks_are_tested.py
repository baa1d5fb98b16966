"""Every asset check in the code location has a test that breaks its rule and sees it fail.

A check that always passes looks exactly like a healthy pipeline, so a check nobody has seen fail
proves nothing. DRIVEN_TO_FAIL names, per check, the test that breaks the check's rule for real (a
source row, a warehouse row, a view, a constraint, a transform's output) and asserts `passed` is False,
the severity, and the metadata an operator reads.

Adding an asset check? Also:
1. write a test that breaks its rule and runs it the way the pipeline does (the asset, or the check
   function with the real warehouse connection), asserting `not check.passed`, `check.severity` and
   the metadata (counts, example ids, the description). Warehouse checks go in
   warehouse/test_checks.py, processed-table checks in processing/test_checks.py;
2. add `"<check name>": "<path>::<test function>"` to DRIVEN_TO_FAIL below;
3. see the test fail with the check replaced by one that always passes (`passed=True`), then restore it.
"""

from __future__ import annotations

import importlib
import inspect

# check name -> the pytest node id of the test that drives it to fail
DRIVEN_TO_FAIL: dict[str, str] = {
    "replication_slot_retained_wal": "reveries_pipeline_tests/cdc/test_oracle.py"
    "::test_replication_slot_retained_wal_warns_above_its_limit",
    "no_future_dated_rows": "reveries_pipeline_tests/hostile/test_bad_source_values.py"
    "::test_a_row_dated_2999_neither_hides_later_changes_nor_comes_twice",
    "no_rejected_rows": "reveries_pipeline_tests/hostile/test_untrusted_metadata.py"
    "::test_hostile_reject_through_the_pipeline_and_its_alert",
    "primary_key_unique": "reveries_pipeline_tests/processing/test_checks.py"
    "::test_a_dimension_key_emitted_twice_fails_primary_key_unique",
    "no_held_back_facts": "reveries_pipeline_tests/processing/test_assets.py"
    "::test_fact_with_an_unknown_dimension_key_is_held_back_until_the_key_arrives",
    "currency_codes_known": "reveries_pipeline_tests/processing/test_checks.py"
    "::test_unknown_currency_codes_warn_naming_each_code_once",
    "reconciles_with_source": "reveries_pipeline_tests/warehouse/test_checks.py"
    "::test_reconciliation_warns_when_the_warehouse_holds_rows_the_source_does_not",
    "no_orphan_keys": "reveries_pipeline_tests/warehouse/test_checks.py"
    "::test_orphan_check_sweeps_a_fact_whose_foreign_keys_were_dropped_and_counts_each_key",
    "current_matches_history": "reveries_pipeline_tests/warehouse/test_checks.py"
    "::test_current_table_check_fails_when_a_current_row_is_not_the_newest_version",
    "fx_rate_for_every_created_date": "reveries_pipeline_tests/warehouse/test_fx_coverage.py"
    "::test_fx_coverage_check_warns_naming_each_created_date_without_a_rate",
}


def _check_names_in_the_code_location() -> set[str]:
    from reveries_pipeline.definitions import defs

    return {key.name for key in defs.resolve_asset_graph().asset_check_keys}


def _test_function(node_id: str):
    path, name = node_id.split("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name, None)


def test_every_check_in_the_code_location_names_the_test_that_drives_it_to_fail():
    names = _check_names_in_the_code_location()
    assert names, "no asset checks found: the code location did not load its checks"
    untested = sorted(names - DRIVEN_TO_FAIL.keys())
    assert not untested, f"checks with no failing-case test (see this module's docstring): {untested}"
    assert not DRIVEN_TO_FAIL.keys() - names, "DRIVEN_TO_FAIL names checks the code location no longer has"


def test_each_named_test_exists_and_drives_its_check():
    for check, node_id in DRIVEN_TO_FAIL.items():
        test = _test_function(node_id)
        assert callable(test) and test.__name__.startswith("test_"), f"{check}: no test function {node_id}"
        source = inspect.getsource(test)
        assert check in source, f"{check}: {node_id} never reads the check's result"
        assert "passed" in source, f"{check}: {node_id} never asserts whether the check passed"
