"""The schema of a world's files: what world.toml, lore.toml, reactions.toml and storylets/*.toml
may hold.

These pydantic models are the single source of truth for a world's data, as engine.story.schema is for
a scene: every table a modder writes is validated against them field by field, with lengths and
counts capped because worlds come from strangers, and unknown keys refused (a misspelt key is an
error, not silently ignored). They declare shapes only. Reading files, confining paths, reporting
problems with their lines and checks across entries (start, goto, templates) belong to
engine.worlds.loading and engine.worlds.validate; this module must not touch the file system.
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, BaseModel, ConfigDict, Field

from engine.story.schema import INTENTS, Effects, FlagValue, Intent, Mood

ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,39}$"   # ids of characters, lore entries and storylets
# What a reaction answers: an intent, or "nonsense" (typed words that mean nothing in the world).
REACTION_KINDS: tuple[str, ...] = (*INTENTS, "nonsense")
ReactionKind = Literal["explore", "talk", "investigate", "fight", "sneak", "help", "trade",
                       "rest", "travel", "use", "flee", "nonsense"]


class _Strict(BaseModel):
    """Unknown keys are refused: a misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class CharacterSpec(_Strict):
    """One [[characters]] table of world.toml: who can appear, and how they look."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    appearance: str = Field(default="", max_length=400)
    description: str = Field(default="", max_length=1000)
    voice: str = Field(default="", max_length=200)   # the voice of their quoted speech; "": narrator's


PicturePlace = Literal["moor", "harbour", "town", "lighthouse", "cliffs", "caves", "flats", "sea",
                       "hills", "forest", "mountains", "desert", "snowfield", "interior", "space"]
PictureTime = Literal["dawn", "morning", "day", "noon", "afternoon", "dusk", "night"]
PictureWeather = Literal["clear", "clouds", "rain", "storm", "fog", "snow"]


class PictureSpec(_Strict):
    """What a scene's picture shows, declared so the painter need not guess it from words:
    a storylet's `picture = { place = "moor", time = "day" }` or a world.toml
    `[locations.moor]` table. Empty fields are left to the image prompt's words."""

    place: PicturePlace | None = None        # the kind of place painted
    time: PictureTime | None = None          # the hour's light
    weather: PictureWeather | None = None    # the sky
    lights: Literal["lit", "unlit"] | None = None   # lamps, windows, a lighthouse's beam

    def marker(self, kind: Literal["picture", "location"] = "picture") -> str:
        """The declaration as the painter reads it inside a prompt, e.g.
        "[picture place=moor time=day]"; "" when nothing is declared. A scene's own ("picture")
        overrides the prompt's words; a location's ("location") only fills in what they leave
        open, and its place does not turn an interior outdoors."""
        fields = [f"{k}={v}" for k, v in self.model_dump().items() if v is not None]
        return f"[{kind} {' '.join(fields)}]" if fields else ""


class StateSpec(_Strict):
    """world.toml [state]: the world state a new story starts from."""

    location: str = Field(default="", max_length=40)
    inventory: list[str] = Field(default_factory=list, max_length=40)
    flags: dict[str, FlagValue] = Field(default_factory=dict, max_length=200)
    characters: list[str] = Field(default_factory=list, max_length=12)
    # Flags the player may see in the status panel, with the label shown: { coin = "Coins" }.
    visible: dict[str, str] = Field(default_factory=dict, max_length=40)

    @field_validator("visible")
    @classmethod
    def _visible(cls, value: dict[str, str]) -> dict[str, str]:
        for flag, label in value.items():
            if not (flag[:1].isalnum() and flag.replace("_", "").isalnum() and flag.islower()
                    and len(flag) <= 40):
                raise ValueError(f"'{flag}' is not a flag name (lower case, digits, _)")
            if not 0 < len(label.strip()) <= 40:
                raise ValueError(f"the label of '{flag}' must be 1 to 40 characters")
        return value


class PlayerSpec(_Strict):
    """world.toml [player]: the player character's profile the world suggests (name, pronouns,
    look); each player may choose their own when a story begins."""

    name: str = Field(default="Traveller", max_length=40)
    # Suggestions the "Who are you?" screen starts from; the player may change them.
    pronouns: str = Field(default="", max_length=30)    # e.g. "they/them"
    look: str = Field(default="", max_length=300)       # a short description of looks


# The modes and instruments of the procedural score (engine.audio.music), which a world's
# [audio.moods.<mood>] tables may choose from.
MUSIC_MODES: tuple[str, ...] = ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian",
                                "locrian", "harmonic_minor", "whole_tone")
MusicMode = Literal["major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian",
                    "harmonic_minor", "whole_tone"]
MUSIC_INSTRUMENTS: tuple[str, ...] = ("pad", "strings", "pluck", "bell", "brass", "bass", "drums")
MusicInstrument = Literal["pad", "strings", "pluck", "bell", "brass", "bass", "drums"]
NOTE_NAME = r"^[A-G](#|b)?$"   # a key's tonic: C, F#, Bb


class MoodMusicSpec(_Strict):
    """One [audio.moods.<mood>] table of world.toml: how the procedural score plays a mood in
    this world. Every field left out keeps the engine's choice for that mood."""

    root: str | None = Field(default=None, pattern=NOTE_NAME)     # the key's tonic: "D", "F#"
    mode: MusicMode | None = None                                  # the scale: "minor", "dorian"
    tempo: int | None = Field(default=None, ge=40, le=200)        # beats a minute
    instruments: list[MusicInstrument] | None = Field(default=None, min_length=1, max_length=7)
    density: float | None = Field(default=None, ge=0.0, le=1.0)  # 0 sparse .. 1 busy


