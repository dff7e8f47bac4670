"""The storylet narrator: the embedded default, a quality-based narrative engine.

Each turn it takes the storylets whose conditions hold in the current world state, scores them
by the intent of the player's choice (or, for typed actions, by the words typed), by weight and
by novelty, and picks one with the scene's seed. Authored `goto` links are followed when they
fit. Text is rendered in the template sandbox. Deterministic: same state, action and seed give
the same scene. No model, no I/O beyond the loaded world.
"""

from __future__ import annotations

import re
from functools import lru_cache

from engine.errors import NarratorError, TemplateError
from engine.narrators import Action, NarrationRequest, TokenCallback
from engine.schema import INTENTS, MAX_NARRATION, MAX_TITLE, ChoiceDraft, SceneDraft
from engine.seeds import rng_for
from engine.state import WorldState, apply_effects
from engine.templates import Templates
from engine.worlds import Storylet, World

INTENT_MATCH = 3.0     # score factor for a storylet that answers the chosen intent
INTENT_MISS = 0.25     # ... and for one that does not
REPEAT_FACTOR = 0.3    # a repeatable storylet already told on this path
MOVE_FACTOR = 0.5      # a storylet that changes location when the player did not travel
WORD_BONUS = 2.5       # per word of a typed action found in a storylet's tags or title

# Words that reveal the intent of a typed action.
INTENT_WORDS: dict[str, tuple[str, ...]] = {
    "talk": ("ask", "say", "tell", "speak", "talk", "greet", "chat", "question", "call", "shout",
             "whisper", "reply", "answer", "persuade", "convince", "thank"),
    "fight": ("attack", "hit", "strike", "fight", "punch", "kill", "stab", "shoot", "kick",
              "wrestle", "duel", "smash", "break"),
    "sneak": ("hide", "sneak", "creep", "steal", "pickpocket", "spy", "eavesdrop", "follow",
              "lurk", "tiptoe"),
    "trade": ("buy", "sell", "pay", "trade", "barter", "bribe", "haggle", "offer", "coin",
              "money", "price"),
    "rest": ("sleep", "rest", "sit", "wait", "eat", "drink", "relax", "nap", "breathe", "pray"),
    "travel": ("go", "walk", "travel", "head", "leave", "sail", "climb", "return", "enter",
               "descend", "ascend", "row", "ride", "cross", "visit", "move"),
    "investigate": ("look", "examine", "search", "inspect", "read", "study", "check",
                    "investigate", "listen", "smell", "touch", "watch", "observe", "scan"),
    "use": ("use", "open", "light", "unlock", "give", "wear", "repair", "fix", "ring", "pull",
            "push", "activate", "turn", "play"),
    "help": ("help", "save", "heal", "rescue", "aid", "comfort", "protect", "free", "carry"),
    "flee": ("run", "flee", "escape", "retreat", "hurry", "bolt"),
    "explore": ("explore", "wander", "roam", "around", "discover", "venture"),
}
_WORD = re.compile(r"[a-z']+")
_STOP = frozenset("a an the to of and or in on at with for from into onto my your i me you it "
                  "this that is are be do go".split())


