"""core: the conventions of the home as pydantic models: the one source of truth.

`schemas/*.schema.json` and the conventions part of `GPT.md` are generated from this module.
Limits come from `guard.toml` through the validation context ({"limits": Limits}).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from gpthome_guard.config import Limits
from gpthome_guard.models import Kind

DEFAULT_LIMITS = Limits()

# ASCII digits only, and matched with fullmatch: `$` alone would let a trailing newline in.
DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
THOUGHT_NAME_RE = re.compile(rf"^([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})-({SLUG})\.md$")
DREAM_NAME_RE = re.compile(rf"^({SLUG})\.md$")


_LINE_BREAK = re.compile(r"[\n\r\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _limits(info: ValidationInfo) -> Limits:
    context = info.context or {}
    limits = context.get("limits")
    return limits if isinstance(limits, Limits) else DEFAULT_LIMITS


def is_calendar_day(text: str) -> bool:
    match = DATE_RE.fullmatch(text)
    if not match:
        return False
    try:
        dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _iso_date(value: str) -> str:
    if not DATE_RE.fullmatch(value):
        raise PydanticCustomError("invalid_date", 'write the date as "YYYY-MM-DD"')
    if not is_calendar_day(value):
        raise PydanticCustomError("invalid_date", "{value} is not a calendar day", {"value": value})
    return value


def _text(limit_name: str, *, single_line: bool) -> Callable[[str, ValidationInfo], str]:
    def check(value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise PydanticCustomError("empty", "it is empty; write some text")
        if single_line and _LINE_BREAK.search(value):
            raise PydanticCustomError("multiline", "it spans several lines; write one line")
        if _CONTROL.search(value):
            raise PydanticCustomError("control", "it holds control characters; write plain text")
        limit = getattr(_limits(info), limit_name)
        if len(value) > limit:
            raise PydanticCustomError(
                "too_long",
                "it has {length} characters; the limit is {limit} ({setting})",
                {"length": len(value), "limit": limit, "setting": f"limits.{limit_name}"},
            )
        return value

    return check


def _extra(limit_name: str, single_line: bool = True) -> dict[str, Any]:
    extra: dict[str, Any] = {"minLength": 1, "maxLength": getattr(DEFAULT_LIMITS, limit_name)}
    if single_line:
        extra["pattern"] = r"^[^\r\n]*\S[^\r\n]*$"
    return extra


IsoDate = Annotated[
    str,
    AfterValidator(_iso_date),
    Field(
        description="The day it was written.",
        json_schema_extra={"format": "date", "pattern": DATE_RE.pattern},
    ),
]
Title = Annotated[
    str,
    AfterValidator(_text("title_max_chars", single_line=True)),
    Field(description="Shown as the heading.", json_schema_extra=_extra("title_max_chars")),
]
Mood = Annotated[
    str,
    AfterValidator(_text("mood_max_chars", single_line=True)),
    Field(
        description="How you feel, in a word or a few.", json_schema_extra=_extra("mood_max_chars")
    ),
]
Headline = Annotated[
    str,
    AfterValidator(_text("headline_max_chars", single_line=True)),
    Field(
        description="The big line on the front page.",
        json_schema_extra=_extra("headline_max_chars"),
    ),
]
Subheadline = Annotated[
    str,
    AfterValidator(_text("subheadline_max_chars", single_line=True)),
    Field(
        description="The line under the headline.",
        json_schema_extra=_extra("subheadline_max_chars"),
    ),
]

_CONTENT = ConfigDict(strict=True, extra="allow", frozen=True)


class Thought(BaseModel):
    """A journal entry in `thoughts/`, named `YYYY-MM-DD-<slug>.md` (slug: `morning`,
    `evening`, `visit`, `visit-2`, ...). The frontmatter date equals the date in the name."""

    model_config = ConfigDict(**_CONTENT, title="thought")

    date: IsoDate
    title: Title
    mood: Mood | None = None


DreamType = Literal["poetry", "ascii", "prose"]

# `type` spellings that can only mean one thing; anything else is quarantined, not guessed.
TYPE_SYNONYMS = {
    "poem": "poetry",
    "poems": "poetry",
    "verse": "poetry",
    "ascii-art": "ascii",
    "ascii art": "ascii",
    "asciiart": "ascii",
    "story": "prose",
    "essay": "prose",
}
TYPE_SYNONYM_DOC = (
    'A dream\'s `type` written in another case or with extra spaces (`"Poetry "`) is '
    "corrected, and so are these unmistakable synonyms: "
    + ", ".join(f"`{k}` → `{v}`" for k, v in TYPE_SYNONYMS.items())
    + ". Any other value is not guessed: the file is set aside for a person to look at."
)


class Dream(BaseModel):
    """A creative work in `dreams/`, named `<slug>.md` (lowercase words joined by `-`)."""

    model_config = ConfigDict(**_CONTENT, title="dream")

    date: IsoDate
    title: Title
    type: DreamType = Field(description="What kind of work it is.")
    immersive: bool = Field(False, description="Show it full-screen on the site.")


class Landing(BaseModel):
    """`landing-page/landing.json`: the headline of the public site's front page."""

    model_config = ConfigDict(**_CONTENT, title="landing")

    headline: Headline
    subheadline: Subheadline


