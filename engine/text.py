"""Small text helpers every part of the engine shares: shortening and unprintable characters.

Titles, labels, prompt parts, error details and imported card text are all cut to a length
the same way (shorten), and text from models, imported cards and hand-edited files is rid of
control characters the same way (without_controls). Pure functions on str: no I/O, no state.
"""

from __future__ import annotations

import re

ELLIPSIS = "\u2026"                # one character, so a cut text keeps within its limit
_DANGLING = " \t\n\r,;:-\u2013\u2014("   # left before an ellipsis, they would dangle
_LAST_SPACE = re.compile(r"\s\S*\Z")


def shorten(text: str, limit: int, *, at_word: bool = True) -> str:
    """text when it fits in limit characters, else cut and ended with "…" within limit.

    Args:
        text: the text; it is not stripped or reflowed here.
        limit: the most characters of the result, the ellipsis included.
        at_word: cut before the word the limit falls in (a single word longer than the limit
            is still cut inside); False cuts at exactly limit - 1 characters.

    Returns:
        The text itself, or its head without trailing spaces or dangling punctuation
        (",;:-—(") followed by "…".
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:max(0, limit)]
    head = text[:limit - 1]
    if at_word and not text[limit - 1].isspace():
        space = _LAST_SPACE.search(head)
        if space is not None:
            head = head[:space.start()]
    return (head.rstrip(_DANGLING) or text[:limit - 1]) + ELLIPSIS


def without_controls(text: str, replacement: str = " ", keep: str = "\n\t") -> str:
    """text with every unprintable character (controls, and format or separator characters
    other than the plain space) replaced, so model output or an imported file cannot smuggle
    terminal escapes, NULs or invisible characters into the game.

    Args:
        text: any text.
        replacement: what takes an unprintable character's place ("" drops it).
        keep: unprintable characters that stay (line breaks and tabs, by default).
    """
    return "".join(ch if ch.isprintable() or ch in keep else replacement for ch in text)


__all__ = ["ELLIPSIS", "shorten", "without_controls"]
