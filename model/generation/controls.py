"""The request controls, one entry each: the single place a control is written.

Each `Control` names a field of `Controls` (sampling.py) and says its type,
its bounds or choices, its default, its help text and the faces that show
it. From this table come the request's validation and defaults
(request.parse_controls), the client side (front.CONTROLS), the flags of
`midifill generate`, the demo's form, the control table of docs/contract.md
and the control settings of the REAPER scripts and the Live device
(bridge/faces.py writes those three; tests/model/generation/test_controls.py checks them).

A follow-the-part control defaults to AUTO (sampling.py), its own state and
never a number: the engine sets it from the target part's nearby bars. The
request's JSON spells the states one way for every control:

- left out, or `null`: the control's default (AUTO where it follows the part);
- `"auto"`: follow the part, where the control can;
- `"off"`: switch it off, where it can be (for `harmony`, `0`);
- anything else: a value, checked against the bounds below.

A face that takes text (the CLI's flags, the demo's boxes, REAPER's dialog)
reads it with `Control.from_text`, the same spelling with `5-8` for a range
and `36,38,42` for a list of keys, so the request carries what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import RequestError, quote
from ..limits import CHUNK_BARS, CONTEXT_BARS
from ..scales import scale_pitch_classes
from .choose import CANDIDATES, DRUM_CANDIDATES
from .groove_lean import GROOVE_NATS
from .line_lean import LINE_NATS
from .sampling import AUTO
from .values import number, plain

AUTO_TEXT, OFF_TEXT = "auto", "off"
FACES = frozenset({"cli", "demo", "reaper", "live"})
KINDS = ("number", "range", "key", "keys", "switch", "choice", "state")


class _No:
    """Marks a state a control does not have (no "auto", no "off")."""

    def __repr__(self) -> str:
        return "NO"


NO = _No()


@dataclass(frozen=True)
class Control:
    """One request control. `auto` and `off` are the Controls values that
    "auto" and "off" stand for, or NO where the control has no such state."""

    name: str
    kind: str  # one of KINDS
    help: str  # one sentence, what it does (the CLI, the demo, REAPER, the docs)
    default: object = None  # what a request that leaves it out gets
    default_text: str = ""  # the default in words, where its value does not say it
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    lo_open: bool = False
    choices: tuple[str, ...] = ()
    auto: object = NO
    off: object = NO
    faces: frozenset[str] = FACES
    ui: tuple[float, float, float] | None = None  # a slider or dial's (low, high, step)
    face_defaults: dict = field(default_factory=dict)  # a face's own first value
    suggestions: tuple[str, ...] = ()  # values a menu offers, as text
    metavar: str = "X"
    doc: str = ""  # the docs' wording where it says more than `help`

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def default_words(self) -> str:
        if self.default_text:
            return self.default_text
        return "none" if self.default is None else _text(self.default)

    def values_words(self) -> str:
        """What the request may hold, in the docs' words."""
        if self.kind == "number":
            lo = "0" if self.lo == 0 else _text(self.lo)
            span = f"({lo}, {_text(self.hi)}]" if self.lo_open else f"{lo}–{_text(self.hi)}"
            words = [("an integer " if self.integer else "") + span]
        elif self.kind == "range":
            words = [f"`[low, high]`, {_text(self.lo)}–{_text(self.hi)}"]
        elif self.kind == "key":
            words = ['a key, `"E minor"`']
        elif self.kind == "keys":
            words = [f"a list of drum keys {_text(self.lo)}–{_text(self.hi)}"]
        elif self.kind == "switch":
            words = ["`true`, `false`"]
        elif self.kind == "choice":
            words = [", ".join(f'`"{c}"`' for c in self.choices)]
        else:
            words = []
        if self.auto is not NO:
            words.append('`"auto"`')
        if self.off is not NO:
            words.append('`"off"`')
        return ", ".join(words)

    # --- the request's JSON ----------------------------------------------------

    def parse(self, value, field: str):
        """The Controls value of a JSON value that is not null."""
        value = plain(value, field)
        if isinstance(value, str):
            word = value.strip().lower()
            if word == AUTO_TEXT and self.auto is not NO:
                return self.auto
            if word == OFF_TEXT and self.off is not NO:
                return self.off
        return getattr(self, "_parse_" + self.kind)(value, field)

    def _states(self) -> str:
        return " or ".join(
            f"'{w}'" for w, s in ((AUTO_TEXT, self.auto), (OFF_TEXT, self.off)) if s is not NO
        )

    def _parse_number(self, value, field):
        if isinstance(value, str) and self._states():
            raise RequestError(field, f"expected a number or {self._states()}, got {quote(value)}")
        return number(value, field, self.lo, self.hi, integer=self.integer, lo_open=self.lo_open)

    def _parse_range(self, value, field):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise RequestError(field, f"expected [low, high], got {quote(value)}")
        lo = number(value[0], f"{field}[0]", self.lo, self.hi, integer=True)
        hi = number(value[1], f"{field}[1]", lo, self.hi, integer=True)
        return (lo, hi)

    def _parse_key(self, value, field):
        if not isinstance(value, str):
            raise RequestError(field, "expected a string such as 'E minor'")
        scale_pitch_classes(value)  # names an unknown key
        return value

    def _parse_keys(self, value, field):
        if not isinstance(value, (list, tuple)) or not value:
            raise RequestError(
                field, f"expected a list of drum keys or {self._states()}, got {quote(value)}"
            )
        if len(value) > 128:
            raise RequestError(field, f"{len(value)} keys; there are 128")
        keys = [
            number(k, f"{field}[{i}]", self.lo, self.hi, integer=True) for i, k in enumerate(value)
        ]
        return tuple(sorted(set(keys)))

    def _parse_switch(self, value, field):
        if not isinstance(value, bool):
            raise RequestError(
                field, f"expected true, false or {self._states()}, got {quote(value)}"
            )
        return value

    def _parse_choice(self, value, field):
        if not isinstance(value, str) or value.strip().lower() not in self.choices:
            allowed = ", ".join(f"'{c}'" for c in self.choices)
            raise RequestError(
                field, f"expected one of {allowed}, {self._states()}, got {quote(value)}"
            )
        return value.strip().lower()

    def _parse_state(self, value, field):
        raise RequestError(field, f"expected {self._states()}, got {quote(value)}")

    # --- typed text (the CLI, the demo, REAPER's dialog) -------------------------

    def from_text(self, text: str):
        """The JSON value of what a user typed; ValueError says what to type.
        Bounds are the request's to check (parse)."""
        s = str(text).strip()
        word = s.lower()
        if (word == AUTO_TEXT and self.auto is not NO) or (word == OFF_TEXT and self.off is not NO):
            return word
        if self.kind == "number":
            try:
                return int(s) if self.integer else float(s)
            except ValueError:
                kind = "a whole number" if self.integer else "a number"
                states = f" or {self._states()}" if self._states() else ""
                raise ValueError(f"expected {kind}{states}, got {s[:40]!r}") from None
        if self.kind == "range":
            return list(range_from_text(s))
        if self.kind == "keys":
            try:
                return [int(k) for k in s.replace(" ", ",").split(",") if k]
            except ValueError:
                raise ValueError(
                    f"expected drum keys such as 36,38,42 or {self._states()}, got {s[:40]!r}"
                ) from None
        if self.kind == "switch":
            if word in ("on", "true", "yes"):
                return True
            raise ValueError(f"expected on or {self._states()}, got {s[:40]!r}")
        if self.kind == "state":
            raise ValueError(f"expected {self._states()}, got {s[:40]!r}")
        return s  # key, choice: checked by parse


