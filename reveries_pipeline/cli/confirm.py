"""Asking before a command changes something it may not own: a yes at a terminal, or --yes."""

from __future__ import annotations

import sys

import click

from reveries_pipeline.endpoints import Endpoints


def confirm_or_refuse(question: str, refusal: str, yes: bool) -> None:
    """Go on with --yes, or after a yes at a terminal; with no terminal to ask on, refuse in one line."""
    if yes:
        return
    if sys.stdin.isatty():
        click.confirm(question, abort=True)
        return
    raise click.ClickException(f"{refusal}; pass --yes if you mean it")


def source_name(endpoints: Endpoints) -> str:
    """totesys as logs name it: its DSN without the password, or the embedded default."""
    from reveries_pipeline.resources.postgres import redact_dsn

    dsn = endpoints.totesys.dsn
    return redact_dsn(dsn) if dsn else "the embedded totesys"


def totesys_dsn_confirmed(endpoints: Endpoints, verb: str, effect: str, yes: bool) -> str:
    """The totesys DSN for a command that changes it: the embedded default's freely, one TOTESYS_DSN
    names (real data, perhaps) only once confirmed. It is named without its password."""
    totesys = endpoints.totesys
    dsn = totesys.conninfo()
    if totesys.configured:
        where = f"{source_name(endpoints)} (set by {totesys.variable}, not the embedded default)"
        confirm_or_refuse(f"{verb.capitalize()} {where}? {effect}.", f"refusing to {verb} {where}: {effect}", yes)
    return dsn
