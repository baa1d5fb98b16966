"""A decoder of the `pgoutput` logical replication protocol, version 1 (PostgreSQL 10+).

Each message is one `data` value of pg_logical_slot_peek_binary_changes(..., 'proto_version', '1').
Layout: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html. Version 1
has no streaming, two-phase or binary-value messages, so anything else is refused rather than guessed.
Column values stay the text the server's output functions wrote; `columns.py` gives them their types.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

# pgoutput times are microseconds since 2000-01-01 UTC
PG_EPOCH_OFFSET_US: Final = 946_684_800_000_000


class _Unchanged:
    """An unchanged TOASTed column: the message carries no value for it."""

    def __repr__(self) -> str:
        return "UNCHANGED_TOAST"


UNCHANGED_TOAST: Final = _Unchanged()

# one column of a tuple: None (SQL null), UNCHANGED_TOAST, or the value's text
Value = str | None | _Unchanged
TupleData = tuple[Value, ...]


@dataclass(frozen=True)
class Begin:
    final_lsn: int  # the LSN of the commit record
    commit_time_us: int  # Unix epoch microseconds
    xid: int


@dataclass(frozen=True)
class Commit:
    flags: int
    commit_lsn: int
    end_lsn: int  # the end of the commit record: confirming it skips this transaction
    commit_time_us: int


@dataclass(frozen=True)
class Origin:
    commit_lsn: int  # the commit LSN on the origin server
    name: str


@dataclass(frozen=True)
class RelationColumn:
    name: str
    type_oid: int
    type_modifier: int
    is_key: bool


@dataclass(frozen=True)
class Relation:
    relation_id: int
    namespace: str
    name: str
    replica_identity: str  # 'd' default, 'n' nothing, 'f' full, 'i' index
    columns: tuple[RelationColumn, ...]


@dataclass(frozen=True)
class Type:
    type_oid: int
    namespace: str
    name: str


@dataclass(frozen=True)
class Insert:
    relation_id: int
    new: TupleData


@dataclass(frozen=True)
class Update:
    relation_id: int
    new: TupleData
    old: TupleData | None = None
    old_kind: str | None = None  # 'K' the old key only, 'O' the whole old row (REPLICA IDENTITY FULL)


@dataclass(frozen=True)
class Delete:
    relation_id: int
    old: TupleData
    old_kind: str  # 'K' or 'O', as in Update


@dataclass(frozen=True)
class Truncate:
    relation_ids: tuple[int, ...]
    cascade: bool
    restart_identity: bool


Message = Begin | Commit | Origin | Relation | Type | Insert | Update | Delete | Truncate


class PgOutputError(ValueError):
    """A message this decoder does not understand (not protocol version 1, or damaged)."""


_INT8, _INT16, _INT32, _UINT32, _INT64 = (struct.Struct(f) for f in ("!B", "!h", "!i", "!I", "!q"))
_TEXT, _NULL, _UNCHANGED = b"tnu"


class _Reader:
    def __init__(self, data: bytes, encoding: str) -> None:
        self.data, self.pos, self.encoding = data, 0, encoding

    def _unpack(self, fmt: struct.Struct) -> int:
        try:
            (value,) = fmt.unpack_from(self.data, self.pos)
        except struct.error as e:
            raise PgOutputError(f"message ends early at byte {self.pos}: {self.data[:40]!r}") from e
        self.pos += fmt.size
        return value

    def int8(self) -> int:
        return self._unpack(_INT8)

    def int16(self) -> int:
        return self._unpack(_INT16)

    def int32(self) -> int:
        return self._unpack(_INT32)

    def uint32(self) -> int:
        return self._unpack(_UINT32)

    def int64(self) -> int:
        return self._unpack(_INT64)

    def char(self) -> str:
        return chr(self.int8())

    def string(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise PgOutputError(f"unterminated string at byte {self.pos}")
        text = self.data[self.pos : end].decode(self.encoding)
        self.pos = end + 1
        return text

    def time_us(self) -> int:
        return self.int64() + PG_EPOCH_OFFSET_US

    def tuple_data(self) -> TupleData:
        # the hot loop of every capture: locals and precompiled structs only
        data, pos, encoding, size = self.data, self.pos, self.encoding, len(self.data)
        values: list[Value] = []
        try:
            (count,) = _INT16.unpack_from(data, pos)
            pos += 2
            for _ in range(count):
                kind = data[pos]
                pos += 1
                if kind == _TEXT:
                    (length,) = _INT32.unpack_from(data, pos)
                    pos += 4
                    if length < 0 or pos + length > size:
                        raise PgOutputError(f"value of {length} bytes runs past the message end")
                    values.append(data[pos : pos + length].decode(encoding))
                    pos += length
                elif kind == _NULL:
                    values.append(None)
                elif kind == _UNCHANGED:
                    values.append(UNCHANGED_TOAST)
                else:  # 'b' (binary) only comes with the 'binary' option, which this capture never asks for
                    raise PgOutputError(f"unsupported tuple column kind {chr(kind)!r}")
        except (struct.error, IndexError) as e:
            raise PgOutputError(f"tuple data ends early at byte {pos}") from e
        self.pos = pos
        return tuple(values)

    def done(self, message: Message) -> Message:
        if self.pos != len(self.data):
            raise PgOutputError(f"{len(self.data) - self.pos} unread bytes after {type(message).__name__}")
        return message


def _relation(r: _Reader) -> Relation:
    relation_id, namespace, name, identity = r.uint32(), r.string(), r.string(), r.char()
    columns = []
    for _ in range(r.int16()):
        flags, column = r.int8(), r.string()
        columns.append(RelationColumn(column, r.uint32(), r.int32(), is_key=bool(flags & 1)))
    return Relation(relation_id, namespace, name, identity, tuple(columns))


def _update(r: _Reader) -> Update:
    relation_id, kind = r.uint32(), r.char()
    old = None
    old_kind = None
    if kind in ("K", "O"):
        old_kind, old = kind, r.tuple_data()
        kind = r.char()
    if kind != "N":
        raise PgOutputError(f"Update: expected the new tuple ('N'), got {kind!r}")
    return Update(relation_id, r.tuple_data(), old, old_kind)


def _delete(r: _Reader) -> Delete:
    relation_id, kind = r.uint32(), r.char()
    if kind not in ("K", "O"):
        raise PgOutputError(f"Delete: expected the old key ('K') or row ('O'), got {kind!r}")
    return Delete(relation_id, r.tuple_data(), kind)


def _insert(r: _Reader) -> Insert:
    relation_id, kind = r.uint32(), r.char()
    if kind != "N":
        raise PgOutputError(f"Insert: expected the new tuple ('N'), got {kind!r}")
    return Insert(relation_id, r.tuple_data())


def _truncate(r: _Reader) -> Truncate:
    count, options = r.int32(), r.int8()
    relation_ids = tuple(r.uint32() for _ in range(count))
    return Truncate(relation_ids, cascade=bool(options & 1), restart_identity=bool(options & 2))


_DECODERS = {
    "B": lambda r: Begin(r.int64(), r.time_us(), r.uint32()),
    "C": lambda r: Commit(r.int8(), r.int64(), r.int64(), r.time_us()),
    "O": lambda r: Origin(r.int64(), r.string()),
    "R": _relation,
    "Y": lambda r: Type(r.uint32(), r.string(), r.string()),
    "I": _insert,
    "U": _update,
    "D": _delete,
    "T": _truncate,
}


def decode_message(data: bytes, encoding: str = "utf-8") -> Message:
    """One pgoutput v1 message; `encoding` is the client encoding the server converted text to."""
    if not data:
        raise PgOutputError("empty message")
    tag = chr(data[0])
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise PgOutputError(f"unknown or non-version-1 pgoutput message {tag!r}")
    reader = _Reader(bytes(data), encoding)
    reader.pos = 1
    return reader.done(decoder(reader))
