"""The player model: what the game believes about how this player plays ("the world knows you").

It is derived, like the world state, from the path. Each scene from the opening to the one
shown carries the player's signals: the intent of the choice (or typed action) that led to it,
the words of a typed action (read by engine.story.feelings), and the seconds the player took to
choose (Scene.pace_ms, recorded by the Session when the front end says). Folding them in path
order gives a PlayerProfile: tendencies over the whole story (bold / cautious, kind / ruthless,
curious / direct, talkative / quiet) as numbers in -1..1 with a confidence, and the tone of the
last few turns (calm, angry, afraid, happy, sad). So a rollback or a jump restores the profile
as it was at that scene by construction, and a save holds only the signals, never a profile.

PlayerModel memoises profiles per scene and folds from the nearest memoised ancestor, so a
turn costs one fold whatever the story's depth. The numbers are plain heuristics, documented
here and in docs/MODDING.md; they steer (prompts, storylet weights) only through what the
narrators make of them. No I/O, no state beyond the memo.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import networkx as nx

from engine.story.feelings import EMOTIONS, read_text

# The tendencies: each an axis from its second pole (-1) to its first (+1).
AXES: tuple[tuple[str, str], ...] = (("bold", "cautious"), ("kind", "ruthless"),
                                     ("curious", "direct"), ("talkative", "quiet"))
POLES: dict[str, tuple[int, int]] = {}     # pole -> (axis index, +1 or -1)
for _index, (_plus, _minus) in enumerate(AXES):
    POLES[_plus], POLES[_minus] = (_index, 1), (_index, -1)
TONES: tuple[str, ...] = ("calm", *EMOTIONS)

# What a chosen intent says about the player, per axis (a pole name: how far toward it).
INTENT_EVIDENCE: dict[str, dict[str, float]] = {
    "fight": {"bold": 0.7, "ruthless": 1.0, "direct": 0.3, "quiet": 0.4},
    "flee": {"cautious": 1.0, "direct": 0.2, "quiet": 0.3},
    "sneak": {"cautious": 0.6, "curious": 0.2, "quiet": 0.5},
    "talk": {"talkative": 1.0, "kind": 0.3},
    "help": {"kind": 1.0, "bold": 0.2, "talkative": 0.2},
    "explore": {"curious": 0.8, "bold": 0.3},
    "investigate": {"curious": 1.0, "cautious": 0.1},
    "trade": {"talkative": 0.6, "direct": 0.2},
    "rest": {"cautious": 0.4},
    "travel": {"direct": 0.3, "bold": 0.2},
    "use": {"direct": 0.5},
}
# What a chosen intent says about the player's feelings this turn (typed words say more).
INTENT_FEELING: dict[str, dict[str, float]] = {
    "fight": {"angry": 0.5}, "flee": {"afraid": 0.6}, "sneak": {"afraid": 0.3},
    "help": {"happy": 0.3}, "talk": {"happy": 0.15},
}
TEXT_KINDNESS = 0.9     # a typed action's valence (-1..1) counts this much toward kind/ruthless
LONG_TEXT_WORDS = 9     # a typed action this long is talkative ...
SHORT_TEXT_WORDS = 3    # ... and one this short, curt (quiet)
QUICK_CHOICE_S = 4.0    # a choice taken this fast is bold and direct ...
SLOW_CHOICE_S = 20.0    # ... and one mulled over this long, cautious and curious
AWAY_S = 180.0          # longer than this, the player was away: the time says nothing
PRIOR = 1.5             # evidence a tendency needs before it nears its pole (shrinks toward 0)
CONFIDENCE_HALF = 3.0   # evidence at which confidence reaches one half
TONE_TURNS = 4          # turns whose feelings make the current tone, newest first ...
TONE_WEIGHTS = (1.0, 0.7, 0.5, 0.35)   # ... weighted so
TONE_THRESHOLD = 0.35   # a feeling weaker than this over those turns reads as calm
SAID_VALUE = 0.2        # a tendency is put in words once this far from 0 ...
SAID_CONFIDENCE = 0.4   # ... with at least this confidence (a turn or two is not a habit)
MAX_TRAITS = 2          # the strongest tendencies said (prompts of small models are short)
MEMO_SIZE = 1024        # profiles kept in memory (about 1 KB each); older ones are folded again


@dataclass(frozen=True)
class Tendency:
    """One tendency as the game believes it: e.g. kind (+) / ruthless (-) at -0.6."""

    name: str            # the first pole: "bold", "kind", "curious", "talkative"
    opposite: str        # the second: "cautious", "ruthless", "direct", "quiet"
    value: float         # -1 (opposite) .. 1 (name)
    confidence: float    # 0 (no evidence) .. 1

    @property
    def word(self) -> str:
        """The pole it leans to ("ruthless" for kind at -0.6)."""
        return self.name if self.value >= 0 else self.opposite

    @property
    def said(self) -> str:
        """The tendency in words ("very ruthless", "rather bold"), or "" when it is not clear
        enough to say (too close to 0, or too little evidence)."""
        size = abs(self.value)
        if size < SAID_VALUE or self.confidence < SAID_CONFIDENCE:
            return ""
        if size >= 0.7:
            return f"very {self.word}"
        return self.word if size >= 0.45 else f"rather {self.word}"


@dataclass(frozen=True)
class PlayerProfile:
    """What the game believes about the player at one scene: evidence per axis, and the
    feelings of the last TONE_TURNS turns. Immutable; PlayerModel folds one from the path."""

    sums: tuple[float, ...] = (0.0,) * len(AXES)       # signed evidence per axis
    weights: tuple[float, ...] = (0.0,) * len(AXES)    # how much evidence, per axis
    recent: tuple[tuple[float, ...], ...] = ()         # feelings per turn, newest first
    turns: int = 0                                     # choices and typed actions read

    # -- reading ----------------------------------------------------------------------------
    def tendency(self, name: str) -> Tendency:
        """One tendency by its first pole ("bold", "kind", "curious", "talkative")."""
        index, _ = POLES[name]
        plus, minus = AXES[index]
        total = self.weights[index]
        value = max(-1.0, min(1.0, self.sums[index] / (total + PRIOR))) if total else 0.0
        return Tendency(plus, minus, round(value, 4),
                        round(total / (total + CONFIDENCE_HALF), 4))

    def tendencies(self) -> list[Tendency]:
        """Every tendency, in the order of AXES."""
        return [self.tendency(plus) for plus, _ in AXES]

    def lean(self, pole: str) -> float:
        """How far the player leans toward a pole ("ruthless", "quiet"...), weighed by
        confidence: -1 .. 1, 0 when unknown. Unknown pole names lean 0."""
        if pole not in POLES:
            return 0.0
        index, sign = POLES[pole]
        tendency = self.tendency(AXES[index][0])
        return sign * tendency.value * tendency.confidence

    def feelings(self) -> dict[str, float]:
        """Each feeling's weight over the last turns (newest weighs most)."""
        out = dict.fromkeys(EMOTIONS, 0.0)
        for weight, reading in zip(TONE_WEIGHTS, self.recent):
            for emotion, score in zip(EMOTIONS, reading):
                out[emotion] += weight * score
        return out

    @property
    def tone(self) -> str:
        """The player's current tone, from the last few turns: calm, angry, afraid, happy or
        sad."""
        feelings = self.feelings()
        emotion = max(EMOTIONS, key=lambda e: (feelings[e], -EMOTIONS.index(e)))
        return emotion if feelings[emotion] >= TONE_THRESHOLD else "calm"

    def traits(self, most: int = MAX_TRAITS) -> list[str]:
        """The tendencies clear enough to say, strongest first ("very ruthless", "quiet"),
        at most `most` of them."""
        ranked = sorted(self.tendencies(), key=lambda t: -abs(t.value) * t.confidence)
        return [t.said for t in ranked if t.said][:most]

    def describe(self) -> str:
        """The profile line prompts get ("The player tends to be very ruthless and quiet, and
        seems angry right now."): the strongest tendencies, and the tone unless it is calm;
        "" while there is nothing clear to say. assets/prompts/scene.j2 shows it; an override
        may word its own from template_context()."""
        traits, tone = join_words(self.traits()), self.tone
        feeling = f"seems {tone} right now" if tone != "calm" else ""
        if traits:
            return f"The player tends to be {traits}" + (f", and {feeling}." if feeling else ".")
        return f"The player {feeling}." if feeling else ""

    def rows(self) -> list[tuple[str, str]]:
        """What the game believes, in words, for a status panel: the tone, then each
        tendency ("Kind or ruthless", "very ruthless"; "not clear yet" while unclear)."""
        rows = [("Right now", "calm" if not self.turns else f"you seem {self.tone}")]
        for tendency in self.tendencies():
            rows.append((f"{tendency.name.capitalize()} or {tendency.opposite}",
                         tendency.said or "not clear yet"))
        return rows

    def template_context(self) -> dict:
        """The `player_model` name prompt templates get (documented in docs/MODDING.md)."""
        return {
            "turns": self.turns,
            "traits": join_words(self.traits()),
            "tone": self.tone,
            "feelings": {emotion: round(score, 4) for emotion, score in self.feelings().items()},
            "tendencies": [{"name": t.name, "opposite": t.opposite, "value": t.value,
                            "confidence": t.confidence, "word": t.word, "said": t.said}
                           for t in self.tendencies()],
            "line": self.describe(),
        }

    # -- folding ----------------------------------------------------------------------------
    def after(self, intent: str, text: str = "", pace_s: float = 0.0) -> "PlayerProfile":
        """The profile once the player has taken one more action.

        Args:
            intent: the intent of the choice, or the one read from a typed action.
            text: a typed action's words ("" for a choice).
            pace_s: seconds the player took to choose (0: unknown); only a choice's pace
                counts, since typing takes its own time.
        """
        evidence = list(INTENT_EVIDENCE.get(intent, {}).items())   # (pole, amount)
        feeling = dict.fromkeys(EMOTIONS, 0.0)
        for emotion, score in INTENT_FEELING.get(intent, {}).items():
            feeling[emotion] += score
        if text:
            reading = read_text(text)
            if reading.valence:
                evidence.append(("kind", TEXT_KINDNESS * reading.valence))
            words = len(text.split())
            if words >= LONG_TEXT_WORDS:
                evidence.append(("talkative", 0.6))
            elif words <= SHORT_TEXT_WORDS:
                evidence.append(("quiet", 0.6))
            if text.rstrip().endswith("?"):
                evidence.append(("curious", 0.4))
            for emotion, score in zip(EMOTIONS, reading.emotions):
                feeling[emotion] += score
        elif 0 < pace_s <= AWAY_S:
            if pace_s <= QUICK_CHOICE_S:
                evidence += [("bold", 0.3), ("direct", 0.3)]
            elif pace_s >= SLOW_CHOICE_S:
                evidence += [("cautious", 0.3), ("curious", 0.3)]
        sums, weights = list(self.sums), list(self.weights)
        for pole, amount in evidence:      # a negative amount leans to the opposite pole
            index, sign = POLES[pole]
            sums[index] += sign * amount
            weights[index] += abs(amount)
        reading = tuple(round(min(feeling[e], 2.0), 4) for e in EMOTIONS)
        return PlayerProfile(tuple(sums), tuple(weights),
                             ((reading,) + self.recent)[:TONE_TURNS], self.turns + 1)


