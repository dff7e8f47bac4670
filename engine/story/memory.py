"""Narrator memory: the rolling summary of older scenes and keyword-triggered lore.

Language models see a bounded prompt, so the story so far is condensed here without calling any
model: the rolling summary is extractive (each older scene's title and first sentence) and
deterministic, so the same scenes always give the same text and the narrator's cached prompt
prefix stays valid. Lore entries are recalled when their keywords appear in the recent scenes or
the player's action, highest priority first, within a character budget. This module only reads
the data it is given: no I/O, no model, no templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from engine.text import shorten
from engine.worlds.spec import LoreSpec
from engine.worlds.world import World

SUMMARY_MAX_CHARS = 560    # the whole rolling summary
SENTENCE_MAX_CHARS = 160   # one scene's first sentence in the summary
KEEP_FULL = 3              # the newest lines keep their sentence; older ones go first
LORE_BUDGET_CHARS = 1200   # default room for triggered lore in one prompt
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[A-Z0-9\"'“‘(\[]|\s*$)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RecentScene:
    """A scene already told on this path, as narrators see it."""

    title: str
    narration: str
    action: str       # what the player did to get there
    source: str = ""


def first_sentence(text: str, limit: int = SENTENCE_MAX_CHARS) -> str:
    """The first sentence of a narration, whitespace collapsed and cut at `limit` characters.

    Args:
        text: narration text, possibly several paragraphs.
        limit: the longest result; longer sentences are cut at a word and end with "…".

    Returns:
        The sentence, or "" for empty text.
    """
    flat = _SPACES.sub(" ", text).strip()
    if not flat:
        return ""
    end = _SENTENCE_END.search(flat)
    sentence = flat[:end.end()] if end else flat
    return shorten(sentence, limit)


def rolling_summary(older: list[RecentScene], max_chars: int = SUMMARY_MAX_CHARS) -> str:
    """Condense older scenes into a short "story so far", without any model call.

    Each scene gives one plain line: the action that led to it and the first sentence of its
    narration (no titles or brackets, which small models copy into new titles). When the lines
    do not fit in `max_chars`, the oldest lines are shortened to their actions first, then dropped (an "Earlier: N scenes" line says how many), so the most
    recent events keep the most detail. The result depends only on the input, so a Session that
    moves its window of older scenes rarely (every 8 turns) keeps the narrator's prompt prefix,
    and its cache, stable between those moves.

    Args:
        older: scenes older than the ones the prompt shows in full, oldest first (at most ~48).
        max_chars: the cap on the summary's length.

    Returns:
        Plain text, one "- " line per scene, or "" when there is nothing to summarise.
    """
    if not older:
        return ""
    full = [_summary_line(scene, with_sentence=True) for scene in older]
    short = [_summary_line(scene, with_sentence=False) for scene in older]
    lines = list(full)
    # Shorten the oldest lines to their titles until the text fits.
    index = 0
    while _size(lines) > max_chars and index < len(lines) - KEEP_FULL:
        lines[index] = short[index]
        index += 1
    dropped = 0
    while len(lines) > 1 and _size(lines) + _earlier_size(dropped + 1) > max_chars:
        lines.pop(0)
        dropped += 1
    if dropped:
        lines.insert(0, f"- Earlier: {dropped} scene{'s' if dropped != 1 else ''} not shown.")
    text = "\n".join(lines)
    return shorten(text, max_chars, at_word=False)


def _summary_line(scene: RecentScene, with_sentence: bool) -> str:
    # Plain prose, no titles or brackets: small models copy prompt markup into new titles.
    action = _SPACES.sub(" ", scene.action).strip()[:80]
    sentence = first_sentence(scene.narration) if with_sentence else ""
    if action and sentence:
        return f'- After "{action}": {sentence}'
    if action:
        return f'- Then: "{action}".'
    return f"- {sentence or first_sentence(scene.narration, 60) or 'A scene.'}"


def _size(lines: list[str]) -> int:
    return sum(len(line) for line in lines) + max(len(lines) - 1, 0)


def _earlier_size(dropped: int) -> int:
    return len(f"- Earlier: {dropped} scenes not shown.") + 1


@lru_cache(maxsize=2048)
def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    words = keyword.strip().lower().split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?!\w)")


def lore_hits(entry: LoreSpec, text: str) -> int:
    """How many of a lore entry's keywords occur in `text` (whole words, any case, plurals)."""
    lowered = text.lower()
    hits = 0
    for keyword in entry.keywords:
        pattern = _keyword_pattern(keyword)
        if pattern is not None and pattern.search(lowered):
            hits += 1
    return hits


def triggered_lore(world: World, texts: Iterable[str],
                   budget_chars: int = LORE_BUDGET_CHARS) -> list[LoreSpec]:
    """The lore entries the current moment calls for, to remind the narrator of them.

    An entry is triggered when one of its keywords occurs (as a whole word, in any case, plural
    allowed) in one of `texts`: the recent scenes and the player's action. Triggered entries are
    taken by priority (highest first; then by number of keywords matched, then by id, so the
    order is deterministic) while their texts fit in `budget_chars`; an entry that does not fit
    is skipped and smaller ones may still be taken. Entries without keywords are never
    triggered here (storylets can still quote them as `lore.<id>`).

    Args:
        world: the loaded world whose lore is searched.
        texts: the texts to scan, e.g. recent scene titles and narrations and the action label.
        budget_chars: the total length of lore text the prompt has room for.

    Returns:
        The chosen entries, most important first.
    """
    haystack = "\n".join(texts)
    if not haystack.strip() or budget_chars <= 0:
        return []
    scored = []
    for entry in world.lore:
        hits = lore_hits(entry, haystack)
        if hits:
            scored.append((-entry.priority, -hits, entry.id, entry))
    scored.sort(key=lambda item: item[:3])
    chosen: list[LoreSpec] = []
    used = 0
    for *_, entry in scored:
        size = len(entry.text)
        if used + size <= budget_chars:
            chosen.append(entry)
            used += size
    return chosen


__all__ = ["rolling_summary", "triggered_lore", "first_sentence", "lore_hits",
           "SUMMARY_MAX_CHARS", "LORE_BUDGET_CHARS"]
