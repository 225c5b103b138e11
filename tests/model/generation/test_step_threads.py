"""The compiled decode step with a batch's rows shared among threads
(model/generation/step_pool.c): the very floats of the one-thread step, for
every batch size and as rows leave; the same notes from the engine; a build
without threads that still decodes.

Exact equality, not a tolerance: each thread sums its rows as the whole
batch's product sums them (kernels.c's matmul_rows)."""

import ctypes
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

from midifill.model import Engine
from midifill.model.generation import c_build, fast_c
from midifill.model.generation.fast_c import CDecoder
from midifill.model.midi_io import read_midi
from midifill.model.network.weights import Weights
from tests.support.decoders import REQUESTS, decoder, random_model


def threaded(n_embd=64, bias=True, threads=2) -> CDecoder:
    """A compiled decoder whose steps use `threads` threads, whatever the
    number of CPUs here (the threads then take turns, with the same floats)."""
    dec = decoder("compiled", random_model(bias, n_embd)).fast
    if dec.lib.step_threads_built() < 2:
        pytest.skip("this build of the step has no threads (no pthreads)")
    dec.threads = threads
    return dec


def steps(dec: CDecoder, batch: int, seed: int = 1):
    """Logits of 24 steps of `batch` rows after an 80-token prompt, rows
    leaving at steps 8 and 16; and each row's own keys and values."""
    pc = dec.new_prompt_cache()
    pc.ensure(list(range(10, 90)))
    cache = dec.split_cache(pc, batch, 30)
    g = np.random.default_rng(seed)
    live, wrote, out = list(range(batch)), [0] * batch, []
    for step in range(24):
        if step in (8, 16) and len(live) > 1:
            live = live[1:] if step == 8 else live[::2]
        for b in live:
            wrote[b] += 1
        out.append(dec.decode(g.integers(10, 1000, len(live)).tolist(), cache, live))
    own = [[a[b, :, :n].copy() for a in (*cache.own.k, *cache.own.v)] for b, n in enumerate(wrote)]
    return out, own


def same(a, b) -> bool:
    (la, ka), (lb, kb) = a, b
    return all(np.array_equal(x, y) for x, y in zip(la, lb)) and all(
        np.array_equal(x, y) for rx, ry in zip(ka, kb) for x, y in zip(rx, ry)
    )


@pytest.mark.parametrize("n_embd", [64, 40])
@pytest.mark.parametrize("threads", [2, 3])
def test_threads_give_the_one_thread_floats(n_embd, threads):
    """Batches of 1 to 8 rows (whole blocks of the matrix products, a rest
    of one or two rows, blocks split between threads): logits and keys and
    values bit for bit those of one thread."""
    dec = threaded(n_embd, threads=threads)
    for batch in range(1, 9):
        dec.threads = 1
        one = steps(dec, batch)
        dec.threads = threads
        assert same(steps(dec, batch), one), batch


def test_two_callers_at_once_get_their_own_floats():
    """Two Python threads stepping their own batches through one decoder at
    the same time (the bridge's worker and the demo may share an engine):
    whichever finds the threads busy runs its step alone, with the same
    floats."""
    dec = threaded()
    want = {b: steps(dec, b, seed=b) for b in (4, 7)}
    got, errors = {}, []

    def run(b):
        try:
            for _ in range(5):
                got[b] = steps(dec, b, seed=b)
                assert same(got[b], want[b])
        except AssertionError as exc:  # raised in a thread: reported below
            errors.append((b, exc))

    workers = [threading.Thread(target=run, args=(b,)) for b in want]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert not errors and set(got) == set(want)


def test_engine_notes_identical_with_two_threads(tiny_checkpoint, fixtures_dir):
    base = Engine.from_checkpoint(tiny_checkpoint)
    engines = {}
    for t in (1, 2):
        engines[t] = e = Engine(base.weights, base.tok, base.name, decoder="compiled")
        if e.decoder.fast.lib.step_threads_built() < 2:
            pytest.skip("this build of the step has no threads (no pthreads)")
        e.decoder.fast.threads = t
    pop = read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")
    for spec in REQUESTS:
        spec = dict(spec)
        req = dict(
            pop.to_payload(),
            mode=spec.pop("mode", "fill"),
            target={"track": spec.pop("track"), "start": spec.pop("start"), "end": spec.pop("end")},
            controls=spec,
        )
        one, two = (engines[t].run(req)["variations"] for t in (1, 2))
        assert one == two and any(v["notes"] for v in one), spec


def test_thread_count_from_the_argument_within_the_cpus(monkeypatch):
    lib = decoder("compiled", random_model(False)).fast.lib
    built = lib.step_threads_built()
    monkeypatch.setattr(fast_c, "cpus", lambda: 2)
    assert fast_c.step_threads(lib, 1) == 1
    assert fast_c.step_threads(lib, 16) == min(2, built)
    assert fast_c.step_threads(lib, None) == min(fast_c.DEFAULT_STEP_THREADS, 2, built)
    monkeypatch.setattr(fast_c, "cpus", lambda: 1)
    assert fast_c.step_threads(lib, 4) == 1  # one CPU: never split
    with pytest.raises(ValueError, match="MIDIFILL_THREADS"):
        fast_c.step_threads(lib, 0)


def test_the_build_without_threads_decodes_the_same(tmp_path):
    """-DMIDIFILL_NO_THREADS (c_build's fallback where pthreads do not
    build): the library loads, says it has one thread, and gives the
    threaded build's floats."""
    dec = threaded()
    cc = c_build.find_compiler()
    out = tmp_path / "plain.so"
    flags = next(v for v in c_build.VARIANTS if "-DMIDIFILL_NO_THREADS" in v)
    r = subprocess.run(
        [cc, *c_build.FLAGS, *flags, "-shared", "-fPIC", "-o", str(out)]
        + [*map(str, c_build.COMPILED), "-lm"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-500:]
    lib = ctypes.CDLL(str(out))
    plain = CDecoder(Weights.from_model(random_model(True, 64)), lib, threads=4)
    assert lib.step_threads_built() == 1 and plain.threads == 1
    assert same(steps(plain, 6), steps(dec, 6))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_steps_with_threads_of_its_own():
    """fork() copies only the calling thread: the child's steps start new
    workers instead of waiting on the parent's, and give the same floats."""
    dec = threaded()
    want = steps(dec, 5)  # the parent's worker is running now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its threaded steps match
        os._exit(0 if same(steps(dec, 5), want) else 1)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:  # waiting for a worker that the fork did not copy
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's step never finished")
    assert os.waitstatus_to_exitcode(done[1]) == 0
