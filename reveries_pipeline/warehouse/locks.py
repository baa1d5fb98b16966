"""How warehouse writers lock: among themselves, and against the warehouse's readers.

- Writers (loads, rebuilds, schema migrations) serialise on ONE transaction-scoped advisory lock per
  warehouse schema, taken before anything is read. A second writer waits for it without a timeout
  (a load can legitimately take minutes), then sees the first one's committed ledger. Only one lock,
  so writers cannot deadlock each other.
- Statements that need a lock readers hold off (DDL, TRUNCATE, dropping foreign keys: ACCESS
  EXCLUSIVE) run in a savepoint under `lock_timeout`, so a reader's long open transaction (a BI tool,
  pg_dump) costs a bounded wait instead of stalling the load and every reader queued behind it.
  On a timeout the caller either falls back to a path without the strong lock, or fails with
  `WarehouseLockTimeout`, which names the sessions in the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

DEFAULT_LOCK_TIMEOUT_S = 10.0
_WRITER_LOCK = "reveries_warehouse_writer:"


def lock_warehouse(conn: psycopg.Connection) -> None:
    """Become the warehouse's only writer until this transaction ends (re-entrant; waits, no timeout).

    Keyed by schema, so a branch deployment's warehouse (its own schema) doesn't wait for prod's.
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s || current_schema(), 0))", (_WRITER_LOCK,))


@contextmanager
def strong_lock_section(conn: psycopg.Connection, timeout_s: float) -> Iterator[None]:
    """A savepoint in which lock waits give up after `timeout_s` (psycopg.errors.LockNotAvailable).

    The setting is transaction-local and restored on the way out (a failure rolls back to the
    savepoint, which restores it too), so it never reaches the rest of the load nor a writer's wait
    for the advisory lock.
    """
    with conn.transaction():
        (saved,) = conn.execute("SELECT current_setting('lock_timeout')").fetchone()
        # 0 would mean "wait forever": never ask for less than a millisecond.
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, round(timeout_s * 1000))}ms",))
        yield
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (saved,))


@dataclass(frozen=True)
class BlockingSession:
    pid: int
    user: str | None
    application_name: str | None
    state: str | None
    transaction_seconds: float | None
    locks: str  # e.g. "AccessShareLock on fact_sales_order"

    def __str__(self) -> str:
        open_for = "?" if self.transaction_seconds is None else f"{self.transaction_seconds:.1f}s"
        return (
            f"pid {self.pid} (user {self.user or '?'}, application_name {self.application_name or ''!r}, "
            f"state {self.state or '?'}, transaction open {open_for}; {self.locks})"
        )


_BLOCKERS = """
SELECT a.pid, a.usename, a.application_name, a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
       string_agg(DISTINCT l.mode || CASE WHEN l.granted THEN '' ELSE ' (waiting)' END
                  || ' on ' || l.relation::regclass::text, ', ')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation IN (SELECT to_regclass(quote_ident(name))::oid FROM unnest(%s::text[]) AS name)
GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start
ORDER BY a.xact_start NULLS LAST, a.pid
"""


def blocking_sessions(conn: psycopg.Connection, relations: Iterable[str]) -> list[BlockingSession]:
    """Other sessions holding (or queued for) a lock on any of `relations` (names in the search_path).

    Run it after rolling back to a savepoint: the blockers still hold their locks then.
    """
    rows = conn.execute(_BLOCKERS, (list(relations),)).fetchall()
    return [BlockingSession(*row) for row in rows]


def describe(blockers: list[BlockingSession]) -> str:
    if not blockers:
        return "no session holds a lock on them any more (the blocker finished meanwhile)"
    return "; ".join(map(str, blockers))


def _terminate_statement(blockers: list[BlockingSession]) -> str:
    """The statement that ends the blocking sessions, with their real pids: it works when pasted."""
    if not blockers:
        return "SELECT pg_terminate_backend(<pid>);"
    statement = sql.SQL("SELECT pg_terminate_backend(pid) FROM unnest({}) AS pid;")
    return statement.format(sql.Literal([b.pid for b in blockers])).as_string(None)


class WarehouseLockTimeout(RuntimeError):
    """A statement that needs a strong lock did not get it within lock_timeout; names who holds it."""

    def __init__(self, action: str, timeout_s: float, blockers: list[BlockingSession]):
        self.action, self.timeout_s, self.blockers = action, timeout_s, blockers
        super().__init__(
            f"{action}: gave up after waiting {timeout_s:g}s (lock_timeout) for locks held by other "
            f"sessions: {describe(blockers)}. Let those transactions finish (or end them: "
            f"{_terminate_statement(blockers)}) and run again; `lock_timeout_seconds` in the "
            f"warehouse_tables config sets the wait."
        )


@contextmanager
def strong_locks_or_fail(
    conn: psycopg.Connection, action: str, relations: Iterable[str], timeout_s: float
) -> Iterator[None]:
    """strong_lock_section for work with no fallback: a timeout becomes WarehouseLockTimeout."""
    try:
        with strong_lock_section(conn, timeout_s):
            yield
    except psycopg.errors.LockNotAvailable as exc:
        raise WarehouseLockTimeout(action, timeout_s, blocking_sessions(conn, relations)) from exc
