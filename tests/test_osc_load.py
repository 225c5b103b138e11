"""The OSC bridge under load, over real UDP with the real engine: payloads
over 64 KB both ways while pings are answered, and 8 clients at once."""
import concurrent.futures
import threading
import time

from bridge import protocol as p
from bridge.client import Client
from test_osc_server import assert_inside, engine, fill, serve  # noqa: F401 (fixtures)


def test_request_and_result_over_64_kb_while_pings_are_answered(serve):
    server = serve()
    # The request: 3,600 context notes (chords) after the target. The result:
    # 32 bars in 8 variations, written densely: about 70 KB from the tiny
    # model, a real generation of 20-30 s on two shared cores.
    context = [[36 + (i * 7) % 36, 128.0 + (i // 3) * 0.25, 0.25, 100] for i in range(3600)]
    request = fill(0.0, 128.0, variations=8, seed=3, notes=context)
    request["controls"].update(temperature=1.5, density=64, max_polyphony=32)
    assert len(p.encode_json(request)) > 64 * 1024
    answer, progress = {}, []

    def send():
        try:
            with Client(port=server.port, timeout=30) as client:
                answer["response"] = client.request(request, msg_id="big",
                                                    on_progress=progress.append)
        except Exception as exc:  # reported below, on the test's thread
            answer["error"] = exc

    worker = threading.Thread(target=send)
    worker.start()
    latencies = []
    with Client(port=server.port, timeout=2) as pinger:
        deadline = time.monotonic() + 20
        while pinger.status()["running"] != "big":
            assert time.monotonic() < deadline, "the big request never started"
        for _ in range(10):
            started = time.monotonic()
            pinger.ping()
            latencies.append(time.monotonic() - started)
            time.sleep(0.2)
        still_running = pinger.status()["running"] == "big"
    worker.join(120)
    assert "error" not in answer, answer["error"]
    response = answer["response"]
    size = len(p.encode_json(response))
    print(f"result {size} bytes in {len(p.split_json(response))} chunks; "
          f"ping max {max(latencies) * 1000:.0f} ms")
    assert still_running, "the generation ended before the pings: make it longer"
    assert max(latencies) < 0.5, latencies
    assert size > 64 * 1024
    assert len(response["variations"]) == 8 and progress
    assert_inside(response, 0.0, 128.0)


def test_eight_clients_times_25_requests_each_get_their_own_answer(serve):
    server = serve()
    # Each request targets its own half beat, so an answer given to the
    # wrong request would show notes outside the range it asked for.
    ranges = [(beat, beat + 0.5) for beat in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0)]

    def one_client(c):
        notes = 0
        with Client(port=server.port, timeout=20) as client:
            for r in range(25):
                start, end = ranges[(c + r) % len(ranges)]
                request = fill(start, end, seed=c * 100 + r)
                request["controls"]["max_polyphony"] = 1  # short answers keep this quick
                response = client.request(request, msg_id=f"c{c}-r{r}")
                assert_inside(response, start, end)
                notes += len(response["variations"][0]["notes"])
        return notes

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        notes = list(pool.map(one_client, range(8)))
    print(f"200 requests from 8 clients in {time.monotonic() - started:.1f} s, "
          f"{sum(notes)} notes")
    assert sum(notes) >= 100  # the range check above had notes to look at
