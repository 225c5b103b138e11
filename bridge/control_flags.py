"""The control flags of `midifill generate`, one per entry of the control
table (model/generation/controls.py) that the CLI shows: `--temperature`,
`--max-polyphony`, `--kit`, ... A flag takes what the table's text reader
takes ("auto", "off", a number, 40-90, 36,38,42); the request's own check
(front.check_controls) then holds it to the bounds, before the engine loads.
Nothing here imports torch."""

from __future__ import annotations

from midifill.model.generation import front
from midifill.model.generation.controls import for_face


def add(parser) -> None:
    """One flag per control the CLI shows, with its help and default."""
    for c in for_face("cli"):
        values = c.values_words().replace("`", "")
        parser.add_argument(
            c.flag,
            dest=c.name,
            default=None,
            metavar=c.metavar,
            help=f"{c.help}; {values} (default: {c.default_words()})",
        )


def read(args) -> dict:
    """The request's controls from the flags given; ValueError names the flag."""
    values = {}
    for c in for_face("cli"):
        text = getattr(args, c.name, None)
        if text is None:
            continue
        try:
            values[c.name] = front.from_text(c.name, text)
        except ValueError as exc:
            raise ValueError(f"{c.flag} {exc}") from None
    controls = front.controls(**values)
    front.check_controls(controls)
    return controls