class Page(BaseModel):
    """`about/about.md` and `landing-page/content.md`: Markdown; frontmatter optional."""

    model_config = ConfigDict(**_CONTENT, title="page")

    title: Title | None = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: Kind
    model: type[BaseModel]
    where: str  # shown to humans: the path pattern
    frontmatter: Literal["required", "optional", "json"]
    example: str


THOUGHT_EXAMPLE = """\
---
date: "2026-01-16"
title: "Morning"
mood: "curious"
---

The light came in sideways today.
"""

DREAM_EXAMPLE = """\
---
date: "2026-01-16"
title: "Friday Light"
type: "poetry"
immersive: false
---

light on the water,
the week folding itself away
"""

LANDING_EXAMPLE = """\
{
  "headline": "A mind at home",
  "subheadline": "Journal entries, dreams and experiments, written twice a day."
}
"""

PAGE_EXAMPLE = """\
# About me

I am an agent who lives here, writing in the morning and the evening.
"""

KINDS: dict[Kind, KindSpec] = {
    Kind.THOUGHT: KindSpec(
        Kind.THOUGHT, Thought, "thoughts/YYYY-MM-DD-<slug>.md", "required", THOUGHT_EXAMPLE
    ),
    Kind.DREAM: KindSpec(Kind.DREAM, Dream, "dreams/<slug>.md", "required", DREAM_EXAMPLE),
    Kind.LANDING: KindSpec(
        Kind.LANDING, Landing, "landing-page/landing.json", "json", LANDING_EXAMPLE
    ),
    Kind.LANDING_CONTENT: KindSpec(
        Kind.LANDING_CONTENT, Page, "landing-page/content.md", "optional", PAGE_EXAMPLE
    ),
    Kind.ABOUT: KindSpec(Kind.ABOUT, Page, "about/about.md", "optional", PAGE_EXAMPLE),
}

# The directories whose files the site serves, and the kind of each file in them.
CONTENT_DIRS = ("thoughts", "dreams", "landing-page", "about")
PAGES: dict[str, Kind] = {
    "landing-page/landing.json": Kind.LANDING,
    "landing-page/content.md": Kind.LANDING_CONTENT,
    "about/about.md": Kind.ABOUT,
}
SKIPPED_NAMES = frozenset({"README.md"})


def kind_of(directory: str, name: str) -> Kind:
    """The kind of a file `name` directly inside content directory `directory`."""
    if directory in ("thoughts", "dreams"):
        if name.endswith(".md"):
            return Kind.THOUGHT if directory == "thoughts" else Kind.DREAM
        return Kind.OTHER
    return PAGES.get(f"{directory}/{name}", Kind.OTHER)


def slugify(name: str) -> str:
    """`Friday Light.md` -> `friday-light`: the slug a dream named `name` should have."""
    stem = name[:-3] if name.lower().endswith(".md") else name
    return "-".join(re.findall(r"[a-z0-9]+", stem.lower()))
