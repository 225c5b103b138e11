"""How a training run shows its progress: a bar while it runs (rank 0
only, unless quiet) and the loss curve written beside each checkpoint."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..files import atomic_path

log = logging.getLogger("midifill.train")


class Progress:
    """The tqdm bar, with the loss and tokens per second over about the last
    half minute."""

    def __init__(self, total: int, initial: int):
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, desc="train", unit="step")
        self.tokens, self.since = 0, time.time()

    def step(self, loss: float, n_tok: int) -> None:
        self.tokens += n_tok
        rate = self.tokens / max(1e-6, time.time() - self.since)
        self.bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:.0f}")
        self.bar.update(1)
        if time.time() - self.since > 30:
            self.tokens, self.since = 0, time.time()

    def close(self) -> None:
        self.bar.close()


def plot_loss(history: dict, path: Path) -> None:
    """The loss curve as a PNG beside the checkpoint. Optional: without
    matplotlib (the `train` extra) training goes on and says so once."""
    try:
        import matplotlib
    except ImportError:
        if not getattr(plot_loss, "warned", False):
            plot_loss.warned = True
            log.warning(
                "matplotlib is not installed: no loss plot (pip install 'midifill[train]' for one)"
            )
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    tr = history["train"]
    if tr:
        k = max(1, len(tr) // 200)
        xs = [s for s, _ in tr][k - 1 :: k]
        ys = [sum(v for _, v in tr[i : i + k]) / k for i in range(0, len(tr) - k + 1, k)]
        ax.plot(xs[: len(ys)], ys, label=f"train (mean over {k} steps)")
    if history["valid"]:
        ax.plot(*zip(*history["valid"]), "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
