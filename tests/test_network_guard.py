import socket

import pytest

from tests.conftest import NetworkAccessError


def test_guard_blocks_public_addresses() -> None:
    with socket.socket() as s, pytest.raises(NetworkAccessError):
        s.connect(("93.184.216.34", 80))


def test_guard_allows_loopback() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())


def test_guard_blocks_name_resolution() -> None:
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("pypi.org", 443)
