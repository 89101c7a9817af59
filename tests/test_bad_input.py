"""Raw-socket bad input: the broker drops the offending connection and keeps serving others."""

import os
import socket
import struct
import time

import pytest

from conftest import wait_until


def api_versions_v0(correlation_id: int) -> bytes:
    client_id = b"kafkars-tests"
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def assert_serving(broker, timeout=10):
    """A fresh connection gets a well-formed ApiVersions v0 answer."""
    host, port = broker.bootstrap.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(api_versions_v0(4242))
        (size,) = struct.unpack(">i", recv_exact(s, 4, deadline))
        assert 6 <= size < 1 << 20
        body = recv_exact(s, size, deadline)
    corr, err, count = struct.unpack(">ihi", body[:10])
    assert corr == 4242 and err == 0 and count > 10
    keys = {struct.unpack(">h", body[10 + 6 * i:12 + 6 * i])[0] for i in range(count)}
    assert {0, 1, 3, 18} <= keys, keys  # Produce, Fetch, Metadata, ApiVersions
    if hasattr(broker, "check_alive"):
        broker.check_alive()


def closed_by_peer(sock, timeout=10):
    """True when the broker closes the connection (EOF or reset) within ``timeout``; any bytes
    it sends first (an error response) are read and ignored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def connect(broker):
    host, port = broker.bootstrap.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def send_frame_and_wait_for_close(broker, body: bytes) -> None:
    """Sends one size-prefixed frame on a fresh connection and waits (briefly) for the broker
    to close it; a broker that drops the connection mid-send is fine too."""
    with connect(broker) as s:
        try:
            s.sendall(struct.pack(">i", len(body)) + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed_by_peer(s, timeout=2)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("frame", [
    pytest.param(struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 64, id="oversize-2GiB"),
    pytest.param(struct.pack(">i", 200 * 1024 * 1024) + b"\x00" * 64, id="oversize-200MiB"),
    pytest.param(struct.pack(">i", -1) + b"\x00" * 16, id="negative-size"),
])
def test_oversize_or_negative_frame_is_dropped(any_broker, frame):
    with connect(any_broker) as s:
        s.sendall(frame)
        assert closed_by_peer(s), "broker kept a connection announcing an absurd frame size"
    assert_serving(any_broker)


@pytest.mark.timeout(60)
def test_garbage_frames_leave_broker_serving(any_broker):
    rng = __import__("random").Random(7)
    for n in (0, 1, 3, 8, 50, 4000):
        body = bytes(rng.getrandbits(8) for _ in range(n))
        send_frame_and_wait_for_close(any_broker, body)
    assert_serving(any_broker)


@pytest.mark.timeout(60)
def test_unknown_api_key_and_version(any_broker):
    for key, version in ((9999, 0), (18, 32000), (0, -5), (3, 999)):
        body = struct.pack(">hhih", key, version, 7, 1) + b"x" + b"\x00" * 16
        send_frame_and_wait_for_close(any_broker, body)
    assert_serving(any_broker)


@pytest.mark.timeout(60)
def test_truncated_frames_and_abrupt_closes(any_broker):
    full = api_versions_v0(1)
    for cut in (1, 3, 4, 7, len(full) - 1):
        with connect(any_broker) as s:
            s.sendall(full[:cut])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    assert_serving(any_broker)


@pytest.mark.timeout(60)
def test_many_garbage_connections_at_once(any_broker):
    socks = []
    try:
        for _ in range(100):
            s = connect(any_broker)
            s.sendall(os.urandom(64))
            socks.append(s)
        assert_serving(any_broker)
    finally:
        for s in socks:
            s.close()
    assert_serving(any_broker)


@pytest.mark.timeout(60)
def test_pipelined_requests_answered_in_order(any_broker):
    with connect(any_broker) as s:
        s.sendall(b"".join(api_versions_v0(i) for i in range(50)))
        deadline = time.monotonic() + 20
        seen = []
        for _ in range(50):
            (size,) = struct.unpack(">i", recv_exact(s, 4, deadline))
            seen.append(struct.unpack(">i", recv_exact(s, size, deadline)[:4])[0])
    assert seen == list(range(50))
