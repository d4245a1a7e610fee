"""A node gone silent (its machine lost, a network cut: no FIN ever comes) leaves the event
sockets nginx holds for it open: nothing tells nginx, nor the browsers behind it, which go on
showing a room where nothing happens. The node pings every socket (PARLEY_WS_PING_SECONDS), so a
socket nothing came through for nginx's read timeout is on a node gone silent: nginx closes it,
and the client reconnects (to another node, with several). A quiet socket on a live node stays
open, the pings going through it. Real `parley serve` and the shipped nginx site, its timeout
shortened as the node's pings are."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.support.clients import Person
from tests.support.edge import nginx_in_front
from tests.support.servers import answering, free_port, serve_process


@pytest.mark.nginx
async def test_nginx_closes_the_event_sockets_of_a_node_gone_silent(tmp_path: Path) -> None:
    port = free_port()
    node = serve_process(tmp_path, port, PARLEY_WS_PING_SECONDS="1")
    try:
        await answering(f"http://127.0.0.1:{port}")
        with nginx_in_front(port, socket_timeout="3s") as edge:
            host = await Person.sign_up(edge.base_url, "host")
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Quiet"}))["id"]
            async with host.events(sid) as stream:
                await stream.wait_for("snapshot")
                # Nothing to tell for longer than nginx waits: the node's pings keep it open.
                await asyncio.sleep(3.5)
                assert stream.close_code is None
                node.send_signal(signal.SIGSTOP)
                stopped = time.monotonic()
                await stream.wait_closed(timeout=8)
                print(f"closed {time.monotonic() - stopped:.1f} s after the node went silent")
            await host.close()
    finally:
        node.send_signal(signal.SIGCONT)
        node.terminate()
        node.wait(30)
