"""pgoutput messages, in commit order, turned into change rows of the captured tables."""

from __future__ import annotations

from collections.abc import Callable, Collection

from reveries_pipeline.ingestion.logical.columns import Op, parse_values, text_parser
from reveries_pipeline.ingestion.logical.pgoutput import (
    UNCHANGED_TOAST,
    Begin,
    Commit,
    Delete,
    Insert,
    Message,
    Origin,
    PgOutputError,
    Relation,
    Truncate,
    TupleData,
    Type,
    Update,
)
from reveries_pipeline.ingestion.logical.setup import replica_identity_full
from reveries_pipeline.ingestion.logical.spool import ChangeSpool
from reveries_pipeline.ingestion.source_schema import SourceTable

_Values = tuple[dict[str, object], dict[str, str]]


class UnchangedToastError(RuntimeError):
    """An update left a TOASTed value out and no old row carries it: the table lacks REPLICA IDENTITY FULL."""


class _RelationDecoder:
    """Reads one relation's tuples into the current source schema, matching columns by name (a column
    the schema no longer has is left out; one it gained since the change is null)."""

    def __init__(self, table: SourceTable, relation: Relation) -> None:
        self.table, self.relation = table, relation
        parsers = {c.name: text_parser(c.arrow_type) for c in table.source_columns}
        self.parsers = [parsers.get(c.name) for c in relation.columns]
        self.names = [c.name for c in relation.columns]
        self.key_index = self.names.index(table.primary_key) if table.primary_key in self.names else None

    def key(self, values: TupleData) -> object:
        return None if self.key_index is None else values[self.key_index]

    def values(self, new: TupleData, old: TupleData | None = None, partial: bool = False) -> _Values:
        """({column: value}, {column: text of a value with no exact Arrow value}); an unchanged TOASTed
        value is taken from `old` (the whole old row), or left null when `partial` (a delete needs only
        the key). A value with no exact Arrow value is left null, its text kept (columns.parse_values)."""
        if len(new) != len(self.parsers):
            raise PgOutputError(f"{self.table.name}: {len(new)} values for {len(self.parsers)} columns")
        if UNCHANGED_TOAST in new:
            new = self._fill_unchanged(new, old, partial)
        texts = (None if text is UNCHANGED_TOAST else text for text in new)
        return parse_values(self.names, self.parsers, texts)

    def _fill_unchanged(self, new: TupleData, old: TupleData | None, partial: bool) -> TupleData:
        filled = tuple(old[i] if text is UNCHANGED_TOAST and old else text for i, text in enumerate(new))
        if not partial and UNCHANGED_TOAST in filled:
            column = self.names[filled.index(UNCHANGED_TOAST)]
            # the fix, as a statement quoted by psycopg that works when pasted
            fix = replica_identity_full(self.table.name).as_string(None)
            raise UnchangedToastError(
                f"{self.table.name}.{column}: an update kept its TOASTed value and sent none; run `{fix}` "
                "(the CDC setup does) and re-snapshot"
            )
        return filled


class ChangeAssembler:
    """Feed it every message of a read, in order; it writes the rows of `tables` to the spool."""

    def __init__(
        self, spool: ChangeSpool, tables: Collection[str], describe: Callable[[str], SourceTable], schema: str
    ) -> None:
        self.spool, self.tables, self.describe = spool, frozenset(tables), describe
        self.schema = schema  # the tables' schema: a publication FOR ALL TABLES also has others' namesakes
        self.relations: dict[int, Relation] = {}
        self.decoders: dict[int, _RelationDecoder | None] = {}
        self.sources: dict[str, SourceTable] = {}
        self.txn: Begin | None = None
        self.seq = 0
        self.transactions = 0
        self.last_end_lsn = 0  # end of the last commit read: confirming it skips that transaction

    def feed(self, message: Message) -> None:
        if isinstance(message, Begin | Commit):
            self._boundary(message)
        elif isinstance(message, Relation):
            self.relations[message.relation_id] = message
            self.decoders.pop(message.relation_id, None)  # the table's columns may have changed
        elif isinstance(message, Type | Origin):
            pass  # enum values arrive as text; where a change came from doesn't change what it did
        elif self.txn is None:
            raise PgOutputError(f"{type(message).__name__} outside a transaction")
        elif isinstance(message, Truncate):
            for relation_id in message.relation_ids:
                self._emit(relation_id, Op.TRUNCATE, lambda d: ({}, {}))
        else:
            self._change(message)

    def _boundary(self, message: Begin | Commit) -> None:
        if isinstance(message, Begin):
            if self.txn is not None:
                raise PgOutputError("Begin inside a transaction")
            self.txn, self.seq = message, 0
            return
        if self.txn is None or message.commit_lsn != self.txn.final_lsn:
            raise PgOutputError(f"Commit at {message.commit_lsn:X} doesn't close the open transaction")
        self.txn, self.last_end_lsn = None, message.end_lsn
        self.transactions += 1

    def _change(self, message: Insert | Update | Delete) -> None:
        relation_id = message.relation_id
        if isinstance(message, Insert):
            self._emit(relation_id, Op.INSERT, lambda d: d.values(message.new))
        elif isinstance(message, Delete):
            self._emit(relation_id, Op.DELETE, lambda d: d.values(message.old, partial=True))
        elif message.old is not None and self._key_changed(message):
            # rows are keyed by their primary key downstream: a new key is a new row
            self._emit(relation_id, Op.DELETE, lambda d: d.values(message.old, partial=True))
            self._emit(relation_id, Op.INSERT, lambda d: d.values(message.new, self._old_row(message)))
        else:
            self._emit(relation_id, Op.UPDATE, lambda d: d.values(message.new, self._old_row(message)))

    @staticmethod
    def _old_row(message: Update) -> TupleData | None:
        return message.old if message.old_kind == "O" else None

    def _key_changed(self, message: Update) -> bool:
        decoder = self._decoder(message.relation_id)
        return decoder is not None and decoder.key(message.old) != decoder.key(message.new)

    def _decoder(self, relation_id: int) -> _RelationDecoder | None:
        if relation_id not in self.decoders:
            relation = self.relations.get(relation_id)
            if relation is None:
                raise PgOutputError(f"change of relation {relation_id} before its Relation message")
            if relation.name not in self.tables or relation.namespace != self.schema:
                self.decoders[relation_id] = None  # published, but not one of ours
            else:
                if relation.name not in self.sources:
                    self.sources[relation.name] = self.describe(relation.name)
                self.decoders[relation_id] = _RelationDecoder(self.sources[relation.name], relation)
        return self.decoders[relation_id]

    def _emit(self, relation_id: int, op: Op, values: Callable[[_RelationDecoder], _Values]) -> None:
        decoder = self._decoder(relation_id)
        if decoder is None:
            return
        txn = self.txn
        row, unrepresentable = values(decoder)
        self.spool.add(decoder.table, row, op, txn.final_lsn, txn.commit_time_us, self.seq, unrepresentable)
        self.seq += 1
