"""Token rows that share parts while a model trains.

With `--shared-rows`, every PITCH row of the token table is its own row plus
the row of its pitch class plus the row of its octave, and every CHORD row
is its own row plus the row of its pitch class. The table is tied to the
output layer, so a direction the network learns for "pitch class 7" (from a
CHORD_7 token it has read, say) raises PITCH_55, PITCH_67 and PITCH_79 at
once, and every note of that class trains the shared row. That is the
relation the network has to learn to follow the other tracks' harmony; a
plain table has to learn it again for each of the 128 pitches.

The shared rows exist only in training. A checkpoint holds the sums, written
into the model's own table (`Transformer.token_table`), so every reader of a
checkpoint, the decoders included, sees a plain model; the shared rows are
stored beside it only so that `--resume` can go on with them.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..network.tokenizer import Tokenizer

N_PITCH_CLASSES = 12
N_OCTAVES = 11  # MIDI pitches 0..127 in octaves of 12


class SharedRows(nn.Module):
    """The pitch-class and octave rows added to a vocabulary's PITCH and
    CHORD rows; they start at zero, so attaching them changes nothing until
    they are trained."""

    def __init__(self, tok: Tokenizer, vocab_size: int, n_embd: int):
        super().__init__()
        pc = torch.full((vocab_size,), N_PITCH_CLASSES, dtype=torch.long)  # last: a zero row
        octave = torch.full((vocab_size,), N_OCTAVES, dtype=torch.long)
        lo, hi = tok.range("PITCH")
        pc[lo:hi] = torch.arange(hi - lo) % N_PITCH_CLASSES
        octave[lo:hi] = torch.arange(hi - lo) // N_PITCH_CLASSES
        if "CHORD" in tok.offset:
            lo, hi = tok.range("CHORD")
            pc[lo:hi] = torch.arange(hi - lo)
        self.register_buffer("pc_index", pc, persistent=False)
        self.register_buffer("octave_index", octave, persistent=False)
        self.pitch_class = nn.Parameter(torch.zeros(N_PITCH_CLASSES, n_embd))
        self.octave = nn.Parameter(torch.zeros(N_OCTAVES, n_embd))

    def forward(self) -> torch.Tensor:
        """(vocab, n_embd): what the shared rows add to each token's row."""
        pc = F.pad(self.pitch_class, (0, 0, 0, 1))
        octave = F.pad(self.octave, (0, 0, 0, 1))
        return pc[self.pc_index] + octave[self.octave_index]


def attach(model, tok: Tokenizer, saved: dict | None = None) -> None:
    """Give `model` shared rows: new ones (zero), or those a checkpoint saved
    beside its summed table, which is then split again into its own part."""
    shared = SharedRows(tok, model.config.vocab_size, model.config.n_embd)
    shared.to(model.wte.weight.device)
    if saved is not None:
        shared.load_state_dict(saved)
        with torch.no_grad():
            model.wte.weight -= shared()
    model.shared = shared
