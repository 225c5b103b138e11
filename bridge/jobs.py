"""The OSC server's shared state: requests being received, the queue, the
running job and the outcomes kept for resends, behind one lock.

The receiving thread and the engine's worker thread both use it. Every
method takes the lock itself and returns what to answer; the caller sends
the datagrams afterwards, so no datagram is ever sent while the lock is held
(a slow or full socket must not stall the other thread). Nothing here knows
of sockets or of the engine.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

from . import protocol as p

# How long the worker waits for a job's ack to be sent before running it
# anyway: the ack leaves just after the job is queued, and must come before
# any progress or result of that job.
ACK_WAIT_S = 1.0


@dataclass
class Job:
    id: str
    request: dict
    reply: tuple[str, int]
    first_chunk: str
    count: int
    cancel: threading.Event = field(default_factory=threading.Event)
    acked: threading.Event = field(default_factory=threading.Event)
    queued_at: float = field(default_factory=time.monotonic)
    values: int = 0  # JSON values its request holds (protocol.json_values)


@dataclass
class Outcome:
    """What a finished request answered, kept RESULT_TTL_S for resends."""

    id: str
    reply: tuple[str, int]
    first_chunk: str
    count: int
    chunks: list[str] | None = None  # the result, or
    error: tuple[str, str] | None = None  # (code, message)
    expires: float = 0.0


@dataclass
class Received:
    """What to answer a request chunk: an ack at `ack` (None: no ack), then
    `replay`'s whole answer again. `job` is the job the chunk completed and
    queued; set its `acked` once the ack is sent."""

    ack: int | None = None
    replay: Outcome | None = None
    job: Job | None = None


class Jobs:
    def __init__(
        self,
        queue_limit: int = 16,
        *,
        result_ttl: float = p.RESULT_TTL_S,
        incomplete_timeout: float = p.INCOMPLETE_TIMEOUT_S,
        kept_limit: int = 1000,
    ):
        if queue_limit < 1:
            raise ValueError(f"queue_limit must be at least 1, got {queue_limit}")
        self.queue_limit = queue_limit
        self.assembling_limit = max(8, 4 * queue_limit)
        self.kept_limit = kept_limit
        self.result_ttl = result_ttl
        self.incomplete_timeout = incomplete_timeout
        self.lock = threading.Lock()
        self._wake = threading.Condition(self.lock)
        self.assembling: dict[str, tuple[p.Assembly, tuple[str, int]]] = {}
        self.queue: collections.deque[Job] = collections.deque()
        self.running: Job | None = None
        self.kept: collections.OrderedDict[str, Outcome] = collections.OrderedDict()
        self.stopping = False

    # --- the receiving thread ----------------------------------------------

    def receive(
        self, msg_id: str, index: int, count: int, chunk: str, reply: tuple[str, int]
    ) -> Received:
        """Store one chunk of a request; when all arrived, parse and queue it.
        ProtocolError when it cannot be taken (busy, too large, not JSON)."""
        with self.lock:
            job = self._find_active(msg_id)
            if job is not None:
                return Received(ack=self._position(job) if index == 0 else None)
            kept = self.kept.get(msg_id)
            if kept is not None:
                if index != 0 and count == kept.count:
                    return Received()  # a late copy of a chunk of the finished request
                if (
                    index == 0
                    and count == kept.count
                    and chunk == kept.first_chunk
                    and tuple(kept.reply) == tuple(reply)
                ):  # only to its own sender
                    return Received(ack=0, replay=kept)
                del self.kept[msg_id]  # the id is reused for a new request
            assembly = self._assemble(msg_id, index, count, chunk, reply)
            if assembly is None:
                return Received()
            text = assembly.text()
            if len(text) > p.MAX_REQUEST_CHARS:
                raise p.ProtocolError(
                    "too_large",
                    f"request has {len(text)} characters; the limit is {p.MAX_REQUEST_CHARS}",
                )
            request = p.decode_json_object(text)
            job = Job(
                msg_id, request, reply, assembly.first, assembly.count, values=p.json_values(text)
            )
            return Received(ack=self._enqueue(job), job=job)

    def _assemble(self, msg_id, index, count, chunk, reply) -> p.Assembly | None:
        """The whole request once this chunk completes it, else None."""
        entry = self.assembling.get(msg_id)
        if entry is None:
            assembly = p.Assembly(count)
            assembly.add(index, count, chunk)  # a bad first chunk leaves nothing behind
            if not assembly.complete:
                if len(self.assembling) >= self.assembling_limit:
                    raise p.ProtocolError(
                        "busy",
                        f"{len(self.assembling)} requests are "
                        "being received already; try again later",
                    )
                self.assembling[msg_id] = (assembly, reply)
                return None
            return assembly
        assembly = entry[0]
        if count != assembly.count:
            del self.assembling[msg_id]  # which count is right? start over
        assembly.add(index, count, chunk)
        if not assembly.complete:
            return None
        del self.assembling[msg_id]
        return assembly

    # A request is its sender's: it is known by its id *and* the address its
    # answers go to (host, reply port). Another client asking about, resending
    # or cancelling the same id is answered as if the id were unknown.

    def look_up(
        self, msg_id: str, owner: tuple[str, int] | None = None
    ) -> tuple[str | None, int | Outcome | None]:
        """("active", position), ("receiving", None), ("kept", outcome) or
        (None, None) for an unknown or expired id, or one of another owner."""
        with self.lock:
            job = self._find_active(msg_id)
            if job is not None and _owns(owner, job.reply):
                return "active", self._position(job)
            entry = self.assembling.get(msg_id)
            if entry is not None and _owns(owner, entry[1]):
                return "receiving", None
            kept = self.kept.get(msg_id)
            return ("kept", kept) if kept is not None and _owns(owner, kept.reply) else (None, None)

    def cancel(
        self, msg_id: str, owner: tuple[str, int] | None = None
    ) -> tuple[str, Outcome | None]:
        """Cancel `msg_id` wherever it is: ("running", None) (the worker
        answers once the engine stops), ("queued", the outcome to send) or
        ("not running", None), which is also the answer to another owner."""
        with self.lock:
            entry = self.assembling.get(msg_id)
            if entry is not None and _owns(owner, entry[1]):
                del self.assembling[msg_id]
            job = self._find_active(msg_id)
            if job is None or not _owns(owner, job.reply):
                return "not running", None
            if job is self.running:
                job.cancel.set()
                return "running", None
            self.queue.remove(job)
            outcome = Outcome(
                job.id,
                job.reply,
                job.first_chunk,
                job.count,
                error=("cancelled", "the request was cancelled while queued"),
            )
            self._keep(outcome)
            return "queued", outcome

    def counts(self, asker: tuple[str, int] | None = None) -> dict:
        """The queue's length and limit; `running` is the running request's
        id for its own sender, `true` for anyone else, null when idle."""
        with self.lock:
            running = self.running
            return {
                "queue": len(self.queue),
                "queue_limit": self.queue_limit,
                "running": None
                if running is None
                else running.id
                if _owns(asker, running.reply)
                else True,
            }

    def expire(self, now: float) -> list[tuple[str, tuple[str, int], str]]:
        """Drop expired results, and incomplete requests older than the
        timeout: (id, reply, message) for each of those, to answer."""
        dropped = []
        with self.lock:
            for msg_id, (assembly, reply) in list(self.assembling.items()):
                if now - assembly.started > self.incomplete_timeout:
                    del self.assembling[msg_id]
                    missing = assembly.missing()
                    dropped.append(
                        (
                            msg_id,
                            reply,
                            f"{len(missing)} of {assembly.count} chunks still missing "
                            f"after {self.incomplete_timeout:g} s (first missing: "
                            f"{missing[:10]})",
                        )
                    )
            for msg_id in [k for k, o in self.kept.items() if o.expires < now]:
                del self.kept[msg_id]
        return dropped

    # --- the worker -----------------------------------------------------------

    def next(self) -> Job | None:
        """Wait for the next job and mark it running; None once stopping."""
        with self.lock:
            while not self.queue and not self.stopping:
                self._wake.wait()
            if self.stopping:
                return None
            job = self.running = self.queue.popleft()
            return job

    def finish(self, outcome: Outcome) -> None:
        with self.lock:
            self.running = None
            self._keep(outcome)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            if self.running:
                self.running.cancel.set()
            self._wake.notify_all()

    # --- with the lock held ------------------------------------------------------

    def _position(self, job: Job) -> int:
        """Requests ahead of `job` (the running one included); 0 = runs now."""
        if job is self.running:
            return 0
        return list(self.queue).index(job) + (1 if self.running else 0)

    def _find_active(self, msg_id: str) -> Job | None:
        if self.running and self.running.id == msg_id:
            return self.running
        return next((job for job in self.queue if job.id == msg_id), None)

    def _enqueue(self, job: Job) -> int:
        """Queue `job`; ProtocolError("busy") when full."""
        if len(self.queue) >= self.queue_limit or self.stopping:
            raise p.ProtocolError(
                "busy",
                f"queue is full ({self.queue_limit} waiting); nothing was queued, try again later",
            )
        held = sum(j.values for j in self.queue)
        if self.queue and held + job.values > p.MAX_QUEUED_VALUES:
            raise p.ProtocolError(
                "busy",
                f"the queue holds {held:,} JSON values; this request "
                f"would pass {p.MAX_QUEUED_VALUES:,}: try again later",
            )
        self.queue.append(job)
        self._wake.notify()
        return self._position(job)

    def _keep(self, outcome: Outcome) -> None:
        outcome.expires = time.monotonic() + self.result_ttl
        self.kept[outcome.id] = outcome
        self.kept.move_to_end(outcome.id)
        while len(self.kept) > self.kept_limit:
            self.kept.popitem(last=False)


def _owns(asker: tuple[str, int] | None, reply: tuple[str, int]) -> bool:
    """Whether `asker` (host, reply port) is the sender of a request answered
    at `reply`; None asks as the server itself (always)."""
    return asker is None or tuple(asker) == tuple(reply)
