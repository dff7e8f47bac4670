"""The scene schema: the single source of truth for what a narrated scene is.

The same pydantic models validate every draft (from storylets, a local LLM or a server) and
produce the JSON schema used for constrained decoding and OpenAI-compatible response formats.
This module defines data only; it applies nothing to the story (see engine.story.state for that).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.text import without_controls

INTENTS: tuple[str, ...] = (
    "explore", "talk", "investigate", "fight", "sneak", "help",
    "trade", "rest", "travel", "use", "flee",
)
MOODS: tuple[str, ...] = (
    "calm", "bright", "tense", "dark", "eerie", "melancholy", "triumphant", "mysterious",
)

Intent = Literal[
    "explore", "talk", "investigate", "fight", "sneak", "help",
    "trade", "rest", "travel", "use", "flee",
]
Mood = Literal["calm", "bright", "tense", "dark", "eerie", "melancholy", "triumphant", "mysterious"]
FlagValue = bool | int | str

MAX_TITLE = 80          # characters in a scene title
MAX_NARRATION = 4000    # characters of narration per scene
MAX_LABEL = 100         # characters in a choice label
MAX_IMAGE_PROMPT = 400  # characters in an image prompt
MAX_NAME = 40           # characters in an item, flag, location or character id

# The shape asked of language models, carried by the JSON schema (so constrained decoding and a
# server that honours the schema enforce it while writing) and checked again on every draft.
LLM_TITLE_MIN, LLM_TITLE_MAX = 3, 60         # characters; 1 to 8 words, no markup
LLM_LABEL_MIN, LLM_LABEL_MAX = 6, 70         # characters; 2 to 10 words
LLM_NARRATION_MIN, LLM_NARRATION_MAX = 120, 1600   # characters (the word budget is in tokens)
LLM_IMAGE_PROMPT_MAX = 160
# Titles and labels are words of letters (digits and light punctuation after the first), so a
# small model cannot fill them with JSON or markup; narration starts like prose and never holds
# braces, brackets or markup characters.
# A choice label starts with one of these verbs, like an order the player gives ("Ask Ivy about
# the bell"): left free, small models write nouns ("Lightning Strike") that are no action at all.
LABEL_VERBS: tuple[str, ...] = tuple(sorted(set("""
accept accuse admit agree aim answer apologise apologize approach argue ask attack avoid
bandage bar bargain bathe beg believe bind block board borrow break bribe bring build burn bury
buy call calm carry catch challenge charge chase check cheer choose circle claim clean clear
climb close collect comfort command confess confront consider cook count cover crawl creep
cross crouch cry cut dance dare decline defend demand deny descend destroy dig dismiss dive
dodge drag draw drink drive drop duck eat enter escape examine explain explore feed fetch
fight fill find fire fix flee float fly follow force forgive free gather give go grab greet
grip guard guide head heal help hide hit hold hug hunt hurry ignore inspect insist investigate
jump keep kick kill kiss kneel knock land laugh lead leap leave lend let lie lift light listen
load lock look loot lower make map mark meet mend move offer open order pack pay peer persuade
pick plead play point pour pray press promise protect pull push put question quiet raise
reach read refuse rescue rest retreat return ride ring row run rush sail save say scan scream
search seize sell send shake share shelter shoot shout show signal sing sit sleep slip smash
sneak speak spy stand stay steal step stop strike study swear swim take talk taste tell thank
threaten throw tie touch trace track trade trust try turn unlock use visit wade wait wake walk
warn wash watch wave whisper work write yell""".split())))
_FIRST = r"[A-Za-z\u00c0-\u024f]"
_LETTERS = "A-Za-z\u00c0-\u024f"
_WORD = rf"[{_LETTERS}0-9][{_LETTERS}0-9'\u2019-]{{0,15}}[,.!?]?"   # no run-on "words"
_LABEL_WORD = rf"[{_LETTERS}][{_LETTERS}'\u2019-]{{0,15}},?"        # labels: no digits
_VERB = "(" + "|".join(v.capitalize() for v in LABEL_VERBS) + ")"
TITLE_PATTERN = rf"^{_FIRST}[{_LETTERS}0-9'\u2019-]{{0,15}}( {_WORD}){{0,7}}$"
LABEL_PATTERN = rf"^{_VERB}( {_LABEL_WORD}){{1,9}}$"
NARRATION_PATTERN = (r'^[A-Za-z\u00c0-\u024f"\u201c\'][^{}<>\[\]*#|=_\\]'
                     rf"{{{LLM_NARRATION_MIN - 1},{LLM_NARRATION_MAX - 1}}}$")   # length within


def _clean(text: str) -> str:
    """Collapse control characters a model or a hand-edited file may smuggle in."""
    return without_controls(text).strip()


class Effects(BaseModel):
    """State changes a scene asks for. The engine validates and clamps them before applying."""

    model_config = ConfigDict(extra="forbid")

    location: str | None = Field(default=None, max_length=MAX_NAME)
    add_items: list[str] = Field(default_factory=list, max_length=5)
    remove_items: list[str] = Field(default_factory=list, max_length=5)
    set_flags: dict[str, FlagValue] = Field(default_factory=dict, max_length=8)
    adjust: dict[str, int] = Field(default_factory=dict, max_length=8)
    characters_enter: list[str] = Field(default_factory=list, max_length=4)
    characters_leave: list[str] = Field(default_factory=list, max_length=4)

    @field_validator("add_items", "remove_items", "characters_enter", "characters_leave")
    @classmethod
    def _short_names(cls, names: list[str]) -> list[str]:
        cleaned = [_clean(n)[:MAX_NAME] for n in names]
        return [n for n in cleaned if n]

    def is_empty(self) -> bool:
        return self == Effects()


class ChoiceDraft(BaseModel):
    """One option offered to the player: what they see and the intent behind it."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=MAX_LABEL)
    intent: Intent = "explore"
    goto: str | None = Field(default=None, max_length=MAX_NAME)  # storylet hint; LLMs leave it out

    @field_validator("label")
    @classmethod
    def _label(cls, label: str) -> str:
        label = _clean(label).replace("\n", " ")
        if not label:
            raise ValueError("choice label is empty")
        return label


