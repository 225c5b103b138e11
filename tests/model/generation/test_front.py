"""model/generation/front.py, the one request builder of `midifill generate` and the demo:
it imports without torch, and the two faces send the same request for the
same input."""

import subprocess
import sys

import pytest

from midifill import model
from midifill.bridge.cli import main
from midifill.demo import task as tk
from midifill.model.generation import front
from midifill.model.generation.request import parse_controls
from midifill.model.generation.sampling import AUTO
from midifill.model.midi_io import read_midi
from tests.support import ROOT

POP = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"


def test_the_front_ends_import_without_torch_and_the_engine_still_loads():
    code = (
        "import sys\n"
        "import midifill.model.generation.front, midifill.demo.task, midifill.bridge.cmd_generate\n"
        "assert 'torch' not in sys.modules, 'torch came with the request builder'\n"
        "from midifill.model import Engine\n"
        "assert 'torch' not in sys.modules and Engine.__name__ == 'Engine'  # nor the engine\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


class RecordingEngine:
    """Stands in for model.Engine in `midifill generate`: keeps the request."""

    requests = []

    @classmethod
    def from_checkpoint(cls, path):
        return cls()

    def run(self, request):
        RecordingEngine.requests.append(request)
        n = request["controls"].get("variations", 1)
        return {
            "variations": [{"notes": []}] * n,
            "model": "recording",
            "seed": 0,
            "timing_ms": {"total": 0.0},
        }


def cli_request(monkeypatch, tmp_path, *args):
    monkeypatch.setattr(model, "Engine", RecordingEngine, raising=False)
    RecordingEngine.requests = []
    assert main(["generate", str(POP), "-o", str(tmp_path / "out.mid"), *args]) == 0
    (request,) = RecordingEngine.requests
    return request


@pytest.mark.parametrize("mode", front.MODES)
def test_the_cli_and_the_demo_build_the_same_request(monkeypatch, tmp_path, mode):
    request = cli_request(
        monkeypatch,
        tmp_path,
        "--mode",
        mode,
        "--track",
        "3",
        "--bars",
        "7-12",
        "--seed",
        "5",
        "--variations",
        "2",
        "--temperature",
        "0.9",
        "--top-p",
        "0.9",
        "--density",
        "4",
        "--key",
        "C major",
        "--pitch-range",
        "40-90",
        "--harmony",
        "0.8",
    )
    job = tk.Task(
        mode=mode,
        target="3",
        bar_start=7,
        bar_end=12,
        seed=5,
        variations=2,
        temperature=0.9,
        top_p=0.9,
        density=4.0,
        key="C major",
        pitch_range=(40, 90),
        harmony=0.8,
    )
    assert tk.prepare(tk.load_song(POP), job)[1] == request
    assert request["target"] == {"track": "3", "start": 24.0, "end": 48.0}


def test_left_alone_the_cli_and_the_demo_ask_the_engine_for_the_same(monkeypatch, tmp_path):
    # the demo's form always holds a temperature and a top-p; the CLI sends
    # what it was given: the engine reads both the same way
    request = cli_request(monkeypatch, tmp_path, "--track", "1", "--bars", "2-3", "--seed", "7")
    _, demo, *_ = tk.prepare(tk.load_song(POP), tk.Task(target="1", bar_start=2, bar_end=3, seed=7))
    assert {k: v for k, v in demo.items() if k != "controls"} == {
        k: v for k, v in request.items() if k != "controls"
    }
    assert parse_controls(demo["controls"]) == parse_controls(request["controls"])


def test_controls_leave_out_what_was_not_given():
    assert front.controls(seed=None, density=None, temperature=0.5, pitch_range=(1, 2)) == {
        "temperature": 0.5,
        "pitch_range": [1, 2],
    }
    with pytest.raises(TypeError, match="tempo"):
        front.controls(tempo=120)
    assert front.CONTROLS["harmony"] == parse_controls({}).harmony
    assert front.CONTROLS["candidates"] is parse_controls({}).candidates is AUTO  # 8, 4 for drums
    assert front.CONTROLS["temperature"] == parse_controls({}).temperature


def test_a_response_replaces_the_requested_range_only():
    song = read_midi(POP)
    request = front.build_request(song, "3", (5, 6), "fill", front.controls(seed=1))
    assert request["target"] == {"track": "3", "start": 16.0, "end": 24.0}
    (filled,) = front.apply_response(
        song, request, {"variations": [{"notes": [[79, 16.0, 1.0, 90]]}]}
    )
    assert [n.pitch for n in filled.track("3").notes_in(16, 24)] == [79]
    assert filled.track("0").notes == song.track("0").notes
    with pytest.raises(front.InputError, match="Mode"):
        front.build_request(song, "3", (5, 6), "remix", {})


def _sounding_at_once(notes):
    edges = sorted(
        [(n.start, 1) for n in notes] + [(n.end, -1) for n in notes], key=lambda e: (e[0], e[1])
    )
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_same_pitch_notes_of_a_response_are_trimmed_or_merged():
    song = read_midi(POP)
    request = front.build_request(song, "3", (5, 6), "fill", front.controls(seed=1))
    notes = front.fill_notes(
        song,
        request["target"],
        [
            [60, 16.0, 2.0, 90],
            [60, 17.0, 1.0, 80],  # the earlier is trimmed at the later
            [62, 18.0, 1.0, 90],
            [62, 18.0625, 1.0, 70],  # too close to trim: merged into one
            [64, 19.0, 0.5, 90],
            [64, 19.0, 1.5, 70],
        ],
    )  # one start: merged, the longer end
    got = [(n.pitch, n.start, n.duration, n.velocity) for n in notes]
    assert got == [
        (60, 16.0, 1.0, 90),
        (60, 17.0, 1.0, 80),
        (62, 18.0, 1.0625, 90),
        (64, 19.0, 1.5, 70),
    ]
    assert all(n.duration >= 0.125 for n in notes)


def test_rounding_never_adds_a_note_sounding_at_once():
    # a note at tick 1 of 24 lasting 4 ticks, rounded to 6 decimals as a
    # response holds it, ends 1e-6 beat after the next note (tick 5) starts
    from midifill.model.song import Note

    song = read_midi(POP)
    request = front.build_request(song, "3", (5, 6), "fill", {"max_polyphony": 1})
    raw = [[60, round(16 + 1 / 24, 6), round(4 / 24, 6), 90], [62, round(16 + 5 / 24, 6), 0.5, 90]]
    assert _sounding_at_once([Note.from_list(n) for n in raw]) == 2
    notes = front.fill_notes(song, request["target"], raw)
    assert _sounding_at_once(notes) == 1 and len(notes) == 2


def test_a_new_note_under_a_kept_note_of_its_pitch_is_left_out():
    from midifill.model.song import Note, Song, Track

    song = Song([Track("0", 0, False, [Note(60, 2.0, 4.0, 90)])])  # held from bar 1 into bar 2
    request = front.build_request(song, "0", (2, 2), "fill", {})
    notes = front.fill_notes(song, request["target"], [[60, 4.5, 1.0, 80], [64, 4.5, 1.0, 80]])
    assert [n.pitch for n in notes] == [64]
    (filled,) = front.apply_response(
        song, request, {"variations": [{"notes": [[60, 4.5, 1.0, 80], [64, 4.5, 1.0, 80]]}]}
    )
    assert sorted(n.pitch for n in filled.track("0").notes) == [60, 64]


def test_notes_in_another_range_of_the_track_are_not_kept():
    """Two ranges on one track: the note held from bar 1 into bar 2 is about
    to be replaced by bar 1's fill, so it must not push out bar 2's new note
    of its pitch (counted as kept, it did)."""
    from midifill.model.song import Note, Song, Track

    song = Song([Track("0", 0, False, [Note(60, 2.0, 4.0, 90), Note(67, 9.0, 1.0, 90)])])
    request = front.build_targets_request(song, [("0", (2, 2)), ("0", (1, 1))], "fill", {})
    assert [(t["start"], t["end"]) for t in request["targets"]] == [(4.0, 8.0), (0.0, 4.0)]
    bar2 = dict(request["targets"][0], notes=[[60, 4.5, 1.0, 80]])
    bar1 = dict(request["targets"][1], notes=[[64, 0.0, 1.0, 80]])
    assert front.fill_notes(song, bar2, bar2["notes"]) == []  # one range alone: 60 is kept
    assert [n.pitch for n in front.fill_notes(song, bar2, bar2["notes"], request["targets"])] == [
        60
    ]
    (filled,) = front.apply_response(song, request, {"variations": [{"targets": [bar2, bar1]}]})
    assert [(n.pitch, n.start) for n in filled.track("0").sorted_notes()] == [
        (64, 0.0),
        (60, 4.5),
        (67, 9.0),
    ]
