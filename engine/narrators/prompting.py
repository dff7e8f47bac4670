"""Narrator prompts: render the moddable templates into a stable prefix and a volatile part.

The templates are assets/prompts/{system,summary,scene,image}.j2; a world overrides any of them
with a file of the same name in its prompts/ folder. They run in the template sandbox
(engine.worlds.templates), so a hostile override is refused with an error that names the file.

Layout, kept so that backends can cache the start of the prompt between turns:
  system message = system.j2 + summary.j2   (instructions, world bible, rolling summary)
  user message   = scene.j2                 (triggered lore, state facts, recent scenes,
                                             author's note, the player's action)
This module renders text only: it never tokenizes, loads a model or talks to a server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.errors import NarratorError, TemplateError
from engine.story.memory import triggered_lore
from engine.story.persona import Persona, default_persona, in_frame
from engine.narrators import NarrationRequest
from engine.story.schema import INTENTS, MOODS, SceneDraft, llm_scene_json_schema
from engine.story.state import WorldState
from engine.text import shorten
from engine.worlds.templates import Templates
from engine.story.appearance import MAX_IN_PROMPT
from engine.worlds.loading import ASSETS
from engine.worlds.world import World, character_name

PROMPTS = ASSETS / "prompts"
PROMPT_NAMES = ("system.j2", "summary.j2", "scene.j2", "image.j2")
MAX_TEMPLATE_BYTES = 64_000    # a prompt template file, default or override
MAX_CHARACTERS = 24            # characters described in the world bible
LAST_SCENE_CHARS = 700         # narration kept from the latest recent scene
OLDER_SCENE_CHARS = 600        # ... and from each earlier one, for overrides using `recent`
EARLIER_LINE_CHARS = 100       # the first sentence of each earlier recent scene (`earlier`)
EARLIER_LINES = 6              # ... for the newest this many of them
PROMPT_LORE_CHARS = 560        # triggered lore in one prompt (small models have 2k contexts)
DESCRIPTION_CHARS = 150        # a character's description in the world bible
APPEARANCE_CHARS = 80          # ... and their looks
MAX_ACTION_CHARS = 300         # a typed action
MAX_NOTE_CHARS = 600           # the author's note

# The answer's shape with no content in it: a concrete example scene is copied word for word by
# small models (its narration, its labels), so prompts show only the structure.
EXAMPLE_SHAPE = ('{"narration": "...", "title": "...", "choices": [{"label": "...", '
                 '"intent": "..."}, {"label": "...", "intent": "..."}], "image_prompt": "...", '
                 '"mood": "...", "effects": {}}')

# Strings that chat templates of common model families treat as control tokens.
_SPECIAL_LIKE = re.compile(
    r"<\|[^|<>\n]{0,40}\|>|</?s>|<</?SYS>>|\[/?INST\]|<(?:start|end)_of_turn>"
    r"|<(?:bos|eos|pad|unk)>|<\|?(?:endoftext|im_start|im_end)\|?>", re.IGNORECASE)


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: the stable system text and the volatile user text."""

    system: str                      # instructions, world bible, rolling summary
    user: str                        # lore, state, recent scenes, author's note, the action
    lore_ids: tuple[str, ...] = ()   # the lore entries that were triggered

    def text(self) -> str:
        """The two messages as one readable text (for the prompt inspector and plain prompts)."""
        return f"{self.system}\n\n{self.user}"


def neutralize_special_tokens(text: str) -> str:
    """Break up strings that look like chat control tokens (`<|im_start|>`, `</s>`, `[INST]`).

    Needed where the tokenizer is out of our hands (a server applies its own chat template and
    may parse control tokens inside message text): a zero-width space after the first character
    keeps the text readable to the model but no longer matches any special token.
    """
    return _SPECIAL_LIKE.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], text)


@lru_cache(maxsize=None)
def _default_source(name: str) -> str:
    return _read_capped(PROMPTS / name, f"assets/prompts/{name}")


