"""The pgoutput v1 decoder, message by message, on bytes built by hand from the protocol's layout."""

from __future__ import annotations

import struct

import pytest

from reveries_pipeline.ingestion.logical.pgoutput import (
    PG_EPOCH_OFFSET_US,
    UNCHANGED_TOAST,
    Begin,
    Commit,
    Delete,
    Insert,
    Origin,
    PgOutputError,
    Relation,
    RelationColumn,
    Truncate,
    Type,
    Update,
    decode_message,
)

PG_2024 = 777_600_000_000_000  # 2024-08-22T00:00:00Z in microseconds since 2000-01-01


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def text(value: str) -> bytes:
    data = value.encode()
    return b"t" + struct.pack("!i", len(data)) + data


def tuple_data(*columns: bytes) -> bytes:
    return struct.pack("!h", len(columns)) + b"".join(columns)


def test_begin():
    data = b"B" + struct.pack("!qqI", 0x1_0000_00A0, PG_2024, 4_000_000_000)
    assert decode_message(data) == Begin(0x1_0000_00A0, PG_2024 + PG_EPOCH_OFFSET_US, 4_000_000_000)


def test_commit_time_is_unix_microseconds():
    data = b"C" + struct.pack("!bqqq", 0, 0x1B6FC20, 0x1B6FC50, 0)
    assert decode_message(data) == Commit(0, 0x1B6FC20, 0x1B6FC50, PG_EPOCH_OFFSET_US)
    assert PG_EPOCH_OFFSET_US == 946_684_800 * 1_000_000  # 2000-01-01T00:00:00Z


def test_origin():
    assert decode_message(b"O" + struct.pack("!q", 0xABCDEF) + cstr("upstream")) == Origin(0xABCDEF, "upstream")


def test_relation():
    data = (
        b"R"
        + struct.pack("!I", 16402)
        + cstr("public")
        + cstr("payment_type")
        + b"f"
        + struct.pack("!h", 2)
        + b"\x01" + cstr("payment_type_id") + struct.pack("!Ii", 23, -1)
        + b"\x00" + cstr("payment_type_name") + struct.pack("!Ii", 16386, -1)
    )  # fmt: skip
    assert decode_message(data) == Relation(
        16402,
        "public",
        "payment_type",
        "f",
        (RelationColumn("payment_type_id", 23, -1, True), RelationColumn("payment_type_name", 16386, -1, False)),
    )


def test_relation_with_a_high_oid_and_a_typmod():
    data = b"R" + struct.pack("!I", 3_000_000_000) + cstr("s") + cstr("t") + b"d" + struct.pack("!h", 1)
    data += b"\x00" + cstr("price") + struct.pack("!Ii", 1700, 655366)  # numeric(10,2): (10 << 16 | 2) + 4
    message = decode_message(data)
    assert message.relation_id == 3_000_000_000 and message.columns[0].type_modifier == 655366


def test_type():
    data = b"Y" + struct.pack("!I", 16386) + cstr("public") + cstr("PaymentTypeName")
    assert decode_message(data) == Type(16386, "public", "PaymentTypeName")


def test_insert_with_null_text_and_unchanged_columns():
    data = b"I" + struct.pack("!I", 7) + b"N" + tuple_data(text("1"), b"n", text(""), text("Ünï ✓\n\\"), b"u")
    assert decode_message(data) == Insert(7, ("1", None, "", "Ünï ✓\n\\", UNCHANGED_TOAST))


def test_text_in_another_client_encoding():
    value = "café".encode("latin-1")
    data = b"I" + struct.pack("!I", 7) + b"N" + struct.pack("!h", 1) + b"t" + struct.pack("!i", len(value)) + value
    assert decode_message(data, "latin-1") == Insert(7, ("café",))


def test_update_with_the_new_row_only():
    data = b"U" + struct.pack("!I", 7) + b"N" + tuple_data(text("1"), text("EUR"))
    assert decode_message(data) == Update(7, ("1", "EUR"))


def test_update_with_the_old_key():
    data = b"U" + struct.pack("!I", 7) + b"K" + tuple_data(text("1"), b"n") + b"N" + tuple_data(text("2"), text("x"))
    assert decode_message(data) == Update(7, ("2", "x"), ("1", None), "K")


def test_update_with_the_old_row_and_an_unchanged_toast_value():
    big = "x" * 9000
    data = b"U" + struct.pack("!I", 7) + b"O" + tuple_data(text("1"), text(big)) + b"N" + tuple_data(text("1"), b"u")
    assert decode_message(data) == Update(7, ("1", UNCHANGED_TOAST), ("1", big), "O")


def test_delete_with_the_old_key():
    data = b"D" + struct.pack("!I", 7) + b"K" + tuple_data(text("5"), b"n", b"n")
    assert decode_message(data) == Delete(7, ("5", None, None), "K")


def test_delete_with_the_old_row():
    data = b"D" + struct.pack("!I", 7) + b"O" + tuple_data(text("5"), text("GBP"))
    assert decode_message(data) == Delete(7, ("5", "GBP"), "O")


@pytest.mark.parametrize(("options", "cascade", "restart"), [(0, False, False), (1, True, False), (3, True, True)])
def test_truncate(options, cascade, restart):
    data = b"T" + struct.pack("!iBII", 2, options, 16402, 16500)
    assert decode_message(data) == Truncate((16402, 16500), cascade, restart)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "empty"),
        (b"S" + struct.pack("!Ib", 7, 1), "non-version-1"),  # Stream Start: protocol 2+
        (b"M" + b"\x00", "non-version-1"),  # a logical decoding message: only with the 'messages' option
        (b"I" + struct.pack("!I", 7) + b"N" + struct.pack("!h", 1) + b"b" + struct.pack("!i", 1) + b"x", "kind 'b'"),
        (b"I" + struct.pack("!I", 7) + b"X" + tuple_data(), "expected the new tuple"),
        (b"U" + struct.pack("!I", 7) + b"K" + tuple_data() + b"Z", "expected the new tuple"),
        (b"D" + struct.pack("!I", 7) + b"N" + tuple_data(), "old key"),
        (b"B" + struct.pack("!qq", 1, 2), "ends early"),  # no xid
        (
            b"I" + struct.pack("!I", 7) + b"N" + struct.pack("!h", 1) + b"t" + struct.pack("!i", 50) + b"abc",
            "runs past",
        ),
        (b"Y" + struct.pack("!I", 1) + b"public", "unterminated"),
        (b"C" + struct.pack("!bqqq", 0, 1, 2, 3) + b"!", "unread bytes"),
    ],
)
def test_refuses_what_it_does_not_understand(data, error):
    with pytest.raises(PgOutputError, match=error):
        decode_message(data)
