"""Reading how the player feels from what they type, locally and at once.

The valence of a typed action comes from VADER (the `vaderSentiment` package: a kept lexicon
and rules, pure Python, no model, no network), loaded on first use. VADER says how positive or
negative words are, not which feeling; a few cue words split it: rude or violent words make a
negative text angry, words of fear make it afraid, words of loss make it sad, and a positive text
is happy. The player model (engine.story.player_model) folds these readings into the player's
current tone. Nothing here reads the story or keeps state beyond the loaded lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

EMOTIONS: tuple[str, ...] = ("angry", "afraid", "happy", "sad")   # "calm": none of them
CUE_WEIGHT = 0.3        # each cue word adds this much to its emotion (at most MAX_CUES words)
MAX_CUES = 2
NEUTRAL = 0.05          # VADER compounds closer to 0 than this are neutral (VADER's own cut)

# Cue words, matched on word starts ("kill" matches "killing"); the valence decides how much
# of a negative text goes to each feeling.
CUES: dict[str, tuple[str, ...]] = {
    "angry": ("kill", "smash", "hit", "punch", "stab", "attack", "hate", "damn", "idiot",
              "fool", "stupid", "shut up", "crush", "destroy", "threaten", "curse", "furious",
              "angry", "beat", "break", "kick", "shove", "grab", "slap", "demand", "move it",
              "get out", "out of my way", "rage", "bastard", "scum", "burn"),
    "afraid": ("run", "hide", "flee", "scared", "afraid", "fear", "terrified", "panic",
               "escape", "get away", "nervous", "careful", "help me", "back away", "tremble"),
    "happy": ("thank", "glad", "happy", "laugh", "smile", "love", "wonderful", "lovely",
              "delight", "cheer", "hug", "welcome", "kind", "friend"),
    "sad": ("sorry", "sad", "cry", "weep", "alone", "miss", "lost", "grief", "grieve",
            "mourn", "tears", "lonely", "regret"),
}
_CUE_PATTERNS = {emotion: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")",
                                     re.IGNORECASE)
                 for emotion, words in CUES.items()}


@dataclass(frozen=True)
class Reading:
    """How a typed text reads: its valence and a score for each of EMOTIONS (0 and up)."""

    valence: float                     # VADER's compound score, -1 (hostile) .. 1 (warm)
    emotions: tuple[float, ...]        # in the order of EMOTIONS

    def strongest(self) -> str:
        """The feeling the text shows most, or "calm" when it shows none."""
        best = max(range(len(EMOTIONS)), key=lambda i: self.emotions[i])
        return EMOTIONS[best] if self.emotions[best] > 0 else "calm"


@lru_cache(maxsize=1)
def _analyzer():
    """VADER's analyzer, loaded once (it reads its lexicon file from the package)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def valence(text: str) -> float:
    """VADER's compound score of a text: -1 (hostile, rude) .. 1 (warm, kind); 0 neutral."""
    return float(_analyzer().polarity_scores(text)["compound"]) if text.strip() else 0.0


def cues(text: str) -> dict[str, int]:
    """How many cue words of each feeling a text holds (at most MAX_CUES each)."""
    return {emotion: min(MAX_CUES, len(pattern.findall(text)))
            for emotion, pattern in _CUE_PATTERNS.items()}


@lru_cache(maxsize=4096)
def read_text(text: str) -> Reading:
    """How a typed action reads (cached: a story's path reads the same actions again).

    A negative valence is shared among anger, fear and sadness by their cue words (anger
    takes it when none is there: a hostile text with no other cue is most often rude); a
    positive one goes to happiness. Each cue word adds CUE_WEIGHT to its own feeling, so "Smash
    it." (neutral to VADER) still reads as angry."""
    score = valence(text)
    found = cues(text)
    out = {emotion: CUE_WEIGHT * count for emotion, count in found.items()}
    if score <= -NEUTRAL:
        negative = ("angry", "afraid", "sad")
        shares = {e: found[e] for e in negative}
        if not any(shares.values()):
            shares["angry"] = 1
        total = sum(shares.values())
        for emotion in negative:
            out[emotion] += -score * shares[emotion] / total
    elif score >= NEUTRAL:
        out["happy"] += score
    return Reading(valence=score, emotions=tuple(round(out[e], 4) for e in EMOTIONS))


__all__ = ["EMOTIONS", "CUES", "Reading", "read_text", "valence", "cues"]
