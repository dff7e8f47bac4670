"""Keeping a language model's narration to the world's word range while it is written.

Cutting text afterwards leaves half sentences, and letting a small model run to its token budget
leaves no room for the choices (the grammar then closes them after one letter). So the decode
loop asks NarrationShape before every token while the narration string is open:
  * under the least number of words, tokens that would close the string are masked out;
  * past most of the word budget, the string is closed as soon as a sentence has ended;
  * at the budget, only tokens that end a sentence are allowed, so it ends at a boundary;
  * well past it (a model that never ends a sentence), the string is closed.
The scene's other fields keep their own token room (see HFOptions.max_new_tokens). Pure numpy
over grammar masks; no model here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

SOFT_SHARE = 0.85      # past this share of the word budget, close at the next sentence end
OVERRUN_WORDS = 30     # words past the budget after which the string is closed regardless
TOKENS_PER_WORD = 1.5  # a generous estimate for English prose in common tokenizers
CHARS_PER_WORD = 8     # a run-on "word" of symbols counts as this many characters a word
SCENE_TOKENS = 220     # tokens for the title, choices, picture, mood and effects
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u2019\u201d)\]]*\s*$")


@dataclass(frozen=True)
class NarrationShape:
    """The word range of one scene's narration (world.toml `narration_words`)."""

    min_words: int = 80
    max_words: int = 180

    def token_budget(self) -> int:
        """Tokens for a whole scene: the narration at its longest plus the other fields."""
        return int(self.max_words * TOKENS_PER_WORD) + SCENE_TOKENS

    def steer(self, text: str, allowed: np.ndarray, grammar) -> tuple[np.ndarray, int | None]:
        """(the allowed mask, narrowed; a token to force, or None) for the next narration token.

        Args:
            text: the narration written so far.
            allowed: the grammar's mask for the next token.
            grammar: the SceneGrammar (its closes_string / ends_sentence masks and closers).
        """
        words = max(len(text.split()), len(text) // CHARS_PER_WORD)   # "1:1:1:..." is long
        if words < self.min_words:
            narrowed = allowed & ~grammar.closes_string
            return (narrowed if narrowed.any() else allowed), None
        soft = max(self.min_words, int(self.max_words * SOFT_SHARE))
        ended = bool(_SENTENCE_END.search(text))
        if words >= self.max_words + OVERRUN_WORDS or (words >= soft and ended):
            return allowed, grammar.closing_token(allowed, True)
        if words >= self.max_words:
            narrowed = allowed & grammar.ends_sentence
            return (narrowed if narrowed.any() else allowed), None
        return allowed, None


def shape_for(world) -> NarrationShape:
    """The narration shape a world asks for (80-180 words unless its world.toml says)."""
    low, high = getattr(world.spec, "narration_words", (80, 180))
    return NarrationShape(int(low), int(high))


__all__ = ["NarrationShape", "shape_for", "TOKENS_PER_WORD", "SCENE_TOKENS"]
