"""Seeded, bounded fuzzing of every way input reaches midifill (issue 15):
engine requests (directly and over the real OSC server), MIDI files, the
`midifill generate` command line, checkpoints and the demo's upload.

Every case must end as a valid response or a typed error that names the
field or file: no untyped exception, no OSC reply lost, and no case may cost
more than 2 s or raise the process's peak memory by 200 MB. The default run
(~2,600 cases) is CI's; MIDIFILL_FUZZ_SCALE=10 (or more) is the larger run,
and `-s` prints the counts.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import json
import math
import os
import random
import resource
import time

import numpy as np
import pytest
import torch

from midifill.bridge.cli import main as cli_main
from midifill.bridge.client import BadPayload, Client, NoServerError, ServerError, TooLarge
from midifill.bridge.server import Server
from midifill.demo import task as demo_task
from midifill.model import Engine
from midifill.model.errors import CheckpointError, MidiFileError, MidifillError, RequestError
from midifill.model.midi_io import read_midi

pytestmark = pytest.mark.hostile


SEED = int(os.environ.get("MIDIFILL_FUZZ_SEED", "15"))
SCALE = float(os.environ.get("MIDIFILL_FUZZ_SCALE", "1"))
SECONDS, MEGABYTES, SMALL = 2.0, 200, 64 * 1024  # the budget of an input under SMALL bytes
MAXRSS_UNIT = 1024  # ru_maxrss is in KiB on Linux
KNOWN_CODES = {"bad_request", "too_large", "too_slow", "bad_json", "bad_input", "cancelled"}


RSS_CEILING_MB = 4000


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak-memory check still holds
        return 0.0


class Tally:
    """tried / valid / typed / untyped / lost / over budget, with examples."""

    def __init__(self):
        self.counts = collections.Counter()
        self.by_kind = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []
        self.slowest = (0.0, "")

    @contextlib.contextmanager
    def case(self, kind: str, what, size: int = 0):
        """One case; `size` (bytes of input) over 64 KB is outside the cost budget."""
        self.counts["tried"] += 1
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        outcome = {"result": None}
        yield outcome
        seconds = time.perf_counter() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / MAXRSS_UNIT
        result = outcome["result"]
        self.counts[result] += 1
        self.by_kind[kind][result] += 1
        if result in ("untyped", "lost"):
            self.failures.append(f"{kind} {result}: {outcome.get('why', '')} <- {what!s:.300}")
        if size >= SMALL:
            self.counts["large"] += 1
        elif seconds > SECONDS or grown > MEGABYTES:
            self.counts["over budget"] += 1
            self.failures.append(
                f"{kind} over budget ({seconds:.2f} s, +{grown:.0f} MB) <- {what!s:.300}"
            )
        # stop at once rather than let the kernel's OOM killer end the run (a file
        # whose bars were 2**-40 beats long once took 20 GB this way)
        assert current_rss_mb() < RSS_CEILING_MB, (
            f"{kind} case took the process to {current_rss_mb():.0f} MB <- {what!s:.300}"
        )
        if seconds > self.slowest[0]:
            self.slowest = (seconds, f"{kind}: {what!s:.120}")

    def summary(self) -> str:
        keys = ("tried", "valid", "typed", "untyped", "lost", "over budget", "large")
        kinds = "; ".join(
            f"{kind} " + "/".join(f"{c[k]}" for k in ("valid", "typed"))
            for kind, c in self.by_kind.items()
        )
        return (
            ", ".join(f"{k} {self.counts[k]}" for k in keys)
            + f" (valid/typed: {kinds}); slowest {self.slowest[0]:.2f} s ({self.slowest[1]:.60})"
        )


# --- hostile values ------------------------------------------------------------


def nested(depth, inner=1):
    for _ in range(depth):
        inner = [inner]
    return inner


def hostile(rng: random.Random, json_only: bool = False):
    """One value a careless or hostile client might send anywhere."""
    choices = [
        lambda: 10 ** rng.randint(3, 400),
        lambda: -(10 ** rng.randint(1, 30)),
        lambda: 1e308,
        lambda: -1e308,
        lambda: math.nan,
        lambda: math.inf,
        lambda: -0.0,
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.randint(-3, 200),
        lambda: 2**63 - 1,
        lambda: 2**63,
        lambda: 2**53 + 1,
        lambda: True,
        lambda: None,
        lambda: "",
        lambda: "x" * rng.choice([1, 81, 70_000]),
        lambda: [],
        lambda: {},
        lambda: nested(rng.choice([2, 40, 900, 5000])),
        lambda: [60, 0, 1, 90],
        lambda: [[0, 4, 4], [8, 0, 4]],
        lambda: {"k" * rng.choice([3, 70_000]): 1},
        lambda: rng.choice(["fill", "continue", "generate", "sing", "E minor", "H major"]),
        lambda: [rng.randint(-5, 130) for _ in range(rng.randint(0, 5))],
    ]
    if not json_only:
        choices += [
            lambda: np.int64(rng.randint(0, 127)),
            lambda: np.float32(rng.random() * 8),
            lambda: np.array([1, 2]),
            lambda: np.float64("nan"),
            lambda: np.bool_(True),
            lambda: (1, 2),
            lambda: np.uint64(7),
        ]
    return rng.choice(choices)()


def base_request(rng: random.Random) -> dict:
    bars = rng.randint(2, 6)
    notes = [[rng.randint(36, 84), i * 0.5, 0.5, rng.randint(40, 120)] for i in range(bars * 8)]
    start = float(rng.randint(0, bars - 1) * 4)
    return {
        "mode": rng.choice(["fill", "continue", "generate"]),
        "time_signature": [4, 4],
        "tempo": 120.0,
        "tracks": [
            {"id": "a", "program": 33, "is_drum": False, "notes": notes},
            {
                "id": "d",
                "program": 0,
                "is_drum": True,
                "notes": [[36, b * 1.0, 0.25, 100] for b in range(bars * 4)],
            },
        ],
        "target": {"track": rng.choice(["a", "d"]), "start": start, "end": start + 4.0},
        "controls": {"seed": rng.randint(0, 9), "variations": rng.randint(1, 2)},
    }


CONTROLS = [
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "variations",
    "pitch_range",
    "key",
    "density",
    "max_polyphony",
    "harmony",
]


def mild(rng: random.Random, req: dict) -> dict:
    """Changes inside the contract: these requests must come back valid."""
    c = req["controls"]
    c["variations"] = rng.randint(1, 4)
    c["temperature"] = rng.choice([0, 0.5, 1.0, 1.5])
    if rng.random() < 0.3:
        c["pitch_range"] = sorted(rng.sample(range(20, 100), 2))
    if rng.random() < 0.3:
        c["key"] = rng.choice(["E minor", "Bb dorian", "C major", "F# major pentatonic"])
    if rng.random() < 0.3:
        c["density"] = rng.choice([0, 1, 4.5, 12])
    if rng.random() < 0.3:
        c["max_polyphony"] = rng.randint(1, 4)
    if rng.random() < 0.2:
        req["time_signature"] = rng.choice([[3, 4], [6, 8], [7, 8], [2, 2]])
    req["target"]["end"] = req["target"]["start"] + rng.choice([0.25, 1, 3.5, 4, 8])
    return req


def mutate_request(rng: random.Random, req: dict, json_only: bool) -> dict:
    req = copy.deepcopy(req)
    if rng.random() < 0.25:
        return mild(rng, req)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        track = (
            req["tracks"][0]
            if isinstance(req.get("tracks"), list)
            and req["tracks"]
            and isinstance(req["tracks"][0], dict)
            else {}
        )
        if op < 0.1:
            req[
                rng.choice(
                    [
                        "mode",
                        "time_signature",
                        "time_signatures",
                        "tempo",
                        "tracks",
                        "target",
                        "controls",
                    ]
                )
            ] = hostile(rng, json_only)
        elif op < 0.35 and isinstance(req.get("controls"), dict):
            req["controls"][rng.choice(CONTROLS + ["colour"])] = hostile(rng, json_only)
        elif op < 0.5 and isinstance(req.get("target"), dict):
            req["target"][rng.choice(["track", "start", "end"])] = hostile(rng, json_only)
        elif op < 0.6 and track:
            track[rng.choice(["id", "program", "is_drum", "name", "notes"])] = hostile(
                rng, json_only
            )
        elif op < 0.8 and isinstance(track.get("notes"), list) and track["notes"]:
            i = rng.randrange(len(track["notes"]))
            if rng.random() < 0.5 or not isinstance(track["notes"][i], list):
                track["notes"][i] = hostile(rng, json_only)
            else:
                note = list(track["notes"][i]) or [0]
                note[rng.randrange(len(note))] = hostile(rng, json_only)
                track["notes"][i] = note
        elif op < 0.83:  # big inputs (over 64 KB: outside the cost budget) are rarer
            req["tracks"] = [dict(track, id=str(i)) for i in range(rng.choice([64, 65, 200]))]
        elif op < 0.84 and track:
            track["notes"] = [[60, i * 0.001, 0.001, 90] for i in range(50_001)]
        elif op < 0.95 and isinstance(req.get("target"), dict):
            req["target"]["end"] = rng.choice([4.0 * 65, 4.0 * 1025, 4096.0 * 8 + 1, 1e9])
        else:
            req.pop(rng.choice(list(req) or ["mode"]), None)
    return req


def json_size(req) -> int:
    """Bytes of the request as JSON; 0 (inside the budget) when it has none."""
    try:
        return len(json.dumps(req, default=str))
    except (ValueError, RecursionError):
        return 0


def check_response(response: dict, req: dict) -> str | None:
    target = req["target"]
    start, end = float(target["start"]), float(target["end"])
    for variation in response["variations"]:
        for pitch, onset, duration, velocity in variation["notes"]:
            if not (
                start - 1e-6 <= onset
                and onset + duration <= end + 1e-6
                and 0 <= pitch <= 127
                and 1 <= velocity <= 127
            ):
                return f"note {[pitch, onset, duration, velocity]} outside the target"
    return None


def judge_engine_error(exc: Exception, outcome: dict) -> None:
    if isinstance(exc, RequestError):
        ok = bool(exc.field) and str(exc).startswith(exc.field) and len(str(exc)) <= 600
    else:
        ok = isinstance(exc, MidifillError)
    outcome["result"] = "typed" if ok else "untyped"
    outcome["why"] = f"{type(exc).__name__}: {str(exc)[:200]}"


# --- the sections -------------------------------------------------------------------


def fuzz_engine(engine, tally: Tally, rng: random.Random, n: int) -> None:
    for _ in range(n):
        req = mutate_request(rng, base_request(rng), json_only=False)
        with tally.case("engine", req, json_size(req)) as outcome:
            try:
                response = engine.run(req)
            except Exception as exc:  # judged: typed and naming the field, or not
                judge_engine_error(exc, outcome)
            else:
                bad = check_response(response, req)
                outcome["result"] = "untyped" if bad else "valid"
                outcome["why"] = bad


def fuzz_osc(server, tally: Tally, rng: random.Random, n: int) -> None:
    with Client(port=server.port, timeout=5) as client:
        for _ in range(n):
            req = mutate_request(rng, base_request(rng), json_only=True)
            with tally.case("osc", req, json_size(req)) as outcome:
                try:
                    response = client.request(req)
                except (BadPayload, TooLarge):
                    outcome["result"] = "typed"
                except ServerError as exc:
                    typed = exc.code in KNOWN_CODES and len(exc.message) <= 2000
                    outcome["result"] = "typed" if typed else "untyped"
                    outcome["why"] = f"{exc.code}: {exc.message[:200]}"
                except NoServerError as exc:
                    outcome["result"], outcome["why"] = "lost", str(exc)
                except Exception as exc:  # judged: anything else is untyped
                    outcome["result"], outcome["why"] = "untyped", repr(exc)[:200]
                else:
                    bad = check_response(response, req)
                    outcome["result"] = "untyped" if bad else "valid"
                    outcome["why"] = bad
        assert client.ping()  # still serving


def midi_seeds(fixtures_dir) -> list[bytes]:
    files = sorted(fixtures_dir.glob("*.mid")) + sorted(
        (fixtures_dir.parents[1] / "demo" / "examples").glob("*.mid")
    )
    return [f.read_bytes() for f in files]


def mutate_midi(rng: random.Random, seeds: list[bytes]) -> bytes:
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 6)):
        op, i = rng.random(), rng.randrange(max(1, len(data)))
        if op < 0.35:
            data[i : i + 1] = bytes([rng.randrange(256)])
        elif op < 0.5:
            del data[i : i + rng.randint(1, 40)]
        elif op < 0.6:
            data[i:i] = os.urandom(rng.randint(1, 8))
        elif op < 0.7:  # a huge delta time: the costly case pretty_midi allocates for
            data[i:i] = bytes([0x84, 0xE2, 0xAC, 0x76])
        elif op < 0.8 and len(data) >= 14:  # another resolution (1, tiny, SMPTE, huge)
            data[12:14] = rng.choice([1, 2, 0, 0x8000 | 25, 0x7FFF]).to_bytes(2, "big")
        elif op < 0.83 and len(data) >= 12:  # another track count
            data[10:12] = rng.choice([0, 1, 9, 0xFFFF]).to_bytes(2, "big")
        elif op < 0.87 and b"\xff\x58\x04" in data:  # a time signature's denominator
            j = data.index(b"\xff\x58\x04") + 4
            data[j : j + 1] = bytes([rng.choice([0, 1, 6, 7, 40, 255])])
        elif op < 0.92:
            data = data[: rng.randrange(max(1, len(data)))]
        else:  # many notes
            data[i:i] = bytes([0x00, 0x90, 0x3C, 0x40, 0x00, 0x80, 0x3C, 0x00]) * rng.randint(
                10, 7000
            )
    return bytes(data)


def fuzz_midi(tally: Tally, rng: random.Random, n: int, seeds, tmp_path) -> None:
    """read_midi, and the demo's upload path (load_song and what describe shows)."""
    for k in range(n):
        path = tmp_path / f"f{k % 8}.mid"
        path.write_bytes(mutate_midi(rng, seeds))
        demo = rng.random() < 0.4
        size = path.stat().st_size
        with tally.case("demo upload" if demo else "midi", f"{size} bytes", size) as out:
            try:
                if demo:
                    song = demo_task.load_song(path)
                    demo_task.track_rows(song)
                else:
                    read_midi(path)
                out["result"] = "valid"
            except demo_task.InputError as exc:
                out["result"] = "typed" if path.name in str(exc) else "untyped"
                out["why"] = str(exc)[:200]
            except MidiFileError as exc:
                out["result"] = "typed" if str(path) in str(exc) else "untyped"
                out["why"] = str(exc)[:200]
            except Exception as exc:  # judged
                out["result"], out["why"] = "untyped", repr(exc)[:200]