class AudioSpec(_Strict):
    """world.toml [audio]: what the world sounds like."""

    music_style: str = Field(default="", max_length=300)   # words for the music model's prompt
    narrator_voice: str = Field(default="", max_length=200)   # "": the voice backend's default
    moods: dict[Mood, MoodMusicSpec] = Field(default_factory=dict)   # [audio.moods.<mood>]


# The poles of the player model's tendencies (engine.story.player_model.AXES).
PlayerPole = Literal["bold", "cautious", "kind", "ruthless", "curious", "direct", "talkative",
                     "quiet"]


class PlayerModelSpec(_Strict):
    """world.toml [player_model]: how the storylet narrator answers the way the player plays.

    `tags` maps storylet tags to the tendency they suit, e.g. `fight = "ruthless"`: a storylet
    with such a tag is told more often to a player who leans that way, less often to one who
    leans the other way (engine.narrators.storylets, PLAYER_STEER)."""

    tags: dict[str, PlayerPole] = Field(default_factory=dict, max_length=200)

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: dict[str, str]) -> dict[str, str]:
        for tag in value:
            if not 0 < len(tag) <= 40:
                raise ValueError(f"'{tag[:40]}' is not a tag (1 to 40 characters)")
        return value


class WorldSpec(_Strict):
    """world.toml: the world bible (title, premise, tone, art style), characters and start."""

    title: str = Field(min_length=1, max_length=80)
    premise: str = Field(default="", max_length=2000)
    tone: str = Field(default="", max_length=200)
    player_role: str = Field(default="", max_length=200)
    art_style: str = Field(default="", max_length=300)
    cover: str = Field(default="", max_length=400)
    start: str = Field(default="", max_length=40)
    # The length of a scene's narration that language-model narrators keep to, in words.
    narration_words: tuple[int, int] = (80, 180)
    player: PlayerSpec = Field(default_factory=PlayerSpec)
    characters: list[CharacterSpec] = Field(default_factory=list, max_length=100)
    state: StateSpec = Field(default_factory=StateSpec)
    # What each location's pictures show, by the location id that effects set: [locations.moor].
    locations: dict[str, PictureSpec] = Field(default_factory=dict, max_length=100)
    audio: AudioSpec = Field(default_factory=AudioSpec)   # [audio]: music style, voice, moods
    # [player_model]: storylet tags and the player tendencies they suit.
    player_model: PlayerModelSpec = Field(default_factory=PlayerModelSpec)


    @field_validator("narration_words")
    @classmethod
    def _word_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 20 <= low < high <= 600:
            raise ValueError("narration_words must be [least, most] with 20 <= least < most "
                             "<= 600, e.g. [80, 180]")
        return value


class LoreSpec(_Strict):
    """One [[lore]] table of lore.toml: text the narrator is reminded of on a keyword."""

    id: str = Field(pattern=ID_PATTERN)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    text: str = Field(min_length=1, max_length=4000)
    priority: int = 0


class ChoiceSpec(_Strict):
    """One [[storylet.choices]] table: a choice offered at the end of a storylet."""

    label: str = Field(min_length=1, max_length=100)
    intent: Intent = "explore"
    goto: str = Field(default="", max_length=40)
    when: str = Field(default="", max_length=1000)


class StoryletSpec(_Strict):
    """One [[storylet]] table of a storylets/*.toml file: an authored scene."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=8000)
    when: str = Field(default="", max_length=1000)
    intents: list[Intent] = Field(default_factory=lambda: list(INTENTS))
    tags: list[str] = Field(default_factory=list, max_length=40)
    weight: float = Field(default=1.0, ge=0, le=1000)
    once: bool = True
    mood: Mood = "calm"
    image: str = Field(default="", max_length=400)
    picture: PictureSpec | None = None   # overrides the location's declaration, field by field
    ending: bool = False
    effects: Effects = Field(default_factory=Effects)
    choices: list[ChoiceSpec] = Field(default_factory=list, max_length=8)


class ReactionSpec(_Strict):
    """One [[reaction]] table of reactions.toml: how the world answers, in place, a typed action
    that no storylet fits. It changes nothing and offers the choices the player had."""

    id: str = Field(pattern=ID_PATTERN)
    intents: list[ReactionKind] = Field(default_factory=lambda: list(INTENTS), min_length=1)
    when: str = Field(default="", max_length=1000)
    title: str = Field(default="", max_length=120)     # "": the player's own words
    text: str = Field(min_length=1, max_length=2000)
    weight: float = Field(default=1.0, ge=0, le=1000)
    mood: Mood | None = None                           # None: the mood of the scene it answers


__all__ = ["ID_PATTERN", "REACTION_KINDS", "MUSIC_MODES", "MUSIC_INSTRUMENTS", "MoodMusicSpec",
           "AudioSpec", "PlayerModelSpec", "PlayerPole", "CharacterSpec", "StateSpec", "PlayerSpec",
           "WorldSpec", "LoreSpec", "PictureSpec", "ChoiceSpec", "StoryletSpec", "ReactionSpec"]
