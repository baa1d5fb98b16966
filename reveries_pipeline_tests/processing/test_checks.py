"""The processed-table asset checks, each driven to fail through the processing asset.

`no_rejected_rows` and `no_held_back_facts` are driven to fail elsewhere (see
reveries_pipeline_tests/test_checks_are_tested.py for where); these are the rest.
"""

from __future__ import annotations

import polars as pl
import pytest
from dagster import AssetCheckSeverity

from reveries_pipeline.catalog import DIMENSION_TABLES
from reveries_pipeline.processing import modelling
from reveries_pipeline.processing.transforms import transform
from reveries_pipeline_tests.pipeline_harness import check_results

pytestmark = pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)


def _transform_emitting_a_second_version_of(dim: str):
    """The real transform, with one bug: `dim`'s first key comes out twice, with different values."""

    def faulty(*args, **kwargs):
        result = transform(*args, **kwargs)
        frame = result.tables[dim]
        again = frame.head(1).with_columns(pl.col(c).str.reverse() for c, t in frame.schema.items() if t == pl.String)
        result.tables[dim] = pl.concat([frame, again])
        return result

    return faulty


def test_a_dimension_key_emitted_twice_fails_primary_key_unique(pipeline, monkeypatch):
    monkeypatch.setattr(modelling, "transform", _transform_emitting_a_second_version_of("dim_design"))
    (designs, first_design) = pipeline.source("SELECT count(*), min(design_id) FROM design")[0]
    pipeline.ingest()

    evaluations = check_results(pipeline.process(raise_on_error=False))

    check = evaluations[("processed/dim_design", "primary_key_unique")]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert check.metadata["rows_checked"].value == designs + 1
    assert check.metadata["duplicate_keys"].value == 1
    assert check.metadata["examples"].value == f"({first_design}, 2)"  # (key, times it appears)
    for dim in set(DIMENSION_TABLES) - {"dim_design"}:
        assert evaluations[(f"processed/{dim}", "primary_key_unique")].passed, dim


def test_unknown_currency_codes_warn_naming_each_code_once(pipeline):
    pipeline.source(
        "INSERT INTO currency (currency_code, last_updated) VALUES ('XYZ', now()), ('qq ', now()), ('xyz', now())"
    )
    pipeline.ingest()

    check = check_results(pipeline.process())[("processed/dim_currency", "currency_codes_known")]

    assert not check.passed and check.severity == AssetCheckSeverity.WARN  # never blocks the load
    assert check.metadata["unknown_codes"].value == "QQ, XYZ"  # trimmed, upper-cased, sorted, once each
    assert check.description == "unknown currency codes: QQ, XYZ"
