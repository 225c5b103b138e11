"""The wire protocol alone: ids, argument checks, chunking and reassembly.

bridge/protocol.py at the edges docs/osc.md draws: ports 1-65535, whole
floats as int32, ids, tokens, compact ASCII JSON, chunk sizes, the JSON depth
limit (brackets inside strings do not count), error messages cut to one
datagram, and every refusal with its error code."""

import json
import math
import random

import pytest

from midifill.bridge import protocol as p
from tests.support import ROOT


def test_addresses_live_under_midifill():
    for name in (
        "PING",
        "STATUS",
        "REQUEST",
        "RESEND",
        "CANCEL",
        "PONG",
        "ACK",
        "PROGRESS",
        "RESULT",
        "ERROR",
        "CANCELLED",
    ):
        assert getattr(p, name).startswith("/midifill/")


@pytest.mark.parametrize(
    "value, ok",
    [
        ("req-42", True),
        ("a", True),
        ("A.b:c_d-9", True),
        ("x" * 64, True),
        ("", False),
        ("x" * 65, False),
        ("has space", False),
        ("é", False),
        ("a/b", False),
        (42, False),
        (None, False),
    ],
)
def test_ids(value, ok):
    assert p.is_valid_id(value) is ok


def test_ports_reject_bools_and_out_of_range():
    assert p.is_valid_port(9001)
    for bad in (0, 65536, -1, True, 9001.0, "9001"):
        assert not p.is_valid_port(bad)


def test_parse_args_names_the_problem():
    assert p.parse_args(p.PING, (9001, "p1")) == {"reply_port": 9001, "id": "p1"}
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.PING, ("p1", 9001))
    assert err.value.code == "bad_args" and "reply_port" in err.value.message
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.REQUEST, ("r1", 9001, 0, 1))
    assert err.value.code == "bad_args" and "takes 5 arguments" in err.value.message
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.REQUEST, ("r1", 9001, True, 1, "{}"))
    assert "index" in err.value.message
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.CANCEL, ("bad id!", 9001))
    assert err.value.message.startswith("id:")
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.CANCEL, ("r1", 70000))
    assert err.value.message.startswith("reply_port:")


def test_token_is_the_last_argument():
    assert p.parse_args(p.PING, (9001, "p1", "s3cret"), token="s3cret")["id"] == "p1"
    for args in [(9001, "p1"), (9001, "p1", "wrong"), (9001, "p1", 7)]:
        with pytest.raises(p.ProtocolError) as err:
            p.parse_args(p.PING, args, token="s3cret")
        assert err.value.code == "unauthorized"


def test_reply_target_survives_wrong_types():
    assert p.reply_target(p.REQUEST, ("r1", 9001, "zero")) == ("r1", 9001)
    assert p.reply_target(p.REQUEST, ("r1",)) == ("r1", None)
    assert p.reply_target(p.PING, (9001.5, "p1")) == ("p1", None)
    assert p.reply_target(p.CANCEL, ()) == (None, None)


def test_chunks_round_trip_in_any_order_with_duplicates():
    payload = {"notes": [[60 + i % 12, i * 0.25, 0.25, 100] for i in range(5000)], "é": "ü"}
    chunks = p.split_json(payload)
    assert len(chunks) > 10 and all(len(c) <= p.CHUNK_CHARS for c in chunks)
    assert all(c.isascii() for c in chunks)
    assembly = p.Assembly(len(chunks))
    order = list(enumerate(chunks)) * 2
    random.Random(3).shuffle(order)
    for index, chunk in order:
        assembly.add(index, len(chunks), chunk)
    assert assembly.complete and assembly.missing() == []
    assert p.decode_json_object(assembly.text()) == payload


def test_a_chunk_datagram_stays_under_8_kb():
    from pythonosc.osc_message_builder import OscMessageBuilder

    builder = OscMessageBuilder(address=p.RESULT)
    for arg in ("x" * 64, p.MAX_CHUNKS - 1, p.MAX_CHUNKS, "y" * p.CHUNK_CHARS):
        builder.add_arg(arg)
    assert len(builder.build().dgram) < 8000


