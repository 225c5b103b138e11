"""The OSC tests' fixtures: the engine on the tiny trained model, and real
servers on free loopback ports, stopped after each test."""

import pytest

from midifill.bridge.server import Server


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    import torch

    from midifill.model import Engine

    # On this shared 2-core machine torch's second thread mostly spins while
    # the other cores are busy: one thread is several times faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Engine.from_checkpoint(tiny_checkpoint)
    torch.set_num_threads(threads)


@pytest.fixture
def serve(engine):
    """serve(**options) -> a started Server on a free loopback port."""
    servers = []

    def start(**options):
        server = Server(engine, "127.0.0.1", 0, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.alive(), "the server stopped serving"
        server.stop()