def _read_capped(path: Path, where: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise NarratorError(f"{where}: cannot be read ({err.strerror}).") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise NarratorError(f"{where}: {len(data)} bytes, over the {MAX_TEMPLATE_BYTES} byte "
                            f"limit for a prompt template. Shorten it.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NarratorError(f"{where}: is not UTF-8 text. Save it as UTF-8.") from None


def _cut(text: str, limit: int) -> str:
    """Prompt text stripped and cut hard at limit (the prompt keeps as much as fits)."""
    return shorten(text.strip(), limit, at_word=False)


def _cut_words(text: str, limit: int) -> str:
    """`text` cut at the last comma (or else word) within `limit` characters, with no ellipsis:
    "weathered woman in her sixties, long grey braid, patched..." keeps whole phrases."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text.rstrip(".")
    head = text[:limit]
    cut = head.rfind(", ")
    if cut < limit // 3:
        cut = head.rfind(" ")
    return head[:cut].rstrip(",;: ") if cut > 0 else head


def _cut_sentences(text: str, limit: int) -> str:
    """`text` cut to whole sentences within `limit` characters (a cut word when none fits)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "), head.rfind('." '))
    if end >= limit // 3:
        return head[:end + 1].rstrip() + ('"' if head[end + 1:end + 2] == '"' else "")
    return _cut(text, limit)


_EXAMPLE_TEXT = re.compile(r'"(narration|label|title)"\s*:\s*"([^"{}]*)"')
_MARKED_TITLE = re.compile(r"(^|\n)\s*(#+|\*\*|\[)[^\n]*\{\{-?\s*\w+\.title|\(after:",
                           re.IGNORECASE)


def copy_risks(source: str) -> list[str]:
    """Parts of a prompt template that small models are known to copy into their scenes.

    A concrete example scene (its narration, labels or title) comes back word for word, and
    scene titles set in headings, brackets or "(after: ...)" come back as new titles. Returns
    one plain sentence per risk found, for `worlds validate` to warn about.
    """
    risks = []
    for field, text in _EXAMPLE_TEXT.findall(source):
        words = [w for w in re.findall(r"[A-Za-z']+", text)]
        if len(words) >= (4 if field == "narration" else 2):
            risks.append(f'an example {field} ("{_cut(text, 40)}"): small models copy example '
                         f"scenes word for word; show only the shape, e.g. {{{{ example }}}}")
    if _MARKED_TITLE.search(source):
        risks.append("earlier scenes' titles in headings or brackets: small models copy that "
                     "markup into new titles; give earlier scenes as plain prose")
    return risks


def summary_line(action: str, narration: str, limit: int, clean=lambda text: text) -> str:
    """One plain line for a scene seen earlier: the action that led to it and its first
    sentence (no title: titles copied from a prompt come back as titles)."""
    from engine.story.memory import first_sentence
    sentence = first_sentence(clean(narration), limit)
    action = " ".join(clean(action).split())[:80]
    if action and sentence:
        return f'- After "{action}": {sentence}'
    return f"- {sentence}" if sentence else ""


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class PromptBuilder:
    """Renders narrator prompts from the default templates and a world's overrides.

    Args:
        templates: the sandbox to render in (a new one by default).
        lore_budget: characters of triggered lore a prompt may hold.
        neutralize: break up special-token look-alikes in untrusted text (for servers, whose
            tokenizers we do not control; local models tokenize untrusted text safely instead).
        show_schema: spell the JSON schema out in the system prompt (for backends that cannot
            enforce it with a grammar).
    """

    def __init__(self, templates: Templates | None = None, *, lore_budget: int = PROMPT_LORE_CHARS,
                 neutralize: bool = False, show_schema: bool = False):
        self.templates = templates or Templates()
        self.lore_budget = lore_budget
        self.neutralize = neutralize
        self.show_schema = show_schema
        self._overrides: dict[tuple[str, int, int], str] = {}

    def source(self, world: World | None, name: str) -> tuple[str, str]:
        """The template text for `name` and where it came from (the world's override first)."""
        if name not in PROMPT_NAMES:
            raise NarratorError(f"Unknown prompt template '{name}'; known: "
                                f"{', '.join(PROMPT_NAMES)}.")
        path = world.prompt_override(name) if world is not None else None
        if path is None:
            return _default_source(name), f"assets/prompts/{name}"
        where = f"{world.id}/prompts/{name}"
        try:
            stat = path.stat()
        except OSError as err:
            raise NarratorError(f"{where}: cannot be read ({err.strerror}).") from None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in self._overrides:
            if len(self._overrides) > 64:   # edited many times: forget the old versions
                self._overrides.clear()
            self._overrides[key] = _read_capped(path, where)
        return self._overrides[key], where

    def render(self, world: World | None, name: str, context: dict) -> str:
        """Render one template in the sandbox; any failure is a NarratorError naming the file."""
        source, where = self.source(world, name)
        try:
            return _tidy(self.templates.render(source, context, where))
        except TemplateError as err:
            raise NarratorError(f"Prompt template refused: {err}") from None

    # -- the narrator prompt ----------------------------------------------------------------
    def build(self, request: NarrationRequest) -> Prompt:
        """Render the system (stable) and user (volatile) parts of a narrator prompt."""
        world = request.world
        base = self._world_context(world, request.state, request.player)
        system = self.render(world, "system.j2", {**base, **self._bible(world)})
        summary = self.render(world, "summary.j2",
                              {**base, "summary": self._clean(request.summary)})
        if summary:
            system = f"{system}\n\n{summary}"
        action = request.action
        label = _cut(self._clean(action.label), MAX_ACTION_CHARS)
        recent = []
        for index, scene in enumerate(request.recent):
            limit = LAST_SCENE_CHARS if index == len(request.recent) - 1 else OLDER_SCENE_CHARS
            recent.append({"title": self._clean(scene.title),
                           "narration": _cut_sentences(self._clean(scene.narration), limit),
                           "action": _cut(self._clean(scene.action), MAX_ACTION_CHARS)})
        earlier = [summary_line(scene.action, scene.narration, EARLIER_LINE_CHARS,
                                clean=self._clean)
                   for scene in request.recent[:-1][-EARLIER_LINES:]]
        texts = [f"{s['title']}\n{s['narration']}" for s in recent] + [label]
        lore = triggered_lore(world, texts, self.lore_budget)
        user = self.render(world, "scene.j2", {
            **base,
            "action": {"label": label, "intent": action.intent, "free_text": action.free_text,
                       "opening": action.opening},
            "lore": [{"id": entry.id, "text": self._clean(entry.text)} for entry in lore],
            "facts": [self._clean(fact) for fact in request.state.facts()],
            "recent": recent,
            "last": recent[-1] if recent else None,
            "earlier": [line for line in earlier if line],
            "author_note": _cut(self._clean(request.author_note), MAX_NOTE_CHARS),
            "player_model": (request.player_model.template_context()
                             if request.player_model is not None else None),
        })
        if not system or not user:
            raise NarratorError("The prompt templates rendered an empty prompt. Check the "
                                "world's prompts/ overrides.")
        return Prompt(system=system, user=user, lore_ids=tuple(entry.id for entry in lore))

    def image_prompt(self, world: World, scene, state: WorldState,
                     appearances: dict[str, str] | None = None,
                     player: Persona | None = None) -> str:
        """The painter's prompt for a scene, from image.j2: the one context every caller uses
        (the game, `worlds validate` and the tests), documented in docs/MODDING.md.

        Args:
            world: the world played.
            scene: what was told (a SceneDraft or a saved Version): its title, image_prompt,
                mood and narration.
            state: the world state once the scene happened (who is present, where).
            appearances: the story's recorded appearance of each character met (so they look
                the same from scene to scene); a character without one is drawn as world.toml
                describes them.
            player: the player's profile (default: the world's suggestions). Its look is the
                player's appearance record, described when the scene puts the player in frame
                (engine.story.persona.in_frame: the image prompt, or the narration's first
                sentence, says "you" or the player's name): `player.in_frame` and
                `player.appearance` in image.j2.
        """
        appearances = appearances or {}
        player = player or default_persona(world)
        shown = in_frame(player, scene.image_prompt, scene.narration)
        present = [c for c in state.present if c in appearances or c in world.characters]
        characters = [{"name": character_name(world, c),
                       "appearance": appearances.get(c) or getattr(world.characters.get(c),
                                                                   "appearance", "")}
                      for c in present][:MAX_IN_PROMPT]
        return self.render(world, "image.j2", {
            **self._world_context(world, state, player),
            "player": {**self._player_context(world, player), "in_frame": shown,
                       "appearance": self._clean(player.appearance()) if shown else ""},
            "scene": {"title": scene.title, "image_prompt": scene.image_prompt,
                      "mood": scene.mood, "narration": scene.narration},
            "characters": characters,
        }).replace("\n", " ")

    # -- contexts ----------------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        return neutralize_special_tokens(text) if self.neutralize else text

    def _player_context(self, world: World, player: Persona | None) -> dict:
        player = player or default_persona(world)
        return {key: self._clean(value) for key, value in player.template_context().items()}

    def _world_context(self, world: World, state: WorldState,
                       player: Persona | None = None) -> dict:
        spec, clean = world.spec, self._clean
        return {
            "world": {"title": clean(spec.title), "premise": clean(spec.premise),
                      "tone": clean(spec.tone), "player_role": clean(spec.player_role),
                      "art_style": clean(spec.art_style)},
            "player": self._player_context(world, player),
            "location": state.location,
            "depth": state.depth,
            "words": {"min": spec.narration_words[0], "max": spec.narration_words[1]},
        }

    def _bible(self, world: World) -> dict:
        # Order by the world file, not by who is present, so the system text stays stable.
        characters = [{"id": c.id, "name": self._clean(c.name),
                       "appearance": _cut_words(self._clean(c.appearance), APPEARANCE_CHARS),
                       "description": _cut_sentences(self._clean(c.description),
                                                     DESCRIPTION_CHARS)}
                      for c in world.spec.characters[:MAX_CHARACTERS]]
        schema = (json.dumps(llm_scene_json_schema(), separators=(",", ":"))
                  if self.show_schema else "")
        return {"characters": characters, "intents": list(INTENTS), "moods": list(MOODS),
                "example": EXAMPLE_SHAPE, "schema": schema}


__all__ = ["Prompt", "PromptBuilder", "neutralize_special_tokens", "PROMPT_NAMES", "PROMPTS",
           "copy_risks", "summary_line"]