def test_assembly_rejects_bad_chunks():
    with pytest.raises(p.ProtocolError) as err:
        p.Assembly(0)
    assert err.value.code == "bad_chunk"
    with pytest.raises(p.ProtocolError) as err:
        p.Assembly(p.MAX_CHUNKS + 1)
    assert err.value.code == "too_large"  # over the payload limit, as docs/osc.md promises
    assembly = p.Assembly(3)
    assert assembly.add(1, 3, "a") is True
    assert assembly.add(1, 3, "a") is False  # duplicate
    for index, count, chunk, code, word in [
        (3, 3, "x", "bad_chunk", "out of range"),
        (-1, 3, "x", "bad_chunk", "out of range"),
        (0, 4, "x", "bad_chunk", "count changed"),
        (0, 3, "x" * (p.CHUNK_CHARS + 1), "too_large", "over the limit"),
    ]:
        with pytest.raises(p.ProtocolError) as err:
            assembly.add(index, count, chunk)
        assert err.value.code == code and word in err.value.message
    assert assembly.missing() == [0, 2]


@pytest.mark.parametrize(
    "text, word",
    [
        ("{", "not valid JSON"),
        ("[1]", "JSON object"),
        ("", "not valid JSON"),
        ("[" * 100000, "JSON"),
    ],
)
def test_bad_json(text, word):
    with pytest.raises(p.ProtocolError) as err:
        p.decode_json_object(text)
    assert err.value.code == "bad_json" and word in err.value.message


def test_exit_codes():
    assert p.exit_code_for("bad_request") == p.EXIT_BAD_INPUT == 2
    assert p.exit_code_for("too_large") == 2
    assert p.exit_code_for("busy") == p.EXIT_SERVER_ERROR == 4
    assert p.exit_code_for("internal") == 4
    assert p.EXIT_NO_SERVER == 3


def test_payload_limit_matches_the_engine():
    from midifill.model.generation.request import LIMITS

    assert p.MAX_REQUEST_CHARS == LIMITS["payload_bytes"]


def test_docs_list_every_address_and_error_code():

    doc = (ROOT / "docs" / "osc.md").read_text()
    for address in p.SCHEMAS:
        assert f"`{address}`" in doc
    for code in p.BAD_INPUT_CODES | p.SERVER_ERROR_CODES:
        assert f"`{code}`" in doc
    assert f"{p.CHUNK_CHARS:,}" in doc


def test_handler_docstrings_show_the_documented_examples():

    from midifill.bridge import handlers

    doc = (ROOT / "docs" / "osc.md").read_text()
    for address, handler in handlers.HANDLERS.items():
        example = handler.__doc__.split(address + " ", 1)[1].splitlines()[0]
        assert f"{address} {example}" in doc, (handler.__name__, example)


def code_of(call, *args, **kwargs):
    with pytest.raises(p.ProtocolError) as err:
        call(*args, **kwargs)
    assert err.value.message and str(err.value) == f"{err.value.code}: {err.value.message}"
    return err.value.code, err.value.message


@pytest.mark.promise
def test_ports_are_1_to_65535():
    assert [p.is_valid_port(v) for v in (0, 1, 2, 65535, 65536, -1)] == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    assert not p.is_valid_port(True) and not p.is_valid_port(9000.0) and not p.is_valid_port("9")


@pytest.mark.promise
def test_whole_floats_are_int32_and_nothing_else():
    assert p.whole_int(-(2.0**31)) == -(2**31) and type(p.whole_int(-(2.0**31))) is int
    assert p.whole_int(2.0**31 - 1) == 2**31 - 1
    assert p.whole_int(2.0**31) == 2.0**31 and type(p.whole_int(2.0**31)) is float
    assert type(p.whole_int(-(2.0**31) - 1)) is float
    assert type(p.whole_int(-63.0)) is int and p.whole_int(-63.0) == -63
    assert p.whole_int(1.5) == 1.5 and p.whole_int("7") == "7" and p.whole_int(7) == 7
    assert math.isnan(p.whole_int(math.nan))


@pytest.mark.promise
def test_ids_at_the_edges():
    assert p.is_valid_id("a") and p.is_valid_id("A" * 64) and p.is_valid_id("r-1.2_x:y")
    assert not p.is_valid_id("") and not p.is_valid_id("A" * 65) and not p.is_valid_id("a b")
    assert not p.is_valid_id(5)