class SceneDraft(BaseModel):
    """A narrated scene as a backend proposes it, before it touches the story graph."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    narration: str = Field(min_length=1, max_length=MAX_NARRATION)
    choices: list[ChoiceDraft] = Field(default_factory=list, max_length=4)
    image_prompt: str = Field(default="", max_length=MAX_IMAGE_PROMPT)
    mood: Mood = "calm"
    effects: Effects = Field(default_factory=Effects)
    ending: bool = False
    source: str = Field(default="", max_length=120)  # e.g. the storylet id that produced it

    @field_validator("title", "narration", "image_prompt")
    @classmethod
    def _text(cls, text: str) -> str:
        return _clean(text)

    @field_validator("choices")
    @classmethod
    def _choices(cls, choices: list[ChoiceDraft]) -> list[ChoiceDraft]:
        seen: set[str] = set()
        unique = []
        for choice in choices:
            if choice.label.lower() not in seen:
                seen.add(choice.label.lower())
                unique.append(choice)
        return unique

    @model_validator(mode="after")
    def _shape(self) -> "SceneDraft":
        if not self.title or not self.narration:
            raise ValueError("a scene needs a title and narration")
        if self.ending:
            self.choices = []
        elif len(self.choices) < 2:
            raise ValueError("a scene that is not an ending needs 2-4 choices")
        return self


class LLMChoice(BaseModel):
    """The choice shape asked of language models (no storylet hints): a label of 2-10 words."""

    model_config = ConfigDict(extra="forbid")

    # The intent comes first: a model that has said "talk" writes "Ask Ivy about the bell",
    # where one that starts with the label drifts into nouns ("Lightning Strike").
    intent: Intent
    label: str = Field(min_length=LLM_LABEL_MIN, max_length=LLM_LABEL_MAX,
                       pattern=LABEL_PATTERN)


_ID = r"^[A-Za-z][A-Za-z0-9_ ]{0,38}[A-Za-z0-9]$"   # a name a model gives an item, flag or id


class LLMEffects(BaseModel):
    """Effects as asked of language models: short names, small steps. The engine checks them
    against the world again before applying (engine.story.effects_check)."""

    model_config = ConfigDict(extra="forbid")

    location: str | None = Field(default=None, max_length=MAX_NAME, pattern=_ID)
    add_items: list[Annotated[str, Field(max_length=MAX_NAME, pattern=_ID)]] = Field(
        default_factory=list, max_length=3)
    remove_items: list[Annotated[str, Field(max_length=MAX_NAME, pattern=_ID)]] = Field(
        default_factory=list, max_length=3)
    set_flags: dict[str, bool] = Field(default_factory=dict, max_length=3)
    adjust: dict[str, Annotated[int, Field(ge=-3, le=3)]] = Field(default_factory=dict,
                                                                   max_length=3)
    characters_enter: list[Annotated[str, Field(max_length=MAX_NAME, pattern=_ID)]] = Field(
        default_factory=list, max_length=3)
    characters_leave: list[Annotated[str, Field(max_length=MAX_NAME, pattern=_ID)]] = Field(
        default_factory=list, max_length=3)


class LLMScene(BaseModel):
    """The scene shape asked of language models; converted to a SceneDraft after validation."""

    model_config = ConfigDict(extra="forbid")

    # The narration comes first: it streams to the player at once, and the title is written
    # with the scene in view.
    narration: str = Field(pattern=NARRATION_PATTERN)   # its length is in the pattern
    title: str = Field(min_length=LLM_TITLE_MIN, max_length=LLM_TITLE_MAX,
                       pattern=TITLE_PATTERN)
    choices: list[LLMChoice] = Field(min_length=2, max_length=4)
    image_prompt: str = Field(max_length=LLM_IMAGE_PROMPT_MAX)
    mood: Mood
    effects: LLMEffects

    def to_draft(self, source: str = "") -> SceneDraft:
        return SceneDraft(
            title=self.title,
            narration=self.narration,
            choices=[ChoiceDraft(label=c.label, intent=c.intent) for c in self.choices],
            image_prompt=self.image_prompt,
            mood=self.mood,
            effects=Effects.model_validate(self.effects.model_dump()),
            source=source,
        )


def llm_scene_json_schema() -> dict:
    """The JSON schema for constrained decoding and server response formats."""
    return LLMScene.model_json_schema()
