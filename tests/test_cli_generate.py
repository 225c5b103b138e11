"""`midifill generate` on a real multi-track file with a real checkpoint."""
import json
import subprocess
import sys

from model.midi_io import read_midi
from tests.conftest import ROOT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "bridge.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def notes_of(track):
    return sorted((n.pitch, round(n.start, 4), round(n.duration, 4), n.velocity) for n in track.notes)


def test_generate_writes_files_that_differ_only_in_the_target(tiny_checkpoint, fixtures_dir,
                                                              tmp_path):
    src = fixtures_dir / "pop_4-4_tempo_change.mid"
    out = tmp_path / "out.mid"
    r = run_cli("generate", src, "-o", out, "--mode", "fill", "--track", "1", "--bars", "3-4",
                "--model", tiny_checkpoint, "--seed", "5", "--variations", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip(), f"no report on stdout; stderr: {r.stderr[-2000:]}"
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert [o["path"] for o in report["outputs"]] == [str(tmp_path / "out-1.mid"),
                                                      str(tmp_path / "out-2.mid")]
    before = read_midi(src)
    for k in (1, 2):
        after = read_midi(tmp_path / f"out-{k}.mid")
        assert [t.name for t in after.tracks] == [t.name for t in before.tracks]
        assert after.tempos == before.tempos
        for a, b in zip(before.tracks, after.tracks):
            if a.name != "bass":
                assert notes_of(a) == notes_of(b)
        outside = lambda t: [n for n in notes_of(t) if not 8.0 <= n[1] < 16.0]  # noqa: E731
        assert outside(before.tracks[1]) == outside(after.tracks[1])
        new = [n for n in notes_of(after.tracks[1]) if 8.0 <= n[1] < 16.0]
        assert new and all(n[1] + n[2] <= 16.0 + 1e-6 for n in new)


def test_generate_reports_bad_input(tiny_checkpoint, fixtures_dir, tmp_path):
    r = run_cli("generate", fixtures_dir / "corrupt.mid", "-o", tmp_path / "x.mid", "--track", "0",
                "--bars", "1-2", "--model", tiny_checkpoint)
    assert r.returncode == 2 and "corrupt" in r.stderr
    r = run_cli("generate", fixtures_dir / "waltz_3-4.mid", "-o", tmp_path / "x.mid", "--track",
                "drums", "--bars", "1-2", "--model", tiny_checkpoint)
    assert r.returncode == 2 and "no track 'drums'" in r.stderr
    assert not (tmp_path / "x.mid").exists()