@pytest.mark.promise
def test_reply_target_reads_what_it_can():
    assert p.reply_target(p.PING, (9001, "x")) == ("x", 9001)
    assert p.reply_target(p.PING, (9001.0, "x" * 200)) == ("x" * 200, 9001)
    assert p.reply_target(p.PING, (0, "x" * 201)) == (None, None)
    assert p.reply_target(p.PING, (65536, "")) == (None, None)
    assert p.reply_target(p.REQUEST, ("id", 65535)) == ("id", 65535)
    assert p.reply_target(p.REQUEST, ("id",)) == ("id", None)
    assert p.reply_target(p.CANCEL, ()) == (None, None)


@pytest.mark.promise
def test_signatures_name_every_argument():
    assert p.signature(p.REQUEST) == "id:s reply_port:i index:i count:i chunk:s"
    assert p.signature(p.PING) == "reply_port:i id:s"


@pytest.mark.promise
def test_parse_args_by_name_and_each_refusal_with_its_code():
    assert p.parse_args(p.REQUEST, ("r1", 9001, 0, 2, "{")) == {
        "id": "r1",
        "reply_port": 9001,
        "index": 0,
        "count": 2,
        "chunk": "{",
    }
    assert p.parse_args(p.PING, (9001.0, "r1")) == {"reply_port": 9001, "id": "r1"}
    code, msg = code_of(p.parse_args, p.PING, (9001,))
    assert code == "bad_args" and "takes 2 arguments" in msg and "got 1" in msg
    code, msg = code_of(p.parse_args, p.PING, ("9001", "r1"))
    assert code == "bad_args" and msg.startswith("reply_port: expected an int32, got str '9001'")
    code, msg = code_of(p.parse_args, p.PING, (True, "r1"))
    assert code == "bad_args" and "got bool True" in msg
    code, msg = code_of(p.parse_args, p.PING, (9001, 5))
    assert code == "bad_args" and msg.startswith("id: expected a string, got int 5")
    code, msg = code_of(p.parse_args, p.PING, (0, "r1"))
    assert code == "bad_args" and msg == "reply_port: expected 1-65535, got 0"
    code, msg = code_of(p.parse_args, p.PING, (9001, "a b"))
    assert code == "bad_args" and msg.startswith("id: expected 1-64 characters") and "'a b'" in msg


@pytest.mark.promise
def test_a_token_is_the_extra_last_argument():
    assert p.parse_args(p.PING, (9001, "r1", "s3cret"), token="s3cret") == {
        "reply_port": 9001,
        "id": "r1",
    }
    for args in [
        (9001, "r1"),
        (9001, "r1", "wrong"),
        (9001, "r1", 7),
        ("s3cret",),
        (9001, "r1", "s3cret", "s3cret"),
    ]:
        code, msg = code_of(p.parse_args, p.PING, args, token="s3cret")
        assert code == "unauthorized" and "token" in msg, args
    # without a token configured, an extra argument is just one too many
    assert code_of(p.parse_args, p.PING, (9001, "r1", "s3cret"))[0] == "bad_args"


