"""The benchmark's simulated hls.js listeners: their HTTP reading (one shared buffer, heads and
bodies split anywhere) and hls.js's reload schedule without parts."""

from __future__ import annotations

import asyncio

from bench.hls_listeners import Http, reload_interval


class Wire(asyncio.Transport):
    """Where requests go: nowhere (the answers are fed by hand)."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass


def connected() -> Http:
    http = Http()
    http.connection_made(Wire())
    return http


def feed(http: Http, data: bytes, pieces: list[int]) -> None:
    """`data` arriving in reads of the given sizes (the rest in the last)."""
    at = 0
    for size in [*pieces, len(data)]:
        chunk = data[at : at + size]
        if not chunk:
            break
        view = http.get_buffer(len(chunk))
        view[: len(chunk)] = chunk
        http.buffer_updated(len(chunk))
        at += len(chunk)


def response(status: int, body: bytes, name: str = "Content-Length") -> bytes:
    return f"HTTP/1.1 {status} OK\r\nServer: nginx\r\n{name}: {len(body)}\r\n\r\n".encode() + body


async def test_answers_come_whole_however_the_reads_split_them() -> None:
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n" * 20
    two = response(200, playlist) + response(404, b"gone", "content-length")
    for pieces in ([len(two)], [5], [30, 3], [len(playlist), 1, 1], [1] * 40):
        http = connected()
        first = http.send(b"", keep=True)
        feed(http, two[: len(response(200, playlist))], pieces)
        assert first.result() == (200, playlist)
        second = http.send(b"", keep=False)  # a segment: counted, not kept
        feed(http, two[len(response(200, playlist)) :], pieces)
        assert second.result() == (404, b"")


async def test_a_lost_connection_fails_the_request_in_flight() -> None:
    http = connected()
    waiting = http.send(b"", keep=True)
    feed(http, b"HTTP/1.1 200 OK\r\nContent-Le", [])
    http.connection_lost(None)
    assert isinstance(waiting.exception(), Exception)
    await asyncio.sleep(0)


def test_hls_js_reloads_every_target_duration_or_half_of_it_when_nothing_changed() -> None:
    assert reload_interval(2, 2.00533, updated=True) == 2
    assert reload_interval(2, 1.984, updated=True) == 1.984  # the last segment, when shorter
    assert reload_interval(2, 2.0, updated=False) == 1
