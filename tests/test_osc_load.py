"""The OSC bridge under load, over real UDP with the real engine: 8 clients
sending 25 requests each at once."""

import concurrent.futures
import time

from test_osc_server import assert_inside, engine, fill, serve  # noqa: F401 (fixtures)

from midifill.bridge.client import Client


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
    print(f"200 requests from 8 clients in {time.monotonic() - started:.1f} s, {sum(notes)} notes")
    assert sum(notes) >= 100  # the range check above had notes to look at
