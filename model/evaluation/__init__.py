"""Evaluation: NLL against an n-gram baseline (`evaluate`, `ngram`), the
musical measures (`metrics`), and harmonic fit (`fit`, `fit_eval`)."""
