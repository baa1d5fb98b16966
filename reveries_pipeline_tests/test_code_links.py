"""Source-code links: attached to every asset, without Dagster's beta warnings, and the filter stays
around that one call."""

from __future__ import annotations

import warnings

from dagster import AssetSpec, BetaWarning, CodeReferencesMetadataValue, asset, with_source_code_references

from reveries_pipeline.code_links import with_code_links


@asset
def linked_asset() -> None:
    """An asset for the links to point at."""


def test_every_asset_gets_a_link_to_its_code_without_a_beta_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (linked,) = with_code_links([linked_asset])
    assert [w for w in caught if issubclass(w.category, BetaWarning)] == []
    references = linked.specs_by_key[linked_asset.key].metadata["dagster/code_references"]
    assert isinstance(references, CodeReferencesMetadataValue)
    assert references.code_references[0].file_path == __file__


def test_beta_apis_used_elsewhere_still_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with_code_links([linked_asset])
        with_source_code_references([linked_asset])
    assert any(issubclass(w.category, BetaWarning) for w in caught)


def test_the_code_locations_assets_all_carry_links():
    from reveries_pipeline.definitions import defs

    specs: list[AssetSpec] = [spec for assets_def in defs.assets for spec in assets_def.specs]
    assert specs
    assert all("dagster/code_references" in spec.metadata for spec in specs)
