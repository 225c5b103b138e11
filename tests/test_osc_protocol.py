"""The wire protocol alone: ids, argument checks, chunking and reassembly."""

import random

import pytest

from midifill.bridge import protocol as p


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
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "osc.md").read_text()
    for address in p.SCHEMAS:
        assert f"`{address}`" in doc
    for code in p.BAD_INPUT_CODES | p.SERVER_ERROR_CODES:
        assert f"`{code}`" in doc
    assert f"{p.CHUNK_CHARS:,}" in doc


def test_handler_docstrings_show_the_documented_examples():
    from pathlib import Path

    from midifill.bridge import handlers

    doc = (Path(__file__).parents[1] / "docs" / "osc.md").read_text()
    for address, handler in handlers.HANDLERS.items():
        example = handler.__doc__.split(address + " ", 1)[1].splitlines()[0]
        assert f"{address} {example}" in doc, (handler.__name__, example)
