"""The storylet narrator: the embedded default, a quality-based narrative engine.

Each turn it takes the storylets whose conditions hold in the current world state, scores them
by the intent of the player's choice, by weight and by novelty, and picks one with the scene's
seed. Authored `goto` links are followed when they fit. A typed action is read against the world
(engine.narrators.matching): a storylet that fits it (BM25F over its words, see
engine.narrators.storylet_index; its conditions holding; in this place unless the action travels
to that storylet's place) is told, opening with what the player did; otherwise the world answers
in place with an authored reaction (engine.narrators.reactions). A retelling keeps the beat: the
same place and the same kind of scene. Text is rendered in the template sandbox. Deterministic:
same state, action and seed give the same scene. No model, no I/O beyond the loaded world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

from engine.errors import NarratorError, TemplateError
from engine.narrators import Action, NarrationRequest, TokenCallback
from engine.narrators import reactions as answers
from engine.narrators.matching import (ParsedAction, acknowledgement, infer_intent, opens_with,
                                       parse_action, stem)
from engine.narrators.storylet_index import Match, StoryletIndex, places_named
from engine.story.persona import Persona, default_persona
from engine.story.player_model import PlayerProfile
from engine.story.schema import INTENTS, MAX_NARRATION, MAX_TITLE, ChoiceDraft, SceneDraft
from engine.story.seeds import rng_for
from engine.story.state import WorldState, apply_effects
from engine.worlds.templates import Templates
from engine.worlds.loading import default_reactions
from engine.worlds.world import Reaction, Storylet, World

INTENT_MATCH = 3.0     # score factor for a storylet that answers the chosen intent
INTENT_MISS = 0.25     # ... and for one that does not
REPEAT_FACTOR = 0.3    # a repeatable storylet already told on this path
MOVE_FACTOR = 0.5      # a storylet that changes location when the player did not travel
FIT_COVERAGE = 0.6     # share of a typed action's words (by IDF) a storylet must cover to fit
OBJECT_COVERAGE = 0.5  # ... and of its words besides the verb (what it acts on)
ENDING_COVERAGE = 0.8  # ... and an ending, which a typed action should not reach by chance
TYPED_INTENT_BONUS = 0.15   # a fitting storylet that answers the action's intent ranks higher
URGENT_WEIGHT = 10.0   # a storylet this heavy, in place, is told whatever the player types
PLAYER_STEER = 1.5     # how strongly the player model weighs storylets the world tags (below)
PLAYER_FLOOR = 0.25    # ... never below this factor: a storylet against the player's grain stays
TRAVEL = ("travel", "flee")


@dataclass(frozen=True)
class Telling:
    """What a scene will tell: a storylet, or a reaction in place (with its home storylet)."""

    storylet: Storylet | None = None
    reaction: Reaction | None = None
    parsed: ParsedAction | None = None    # the typed action, when there is one
    match: Match | None = None            # how the storylet fits it


class StoryletNarrator:
    """Quality-based narration over a world's authored storylets."""

    id = "storylets"
    model = "storylets-v1"

    def __init__(self, templates: Templates | None = None):
        self.templates = templates or Templates()
        self._indexes: dict[int, tuple[World, StoryletIndex]] = {}

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest, on_token: TokenCallback | None = None) -> SceneDraft:
        telling = self.choose(request)
        if telling.reaction is not None:
            draft = self._tell_reaction(request, telling.reaction, telling.parsed)
        else:
            draft = self._tell_storylet(request, telling.storylet, telling.parsed,
                                        telling.match)
        if on_token is not None:
            for chunk in re.findall(r"\S+\s*", draft.narration):
                on_token(chunk)
        return draft

    def choose(self, request: NarrationRequest) -> Telling:
        """What this request tells: the opening, a retelling that keeps the beat, the storylet
        that fits a typed action or a reaction in place, or the storylet for a choice."""
        world, state, action = request.world, request.state, request.action
        avoid = tuple(request.extras.get("avoid_sources", ()))
        parsed = self.read(world, state, action.label) \
            if action.free_text and not action.opening else None
        if avoid and not action.opening:
            return self._retell(request, parsed, avoid)
        if parsed is not None:
            return self._answer(request, parsed)
        return Telling(storylet=self.pick(world, state, action, request.seed, avoid,
                                          request.player_model))

    def _answer(self, request: NarrationRequest, parsed: ParsedAction) -> Telling:
        """A typed action's telling: the storylet that fits it best, else the first of its
        clauses that a storylet fits ("climb to the lamp room and light the lamp", in the lamp
        room, is told as lighting it), else a reaction in place."""
        urgent = self.urgent(request.world, request.state)
        if urgent is not None:
            return Telling(storylet=urgent, parsed=parsed)
        found = self.best_fit(request.world, request.state, parsed, request)
        if found is not None:
            return found
        return Telling(reaction=self._reaction(request, parsed), parsed=parsed)

    def urgent(self, world: World, state: WorldState) -> Storylet | None:
        """A storylet that cannot wait (weight URGENT_WEIGHT or more, its condition holding, in
        this place, not yet told if once): the air running out is told whatever is typed."""
        context = self.context(world, state)
        heavy = [s for s in world.storylets.values()
                 if s.spec.weight >= URGENT_WEIGHT and s.id != world.start
                 and not (s.spec.once and s.id in state.seen)
                 and s.spec.effects.location in (None, "", state.location)
                 and self._fits(s, context)]
        return max(heavy, key=lambda s: (s.spec.weight, s.id)) if heavy else None

    def best_fit(self, world: World, state: WorldState, parsed: ParsedAction,
                 request: NarrationRequest | None = None,
                 keep: Callable[[Storylet], bool] = lambda storylet: True) -> Telling | None:
        """The storylet telling for a typed action (see fitting and _answer), or None."""
        if parsed.nonsense:
            return None
        fits = [fit for fit in self.fitting(world, state, parsed, request) if keep(fit[0])]
        if fits:
            return Telling(storylet=fits[0][0], parsed=parsed, match=fits[0][1])
        for number, clause in enumerate(parsed.clauses):
            part = self.read(world, state, clause)
            fits = [fit for fit in self.fitting(world, state, part, request) if keep(fit[0])]
            if fits:
                if number:   # said back whole: what came before it is done too
                    part = replace(part, first=parsed.you, first_action="")
                return Telling(storylet=fits[0][0], parsed=part, match=fits[0][1])
        return None

    # -- telling ----------------------------------------------------------------------------
    def _tell_storylet(self, request: NarrationRequest, storylet: Storylet,
                       parsed: ParsedAction | None, match: Match | None = None) -> SceneDraft:
        world, state = request.world, request.state
        after = apply_effects(state, storylet.spec.effects, storylet.id)
        context = self.context(world, after, request.player)
        title = self._render(storylet.spec.title, context, storylet, "title")[:MAX_TITLE]
        narration = answers.tidy(self._render(storylet.spec.text, context, storylet, "text"))
        if parsed is not None and not opens_with(narration, parsed):
            narration = f"{acknowledgement(parsed, match.strong if match else None)} {narration}"
        choices = [ChoiceDraft(label=c.label, intent=c.intent, goto=c.goto or None)
                   for c in storylet.spec.choices
                   if not c.when or self._holds(c.when, context, storylet)][:4]
        image = self._image(storylet, context)
        return SceneDraft(title=title or storylet.id,
                          narration=narration[:MAX_NARRATION] or "...",
                          choices=choices, image_prompt=image[:400], mood=storylet.spec.mood,
                          effects=storylet.spec.effects, ending=storylet.spec.ending,
                          source=storylet.id)

    def _tell_reaction(self, request: NarrationRequest, reaction: Reaction,
                       parsed: ParsedAction) -> SceneDraft:
        """A reaction in place: no effects, the home scene's choices and picture. A world's
        reaction that fails to render gives way to the engine's own for the same kind (the
        failure is what `worlds validate` and hot reload report)."""
        world, state = request.world, request.state
        home = answers.home_storylet(world, request.recent)
        context = self.reaction_context(request, parsed)
        try:
            narration, title = self._reaction_text(reaction, context, parsed)
        except NarratorError:
            reaction = next((r for r in default_reactions() if parsed.kind in r.spec.intents),
                            default_reactions()[0])
            narration, title = self._reaction_text(reaction, context, parsed)
        plain = self.context(world, state)
        choices = answers.home_choices(
            home, lambda condition: self._holds(condition, plain, home))
        image = self._image(home, plain) if home is not None else ""
        mood = reaction.spec.mood or (home.spec.mood if home is not None else "calm")
        return SceneDraft(title=title[:MAX_TITLE], narration=narration[:MAX_NARRATION] or "...",
                          choices=choices, image_prompt=image[:400], mood=mood,
                          source=answers.source_of(reaction, home.id if home else ""))

    def _reaction_text(self, reaction: Reaction, context: dict,
                       parsed: ParsedAction) -> tuple[str, str]:
        where = reaction.where
        narration = answers.tidy(self._render_as(reaction.spec.text, context, f"{where} text"))
        if not parsed.named_in(narration):
            narration = f"{parsed.you} {narration}"
        title = answers.default_title(parsed)
        if reaction.spec.title:
            title = self._render_as(reaction.spec.title, context, f"{where} title") or title
        return narration, title

    def _image(self, storylet: Storylet, context: dict) -> str:
        image = storylet.spec.image
        return self._render(image, context, storylet, "image") if "{" in image else image

    # -- typed actions ----------------------------------------------------------------------
    def index(self, world: World) -> StoryletIndex:
        """The world's BM25 index, built once per loaded world (a reload builds a new one)."""
        entry = self._indexes.get(id(world))
        if entry is None or entry[0] is not world:
            entry = (world, StoryletIndex(world))
            self._indexes[id(world)] = entry
            while len(self._indexes) > 4:
                self._indexes.pop(next(iter(self._indexes)))
        return entry[1]

    def read(self, world: World, state: WorldState, text: str) -> ParsedAction:
        """A typed action read against the world (engine.narrators.matching.parse_action)."""
        return parse_action(text, world, state.present, self.index(world).vocabulary)

    def fitting(self, world: World, state: WorldState, parsed: ParsedAction,
                request: NarrationRequest | None = None) -> list[tuple[Storylet, Match]]:
        """The storylets that fit a typed action, best first.

        A storylet fits when its conditions hold (and a `once` storylet was not told yet),
        it covers enough of the action's words (FIT_COVERAGE, by BM25 IDF: title, tags and the
        labels of the choices that lead to it count fully, its text half) and of what the
        action names besides its verb (OBJECT_COVERAGE, one of them in its title, tags or
        labels), and it stays in the current location, unless the action travels and names
        the place it goes to. A verb that only says its intent ("talk to", "look at") is
        covered by a storylet that answers that intent. An action of a verb alone ("look
        around", "rest") fits only the current place's own storylets, never an ending. The
        opening never fits; an ending must cover more (ENDING_COVERAGE)."""
        index, context = self.index(world), self.context(world, state)
        last = request.recent[-1].source if request is not None and request.recent else ""
        verb = stem(parsed.verb) if parsed.verb else ""
        rest = tuple(term for term in parsed.query if term != verb)
        ranked = []
        for storylet in world.storylets.values():
            spec = storylet.spec
            if storylet.id == world.start or (spec.once and storylet.id in state.seen):
                continue
            moves = bool(spec.effects.location) and spec.effects.location != state.location
            if moves and parsed.intent not in TRAVEL:
                continue
            if moves and not index.names_place(parsed.query, spec.effects.location):
                continue
            given = index.place_terms(spec.effects.location) if moves else frozenset()
            if rest:   # what the action names, not only how: the storylet must say it
                named = index.match(rest, storylet.id, given)
                if named.coverage < OBJECT_COVERAGE or not named.strong:
                    continue
            elif spec.ending or moves or state.location not in places_named(spec.when):
                continue   # a bare "look" or "rest": only the place's own scenes, no endings
            if parsed.plain_verb and parsed.intent in spec.intents:
                given |= {verb}
            match = index.match(parsed.query, storylet.id, given)
            if match.coverage < (ENDING_COVERAGE if spec.ending else FIT_COVERAGE):
                continue
            if not self._fits(storylet, context):
                continue
            rank = match.coverage * (1 + TYPED_INTENT_BONUS * (parsed.intent in spec.intents))
            if storylet.id in state.seen:
                rank *= 0.8
            if storylet.id == last:
                rank *= 0.5
            ranked.append((rank, match.score, storylet, match))
        ranked.sort(key=lambda item: (-item[0], -item[1], item[2].id))
        return [(storylet, match) for _, _, storylet, match in ranked]

    def _reaction(self, request: NarrationRequest, parsed: ParsedAction,
                  avoid: set[str] = frozenset()) -> Reaction:
        context = self.reaction_context(request, parsed)
        return answers.choose(
            request.world, parsed.kind,
            lambda r: not r.spec.when or self._holds(r.spec.when, context, r),
            request.seed, request.state, avoid)

    def reaction_context(self, request: NarrationRequest, parsed: ParsedAction) -> dict:
        """The names reaction conditions and text may use: a storylet's, and the action's."""
        last = request.recent[-1] if request.recent else None
        place = self.index(request.world).place_terms(request.state.location)
        return {**self.context(request.world, request.state, request.player),
                **answers.action_context(parsed, request.world, request.state, last, place)}

    # -- retelling --------------------------------------------------------------------------
    def _retell(self, request: NarrationRequest, parsed: ParsedAction | None,
                avoid: tuple[str, ...]) -> Telling:
        """Another telling of a scene that keeps its beat.

        The first telling (avoid[0]) sets the beat. A reaction is answered by another reaction
        of the same kind. A storylet scene gets another storylet that fits the same situation:
        the same kind (an ending stays an ending), the same place after it, and the same
        action (the typed words it fitted, or the intent of the choice); when none does, the
        same storylet is told again."""
        world, state, action = request.world, request.state, request.action
        first = avoid[0]
        if answers.split_source(first) is not None:
            if parsed is None:
                parsed = self.read(world, state, action.label or "look around")
            told = {parts[0] for source in avoid if (parts := answers.split_source(source))}
            return Telling(reaction=self._reaction(request, parsed, told), parsed=parsed)
        beat = world.storylets.get(first)
        if beat is None:   # told by a language model, or gone from the world
            if parsed is not None:
                return self._answer(request, parsed)
            return Telling(storylet=self.pick(world, state, action, request.seed, avoid,
                                              request.player_model))
        place = beat.spec.effects.location or state.location

        def same_beat(storylet: Storylet) -> bool:
            spec = storylet.spec
            return (storylet.id not in avoid and spec.ending == beat.spec.ending
                    and (spec.effects.location or state.location) == place)

        if parsed is not None:
            other = self.best_fit(world, state, parsed, request, keep=same_beat)
            return other or Telling(storylet=beat, parsed=parsed)
        context = self.context(world, state)
        others = [s for s in world.storylets.values()
                  if same_beat(s) and s.id != world.start and action.intent in s.spec.intents
                  and not (s.spec.once and s.id in state.seen) and self._fits(s, context)]
        if not others:
            return Telling(storylet=beat)
        scores = [self._score(s, state, action.intent, world, request.player_model)
                  for s in others]
        return Telling(storylet=rng_for("storylet", request.seed).choices(
            others, weights=scores, k=1)[0])

    # -- choosing for a choice --------------------------------------------------------------
    def pick(self, world: World, state: WorldState, action: Action, seed: int,
             avoid: tuple[str, ...] = (), player: PlayerProfile | None = None) -> Storylet:
        """The storylet to tell for a chosen action in this state (seeded, deterministic).

        `avoid` names storylets already told for this scene: one of them is told again only
        when nothing else fits. `player`: what the game believes about the player (None: the
        player model is off), weighing storylets by the world's [player_model] tags."""
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
        scores = [self._score(s, state, intent, world, player) for s in fitting]
        rng = rng_for("storylet", seed)
        return rng.choices(fitting, weights=scores, k=1)[0]

    def _score(self, storylet: Storylet, state: WorldState, intent: str,
               world: World | None = None, player: PlayerProfile | None = None) -> float:
        spec = storylet.spec
        score = max(spec.weight, 0.01)
        score *= INTENT_MATCH if intent in spec.intents else INTENT_MISS
        if storylet.id in state.seen:
            score *= REPEAT_FACTOR
        moves = bool(spec.effects.location) and spec.effects.location != state.location
        if moves and intent not in TRAVEL:
            score *= MOVE_FACTOR
        if player is not None and world is not None:
            score *= self.player_factor(world, storylet, player)
        return score

    @staticmethod
    def player_factor(world: World, storylet: Storylet, player: PlayerProfile) -> float:
        """How much more (or less) likely a storylet is told to this player: the world maps
        storylet tags to tendencies ([player_model] tags = { fight = "ruthless" }); the
        player's mean lean toward the poles its tags name (-1..1, weighed by confidence)
        scales its score by 1 + PLAYER_STEER * lean, never below PLAYER_FLOOR. 1.0 for a
        storylet whose tags the world does not map."""
        mapping = world.spec.player_model.tags
        if not mapping:
            return 1.0
        poles = {mapping[tag] for tag in storylet.spec.tags if tag in mapping}
        if not poles:
            return 1.0
        lean = sum(player.lean(pole) for pole in poles) / len(poles)
        return max(PLAYER_FLOOR, 1.0 + PLAYER_STEER * lean)

    def _fits(self, storylet: Storylet, context: dict) -> bool:
        return not storylet.spec.when or self._holds(storylet.spec.when, context, storylet)

    def _holds(self, expression: str, context: dict, entry: Storylet | Reaction | None) -> bool:
        try:
            where = entry.where if entry is not None else "<condition>"
            return self.templates.condition(expression, where)(context)
        except TemplateError:
            return False  # a broken condition never fits; `worlds validate` reports it

    def _render(self, source: str, context: dict, storylet: Storylet, part: str) -> str:
        return self._render_as(source, context, f"{storylet.where} {part}")

    def _render_as(self, source: str, context: dict, where: str) -> str:
        try:
            return self.templates.render(source, context, where)
        except TemplateError as err:
            raise NarratorError(str(err)) from None

    # -- the template context ---------------------------------------------------------------
    @staticmethod
    def context(world: World, state: WorldState, player: Persona | None = None) -> dict:
        """The names storylet conditions and text may use (documented in docs/MODDING.md).
        `player` is the player's profile (default: the world's suggestions)."""
        player = player or default_persona(world)
        characters = {c.id: {"name": c.name, "appearance": c.appearance,
                             "description": c.description} for c in world.spec.characters}
        return {
            "location": state.location,
            "inventory": list(state.inventory),
            "present": list(state.present),
            "characters": characters,
            "player": player.template_context(),
            "world": {"title": world.spec.title},
            "lore": {entry.id: entry.text for entry in world.lore},
            "depth": state.depth,
            "has": state.has,
            "flag": state.flag,
            "visited": lambda storylet_id: storylet_id in state.seen,
            "here": lambda character_id: character_id in state.present,
        }


__all__ = ["StoryletNarrator", "Telling", "infer_intent", "INTENTS"]
