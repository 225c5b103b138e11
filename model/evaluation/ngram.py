"""A smoothed n-gram model over midifill tokens: the baseline that `midifill
eval` measures the Transformer against, on the same tokens in the same run.

Witten-Bell interpolation: each order backs off to the next shorter context
in proportion to how many different tokens followed its context, down to a
uniform distribution over the vocabulary, so no token has zero probability.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict


class NGram:
    def __init__(self, order: int, vocab_size: int):
        self.order, self.vocab_size = order, vocab_size
        self.counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]

    def fit(self, sequences) -> NGram:
        for seq in sequences:
            for i, w in enumerate(seq):
                for n in range(self.order):  # n = context length
                    if i - n < 0:
                        break
                    self.counts[n][tuple(seq[i - n : i])][w] += 1
        self._totals = [
            {h: (sum(c.values()), len(c)) for h, c in level.items()} for level in self.counts
        ]
        return self

    def prob(self, history: tuple, w: int) -> float:
        p = 1.0 / self.vocab_size
        for n in range(self.order):
            if n > len(history):
                break
            h = tuple(history[len(history) - n :]) if n else ()
            total, types = self._totals[n].get(h, (0, 0))
            if total == 0:
                continue
            p = (self.counts[n][h][w] + types * p) / (total + types)
        return p

    def nll(self, seq, start: int = 1) -> tuple[float, int]:
        """Sum of -log p over tokens seq[start:], and their count."""
        total = 0.0
        for i in range(start, len(seq)):
            h = tuple(seq[max(0, i - self.order + 1) : i])
            total -= math.log(self.prob(h, seq[i]))
        return total, len(seq) - start
