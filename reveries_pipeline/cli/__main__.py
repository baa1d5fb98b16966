"""`python -m reveries_pipeline.cli`: the same as the `reveries` console script."""

from reveries_pipeline.cli import main

main()
