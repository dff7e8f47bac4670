"""No copied runs of words: a word-level no-repeat n-gram over the prompt and the narration.

DRY penalises a model that continues a run of *tokens* it has seen, but a small model slips past
it by changing punctuation or case ("The sea ghosts have no love. The sea ghosts..." then "...no
love; the sea ghosts..."): different tokens, the same words. A player reads words. So while the
narration is written, CopyGuard forbids the word that would make the last `n` words, compared
without case or punctuation, a run that already stands in the prompt (earlier scenes, lore,
the premise) or earlier in this narration. Only tokens that start a new word are ever masked,
and only when such a run is one word from complete, so the cost is a set look-up per token.
Pure Python and numpy; no model here.
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[a-z0-9\u00e0-\u024f]+(?:'[a-z]+)?")
_LEADING_WORD = re.compile(r"^[^a-z0-9\u00e0-\u024f]*?([a-z0-9\u00e0-\u024f]+)")


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped ("Ivy's" stays one word)."""
    return _WORD.findall(text.lower())


class WordStarts:
    """For one tokenizer: which token ids begin a new word, and with which letters.

    A token begins a new word when its text starts with a space or punctuation before its
    first letter or digit (" ghosts", ", the"). Built once per tokenizer (a pass over the
    vocabulary); `ids_for_prefixes` then finds every token that could start a given word.
    """

    def __init__(self, token_texts: list[bytes], vocab: int):
        self.vocab = vocab
        by_word: dict[str, list[int]] = {}
        for token, piece in enumerate(token_texts[:vocab]):
            try:
                text = piece.decode("utf-8").lower()
            except UnicodeDecodeError:
                continue
            if not text or text[0].isalnum():
                continue                 # continues the word before it, or is empty
            found = _LEADING_WORD.match(text)
            if found:
                by_word.setdefault(found.group(1), []).append(token)
        self._by_word = {word: np.array(ids, dtype=np.int64) for word, ids in by_word.items()}

    def ids_for(self, word: str) -> np.ndarray:
        """Token ids that start `word` or a leading part of it (" gh" for "ghosts")."""
        found = [self._by_word[word[:end]] for end in range(1, len(word) + 1)
                 if word[:end] in self._by_word]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


class CopyGuard:
    """Masks the word that would complete a run of `n` words already seen.

    Args:
        n: the shortest run of words that may not repeat (0 turns the guard off).
        reference: the prompt's text (every run in it is off limits).
        starts: the tokenizer's WordStarts.
    """

    def __init__(self, n: int, reference: str, starts: WordStarts):
        self.n, self.starts = n, starts
        self._next: dict[tuple[str, ...], set[str]] = {}
        self._seen_words = 0
        if n > 1:
            self._index(words_of(reference))

    def _index(self, sequence: list[str], start: int = 0) -> None:
        n = self.n
        for end in range(max(start, n - 1), len(sequence)):
            self._next.setdefault(tuple(sequence[end - n + 1:end]), set()).add(sequence[end])

    def banned(self, text: str) -> np.ndarray | None:
        """Token ids not to write next, given the narration so far (None when none)."""
        if self.n <= 1:
            return None
        told = words_of(text)
        complete = told[:-1] if text[-1:].isalnum() else told   # the last may be half a word
        if len(complete) > self._seen_words:   # the narration's own runs are off limits too
            self._index(complete, max(0, self._seen_words - self.n))
            self._seen_words = len(complete)
        if len(told) < self.n - 1:
            return None
        following = self._next.get(tuple(told[-(self.n - 1):]))
        if not following:
            return None
        ids = [self.starts.ids_for(word) for word in following]
        ids = [found for found in ids if found.size]
        return np.unique(np.concatenate(ids)) if ids else None


__all__ = ["CopyGuard", "WordStarts", "words_of"]
