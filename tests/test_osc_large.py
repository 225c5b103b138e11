"""Payloads over 64 KB (more than one UDP datagram could ever carry) both
ways, over real UDP with the real engine, while pings are answered.

Its own file because the result takes the tiny model 20-30 s to write on two
shared cores: a 64 KB result is ~2,500 notes."""

import threading
import time

from test_osc_server import assert_inside, engine, fill, serve  # noqa: F401 (fixtures)

from midifill.bridge import protocol as p
from midifill.bridge.client import Client


def test_request_and_result_over_64_kb_while_pings_are_answered(serve):
    server = serve()
    # The request: 3,600 context notes (chords) after the target. The result:
    # 44 bars in 8 variations, written densely: about 80 KB from the tiny
    # model.
    context = [[36 + (i * 7) % 36, 176.0 + (i // 3) * 0.25, 0.25, 100] for i in range(3600)]
    request = fill(0.0, 176.0, variations=8, seed=3, notes=context)
    request["controls"].update(temperature=1.5, density=64, max_polyphony=32)
    assert len(p.encode_json(request)) > 64 * 1024
    answer, progress = {}, []

    def send():
        try:
            with Client(port=server.port, timeout=30) as client:
                answer["response"] = client.request(
                    request, msg_id="big", on_progress=progress.append
                )
        except Exception as exc:  # reported below, on the test's thread
            answer["error"] = exc

    worker = threading.Thread(target=send)
    worker.start()
    latencies = []
    with Client(port=server.port, timeout=2) as pinger:
        deadline = time.monotonic() + 20
        while pinger.status()["running"] is None:  # another client's: true, not its id
            assert time.monotonic() < deadline, "the big request never started"
        # pings while the generation runs (it may be quick on a fast, idle
        # machine: only pings answered while it still ran count)
        while len(latencies) < 10 and pinger.status()["running"] is True:
            started = time.monotonic()
            pinger.ping()
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    worker.join(120)
    assert "error" not in answer, answer["error"]
    response = answer["response"]
    size = len(p.encode_json(response))
    print(
        f"result {size} bytes in {len(p.split_json(response))} chunks; "
        f"ping max {max(latencies) * 1000:.0f} ms"
    )
    assert len(latencies) >= 3, "the generation ended before 3 pings: make it longer"
    assert max(latencies) < 0.5, latencies
    assert size > 64 * 1024
    assert len(response["variations"]) == 8 and progress
    assert_inside(response, 0.0, 176.0)