def words(text: str) -> set[str]:
    """Lower-case content words of a text (stop words removed, naive plural stripping)."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 2:
            continue
        out.add(word)
        if word.endswith("s") and len(word) > 3:
            out.add(word[:-1])
    return out


def infer_intent(text: str) -> str:
    """The intent a typed action most likely means; 'explore' when nothing stands out."""
    found = _WORD.findall(text.lower())
    best, best_score = "explore", 0
    for intent, vocabulary in INTENT_WORDS.items():
        score = sum(1 for w in found if w in vocabulary)
        if score > best_score:
            best, best_score = intent, score
    return best


@lru_cache(maxsize=4096)
def _storylet_words(storylet_id: str, title: str, tags: tuple[str, ...]) -> frozenset[str]:
    return frozenset(words(title) | words(" ".join(tags)))


class StoryletNarrator:
    """Quality-based narration over a world's authored storylets."""

    id = "storylets"
    model = "storylets-v1"

    def __init__(self, templates: Templates | None = None):
        self.templates = templates or Templates()

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest, on_token: TokenCallback | None = None) -> SceneDraft:
        world, state, action = request.world, request.state, request.action
        storylet = self.pick(world, state, action, request.seed,
                             tuple(request.extras.get("avoid_sources", ())))
        after = apply_effects(state, storylet.spec.effects, storylet.id)
        context = self.context(world, after)
        title = self._render(storylet.spec.title, context, storylet, "title")[:MAX_TITLE]
        narration = self._render(storylet.spec.text, context, storylet, "text")
        narration = re.sub(r"\n{3,}", "\n\n", narration).strip()[:MAX_NARRATION]
        if on_token is not None:
            for chunk in re.findall(r"\S+\s*", narration):
                on_token(chunk)
        choices = [ChoiceDraft(label=c.label, intent=c.intent, goto=c.goto or None)
                   for c in storylet.spec.choices
                   if not c.when or self._holds(c.when, context, storylet)][:4]
        image = storylet.spec.image
        if "{" in image:
            image = self._render(image, context, storylet, "image")
        return SceneDraft(title=title or storylet.id, narration=narration or "...",
                          choices=choices, image_prompt=image[:400], mood=storylet.spec.mood,
                          effects=storylet.spec.effects, ending=storylet.spec.ending,
                          source=storylet.id)

    # -- choosing ---------------------------------------------------------------------------
    def pick(self, world: World, state: WorldState, action: Action, seed: int,
             avoid: tuple[str, ...] = ()) -> Storylet:
        """The storylet to tell for this action in this state (seeded, deterministic).

        `avoid` names storylets already told for this scene: a retelling picks another one
        when any other fits."""
        context = self.context(world, state)
        if action.opening and world.start in world.storylets:
            return world.storylets[world.start]
        fitting = [s for s in world.storylets.values()
                   if not (s.spec.once and s.id in state.seen) and self._fits(s, context)]
        fresh = [s for s in fitting if s.id not in avoid]
        fitting = fresh or fitting
        if action.goto and action.goto not in avoid:
            for storylet in fitting:
                if storylet.id == action.goto:
                    return storylet
        if not fitting:
            fitting = [s for s in world.storylets.values()
                       if not s.spec.ending and self._fits(s, context)]
        if not fitting:
            fitting = [s for s in world.storylets.values() if not s.spec.ending]
        if not fitting:
            raise NarratorError(f"World '{world.id}' has no storylet that can be told now. "
                                f"Add a repeatable storylet (once = false) without conditions.")
        intent = infer_intent(action.label) if action.free_text else action.intent
        typed = words(action.label) if action.free_text else set()
        scores = [self._score(s, state, intent, typed) for s in fitting]
        rng = rng_for("storylet", seed)
        return rng.choices(fitting, weights=scores, k=1)[0]

    def _score(self, storylet: Storylet, state: WorldState, intent: str, typed: set[str]) -> float:
        spec = storylet.spec
        score = max(spec.weight, 0.01)
        score *= INTENT_MATCH if intent in spec.intents else INTENT_MISS
        if storylet.id in state.seen:
            score *= REPEAT_FACTOR
        moves = bool(spec.effects.location) and spec.effects.location != state.location
        if moves and intent not in ("travel", "flee"):
            score *= MOVE_FACTOR
        if typed:
            overlap = typed & _storylet_words(storylet.id, spec.title, tuple(spec.tags))
            score *= 1 + WORD_BONUS * len(overlap)
        return score

    def _fits(self, storylet: Storylet, context: dict) -> bool:
        return not storylet.spec.when or self._holds(storylet.spec.when, context, storylet)

    def _holds(self, expression: str, context: dict, storylet: Storylet) -> bool:
        try:
            return self.templates.condition(expression, storylet.where)(context)
        except TemplateError:
            return False  # a broken condition never fits; `worlds validate` reports it

    def _render(self, source: str, context: dict, storylet: Storylet, part: str) -> str:
        try:
            return self.templates.render(source, context, f"{storylet.where} {part}")
        except TemplateError as err:
            raise NarratorError(str(err)) from None

    # -- the template context ---------------------------------------------------------------
    @staticmethod
    def context(world: World, state: WorldState) -> dict:
        """The names storylet conditions and text may use (documented in docs/MODDING.md)."""
        characters = {c.id: {"name": c.name, "appearance": c.appearance,
                             "description": c.description} for c in world.spec.characters}
        return {
            "location": state.location,
            "inventory": list(state.inventory),
            "present": list(state.present),
            "characters": characters,
            "player": {"name": world.spec.player.name, "role": world.spec.player_role},
            "world": {"title": world.spec.title},
            "lore": {entry.id: entry.text for entry in world.lore},
            "depth": state.depth,
            "has": state.has,
            "flag": state.flag,
            "visited": lambda storylet_id: storylet_id in state.seen,
            "here": lambda character_id: character_id in state.present,
        }


__all__ = ["StoryletNarrator", "infer_intent", "words", "INTENTS"]