@pytest.mark.promise
def test_json_is_compact_ascii_and_refuses_nan():
    assert p.encode_json({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"\\u00e9"}'
    with pytest.raises(ValueError):
        p.encode_json({"x": math.nan})


@pytest.mark.promise
def test_chunks_are_at_most_6000_characters_and_join_back():
    assert p.split_text("") == [""]
    text = "x" * (2 * p.CHUNK_CHARS + 1)
    parts = p.split_text(text)
    assert [len(c) for c in parts] == [p.CHUNK_CHARS, p.CHUNK_CHARS, 1] and "".join(parts) == text
    assert [len(c) for c in p.split_text("abcde", 2)] == [2, 2, 1]
    obj = {"notes": [[60, i / 7, 0.5, 90] for i in range(2000)]}
    parts = p.split_json(obj)
    assert all(len(c) <= p.CHUNK_CHARS for c in parts) and json.loads("".join(parts)) == obj
    assert p.split_json(obj, 100)[0] == p.encode_json(obj)[:100]


@pytest.mark.promise
def test_json_depth_counts_brackets_outside_strings_only():
    assert p.json_depth("{}") == 1 and p.json_depth("[]") == 1 and p.json_depth("1") == 0
    assert p.json_depth('{"a":[[1],{"b":[2]}]}') == 4
    assert p.json_depth('{"a":"[[[[{{{{"}') == 1
    assert p.json_depth('{"a":"x\\"[[[["}') == 1  # an escaped quote does not end the string
    assert p.json_depth("[" * 5 + "]" * 5 + "[]") == 5


@pytest.mark.promise
def test_decode_json_object_at_the_depth_limit():
    at = "[" * (p.MAX_JSON_DEPTH - 1) + "]" * (p.MAX_JSON_DEPTH - 1)
    assert p.decode_json_object('{"a":' + at + "}") == {"a": json.loads(at)}
    over = '{"a":' + "[" * p.MAX_JSON_DEPTH + "]" * p.MAX_JSON_DEPTH + "}"
    code, msg = code_of(p.decode_json_object, over)
    assert code == "bad_json" and str(p.MAX_JSON_DEPTH) in msg
    for text, word in [("[1]", "list"), ("3", "int"), ("{", "not valid JSON"), ("", "not valid")]:
        code, msg = code_of(p.decode_json_object, text)
        assert code == "bad_json" and word in msg, text


@pytest.mark.promise
def test_error_messages_are_cut_to_fit_a_datagram():
    assert p.error_message("short") == "short"
    assert p.error_message(7) == "7"
    exact = "y" * p.MAX_ERROR_CHARS
    assert p.error_message(exact) == exact
    long = "z" * (p.MAX_ERROR_CHARS + 1)
    cut = p.error_message(long)
    assert len(cut) <= p.MAX_ERROR_CHARS and cut.startswith("z" * (p.MAX_ERROR_CHARS - 40))
    assert cut.endswith(f"... ({p.MAX_ERROR_CHARS + 1} characters in all)")


@pytest.mark.promise
def test_exit_codes_follow_the_error_codes():
    for code in p.BAD_INPUT_CODES:
        assert p.exit_code_for(code) == p.EXIT_BAD_INPUT == 2
    for code in p.SERVER_ERROR_CODES:
        assert p.exit_code_for(code) == p.EXIT_SERVER_ERROR == 4
    assert (p.EXIT_OK, p.EXIT_NO_SERVER) == (0, 3)


@pytest.mark.promise
def test_an_assembly_takes_1_to_max_chunks_in_any_order():
    one = p.Assembly(1)
    assert one.add(0, 1, "{}") and one.complete and one.text() == "{}" and one.first == "{}"
    asm = p.Assembly(3)
    assert asm.missing() == [0, 1, 2] and asm.first is None
    assert asm.add(2, 3, "c") and asm.first is None
    assert asm.add(0, 3, "a") and asm.first == "a"
    assert not asm.add(0, 3, "a") and asm.missing() == [1] and not asm.complete
    assert asm.add(1, 3, "b") and asm.complete and asm.text() == "abc"
    p.Assembly(p.MAX_CHUNKS)
    code, msg = code_of(p.Assembly, p.MAX_CHUNKS + 1)
    assert code == "too_large" and str(p.MAX_CHUNKS) in msg
    for bad in (0, -1, 1.0, "2"):
        code, msg = code_of(p.Assembly, bad)
        assert code == "bad_chunk" and msg.startswith(f"count: expected 1-{p.MAX_CHUNKS}")
    code, msg = code_of(asm.add, 3, 3, "d")
    assert code == "bad_chunk" and msg == "index 3 out of range 0-2"
    code, msg = code_of(asm.add, -1, 3, "d")
    assert code == "bad_chunk" and msg == "index -1 out of range 0-2"
    code, msg = code_of(asm.add, 0, 4, "a")
    assert code == "bad_chunk" and msg == "count changed from 3 to 4"
    small = p.Assembly(2, chunk_chars=4)
    assert small.add(0, 2, "abcd")
    code, msg = code_of(small.add, 1, 2, "abcde")
    assert code == "too_large" and msg == "chunk 1 has 5 characters, over the limit of 4"


@pytest.mark.promise
def test_the_chunk_limit_is_the_payload_limit():
    assert p.MAX_CHUNKS == math.ceil(p.MAX_REQUEST_CHARS / p.CHUNK_CHARS) == 1399
    assert (p.CHUNK_CHARS, p.MAX_DATAGRAM, p.MAX_JSON_DEPTH, p.MAX_ERROR_CHARS) == (
        6000,
        8192,
        32,
        2000,
    )
