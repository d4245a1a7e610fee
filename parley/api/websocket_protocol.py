"""The WebSocket protocol Parley's servers run: uvicorn's sans-I/O one, safe to stop while a
client is closing its socket."""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """When the server stops, uvicorn (0.55) sends a 1012 close on every socket it holds. A
    socket whose client closed it a moment before (the close answered, the connection not yet
    gone) is past sending anything, and the `InvalidState` that raised ended the server's
    shutdown there: the node was never stopped, so a drain handed no space on and recordings
    were left to crash recovery. A node drains while its clients move elsewhere, so the two
    meet. Such a socket is only let go."""

    def shutdown(self) -> None:
        if not self.close_sent and self.conn.state in (State.CLOSING, State.CLOSED):
            self.stop_keepalive()
            self.transport.close()
            return
        super().shutdown()