def range_from_text(text: str) -> tuple[int, int]:
    """(lo, hi) of "5-8" or "5"; ValueError with the message otherwise."""
    try:
        a, _, b = text.partition("-")
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise ValueError(f"must look like 5-8, got {text[:40]!r}") from None
    if lo > hi:
        raise ValueError(f"{text}: the first number is larger than the second")
    return lo, hi


def _text(value) -> str:
    if value is AUTO:
        return AUTO_TEXT
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    if isinstance(value, int) and value >= 2**31:
        return f"2^{value.bit_length()}−1" if value == 2 ** value.bit_length() - 1 else str(value)
    return str(value)


# --- the table: one entry per field of Controls, in its order ----------------------

_FOLLOW: dict[str, Any] = dict(default=AUTO, auto=AUTO)

TABLE: tuple[Control, ...] = (
    Control(
        "temperature",
        "number",
        "sampling temperature 0-5; 0 is greedy, higher is wilder",
        default=1.0,
        lo=0,
        hi=5,
        ui=(0.1, 2.0, 0.05),
        metavar="T",
        doc="sampling temperature; 0 is greedy",
    ),
    Control(
        "top_p",
        "number",
        "nucleus sampling: draw from the likeliest tokens that make up P "
        "of the probability, 0 < P <= 1",
        default=0.95,
        lo=0,
        hi=1,
        lo_open=True,
        ui=(0.05, 1.0, 0.01),
        faces=frozenset({"cli", "demo"}),
        metavar="P",
    ),
    Control(
        "top_k",
        "number",
        "draw only from the K likeliest tokens; 0: no limit",
        default=0,
        lo=0,
        hi=100_000,
        integer=True,
        faces=frozenset({"cli"}),
        metavar="K",
    ),
    Control(
        "seed",
        "number",
        "the same input and seed give the same notes",
        default=None,
        default_text="a random seed, returned with the notes (the CLI prints it, the "
        "demo shows it) so a result can be repeated",
        lo=0,
        hi=2**63 - 1,
        integer=True,
        faces=frozenset({"cli", "demo"}),
        metavar="N",
    ),
    Control(
        "variations",
        "number",
        "fills to write, generated as one batch, the closest to the "
        "track's own pitch classes first",
        default=1,
        lo=1,
        hi=8,
        integer=True,
        ui=(1, 8, 1),
        face_defaults={"demo": 2, "reaper": 3, "live": 3},
        metavar="K",
    ),
    Control(
        "candidates",
        "number",
        "fills to sample, keeping those closest to the track's "
        "nearby notes; 1 keeps one draw, faster",
        lo=1,
        hi=16,
        integer=True,
        ui=(1, 16, 1),
        faces=frozenset({"cli", "demo", "reaper"}),
        metavar="N",
        default=AUTO,
        auto=AUTO,
        suggestions=("auto", "1", "2", "4", "8", "16"),
        default_text=f"auto: {CANDIDATES} for a pitched track, {DRUM_CANDIDATES} for a drum track",
        doc=f"fills sampled for each chunk of up to {CHUNK_BARS} bars, shared among the "
        "variations (each keeps the closest of its share, at least itself): where the "
        f"target track has notes in the {CONTEXT_BARS} bars on each side, the engine "
        "keeps the sampled fills whose pitch-class histogram is closest to theirs "
        "([fit.md](fit.md#choosing-among-sampled-fills)), or for a drum track those "
        'whose onsets per drum group are (`groove`); `"auto"`: '
        f"{CANDIDATES} for a pitched track (with the line lean, 4 chose as well as 8 on "
        f"the dev set: [fit.md](fit.md)), {DRUM_CANDIDATES} for a drum track, cut to "
        "the best half after the first bar ([speed.md](speed.md)); `1`: one sample per "
        "variation, kept whatever it holds. `generate` samples only the variations",
    ),
    Control(
        "pitch_range",
        "range",
        "MIDI pitches a pitched fill stays inside, e.g. 28-60",
        default_text="auto: the track's nearby register, at least 7 semitones wide",
        lo=0,
        hi=127,
        off=None,
        suggestions=("auto", "off", "28-60", "36-72", "48-84", "60-96"),
        metavar="LOW-HIGH",
        **_FOLLOW,
        doc='pitched notes only inside it (inclusive); `"auto"`: the register of the '
        "target track's own notes in the 8 bars on each side, widened evenly to at least "
        '7 semitones (no limit when it has fewer than 3 notes there); `"off"`: no '
        "limit",
    ),
    Control(
        "key",
        "key",
        'key lock, e.g. "E minor", "Bb dorian"',
        default=None,
        off=None,
        doc='key lock: `"E minor"`, `"Bb dorian"`, `"F# major pentatonic"`, ...',
    ),
    Control(
        "max_polyphony",
        "number",
        "at most this many notes sounding at once",
        default_text="auto: the track's own most notes at once in its nearby bars",
        lo=1,
        hi=32,
        integer=True,
        off=None,
        ui=(1, 32, 1),
        suggestions=("auto", "off", "1", "2", "3", "4", "6", "8"),
        metavar="N",
        **_FOLLOW,
    ),
    Control(
        "density",
        "number",
        "notes per bar; 0 allows sparse or empty output",
        default=None,
        auto=None,
        lo=0,
        hi=64,
        ui=(0, 16, 0.5),
        default_text="auto: as busy as the track's own notes nearby, or the model's choice",
        suggestions=("auto", "0", "2", "4", "8", "16"),
        doc='notes per bar for the fill; `"auto"`: as busy as the target track\'s own '
        "notes in the 8 bars on each side, or the model's choice when there are none "
        "(never an empty fill); `0`: sparse output allowed, may be empty",
    ),
    Control(
        "harmony",
        "number",
        "0-1: how strongly notes lean towards the pitch classes the "
        "other tracks sound; 0 off, 1 strong",
        off=0.0,
        lo=0,
        hi=1,
        ui=(0, 1, 0.05),
        default_text="auto: it follows the track, from how often its nearby notes agree with "
        "the other tracks",
        suggestions=("auto", "off", "0.2", "0.4", "0.6", "0.8", "1"),
        **_FOLLOW,
        doc="lean the fill towards the pitch classes the other pitched tracks sound at each "
        "of its onsets (or sounded in the 2 beats before, across a rest): a soft bias of "
        'up to 4 nats, never a lock; `"auto"`: a strength that follows the target '
        "track, its own nearby notes' share on the other tracks' pitch classes less 0.35, "
        "within 0–0.6 (about 0.4 for a chordal pop part, 0.1 for a contrapuntal voice), "
        "or 0.3 where it has fewer than 3 nearby notes or in `generate` mode, chosen on "
        'held-out songs ([fit.md](fit.md)); `0` or `"off"`: off',
    ),
    Control(
        "kit",
        "keys",
        "the drum keys a drum fill may play, e.g. 36,38,42",
        default_text="auto: the keys the part plays nearby; a new or empty drum part gets a "
        "core kit (kick, snare, hats, toms, crash, ride)",
        lo=0,
        hi=127,
        off=None,
        suggestions=("auto", "off", "36,38,42,46,49"),
        metavar="KEYS",
        **_FOLLOW,
    ),
    Control(
        "groove",
        "switch",
        "choose drum fills among the sampled candidates by how close "
        "their onsets per drum group come to the part's own bars",
        off=False,
        default_text="auto: on where the drum part has notes nearby",
        suggestions=("auto", "on", "off"),
        metavar="on|off|auto",
        **_FOLLOW,
    ),
    Control(
        "groove_lean",
        "number",
        "0-1: how strongly a drum fill leans towards carrying on the part's own "
        "bars; 0 off, 1 strong",
        off=0.0,
        lo=0,
        hi=1,
        ui=(0, 1, 0.05),
        faces=frozenset({"cli", "demo", "reaper"}),  # the Live device has no room left
        default_text="auto: it follows the drum part, from how often its nearby bars "
        "repeat; 0 for a pitched track or where the request names a density",
        suggestions=("auto", "off", "0.25", "0.5", "0.75", "1"),
        **_FOLLOW,
        doc="lean a drum fill, token by token, towards what the part's own nearby bars of "
        "the same length that agree with the bar written so far play next (their next "
        "onset, their keys there, closing the bar where they have no more hits): a "
        f"bias of up to {GROOVE_NATS:g} nats that forbids nothing (strong: the network "
        "overrules it only where it is very sure), velocities untouched "
        '([fit.md](fit.md)); `"auto"`: the share of the part\'s nearby non-empty bars '
        "equal to another of them (1 for a part that repeats one bar, 0 for one that "
        'never repeats); `0` or `"off"`: off. Pitched tracks: `line_lean`',
    ),
    Control(
        "line_lean",
        "number",
        "0-1: how strongly a pitched fill leans towards carrying on the part's own bars "
        "(riffs, bass lines); 0 off, 1 strong",
        **{**_FOLLOW, "off": 0.0, "lo": 0, "hi": 1, "ui": (0, 1, 0.05)},
        faces=frozenset({"cli", "demo", "reaper"}),  # as groove_lean: no room on Live
        default_text="auto: it follows the pitched part, from how often its nearby bars "
        "repeat; 0 for a drum track or where the request names a density",
        suggestions=("auto", "off", "0.25", "0.5", "0.75", "1"),
        doc="groove_lean's pitched counterpart: what the part's own nearby bars that agree "
        "with the bar so far play next (next onset, pitch there, that note's length, or "
        f"closing the bar; not a pitch the other tracks do not sound there), a bias of up "
        f"to {LINE_NATS:g} nats that forbids nothing, "
        'velocities untouched ([fit.md](fit.md)); `"auto"`: the share of the part\'s '
        'nearby non-empty bars equal to another; `0` or `"off"`: off',
    ),
    Control(
        "durations",
        "state",
        "note lengths follow the part's own (staccato stays staccato, pads stay long)",
        off=None,
        default_text="auto",
        suggestions=("auto", "off"),
        metavar="auto|off",
        **_FOLLOW,
    ),
    Control(
        "feel",
        "choice",
        "rhythmic feel: straight, triplet, swing or loose (unquantised)",
        choices=("straight", "triplet", "swing", "loose"),
        off=None,
        default_text="auto: as the part's onsets show",
        suggestions=("auto", "off", "straight", "triplet", "swing", "loose"),
        metavar="FEEL",
        **_FOLLOW,
    ),
)

BY_NAME = {c.name: c for c in TABLE}
NAMES = tuple(BY_NAME)


def defaults() -> dict:
    """Each control's default, as a request that leaves it out gets it."""
    return {c.name: c.default for c in TABLE}


def for_face(face: str) -> list[Control]:
    return [c for c in TABLE if face in c.faces]


def to_json(value):
    """A Controls value as the request's JSON spells it (AUTO is "auto", a
    tuple a list); None stays None, which a face leaves out."""
    if value is AUTO:
        return AUTO_TEXT
    if isinstance(value, tuple):
        return [int(v) for v in value]
    return value


__all__ = [
    "AUTO",
    "AUTO_TEXT",
    "BY_NAME",
    "Control",
    "FACES",
    "NAMES",
    "NO",
    "OFF_TEXT",
    "TABLE",
    "defaults",
    "for_face",
    "range_from_text",
    "to_json",
]
