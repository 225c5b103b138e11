"""The draw: one token from the filtered logits (model/generation/sampling.py)
with temperature, top-k and top-p, from a request's seeded uniform draws.
The compiled sampler (model/generation/sample_step.c) does the same, step
for step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # sampling.py imports this module
    from .sampling import Controls

NEG_INF = np.float32(-np.inf)


class Noise:
    """The uniform draws in (0, 1] of one request, from its seed, drawn in
    blocks and handed out in order. Both samplers (this module's and the
    compiled one, model/generation/sample_step.c) take theirs from here in the same
    way, so a seed gives the same tokens with or without a C compiler."""

    BLOCK = 4096

    def __init__(self, seed: int | None = None):
        self.gen = np.random.default_rng(seed)
        self.buf = np.empty(0, dtype=np.float32)
        self.pos = 0
        self._base = 0  # the address of buf, for `address`

    def peek(self, n: int) -> np.ndarray:
        """The next n draws (at least), without taking them."""
        if self.pos + n > len(self.buf):
            self._refill(n)
        return self.buf[self.pos : self.pos + n]

    def address(self, n: int) -> int:
        """The memory address of the next n draws, for the compiled sampler
        (which then calls `take` with how many it used): NumPy's own
        address lookup costs more than the rest of a draw."""
        if self.pos + n > len(self.buf):
            self._refill(n)
        return self._base + 4 * self.pos

    def _refill(self, n: int) -> None:
        # four times what is asked: the compiled samplers ask for room for
        # every token of every row (rows x V) and take a few dozen, so a
        # refill of n alone came every few steps. The generator's float32
        # stream does not depend on how it is cut into blocks.
        fresh = 1 - self.gen.random(max(4 * n, self.BLOCK), dtype=np.float32)
        self.buf = np.concatenate([self.buf[self.pos :], fresh])
        self.pos = 0
        self._base = self.buf.ctypes.data

    def take(self, n: int) -> np.ndarray:
        out = self.peek(n)
        self.pos += n
        return out


def sample(logits: np.ndarray, controls: Controls, noise: Noise) -> int:
    """One token from 1-D filtered logits with temperature, top-k and top-p.

    Only the allowed tokens (a few dozen of a thousand) are worked on: sorted by
    falling value when top-k or top-p needs it, cut to the top k (with any
    tied with the k-th), then to the fewest whose probability reaches top_p.
    The draw is the exponential race: the largest p / E, with E = -log U ~
    Exp(1) from `noise` for each candidate in order, which picks each with
    probability p. model/generation/sample_step.c is the same, step for step."""
    allowed = np.flatnonzero(logits > NEG_INF)
    if len(allowed) <= 1 or controls.temperature <= 0:
        return int(np.argmax(logits))
    v = logits[allowed] / np.float32(controls.temperature)
    k, top_p = controls.top_k, controls.top_p
    if (k and 0 < k < len(v)) or 0 < top_p < 1:
        order = np.argsort(-v, kind="stable")
        allowed, v = allowed[order], v[order]
        if k and 0 < k < len(v):
            m = int(np.searchsorted(-v, -v[k - 1], side="right"))  # ties with the k-th stay
            allowed, v = allowed[:m], v[:m]
    p = np.exp(v - v.max())
    if 0 < top_p < 1:
        cum = np.cumsum(p)
        m = min(len(p), 1 + int(np.searchsorted(cum, np.float32(top_p) * cum[-1])))
        allowed, p = allowed[:m], p[:m]
    return int(allowed[np.argmax(p / -np.log(noise.take(len(p))))])