def fuzz_cli(tally: Tally, rng: random.Random, n: int, seeds, checkpoint, tmp_path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir(exist_ok=True)
    for k in range(n):
        src = tmp_path / f"in{k % 4}.mid"
        songs = [d for d in seeds if len(d) > 200]  # not the empty, corrupt and text fixtures
        src.write_bytes(mutate_midi(rng, seeds) if rng.random() < 0.3 else rng.choice(songs))

        def pick(good, bad):  # each argument is good 80 % of the time
            return rng.choice(good) if rng.random() < 0.8 else rng.choice(bad)

        source = pick(
            [src], [tmp_path / "missing.mid", tmp_path / "adir", "/dev/null", tmp_path / "afile"]
        )
        output = pick(
            [tmp_path / "out.mid"],
            [tmp_path / "no/such/out.mid", tmp_path / "adir", tmp_path / "afile/out.mid"],
        )
        args = [
            "generate",
            str(source),
            "-o",
            str(output),
            "--model",
            str(checkpoint),
            "--track",
            pick(["1", "2", "new"], ["zzz", "", "-1"]),
            "--bars",
            pick(
                ["1-2", "2", "3-4"],
                ["0-1", "3-1", "x-y", "1-65", "1024", "5000000-5000001", "100000000-100000001"],
            ),
            "--seed",
            "1",
        ]
        if rng.random() < 0.3:
            args += ["--pitch-range", pick(["28-80", "40"], ["60-28", "a-b", "0-200"])]
        with tally.case("cli", " ".join(args[1:])) as out:
            try:
                code = cli_main(args)
            except SystemExit as exc:  # argparse refusing an argument: exit 2
                code = exc.code
            except Exception as exc:  # judged
                code, out["why"] = None, repr(exc)[:200]
            err = capsys.readouterr().err
            if code == 0:
                out["result"] = "valid"
            elif code == 2 and "error" in err and "Traceback" not in err:
                out["result"] = "typed"
            else:
                out["result"] = "untyped"
                out["why"] = out.get("why") or f"exit {code}: {err[-300:]}"


def mutate_checkpoint(rng: random.Random, stored: dict):
    ckpt = {k: (dict(v) if isinstance(v, dict) else v) for k, v in stored.items()}
    section = rng.choice(["model_config", "tokenizer_config", "state_dict", "meta", "top"])
    if section == "top":
        key = rng.choice(
            ["format", "version", "model_config", "state_dict", "tokenizer_config", "meta"]
        )
    else:
        key = rng.choice(list(ckpt[section]) + ["extra"])
    where = ckpt if section == "top" else ckpt[section]
    old = where.get(key)
    if rng.random() < 0.15:
        where.pop(key, None)
    elif isinstance(old, torch.Tensor) and rng.random() < 0.7:
        where[key] = rng.choice(
            [
                lambda t: t * math.nan,
                lambda t: t[:-1],
                lambda t: t.long(),
                lambda t: t.flip(0),
                lambda t: t * math.inf,
                lambda t: t.reshape(-1),
            ]
        )(old)
    else:
        value = hostile(rng, json_only=True)
        # torch.save pickles recursively: a list 5,000 deep would fail here, not in the loader
        where[key] = (
            nested(50)
            if isinstance(value, list) and value and isinstance(value[0], list)
            else value
        )
    return ckpt


def fuzz_checkpoints(tally: Tally, rng: random.Random, n: int, checkpoint, tmp_path) -> None:
    stored = torch.load(checkpoint, weights_only=True)
    raw = checkpoint.read_bytes()
    path = tmp_path / "fuzz.pt"
    for _ in range(n):
        if rng.random() < 0.7:
            torch.save(mutate_checkpoint(rng, stored), path)
        else:
            data = bytearray(raw)
            for _ in range(rng.randint(1, 5)):
                i = rng.randrange(len(data))
                data[i] = rng.randrange(256)
            path.write_bytes(bytes(data[: rng.choice([len(data), rng.randrange(len(data))])]))
        # a checkpoint is never under 64 KB, and its cost is bounded all the same
        with tally.case("checkpoint", path.stat().st_size) as out:
            try:
                Engine.from_checkpoint(path)
                out["result"] = "valid"
            except CheckpointError as exc:
                message = str(exc)
                ok = str(path) in message and "weights_only" not in message
                out["result"] = "typed" if ok else "untyped"
                out["why"] = message[:200]
            except Exception as exc:  # judged
                out["result"], out["why"] = "untyped", repr(exc)[:200]


# --- the test -------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    engine = Engine.from_checkpoint(tiny_checkpoint)
    engine.time_budget_s = 1.5  # a valid request past it ends as too_slow, inside the 2 s
    yield engine
    torch.set_num_threads(threads)


def test_fuzz_every_input_ends_typed_delivered_and_cheap(
    engine, tiny_checkpoint, fixtures_dir, tmp_path, capsys
):
    rng = random.Random(SEED)
    tally = Tally()
    seeds = midi_seeds(fixtures_dir)
    spent = {}

    def timed(name, run, *args):
        started = time.perf_counter()
        run(tally, rng, *args)
        spent[name] = round(time.perf_counter() - started, 1)

    timed("engine", lambda t, r, n: fuzz_engine(engine, t, r, n), int(700 * SCALE))
    with Server(engine, "127.0.0.1", 0) as server:
        timed("osc", lambda t, r, n: fuzz_osc(server, t, r, n), int(300 * SCALE))
        assert server.alive()
    timed("midi", fuzz_midi, int(1000 * SCALE), seeds, tmp_path)
    timed("checkpoint", fuzz_checkpoints, int(250 * SCALE), tiny_checkpoint, tmp_path)
    timed("cli", fuzz_cli, int(40 * SCALE), seeds, tiny_checkpoint, tmp_path, capsys)
    with capsys.disabled():
        print(f"\nfuzz (seed {SEED}, scale {SCALE:g}): {tally.summary()}; seconds {spent}")
    assert not tally.failures, "\n".join(tally.failures[:20])
    counts = tally.counts
    assert counts["valid"] > 0.05 * counts["tried"] and counts["typed"] > 0.3 * counts["tried"]
