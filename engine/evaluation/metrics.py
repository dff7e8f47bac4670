"""Text measures of narration quality: shape, length, repetition and copying.

Pure functions over strings and word lists, used by `dreamreel eval` (engine.evaluation.runner)
and by tests that guard against looping or copying narrators. Words are lowercase word tokens
(`\\w+` with inner apostrophes), so punctuation and case never hide a repeat. This module never
plays a story, loads a model or touches files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

WORD_RANGE = (60, 200)     # narration words a scene should have (an ending may have no choices)
CHOICES_RANGE = (2, 4)     # choices a scene that goes on offers
LABEL_MIN_WORDS = 2        # words in a choice label
LABEL_MIN_CHARS = 6        # characters in a choice label
TITLE_WORDS = (1, 8)       # words in a title
TITLE_MARKUP = '(){}[]<>#*|":'   # characters that mean prompt or format markup leaked into a title
REPEAT_LIMIT = 0.15        # a repeated-4-gram share above this reads as looping
COPY_LIMIT = 12            # a copied run of this many words or more reads as copying

_WORD = re.compile(r"\w+(?:'\w+)*")
_MOD = (1 << 61) - 1       # rolling hash modulus (a Mersenne prime)
_BASE = 1_000_003


def words(text: str) -> list[str]:
    """Lowercase word tokens; curly apostrophes count as straight ones (`don’t` is one word)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def repeated_ngram_share(tokens: Sequence[str], n: int = 4) -> float:
    """The share of n-gram occurrences that repeat an n-gram seen earlier in the same text.

    This is rep-n (1 - unique n-grams / all n-grams): 0.0 for text that never repeats itself,
    near 1.0 for a loop. A text too short to hold two n-grams scores 0.0.
    """
    total = len(tokens) - n + 1
    if total < 2:
        return 0.0
    unique = {tuple(tokens[i:i + n]) for i in range(total)}
    return 1.0 - len(unique) / total


@dataclass(frozen=True)
class SharedRun:
    """The longest run of words a text shares with its sources."""

    length: int = 0       # words in the run
    text: str = ""        # the run itself, as words joined by spaces
    source: int = -1      # index of the source it was found in (-1: none)


def longest_shared_run(tokens: Sequence[str], sources: Sequence[Sequence[str]]) -> SharedRun:
    """The longest contiguous word sequence of `tokens` that also occurs in one of `sources`.

    Binary search on the run length with rolling hashes of word ids: O((n + m) log n) for a
    text of n words against sources of m words in all, so a 2k-token prompt costs milliseconds.
    A run never spans two sources. Candidate matches are verified, so hash collisions cannot
    inflate the result.
    """
    if not tokens or not any(sources):
        return SharedRun()
    ids: dict[str, int] = {}
    text = [ids.setdefault(word, len(ids)) for word in tokens]
    pool: list[int] = []
    owner: list[int] = []
    for index, source in enumerate(sources):
        pool.extend(ids.get(word, -2 - len(pool)) for word in source)   # unknown words never match
        owner.extend([index] * len(source))
        pool.append(-1 - len(pool) - 10**9)     # a separator no word or other separator equals
        owner.append(index)
    text_hash, pool_hash = _prefix_hashes(text), _prefix_hashes(pool)

    def find(length: int) -> tuple[int, int] | None:
        power = pow(_BASE, length, _MOD)
        seen: dict[int, int] = {}
        for j in range(len(pool) - length + 1):
            seen.setdefault((pool_hash[j + length] - pool_hash[j] * power) % _MOD, j)
        for i in range(len(text) - length + 1):
            j = seen.get((text_hash[i + length] - text_hash[i] * power) % _MOD)
            if j is not None and pool[j:j + length] == text[i:i + length]:
                return i, j
        return None

    low, high, best = 0, min(len(text), len(pool)), None
    while low < high:
        middle = (low + high + 1) // 2
        found = find(middle)
        if found is not None:
            low, best = middle, found
        else:
            high = middle - 1
    if best is None:
        return SharedRun()
    i, j = best
    return SharedRun(low, " ".join(tokens[i:i + low]), owner[j])


def _prefix_hashes(values: list[int]) -> list[int]:
    out = [0]
    for value in values:
        out.append((out[-1] * _BASE + value + (1 << 40)) % _MOD)
    return out


def shape_problems(title: str, narration_words: int, labels: Sequence[str], ending: bool,
                   word_range: tuple[int, int] = WORD_RANGE) -> list[str]:
    """Why a scene is not well-formed, as short readable reasons (empty: it is well-formed).

    Well-formed: a title of 1-8 words without markup; narration words within `word_range`;
    2-4 choices, each of 2+ words and 6+ characters, unless the scene is an ending.
    """
    problems = []
    title_words = title.split()
    if not TITLE_WORDS[0] <= len(title_words) <= TITLE_WORDS[1]:
        problems.append(f"title of {len(title_words)} words")
    markup = sorted({ch for ch in title if ch in TITLE_MARKUP})
    if markup:
        problems.append(f"markup {''.join(markup)} in title")
    low, high = word_range
    if not low <= narration_words <= high:
        problems.append(f"{narration_words} words (want {low}-{high})")
    if not ending:
        if not CHOICES_RANGE[0] <= len(labels) <= CHOICES_RANGE[1]:
            problems.append(f"{len(labels)} choices")
        for label in labels:
            if len(words(label)) < LABEL_MIN_WORDS or len(label.strip()) < LABEL_MIN_CHARS:
                problems.append(f"stub choice {label.strip()!r}")
    return problems


def percentile(values: Sequence[float], share: float) -> float | None:
    """The value at `share` (0-1) of the sorted values, linearly interpolated; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


__all__ = ["words", "repeated_ngram_share", "longest_shared_run", "SharedRun", "shape_problems",
           "percentile", "WORD_RANGE", "REPEAT_LIMIT", "COPY_LIMIT"]
