"""Bodies of link rules, link checks and redirector links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from parley.api.schemas.common import Body, Text, from_record
from parley.core.links.checks import LinkCheck, StoredRule


class LinkRuleIn(Body):
    match: Literal["host", "prefix", "url"]
    pattern: Text
    verdict: Literal["warn", "block"]
    rule: Text
    reason: Text


class LinkRuleOut(BaseModel):
    id: str
    match: str
    pattern: str
    verdict: str
    rule: str
    reason: str
    created_at: datetime
    created_by: str | None

    @classmethod
    def of(cls, stored: StoredRule) -> LinkRuleOut:
        return from_record(
            cls, stored.rule, created_at=stored.created_at, created_by=stored.created_by
        )


class LinkHopOut(BaseModel):
    url: str
    canonical_url: str | None
    verdict: Literal["allow", "warn", "block"]
    rule_id: str | None
    rule: str | None
    reason: str | None


class ChainErrorOut(BaseModel):
    reason: str
    url: str
    detail: str


class LinkCheckOut(BaseModel):
    url: str
    verdict: Literal["allow", "warn", "block"]
    canonical_url: str
    rule_id: str | None
    rule: str | None
    # The rule's reason; with no rule behind a warning, a code saying why the chain of redirects
    # could not be followed (`timeout`, `too_many_hops`, `unsafe_address`, ...).
    reason: str | None
    hops: list[LinkHopOut]
    chain_error: ChainErrorOut | None

    @classmethod
    def of(cls, check: LinkCheck) -> LinkCheckOut:
        return cls.model_validate(check, from_attributes=True)


class LinkIn(Body):
    url: Text


class LinkOut(BaseModel):
    id: str
    url: str
    href: str