def join_words(words: list[str]) -> str:
    """["bold", "kind", "quiet"] -> "bold, kind and quiet"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


EMPTY = PlayerProfile()


class PlayerModel:
    """Profiles of a story's scenes, folded along the path and memoised per scene.

    Args:
        graph: the story graph (engine.story.graph.StoryGraph) whose scenes carry the signals.
    """

    def __init__(self, graph):
        self.graph = graph
        self._memo: OrderedDict[int, PlayerProfile] = OrderedDict()

    def profile(self, node: int) -> PlayerProfile:
        """The profile once the player has reached node: every action on the path from the
        opening to it, node's own included. Folds only the scenes above the nearest memoised
        one, so a turn costs one fold whatever the depth."""
        chain: list[int] = []
        current: int | None = node
        profile = EMPTY
        while current is not None:
            memo = self._memo.get(current)
            if memo is not None:
                self._memo.move_to_end(current)
                profile = memo
                break
            chain.append(current)
            current = self.graph.scene(current).parent
        for key in reversed(chain):
            scene = self.graph.scene(key)
            if scene.parent is not None:        # the opening is no action of the player's
                profile = profile.after(scene.intent, scene.label if scene.free_text else "",
                                        scene.pace_ms / 1000)
            self._memo[key] = profile
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return profile

    def forget(self, node: int) -> None:
        """Drop the memo of node and every scene below it (node's signals changed)."""
        if not self._memo:
            return
        stale = [node, *nx.descendants(self.graph.g, node)] if node in self.graph else [node]
        for key in stale:
            self._memo.pop(key, None)


__all__ = ["AXES", "POLES", "TONES", "Tendency", "PlayerProfile", "PlayerModel", "EMPTY",
           "join_words"]
