"""The OSC handlers of `midifill serve`: one plain function per address.

Each takes (server, sender, address, args) and runs on the receiving thread,
so it only parses, reassembles, queues and answers; the engine runs on the
server's worker thread. `server` is the bridge/server.py Server: its
parse() and send*() methods, and its `jobs` (bridge/jobs.py), which hold the
shared state and are asked under their own lock; answers are sent after.
This module imports neither of them. A ProtocolError raised here is answered as
/midifill/error by Server._route when the message names an id and a reply
port. docs/osc.md is the reference for every address.
"""

from __future__ import annotations

import logging

from midifill.model.limits import version

from . import protocol as p

log = logging.getLogger("midifill.bridge")


def on_ping(server, sender, address, args) -> None:
    """Answer that the server is alive, with its version and model.

    /midifill/ping 9001 "p1"
      -> /midifill/pong "p1" "0.1.0" "midifill-small-v6"
    """
    a = server.parse(address, args)
    server.send(sender[0], a["reply_port"], p.PONG, a["id"], version(), server.model_name)


def on_status(server, sender, address, args) -> None:
    r"""Report the queue, the model and the uptime as JSON.

    /midifill/status 9001 "s1"
      -> /midifill/status "s1" "{\"version\":\"0.1.0\",\"model\":\"midifill-small-v6\",
         \"uptime_s\":12.5,\"queue\":0,\"queue_limit\":16,\"running\":null}"
    """
    a = server.parse(address, args)
    asker = (sender[0], a["reply_port"])
    server.send(*asker, p.STATUS, a["id"], p.encode_json(server.status(asker)))


def on_request(server, sender, address, args) -> None:
    r"""Store one chunk of a request; when all arrived, parse and queue it.

    /midifill/request "req-42" 9001 0 1 "{\"mode\":\"fill\",\"tracks\":[...],\"target\":{...}}"
      -> /midifill/ack "req-42" 0
      -> /midifill/progress "req-42" 0.5               (optional, repeated)
      -> /midifill/result "req-42" 0 1 "{\"variations\":[...],...}"
      or /midifill/error "req-42" "bad_request" "target.track: no track with id 'bass'"

    A chunk sent again is ignored, except that chunk 0 of a request already
    queued is answered with its ack again, and chunk 0 of a finished one
    with its ack and its whole answer again (a client that lost both).
    """
    a = server.parse(address, args)
    msg_id, reply = a["id"], (sender[0], a["reply_port"])
    received = server.jobs.receive(msg_id, a["index"], a["count"], a["chunk"], reply)
    try:
        if received.ack is not None:
            server.send(*reply, p.ACK, msg_id, received.ack)
        if received.replay is not None:
            server.send_outcome(received.replay)
    finally:
        if received.job is not None:
            received.job.acked.set()  # the worker may answer now
    if received.job is not None:
        log.debug("request %s queued at position %d (%d chunks)", msg_id, received.ack, a["count"])


def on_resend(server, sender, address, args) -> None:
    r"""Send one chunk of a kept result again (results are kept 60 s).

    /midifill/resend "req-42" 9001 3
      -> /midifill/result "req-42" 3 5 "...\"velocity\"..."

    A request still queued or running is answered with its ack (a client may
    poll this way); a failed one with its error again; an unknown id with
    /midifill/error "req-42" "bad_chunk" "no result kept for id 'req-42' ...".
    """
    a = server.parse(address, args)
    msg_id, index, reply = a["id"], a["index"], (sender[0], a["reply_port"])
    state, found = server.jobs.look_up(msg_id, reply)  # only the sender's own requests
    if state == "active":
        server.send(*reply, p.ACK, msg_id, found)
    elif state == "receiving":
        return  # the client resends its chunks
    elif state is None:
        raise p.ProtocolError(
            "bad_chunk",
            f"no result kept for id {msg_id!r} (unknown, or "
            f"older than {server.jobs.result_ttl:g} s)",
        )
    elif found.error:
        server.send_error(reply, msg_id, *found.error)
    elif not 0 <= index < len(found.chunks):
        raise p.ProtocolError("bad_chunk", f"index {index} out of range 0-{len(found.chunks) - 1}")
    else:
        server.send(*reply, p.RESULT, msg_id, index, len(found.chunks), found.chunks[index])


def on_cancel(server, sender, address, args) -> None:
    """Cancel a request by id, whether receiving, queued or running; only
    its sender can (the same host and reply port; docs/osc.md, "Whose
    request").

    /midifill/cancel "req-42" 9001
      -> /midifill/cancelled "req-42"
      and, to the request's own reply port, when it was queued or running:
      -> /midifill/error "req-42" "cancelled" "the request was cancelled"
    """
    a = server.parse(address, args)
    msg_id = a["id"]
    # only the sender's own request (same host and reply port); another's id
    # is answered as an unknown one is, and left running
    state, outcome = server.jobs.cancel(msg_id, (sender[0], a["reply_port"]))
    if outcome is not None:
        server.send_outcome(outcome)
    log.info("request %s cancel asked (%s)", msg_id, state)
    server.send(sender[0], a["reply_port"], p.CANCELLED, msg_id)


def on_unknown(server, sender, address, args) -> None:
    """Any other address, patterns such as /midifill/* included (addresses are
    matched literally): one log line (rate-limited) and an unknown_address
    error, to the reply port and id the message names when its first two
    arguments are (port, id) or (id, port), else to its source port with an
    empty id.

    /midifill/pign 9001 "p1"
      -> /midifill/error "p1" "unknown_address" "unknown address '/midifill/pign'; ..."

    Never answered: the server's own reply addresses (/midifill/pong, ack,
    progress, result, error, cancelled), so that a reply sent to a server
    starts no exchange; and anything at all when the server has a token.
    """
    server.log_limited(
        "unknown",
        logging.WARNING,
        "unknown address %r from %s:%d (%d arguments)",
        address[:100],
        sender[0],
        sender[1],
        len(args),
    )
    if address in p.REPLY_ADDRESSES or server.token is not None:
        return  # a reply is never answered (no loops); with a token, nothing unproven is
    msg_id, port = "", sender[1]
    for id_at, port_at in ((1, 0), (0, 1)):
        if (
            len(args) > 1
            and p.is_valid_id(args[id_at])
            and p.is_valid_port(p.whole_int(args[port_at]))
        ):
            msg_id, port = args[id_at], p.whole_int(args[port_at])
            break
    server.send_error(
        (sender[0], port),
        msg_id,
        "unknown_address",
        f"unknown address {address[:100]!r}; known: {', '.join(p.SCHEMAS)}",
    )


HANDLERS = {
    p.PING: on_ping,
    p.STATUS: on_status,
    p.REQUEST: on_request,
    p.RESEND: on_resend,
    p.CANCEL: on_cancel,
}
