"""Bodies of the operations endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Ready when every part is; answered with 503 while any is not."""

    ready: bool
    database: bool
    bus: bool
    media: bool
