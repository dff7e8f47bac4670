"""Grammar-constrained decoding of scenes with llguidance, for the transformers narrator.

The scene schema's JSON schema (engine.story.schema.llm_scene_json_schema) is compiled once per
tokenizer into an llguidance grammar; each draft gets a fresh LLMatcher that says, token by
token, which tokens keep the output a valid prefix of a scene. Because every sampled token is
allowed by the grammar, every finished draft parses, whatever the model's size.

When a draft runs out of its token budget, `closing_token` steers it to the nearest end: it
prefers tokens that close strings, lists and objects, so a cut-off draft is completed and then
validated like any other, never half-applied. This module knows tokens and masks only; it never
runs the model. It imports llguidance and numpy, so only engine.narrators.hf imports it.
"""

from __future__ import annotations

import numpy as np

import llguidance
import llguidance.hf
import llguidance.numpy

from engine.errors import NarratorError
from engine.story.schema import llm_scene_json_schema

# Compact JSON in the style of json.dumps: models read it naturally and it leaves no room for
# endless whitespace. Escapes limited to the ones prose needs.
JSON_OPTIONS = {
    "whitespace_flexible": False,
    "item_separator": ", ",
    "key_separator": ": ",
    "json_allowed_escapes": '"\\nt',
}
_SEPARATORS = set(b'"]},: ')     # bytes that may sit between them while closing
_ENDINGS = set(b'"]},')         # a closing-mode token must hold one of these


class SceneGrammar:
    """The scene grammar bound to one tokenizer, with helpers to mask logits and to close.

    Args:
        tokenizer: a fast Hugging Face tokenizer (its tokenizer.json is what llguidance reads).
        vocab_size: the number of logits the model produces (may exceed the tokenizer's size).
        eos_ids: the ids that end generation.
    """

    def __init__(self, tokenizer, vocab_size: int, eos_ids: list[int]):
        try:
            self.lltok = llguidance.hf.from_tokenizer(
                tokenizer, n_vocab=max(vocab_size, len(tokenizer)),
                eos_token=list(eos_ids) or None)
        except Exception as err:  # slow tokenizers, exotic pre-tokenizers
            raise NarratorError(f"Constrained decoding cannot use this model's tokenizer ({err}). "
                                f"Pick a model with a fast tokenizer (tokenizer.json), or turn "
                                f"constraints off with the option constrained=false.") from None
        self.vocab_size = vocab_size
        self.grammar = llguidance.LLMatcher.grammar_from_json_schema(
            llm_scene_json_schema(), overrides=JSON_OPTIONS)
        error = llguidance.LLMatcher.validate_grammar(self.grammar, self.lltok)
        if error and not error.startswith("WARNING"):
            raise NarratorError(f"The scene grammar does not compile for this tokenizer: {error}")
        self._bitmask = llguidance.numpy.allocate_token_bitmask(1, self.lltok.vocab_size)
        self._bytes = [self.lltok.decode_bytes([token]) for token in range(self.lltok.vocab_size)]
        self._special = np.array([self.lltok.is_special_token(t)
                                  for t in range(self.lltok.vocab_size)], dtype=bool)
        printable = [_printable(piece) for piece in self._bytes][:vocab_size]
        self._printable = np.array(printable + [False] * (vocab_size - len(printable)), dtype=bool)
        self._close_string, self._close_structure = self._rank_closers()
        texts = self._bytes[:vocab_size] + [b""] * (vocab_size - len(self._bytes[:vocab_size]))
        self.closes_string = np.array([_closes_string(p) for p in texts], dtype=bool)
        self.ends_sentence = np.array([_ends_sentence(p) for p in texts], dtype=bool)
        self._pristine = llguidance.LLMatcher(self.lltok, self.grammar, log_level=0)
        if self._pristine.is_error():
            raise NarratorError(f"The scene grammar failed to start: "
                                f"{self._pristine.get_error()}")
        self.allowed(self._pristine)   # warms the lexer; copies start from here

    def matcher(self) -> "llguidance.LLMatcher":
        """A fresh matcher at the start of a scene (a copy of a compiled, warmed one)."""
        return self._pristine.deep_copy()

    def allowed(self, matcher) -> np.ndarray:
        """A bool array over the model's logits: True where the grammar allows the token."""
        llguidance.numpy.fill_next_token_bitmask(matcher, self._bitmask, 0)
        bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little").astype(bool)
        if bits.shape[0] >= self.vocab_size:
            return bits[:self.vocab_size]
        return np.concatenate([bits, np.zeros(self.vocab_size - bits.shape[0], dtype=bool)])

    @property
    def token_texts(self) -> list[bytes]:
        """The bytes of every token id, b"" for special tokens (for DRY's breakers)."""
        return [b"" if self._special[t] else piece for t, piece in enumerate(self._bytes)]

    def token_bytes(self, token: int) -> bytes:
        """The bytes a token stands for (b"" for special tokens)."""
        if token >= len(self._bytes) or self._special[token]:
            return b""
        return self._bytes[token]

    def closing_token(self, allowed: np.ndarray, in_string: bool) -> int | None:
        """The allowed token that brings a cut-off draft closest to its end, if there is one.

        Inside a string: a token that closes it (`"`, `"}`, `", `...); outside: one that
        closes lists and objects or moves past a value (`}`, `]`, `, `). Closing brackets win
        over commas, since a comma commits to another item. None means the grammar needs text
        here (a required key or value, a string still too short): the caller samples it.
        """
        ranks = self._close_string if in_string else self._close_structure
        ranked = ranks[allowed[ranks]]
        return int(ranked[0]) if ranked.size else None

    def text_only(self, allowed: np.ndarray) -> np.ndarray:
        """`allowed` narrowed to tokens of whole, printable, non-blank text, when there are any.

        Used while closing a draft, so that the text it must still write (a choice label) is
        not a space or half of a multi-byte character that cleaning would erase.
        """
        usable = allowed & self._printable
        return usable if usable.any() else allowed

    def _rank_closers(self) -> tuple[np.ndarray, np.ndarray]:
        in_string, outside = [], []
        for token, piece in enumerate(self._bytes[:self.vocab_size]):
            if not piece or piece[0] not in _SEPARATORS or self._special[token]:
                continue
            key = (piece.count(b","), -(piece.count(b"]") + piece.count(b"}")), len(piece), token)
            if piece[:1] == b'"' and set(piece[1:]) <= _SEPARATORS - {ord('"')}:
                in_string.append(key)
            elif set(piece) <= _SEPARATORS - {ord('"')} and set(piece) & _ENDINGS:
                outside.append(key)
        return (np.array([k[-1] for k in sorted(in_string)], dtype=np.int64),
                np.array([k[-1] for k in sorted(outside)], dtype=np.int64))


def _closes_string(piece: bytes) -> bool:
    """True when the token holds a quote that is not escaped: inside a JSON string, it ends it."""
    index = piece.find(b'"')
    while index != -1:
        if index == 0 or piece[index - 1:index] != b"\\":
            return True
        index = piece.find(b'"', index + 1)
    return False


def _ends_sentence(piece: bytes) -> bool:
    """True for a token of text that ends a sentence: `.`, `!`, `?` or `…`, perhaps followed by
    a closing (escaped) quote or bracket, and no JSON structure."""
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    text = text.rstrip().replace('\\"', "").rstrip("'\u2019\u201d)")
    return bool(text) and text[-1] in ".!?\u2026" and '"' not in text and text.isprintable()


def _printable(piece: bytes) -> bool:
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and text.isprintable()


__all__ = ["SceneGrammar", "JSON_OPTIONS"]
