"""The smallest valid request and a refusal read back by its field: the
request tests (tests/model/generation/test_request*.py, test_targets.py)."""

import pytest

from midifill.model.errors import RequestError
from midifill.model.generation.request import parse_request
from midifill.model.network.tokenizer import Tokenizer

TOK = Tokenizer()


def base(**change):
    """One track of one note, its first bar the target, the controls empty."""
    req = {
        "mode": "fill",
        "tracks": [{"id": "1", "notes": [[60, 0.0, 1.0, 90]]}],
        "target": {"track": "1", "start": 0.0, "end": 4.0},
        "controls": {},
    }
    req.update(change)
    return req


def refused(req, field, kind=RequestError, exact=False):
    """parse_request refuses req with a `kind` (exactly `kind` if exact),
    naming `field`."""
    with pytest.raises(kind) as err:
        parse_request(req, TOK)
    assert not exact or type(err.value) is kind, f"{type(err.value).__name__}: {err.value}"
    assert err.value.field == field, str(err.value)
    return err.value
