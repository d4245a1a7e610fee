"""Keep bearer tokens out of the server's logs, and show Parley's own lines beside uvicorn's.

uvicorn logs each request's path with its query string: HTTP requests on `uvicorn.access`,
WebSocket handshakes on `uvicorn.error`. Our clients never put a token in a URL, but older
ones still send the event socket's deprecated `?token=`, and a URL pasted by hand may carry
one; whatever the client does, the value is replaced before any handler sees the line.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&][A-Za-z_]*token=)[^&\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1" + REDACTED, text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_tokens_in_server_logs() -> None:
    """Install the filter on uvicorn's loggers (once; calling again changes nothing). A filter
    on the logger itself, not on a handler, so it holds whatever handlers are configured."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def show_parley_logs(level: str) -> None:
    """Parley's loggers at the server's log level, on stderr as uvicorn's are: uvicorn configures
    only its own loggers, so a running node would say nothing of its spaces' hand-overs and
    relays (info), and its warnings would reach stderr as bare messages. For `parley serve`
    processes only: in-process servers (tests) leave logging to their host."""
    logger = logging.getLogger("parley")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        logger.addHandler(handler)
