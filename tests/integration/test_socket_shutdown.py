"""A server stopping while a client closes its event socket: the socket is let go and the server
stops as it should.

As a server stops, uvicorn sends every socket it holds a 1012 close. A socket whose client had
closed it a moment before (the close answered, the connection not yet gone) raised out of that
(`InvalidState`), and the server's shutdown ended there: its node was never stopped. A node
drains while its clients move elsewhere, so the two meet. Here the client's close frame reaches
the server's side of a real socket and the stop comes in the same instant, as in the race.
"""

from __future__ import annotations

from websockets.asyncio.client import connect
from websockets.frames import Close, Frame, Opcode

from parley.api.websocket_protocol import WebSocketProtocol
from tests.support.servers import ServerThread, serve, wait_until

CLIENT_CLOSE = Frame(Opcode.CLOSE, Close(1000, "leaving").serialize()).serialize(mask=True)


def _sockets(server: ServerThread) -> list[WebSocketProtocol]:
    held = server.server.server_state.connections
    return [c for c in list(held) if isinstance(c, WebSocketProtocol)]


async def test_a_socket_closed_by_its_client_as_the_server_stops_is_let_go() -> None:
    with serve() as server:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/spaces/nowhere/events"
        # Accepted, and waiting for its {"type": "auth"} message.
        async with connect(url) as client:
            await wait_until(lambda: _sockets(server))

            async def closed_by_client_as_server_stops() -> None:
                (socket,) = _sockets(server)
                socket.data_received(CLIENT_CLOSE)
                socket.shutdown()

            server.call(closed_by_client_as_server_stops())
            await client.wait_closed()
            # The client's own close, answered: not the server's 1012.
            assert client.close_code == 1000
        await wait_until(lambda: not _sockets(server))
    assert not server.thread.is_alive()
