"""The corpus builder on a few real sources: music21 scores and tunes, and
MMA renders (Debian's `mma`). Kept small: a few items, one groove each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support import IN_CI, require_module

require_module("music21")

from midifill.model.corpus import build as corpus  # noqa: E402
from midifill.model.corpus.harmony import harmonize  # noqa: E402
from midifill.model.corpus.items import Item, enumerate_items  # noqa: E402
from midifill.model.midi_io import read_midi  # noqa: E402
from midifill.model.song import Note  # noqa: E402
from midifill.model.splits import split_of  # noqa: E402

MANIFEST_KEYS = {"path", "source", "licence", "piece", "tracks", "bars", "split"}


def need_mma():
    if shutil.which("mma") is None or not Path("/usr/share/mma/lib/stdlib").is_dir():
        if IN_CI:
            pytest.fail("Debian's mma is not installed (apt-get install mma)")
        pytest.skip("Debian's mma is not installed (apt-get install mma)")


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """Two chorales, two folk tunes, one folk tune and one progression in
    MMA grooves (one groove each)."""
    need_mma()
    out = tmp_path_factory.mktemp("corpus")
    items = enumerate_items(["bach", "folk"], 2, 0)
    items += enumerate_items(["mma-folk", "mma-prog"], 1, 0)
    summary = corpus.build(out, [], grooves=1, progress=False, items=items)
    return out, items, summary


def test_manifest_describes_every_file(small_corpus):
    out, items, summary = small_corpus
    rows = manifest(out)
    assert summary["files"] == len(rows) >= 5
    sources = {r["source"] for r in rows}
    assert {"music21/bach", "music21/folk", "mma/folk", "mma/progressions"} <= sources
    on_disk = sorted(p.relative_to(out).as_posix() for p in (out / "midi").rglob("*.mid"))
    assert on_disk == sorted(r["path"] for r in rows)
    for r in rows:
        assert MANIFEST_KEYS <= set(r), r
        assert r["split"] in ("train", "valid", "test")
        assert r["bars"] > 0 and r["licence"]
        song = read_midi(out / r["path"])
        assert [t.name for t in song.tracks] == [t["name"] for t in r["tracks"]]
        assert [len(t.notes) for t in song.tracks] == [t["notes"] for t in r["tracks"]]
        assert len(song.bars()) == r["bars"]


def test_tracks_are_named_for_what_they_play(small_corpus):
    out, _, _ = small_corpus
    rows = manifest(out)
    chorale = next(r for r in rows if r["source"] == "music21/bach")
    names = [t["name"] for t in chorale["tracks"]]
    assert {"soprano", "alto", "tenor", "bass"} <= set(names)
    folk = next(r for r in rows if r["source"] == "mma/folk")
    kinds = {t["name"].split()[0] for t in folk["tracks"]}
    assert folk["tracks"][0]["name"] == "melody"
    assert {"drums", "bass"} <= kinds
    drums = [t for t in folk["tracks"] if t["is_drum"]]
    assert len(drums) == 1 and drums[0]["name"] == "drums"  # MMA's drum tracks merged
    # MMA renders share the folk tune's piece id, so they land in its split
    tune = next(r for r in rows if r["source"] == "music21/folk" and r["piece"] == folk["piece"])
    assert tune["split"] == folk["split"]


def test_split_is_by_piece_and_deterministic(small_corpus):
    out, _, _ = small_corpus
    rows = manifest(out)
    by_piece: dict[str, set] = {}
    for r in rows:
        by_piece.setdefault(r["piece"], set()).add(r["split"])
        assert r["split"] == split_of(r["piece"])
    assert all(len(s) == 1 for s in by_piece.values())
    splits = [split_of(f"piece-{i}") for i in range(2000)]
    assert 0.86 < splits.count("train") / 2000 < 0.94
    assert splits.count("valid") > 50 and splits.count("test") > 50
    paths = [p for s in ("train", "valid", "test") for p in corpus.load_split(out, s)]
    assert sorted(paths) == sorted(out / r["path"] for r in rows)
    with pytest.raises(ValueError, match="split"):
        corpus.load_split(out, "training")


def test_second_run_skips_what_is_done(small_corpus):
    out, items, first = small_corpus
    before = {p: p.stat().st_mtime_ns for p in (out / "midi").rglob("*.mid")}
    again = corpus.build(out, [], grooves=1, progress=False, items=items)
    assert again["items_built_now"] == {}
    assert again["items_cached"] == len(items)
    assert again["files"] == first["files"]
    assert {p: p.stat().st_mtime_ns for p in (out / "midi").rglob("*.mid")} == before
    # a file deleted by hand is built again, and only that item
    victim = sorted(before)[0]
    victim.unlink()
    third = corpus.build(out, [], grooves=1, progress=False, items=items)
    assert sum(third["items_built_now"].values()) == 1
    assert victim.is_file()


@pytest.mark.parametrize("jobs", [1, 2])
def test_duplicates_are_removed_and_failures_listed(tmp_path, jobs):
    """The first copy in item order is kept, with one process or several."""
    path = Path(enumerate_items(["bach"], 1, 0)[0].args[0])
    bad = tmp_path / "broken.mxl"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive")
    items = [
        Item("bach", "bach:a", "bach/a", (str(path), ".mxl")),
        Item("bach", "bach:b", "bach/b", (str(path), ".mxl")),  # same notes
        Item("other", "other:broken", "other/broken", (str(bad), ".mxl")),
    ]
    out = tmp_path / "c"
    summary = corpus.build(out, [], progress=False, items=items, jobs=jobs)
    rows = manifest(out)
    assert [r["piece"] for r in rows] == ["bach/a"]
    assert summary["duplicates_removed"]["bach"] == 1
    assert not (out / "midi/bach/b.mid").exists()
    assert summary["failures"] == {"other": 1}
    lines = (out / "failures.txt").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("other:broken\t") and len(lines[0]) > 20
    # the failure is cached too: a rebuild does not retry it unless asked
    assert corpus.build(out, [], progress=False, items=items)["items_built_now"] == {}
    retry = corpus.build(out, [], progress=False, items=items, retry_failed=True)
    assert retry["items_built_now"] == {"other": 1} and retry["failures"] == {"other": 1}


def test_command_line(tmp_path, capsys):
    from midifill.bridge.cli import main

    out = tmp_path / "c"
    assert (
        main(
            [
                "corpus",
                "--out",
                str(out),
                "--sources",
                "bach",
                "--limit",
                "1",
                "--jobs",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "1 files" in text and "failures: 0" in text
    assert (
        len(
            corpus.load_split(out, "train")
            + corpus.load_split(out, "valid")
            + corpus.load_split(out, "test")
        )
        == 1
    )
    assert main(["corpus", "--out", str(out), "--sources", "nonsense"]) == 2
    assert "unknown source" in capsys.readouterr().err
    assert corpus.parse_limit("palestrina=3,mma=2") == {
        "palestrina": 3,
        "mma-folk": 2,
        "mma-prog": 2,
    }
    with pytest.raises(Exception, match="limit"):
        corpus.parse_limit("-4")


def test_harmonizer_follows_the_melody():
    # C major: C-E-G, then F-A-C, then G-B-D, then C again, one bar each in 3/4
    bars = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)]
    melody = [Note(p, 3 * b + i, 1.0) for b, ps in enumerate(bars) for i, p in enumerate(ps)]
    chords = harmonize(melody, tonic=0, minor=False, numerator=3, denominator=4)
    assert chords == [(0.0, "C"), (3.0, "F"), (6.0, "G"), (9.0, "C")]
