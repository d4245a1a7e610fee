"""What every group of bodies shares: text safety, the base of request bodies, text parts and
the public face of an account."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parley.core.accounts import Account
from parley.core.links.render import TextPart
from parley.core.text import storable
from parley.core.tokens import AccountRef


def storable_text(text: str) -> str:
    if not storable(text):
        raise ValueError("text contains characters that cannot be stored")
    return text


Text = Annotated[str, Field(max_length=10_000), AfterValidator(storable_text)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


Out = TypeVar("Out", bound=BaseModel)


def from_record(model: type[Out], record: object, **given: object) -> Out:
    """A response body read off a core record: each field is the record's attribute of that
    name (an enum as its value, which is what the wire carries) unless it is given here, for
    what the record lacks or holds in another form. A field the record lacks and the call does
    not give is an AttributeError, not a silent default."""
    values: dict[str, object] = {}
    for name in model.model_fields:
        if name in given:
            values[name] = given[name]
        else:
            value = getattr(record, name)
            values[name] = value.value if isinstance(value, Enum) else value
    return model.model_validate(values)


class TextPartOut(BaseModel):
    """A run of user text. A text's parts, joined in order, give the text exactly; a part with
    an `href` (the redirector, `/l/{id}`) is a link, one without is plain text. Clients render
    links from these only, never from the text (offsets would differ between UTF-16 and code
    points; parts cannot)."""

    text: str
    href: str | None

    @classmethod
    def of_parts(cls, parts: Sequence[TextPart]) -> list[TextPartOut]:
        return [cls(text=p.text, href=p.href) for p in parts]


class OwnerOut(BaseModel):
    id: str
    handle: str


class BotRefOut(BaseModel):
    """A bot named on something its owner reads about it (a notice)."""

    id: str
    handle: str

    @classmethod
    def of(cls, bot: AccountRef | None) -> BotRefOut | None:
        return None if bot is None else cls(id=bot.id, handle=bot.handle)


class AutomatedOut(BaseModel):
    """On a bot's account wherever it appears: the person who answers for it (issue 13)."""

    owner: OwnerOut

    @classmethod
    def of(cls, owner: AccountRef | None) -> AutomatedOut | None:
        """The label of a bot whose owner is `owner`; None for a person."""
        if owner is None:
            return None
        return cls(owner=OwnerOut(id=owner.id, handle=owner.handle))


class AccountOut(BaseModel):
    id: str
    handle: str
    display_name: str
    automated: AutomatedOut | None = None

    @classmethod
    def of_account(cls, account: Account, owner: AccountRef | None = None, **given: object) -> Self:
        """The account as others see it, labelled with its owner if it is a bot; a subclass's
        further fields are read off the account unless given."""
        return from_record(cls, account, automated=AutomatedOut.of(owner), **given)
