"""The offline training corpus: `build` enumerates and renders the sources
(`items`), music21's corpora (`music21`), MMA accompaniments (`mma`) and the
harmony written for melodies that have none (`harmony`)."""
