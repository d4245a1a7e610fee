"""A faster way of sending the program that this machine may not allow, and the one warning
that says why the fan-out takes the slower way instead."""

from __future__ import annotations

import logging
from collections.abc import Sequence


class FasterPath:
    """Whether a faster way of sending may be used, from what its check found against it; the
    first refusal is logged with those findings. Every room's fan-out asks, and the answer
    only changes when the installed libraries do, so once is enough to read."""

    def __init__(self, log: logging.Logger, instead: str) -> None:
        self.log = log
        self.instead = instead  # what the fan-out does when the check refuses, as logged
        self.warned = False

    def usable(self, problems: Sequence[str]) -> bool:
        if problems and not self.warned:
            self.warned = True
            self.log.warning("program fan-out: %s: %s", self.instead, "; ".join(problems))
        return not problems
