"""The demo's generation controls, one per entry of the control table
(model/generation/controls.py) that the demo shows: a control added to the
table appears on the page, in the /generate API and in `task.Task` without
an edit here.

- a number with a dial range (temperature, top-p, variations, candidates)
  is a slider; the seed a number box (-1: a random seed);
- the key lock the demo's own menu (off, detected from the song, or a key);
- a control that can follow the part, or be switched off, is a menu of
  its suggestions that also takes typed text: "auto" (its default, a real
  choice: nothing is sent and the engine follows the part), "off", or a
  value such as 0.5, 40-90 or 36,38,42. No number stands for "auto".

The form's values become the request's controls in `request_controls`:
typed text read as the CLI reads its flags, each value held to the
request's own bounds and worded for the visitor, and a value equal to the
engine's default left out (the engine reads it the same either way).
Nothing here imports Gradio at import time, or torch.
"""

from __future__ import annotations

from midifill.model.errors import RequestError
from midifill.model.generation import front
from midifill.model.generation.controls import AUTO, AUTO_TEXT, NO, Control, for_face
from midifill.model.generation.front import InputError

CONTROLS: list[Control] = for_face("demo")
SEED_RANDOM = -1  # the seed box's "pick one": below the seed's range, never a seed


def label(c: Control) -> str:
    return c.name.replace("_", " ").replace("top p", "top-p").capitalize()


def is_menu(c: Control) -> bool:
    """A control with a state besides its values (auto or off) is a menu."""
    return c.kind != "key" and (c.auto is not NO or c.off is not NO)


def start_value(c: Control):
    """What the form shows before the visitor touches it."""
    value = c.face_defaults.get("demo", c.default)
    if value is AUTO or (is_menu(c) and value is None and c.auto is None):
        return AUTO_TEXT
    if value is None and c.name == "seed":
        return SEED_RANDOM
    return value


def task_fields() -> list[tuple]:
    """(name, type, default) of each control, for task.Task: None, not sent,
    so a Task asks for the engine's defaults where the page shows its own."""
    return [(c.name, object, None) for c in CONTROLS]


def request_controls(values: dict) -> dict:
    """The request's controls from the form's values (by control name):
    None is not sent; text is read as typed; InputError says what to change."""
    out = {}
    for c in CONTROLS:
        value = values.get(c.name)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = front.from_text(c.name, value)
            except ValueError as exc:
                raise InputError(f"{label(c)}: {exc}. {_hint(c)}") from None
        elif isinstance(value, tuple):
            value = list(value)
        try:
            parsed = c.parse(value, f"controls.{c.name}")
        except RequestError as exc:
            raise InputError(f"{label(c)}: {exc.message}. {_hint(c)}") from None
        if parsed is c.default or (parsed == c.default and type(parsed) is type(c.default)):
            continue  # the engine's own default: nothing to send
        out[c.name] = parsed if isinstance(parsed, (int, float)) and c.kind == "number" else value
    try:
        front.check_controls(out)
    except RequestError as exc:  # the controls together (a key with no pitch in the range)
        name = exc.field.split(".")[-1].split("[")[0]
        raise InputError(f"{name.replace('_', ' ').capitalize()}: {exc.message}.") from None
    return front.controls(**out)


def _hint(c: Control) -> str:
    words = c.values_words().replace("`", "")
    return f"Enter {words}." if words else ""


def components(gr, key_choices: list, key_default: str, max_variations: int) -> list:
    """One Gradio component per control, in the table's order."""
    made = []
    for c in CONTROLS:
        value, info = start_value(c), c.help
        if c.kind == "key":
            made.append(gr.Dropdown(key_choices, value=key_default, label="key lock"))
        elif is_menu(c):
            info = f"{c.help}. auto (default): {c.default_words().removeprefix('auto: ')}"
            made.append(
                gr.Dropdown(
                    list(c.suggestions) or [AUTO_TEXT],
                    value=value,
                    allow_custom_value=True,
                    label=label(c),
                    info=info,
                    elem_id=f"control-{c.name}",
                )
            )
        elif c.ui is not None:
            lo, hi, step = c.ui
            if c.name == "variations":
                hi = max_variations  # the page's slots
            made.append(gr.Slider(lo, hi, value, step=step, label=label(c), info=info))
        else:
            made.append(
                gr.Number(
                    value,
                    precision=0 if c.integer else None,
                    label=f"{label(c)} ({SEED_RANDOM}: random)" if c.name == "seed" else label(c),
                )
            )
    return made
