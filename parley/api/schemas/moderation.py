"""Bodies of trust and safety: suspensions, notices, appeals, reports, the audit log, feature
switches and the public status and transparency pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from parley.api.schemas.common import Body, Text


class SuspendIn(Body):
    rule: Text
    reason: Text
    until: datetime | None = None


class UnsuspendIn(Body):
    reason: Text


class AppealIn(Body):
    notice_id: Text
    text: Text


class AppealDecisionIn(Body):
    decision: Literal["upheld", "overturned"]
    reason: Text


class ReportIn(Body):
    target_type: Text
    target_id: Text
    rule: Text
    comment: Text = ""


class ReportResolution(Body):
    status: Literal["actioned", "dismissed"]
    reason: Text


class FeatureIn(Body):
    enabled: bool
    message: Text = ""
