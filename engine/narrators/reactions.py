"""In-place reactions: how the world answers a typed action that no storylet fits.

A reaction is a short authored text (a world's reactions.toml, else the engine's own
assets/reactions.toml) for one intent, or for nonsense. It changes nothing: the player stays
where they were, the scene offers the choices they had, and its picture is the same place. The
player's words reach the template (`action`, `object`, `words`...), so the answer names what
was typed. This module chooses and renders reactions; the storylet narrator decides when one
is due (engine.narrators.storylets) and the matcher reads the words (engine.narrators.matching).
"""

from __future__ import annotations

import re
from typing import Callable

from engine.story.memory import RecentScene
from engine.narrators.matching import STOP, ParsedAction, stem, tokens
from engine.story.schema import MAX_TITLE, ChoiceDraft
from engine.story.seeds import rng_for
from engine.story.state import WorldState
from engine.text import shorten
from engine.worlds.loading import default_reactions
from engine.worlds.world import Reaction, Storylet, World, character_name

PREFIX = "reaction:"        # a reaction scene's source: reaction:<reaction id>:<home storylet>
CONDITIONAL_FACTOR = 3.0    # a reaction whose `when` holds is this much likelier than a general one
ACTION_NAMES = ("words", "you", "action", "verb", "object", "thing", "target", "target_name",
                "intent", "at_hand")


def source_of(reaction: Reaction, home: str) -> str:
    """The scene source a reaction is recorded with: it names the storylet whose choices it
    offers again, so the next reaction in a row can offer them too."""
    return f"{PREFIX}{reaction.id}:{home}"


def split_source(source: str) -> tuple[str, str] | None:
    """(reaction id, home storylet id) of a reaction scene's source; None for any other."""
    if not source.startswith(PREFIX):
        return None
    reaction, _, home = source[len(PREFIX):].partition(":")
    return reaction, home


def home_storylet(world: World, recent: tuple[RecentScene, ...]) -> Storylet | None:
    """The storylet whose scene the player is in: the last scene's, or, when the last scene
    was itself a reaction, the storylet it answered in. None when a language model told it."""
    if not recent:
        return None
    source = recent[-1].source
    parts = split_source(source)
    return world.storylets.get(parts[1] if parts else source)


def seen_reactions(state: WorldState) -> set[str]:
    """Ids of the reactions already told on this path."""
    return {parts[0] for source in state.seen if (parts := split_source(source))}


def choose(world: World, kind: str, holds: Callable[[Reaction], bool], seed: int,
           state: WorldState, avoid: set[str] = frozenset()) -> Reaction:
    """The reaction for this kind of action (an intent, or 'nonsense'): the world's own when it
    has one that holds, else the engine's. Reactions not told yet on this path, and not in
    `avoid` (earlier tellings of this scene), come first; one whose `when` holds is likelier
    than a general one; then weight and seed decide."""
    pool: list[Reaction] = []
    for reactions in (world.reactions, default_reactions()):
        pool = [r for r in reactions if kind in r.spec.intents and holds(r)]
        if pool:
            break
    if not pool:   # a world whose every reaction for this kind has a failing condition
        pool = [r for r in default_reactions() if kind in r.spec.intents] or \
            list(default_reactions())
    pool = [r for r in pool if r.id not in avoid] or pool
    seen = seen_reactions(state)
    pool = [r for r in pool if r.id not in seen] or pool
    weights = [max(r.spec.weight, 0.01) * (CONDITIONAL_FACTOR if r.spec.when else 1.0)
               for r in pool]
    return rng_for("reaction", seed).choices(pool, weights=weights, k=1)[0]


def action_context(parsed: ParsedAction, world: World, state: WorldState,
                   last: RecentScene | None, place: frozenset[str] = frozenset()) -> dict:
    """The names a reaction template gets for the player's words (docs/MODDING.md)."""
    return {
        "words": parsed.words,
        "you": parsed.you,
        "action": parsed.action,
        "verb": parsed.verb,
        "object": parsed.object,
        "thing": parsed.thing,
        "target": parsed.target,
        "target_name": character_name(world, parsed.target) if parsed.target else "",
        "intent": parsed.intent,
        "at_hand": at_hand(parsed, world, state, last, place),
    }


def at_hand(parsed: ParsedAction, world: World, state: WorldState,
            last: RecentScene | None, place: frozenset[str] = frozenset()) -> bool:
    """Whether what the action names is within reach: an item carried, a character present,
    something the scene the player is in speaks of, or a word of the place itself (`place`:
    stems from the titles and tags of its storylets). True for an action without an object."""
    wanted = {stem(t) for t in tokens(parsed.thing) if t not in STOP}
    if not wanted:
        return not parsed.target or parsed.target in state.present
    if parsed.target:
        return parsed.target in state.present
    near = " ".join(item.replace("_", " ") for item in state.inventory)
    near += " " + " ".join(character_name(world, c) for c in state.present)
    if last is not None:
        near += f" {last.title} {last.narration}"
    found = {stem(t) for t in tokens(near)} | place
    return wanted <= found


def default_title(parsed: ParsedAction) -> str:
    """A reaction's title when its author gave none: the player's action, in their words."""
    if parsed.speech or parsed.nonsense:
        text = parsed.words.strip("\"'\u201c\u201d ")
        return f"\u201c{shorten(text[:1].upper() + text[1:], MAX_TITLE - 2)}\u201d"
    text = parsed.action.rstrip(".")
    return shorten(text[:1].upper() + text[1:], MAX_TITLE)


def home_choices(home: Storylet | None, holds: Callable[[str], bool]) -> list[ChoiceDraft]:
    """The choices of the scene the player is in, as it offered them (the state is unchanged,
    so its choice conditions give the same answer). Without a storylet to ask: two choices that
    lead on from anywhere."""
    if home is not None:
        choices = [ChoiceDraft(label=c.label, intent=c.intent, goto=c.goto or None)
                   for c in home.spec.choices if not c.when or holds(c.when)][:4]
        if len(choices) >= 2:
            return choices
    return [ChoiceDraft(label="Look around", intent="explore"),
            ChoiceDraft(label="Wait and see what comes", intent="rest")]


def tidy(narration: str) -> str:
    """Blank-line runs collapsed, ends trimmed, no full stop after a quote that ends a
    sentence already (`You ask, "Hello?".`)."""
    narration = re.sub(r'([?!.,])(["\u201d])\.', r"\1\2", narration)
    return re.sub(r"\n{3,}", "\n\n", narration).strip()


__all__ = ["PREFIX", "ACTION_NAMES", "source_of", "split_source", "home_storylet",
           "seen_reactions", "choose", "action_context", "at_hand", "default_title",
           "home_choices", "tidy"]
