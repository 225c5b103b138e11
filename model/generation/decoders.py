"""The decoders: one interface over the three ways to run the network.

    decoder = build("auto", weights)            # chosen once, per engine
    run = decoder.start(prompt_tokens, batch=4, room=300)
    run.logits                                  # (4, V): every row after the prompt
    with run:
        out = run.step([t0, t2], rows=[0, 2])   # (2, V): rows 1 and 3 are done

- "compiled": model/generation/decode_step.c through ctypes (model/generation/fast_c.py); the
  rows share one copy of the prompt's keys and values.
- "numpy": the same arithmetic in NumPy (model/generation/fast.py), for machines
  without a C compiler.
- "reference": the torch module's own prefill and decode
  (model/network/transformer.py), which the other two are tested against; the only
  one that imports torch.
- "auto": compiled where it builds, else NumPy.

The compiled decoder also runs the prompt in C (model/generation/prefill.c),
the NumPy one in NumPy; both keep the last prompt's keys and values
(`PromptCache`), so a re-roll of the same fill prefills nothing and a
prompt that shares a head with the last one runs only the rest. `forget()`
empties that cache (the benchmark's cold runs).

MIDIFILL_DECODER chooses for an engine built without a choice (the CLI,
the server, the demo), MIDIFILL_THREADS sets the torch thread counts; both
are read here and nowhere else.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from ..network.weights import Weights
from .fast import KV, FastDecoder

KINDS = ("auto", "compiled", "numpy", "reference")
# Decoding multiplies tiny matrices: one thread is fastest, and on a busy
# machine several OpenMP threads waiting on each other are 10-100x slower
# (measured: a 450-token torch prefill 26 ms on one thread, 50-470 ms on two
# while the other core is busy). Prefill has work to share, so the reference
# decoder gives it more threads only while cores are idle (prefill_threads).
# MIDIFILL_THREADS overrides both, and sets how many threads the compiled
# step shares a batch's rows among (fast_c.py's step_threads; unset: its
# DEFAULT_STEP_THREADS).
DECODE_THREADS = int(os.environ.get("MIDIFILL_THREADS", "1"))
PREFILL_THREADS = int(os.environ["MIDIFILL_THREADS"]) if "MIDIFILL_THREADS" in os.environ else None


def chosen_kind(kind: str | None = None) -> str:
    """The decoder kind: `kind` where given, else MIDIFILL_DECODER, else auto."""
    kind = kind or os.environ.get("MIDIFILL_DECODER") or "auto"
    if kind not in KINDS:
        raise ValueError(f"decoder {kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def build(kind: str | None, weights: Weights) -> Decoder:
    """The decoder of that kind (see chosen_kind) for these weights.
    "compiled" raises RuntimeError where the C step cannot be built."""
    kind = chosen_kind(kind)
    if kind == "reference":
        return ReferenceDecoder(weights)
    if kind in ("auto", "compiled"):
        from .fast_c import CDecoder

        compiled = CDecoder.build(weights, PREFILL_THREADS)
        if compiled is not None:
            return CompiledDecoder(compiled)
        if kind == "compiled":
            raise RuntimeError(
                "the compiled decoder cannot be built here (no C compiler "
                "found, the build failed, or n_embd is not a multiple of 8)"
            )
    return NumpyDecoder(FastDecoder(weights))


class Run:
    """One request's decoding: `logits` (batch, V) after the prompt, then
    `step(tokens, rows)` -> (len(rows), V), token j continuing row rows[j].
    `rows` lists the rows still live, in increasing order; a row that has
    left does not come back. Use it as a context manager around the steps."""

    logits: np.ndarray

    def step(self, tokens: list[int], rows: list[int]) -> np.ndarray:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Decoder(Protocol):
    """What every decoder offers (build() returns one)."""

    name: str  # "compiled", "numpy" or "reference"

    def start(self, tokens: list[int], batch: int, room: int) -> Run:
        """Run the prompt `tokens` for `batch` rows, each with room for
        `room` tokens of its own after it."""

    def forget(self) -> None:
        """Drop any prompt kept from an earlier request."""


class _Cached:
    """What the compiled and NumPy decoders share: the prompt cache."""

    def __init__(self, fast: FastDecoder):
        self.fast = fast
        self.prompt_cache = fast.new_prompt_cache()

    def forget(self) -> None:
        self.prompt_cache.clear()


class CompiledDecoder(_Cached):
    name = "compiled"

    def start(self, tokens: list[int], batch: int, room: int) -> Run:
        return _CompiledRun(self, tokens, batch, room)


class _CompiledRun(Run):
    def __init__(self, dec: CompiledDecoder, tokens, batch, room):
        logits, _ = dec.prompt_cache.ensure(tokens)
        self.logits = np.repeat(logits[None], batch, axis=0)
        # the rows share the prompt's keys and values, never copied
        self.cache = dec.fast.split_cache(dec.prompt_cache, batch, room)
        self.fast = dec.fast

    def step(self, tokens, rows):
        return self.fast.decode(tokens, self.cache, rows=rows)


class NumpyDecoder(_Cached):
    name = "numpy"

    def start(self, tokens: list[int], batch: int, room: int) -> Run:
        return _NumpyRun(self, tokens, batch, room)


class _NumpyRun(Run):
    def __init__(self, dec: NumpyDecoder, tokens, batch, room):
        logits, _ = dec.prompt_cache.ensure(tokens)
        self.logits = np.repeat(logits[None], batch, axis=0)
        n = len(tokens)
        self.fast, self.rows = dec.fast, list(range(batch))
        self.cache = KV(dec.fast.config, batch, n + room)
        for dst, src in ((self.cache.k, dec.prompt_cache.k), (self.cache.v, dec.prompt_cache.v)):
            for a, b in zip(dst, src):
                a[:, :, :n] = b  # broadcast over the batch
        self.cache.pos = n

    def step(self, tokens, rows):
        rows = list(rows)
        if rows != self.rows:  # rows that are done leave the cache
            self.cache = self.fast.keep_rows(self.cache, [self.rows.index(b) for b in rows])
            self.rows = rows
        return self.fast.decode(tokens, self.cache)


def prefill_threads() -> int:
    """Threads for a torch prefill: one per core left idle by the load
    average, 1 to 4."""
    if PREFILL_THREADS is not None:
        return PREFILL_THREADS
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except OSError:
        return 1
    return max(1, min(4, int(idle)))


@contextmanager
def torch_threads(n: int):
    import torch

    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


class ReferenceDecoder:
    """Transformer.prefill and Transformer.decode, as written in torch."""

    name = "reference"

    def __init__(self, weights: Weights):
        self.model = weights.module()

    def forget(self) -> None:
        pass  # nothing is cached

    def start(self, tokens: list[int], batch: int, room: int) -> Run:
        return _ReferenceRun(self.model, tokens, batch, room)


class _ReferenceRun(Run):
    def __init__(self, model, tokens, batch, room):
        import torch

        from ..network.transformer import KVCache

        self.torch, self.model, self.batch = torch, model, batch
        self.cache = KVCache(model.config, batch, len(tokens) + room)
        with torch_threads(prefill_threads()):
            self.logits = model.prefill(torch.tensor([tokens] * batch), self.cache).numpy()
        self._threads = None

    def step(self, tokens, rows):
        # every row steps, those that are done on PAD (token 0): the batch
        # keeps its shape, and their logits are not returned
        full = [0] * self.batch
        for t, b in zip(tokens, rows):
            full[b] = t
        out = self.model.decode(self.torch.tensor(full, dtype=self.torch.long), self.cache)
        return out.numpy()[list(rows)]

    def __enter__(self):
        self._threads = torch_threads(DECODE_THREADS)
        self._threads.__enter__()
        return self

    def __exit__(self, *exc):
        return self._threads.__exit__(*exc)
