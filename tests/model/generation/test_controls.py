"""The control table (model/generation/controls.py) is the one place a request
control is written: every entry, iterated here, reaches request validation
and its default, the CLI's flags, the demo's form and API, the docs' table,
the REAPER settings and the Live device; "auto" is a state of its own."""

import argparse
import dataclasses
import inspect

import pytest

from midifill.bridge import control_flags, faces
from midifill.bridge.cmd_generate import add_arguments
from midifill.model.errors import RequestError
from midifill.model.generation import front
from midifill.model.generation.controls import AUTO, NO, TABLE, for_face
from midifill.model.generation.request import CONTROL_FIELDS, parse_controls
from midifill.model.generation.sampling import Controls
from tests.support import ROOT, require_module

IDS = [c.name for c in TABLE]


def typed(c) -> str:
    """A value of `c` a user may type, not its default."""
    values = [s for s in c.suggestions if s != "auto"]
    if values:
        return values[-1]
    if c.kind == "key":
        return "E minor"
    return str(c.hi if c.integer else c.hi / 2)


def test_the_table_names_every_field_of_controls_in_its_order():
    assert [c.name for c in TABLE] == [f.name for f in dataclasses.fields(Controls)]
    assert CONTROL_FIELDS == set(IDS) == set(front.CONTROLS)


@pytest.mark.parametrize("c", TABLE, ids=IDS)
def test_request_validation_and_defaults_come_from_the_entry(c):
    field = f"controls.{c.name}"
    left_out = getattr(parse_controls({}), c.name)
    assert left_out is c.default or left_out == c.default
    assert front.CONTROLS[c.name] is left_out or front.CONTROLS[c.name] == left_out
    assert getattr(parse_controls({c.name: None}), c.name) == left_out  # null: the default
    for word, state in (("auto", c.auto), ("off", c.off)):
        if state is NO:
            with pytest.raises(RequestError) as err:
                parse_controls({c.name: word})
            assert err.value.field == field
        else:
            assert (
                getattr(parse_controls({c.name: word}), c.name) is state
                or getattr(parse_controls({c.name: word}), c.name) == state
            )
    value = front.from_text(c.name, typed(c))  # a value typed, read, checked
    got = getattr(parse_controls({c.name: value}), c.name)
    assert got == c.parse(value, field) and got is not c.default
    with pytest.raises(RequestError) as err:
        parse_controls({c.name: {"not": "a value"}})
    assert err.value.field.startswith(field)
    if c.kind == "number":  # the bounds, at the edge
        parse_controls({c.name: c.hi})
        with pytest.raises(RequestError):
            parse_controls({c.name: c.hi + 1})


def test_the_follow_the_part_controls_default_to_auto_not_a_number():
    follow = [c.name for c in TABLE if c.default is AUTO]
    assert {"pitch_range", "max_polyphony", "harmony", "kit", "groove", "durations", "feel"} <= set(
        follow
    )
    controls = parse_controls({})
    assert all(getattr(controls, name) is AUTO for name in follow)
    assert parse_controls({"harmony": 0.3}).harmony == 0.3  # no value stands for auto


@pytest.mark.parametrize("c", for_face("cli"), ids=[c.name for c in for_face("cli")])
def test_each_cli_control_is_a_flag_whose_value_reaches_the_request(c):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    help_text = " ".join(parser.format_help().split())
    assert c.flag in help_text and " ".join(c.help.split()) in help_text
    args = parser.parse_args(
        ["in.mid", "-o", "out.mid", "--track", "1", "--bars", "1", c.flag, typed(c)]
    )
    controls = control_flags.read(args)
    assert list(controls) == [c.name]
    assert getattr(parse_controls(controls), c.name) == c.parse(
        front.from_text(c.name, typed(c)), c.name
    )


def test_max_polyphony_is_reachable_from_every_face():
    c = next(c for c in TABLE if c.name == "max_polyphony")
    assert c.faces == {"cli", "demo", "reaper", "live"}


@pytest.mark.parametrize("c", for_face("demo"), ids=[c.name for c in for_face("demo")])
def test_each_demo_control_is_on_the_form_in_the_api_and_reaches_the_request(c):
    from midifill.demo import controls_form as form
    from midifill.demo import task as tk

    assert c.name in {f.name for f in dataclasses.fields(tk.Task)}
    value = typed(c) if c.kind != "key" else "C major"
    sent = form.request_controls({c.name: value})
    assert getattr(parse_controls(sent), c.name) == c.parse(front.from_text(c.name, value), "")
    if c.default is AUTO:  # "auto" on the form: nothing sent, the engine follows the part
        assert form.start_value(c) == "auto" and form.request_controls({c.name: "auto"}) == {}


def test_the_demo_page_shows_one_box_per_demo_control_in_the_table_order():
    require_module("gradio")
    from midifill.demo import app

    params = list(inspect.signature(app.generate).parameters)
    names = [c.name for c in for_face("demo")]
    assert [p for p in params if p in names] == names
    assert params.index(names[0]) == 6  # after the selection, before the sound


def test_the_docs_reaper_and_live_blocks_are_written_from_the_table():
    assert faces.stale() == [], "run python -m midifill.bridge.faces"
    docs = (ROOT / "docs" / "contract.md").read_text()
    lua = (ROOT / "daw_scripts" / "reaper" / "midifill_common.lua").read_text()
    js = (ROOT / "daw_scripts" / "ableton" / "midifill.js").read_text()
    for c in TABLE:
        assert f"| `{c.name}` |" in docs
        assert (f'key = "{c.name}"' in lua) == ("reaper" in c.faces)
        assert (f'"name": "{c.name}"' in js) == ("live" in c.faces)


def test_no_face_keeps_a_number_that_stands_for_auto():
    js = (ROOT / "daw_scripts" / "ableton" / "midifill.js").read_text()
    task = (ROOT / "demo" / "task.py").read_text()
    assert "HARMONY_AUTO" not in js and "HARMONY_DEFAULT" not in task
