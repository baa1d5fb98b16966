"""Each asset's link to the code that defines it, shown in the Dagster UI."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from dagster import AssetsDefinition, BetaWarning, with_source_code_references


def with_code_links(assets: Sequence[AssetsDefinition]) -> Sequence[AssetsDefinition]:
    """`with_source_code_references(assets)`, without its beta warnings.

    Dagster 1.13 has no stable API for source-code links: `with_source_code_references` and the
    metadata it attaches (LocalFileCodeReference, CodeReferencesMetadataValue) are all beta, and warn
    on every load of the code location, in every process. The filter covers this one call, so a beta
    API used anywhere else still warns."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=BetaWarning)
        return with_source_code_references(assets)
