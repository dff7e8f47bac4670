"""A regex reader for schema patterns, and GBNF character classes (for engine.narrators.gbnf).

JSON schema patterns are regexes; llama.cpp's GBNF has no regexes, only literals, character
classes, groups, alternation and repetition. This module parses the subset that schema patterns
use (anchored `^...$`, classes with ranges and \\s \\d \\w, `.`, groups, `|`, `? * + {m,n}`) into a
small tree that engine.narrators.gbnf writes out as GBNF, and refuses the rest (lookaround,
lazy quantifiers, Unicode properties) with GrammarError. Classes never yield a character that
a JSON string cannot hold raw (controls, `"` and `\\`). Pure text: no I/O.
"""

from __future__ import annotations

import re


class GrammarError(ValueError):
    """The schema uses something this converter does not turn into GBNF."""


_WHITESPACE = ((0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
               (0x3000, 0x3000))
_DIGITS = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_PUNCTUATION = ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0x2010, 0x2027))
_NOT_IN_JSON = ((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C), (0x7F, 0x7F))  # raw in a JSON string


def hex_escape(code: int) -> str:
    """A GBNF escape for one code point (\\xHH, \\uHHHH or \\UHHHHHHHH)."""
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def char_class(ranges, negated: bool) -> str:
    """A GBNF character class; every character but letters and digits is written in hex."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    parts = []
    for low, high in merged:
        first = chr(low) if chr(low).isascii() and chr(low).isalnum() else hex_escape(low)
        last = chr(high) if chr(high).isascii() and chr(high).isalnum() else hex_escape(high)
        parts.append(first if low == high else f"{first}-{last}")
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def json_safe(ranges, negated: bool):
    """A class that never yields characters a JSON string cannot hold raw."""
    if negated:
        return tuple(ranges) + _NOT_IN_JSON, True
    kept = []
    for low, high in ranges:
        cuts = [(lo, hi) for lo, hi in _NOT_IN_JSON if lo <= high and hi >= low]
        start = low
        for lo, hi in cuts:
            if start < lo:
                kept.append((start, lo - 1))
            start = max(start, hi + 1)
        if start <= high:
            kept.append((start, high))
    if not kept:
        raise GrammarError("a pattern's class holds only characters JSON must escape")
    return tuple(kept), False


class Pattern:
    """A parser for the regex subset used in schema patterns (anchored with ^ and $)."""

    def __init__(self, pattern: str):
        if not (pattern.startswith("^") and pattern.endswith("$")):
            raise GrammarError(f"pattern {pattern!r} must start with ^ and end with $")
        self.pattern, self.text, self.pos = pattern, pattern[1:-1], 0
        self.node = None

    def parse(self) -> "Pattern":
        self.node = self._alternatives()
        if self.pos != len(self.text):
            raise self._error("unexpected )")
        return self

    def as_words(self):
        """(letter class, initial letter class, fewest words, most words) when the pattern is
        a sequence of words `^W( W){a,b}$`. A negated class W loses punctuation as the
        initial letter, so no title or label starts with `.`, `,` or `-`."""
        node = self.node
        if node[0] != "seq" or len(node[1]) != 2:
            return None
        first, rest = node[1]
        word = _word_class(first)
        if word is None or rest[0] != "rep" or rest[3] is None:
            return None
        inner = rest[1]
        if inner[0] != "seq" or len(inner[1]) != 2 or inner[1][0] != ("lit", " ") \
                or _word_class(inner[1][1]) != word:
            return None
        ranges, negated = word
        ranges, negated = json_safe(ranges, negated)
        if negated:
            ranges = ranges + ((0x20, 0x20),)     # a word never holds the separator
        elif any(lo <= 0x20 <= hi for lo, hi in ranges):
            return None
        initial = char_class(ranges + _PUNCTUATION, True) if negated else char_class(ranges, False)
        return char_class(ranges, negated), initial, 1 + rest[2], 1 + rest[3]

    # -- recursive descent ------------------------------------------------------------------
    def _error(self, problem: str) -> GrammarError:
        return GrammarError(f"pattern {self.pattern!r}: {problem} at {self.pos + 1}")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _alternatives(self):
        options = [self._sequence()]
        while self._peek() == "|":
            self.pos += 1
            options.append(self._sequence())
        return options[0] if len(options) == 1 else ("alt", options)

    def _sequence(self):
        parts = []
        while self._peek() not in ("", "|", ")"):
            atom = self._atom()
            parts.append(self._quantified(atom))
        return ("seq", parts)

    def _atom(self):
        ch = self._peek()
        self.pos += 1
        if ch == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self._peek() == "?":
                raise self._error("lookaround is not supported")
            inner = self._alternatives()
            if self._peek() != ")":
                raise self._error("missing )")
            self.pos += 1
            return inner
        if ch == "[":
            return self._class()
        if ch == ".":
            return ("class", ((0x0A, 0x0A),), True)
        if ch == "\\":
            return self._escape(in_class=False)
        if ch in "*+?{":
            raise self._error(f"nothing to repeat before {ch}")
        if ch in "^$":
            raise self._error("anchors are only allowed at the ends")
        return ("lit", ch)

    def _escape(self, in_class: bool):
        ch = self._peek()
        self.pos += 1
        sets = {"s": _WHITESPACE, "d": _DIGITS, "w": _WORD}
        if ch in sets:
            return ("class", sets[ch], False)
        if ch.lower() in sets and not in_class:
            return ("class", sets[ch.lower()], True)
        controls = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
        if ch in controls:
            return ("lit", controls[ch])
        if ch and not ch.isalnum():
            return ("lit", ch)
        raise self._error(f"the escape \\{ch} is not supported")

    def _class(self):
        negated = self._peek() == "^"
        self.pos += negated
        ranges = []
        while self._peek() != "]":
            ch = self._peek()
            if not ch:
                raise self._error("missing ]")
            self.pos += 1
            if ch == "\\":
                item = self._escape(in_class=True)
                if item[0] == "class":
                    ranges.extend(item[1])
                    continue
                ch = item[1]
            if self._peek() == "-" and self.text[self.pos + 1:self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self._peek()
                self.pos += 1
                if end == "\\":
                    item = self._escape(in_class=True)
                    if item[0] != "lit":
                        raise self._error("a range cannot end in a class")
                    end = item[1]
                if ord(end) < ord(ch):
                    raise self._error("a range runs backwards")
                ranges.append((ord(ch), ord(end)))
            else:
                ranges.append((ord(ch), ord(ch)))
        self.pos += 1
        return ("class", tuple(ranges), negated)

    def _quantified(self, atom):
        ch = self._peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{":
            match = re.match(r"\{(\d+)(,(\d*))?\}", self.text[self.pos:])
            if not match:
                raise self._error("a malformed {m,n}")
            self.pos += match.end()
            low = int(match.group(1))
            high = low if match.group(2) is None else (int(match.group(3))
                                                        if match.group(3) else None)
        else:
            return atom
        if self._peek() in ("?", "+"):
            raise self._error("lazy and possessive quantifiers are not supported")
        return ("rep", atom, low, high)


def _word_class(node):
    """(ranges, negated) when `node` is one-or-more of a character class."""
    if node[0] == "rep" and node[2] == 1 and node[3] is None and node[1][0] == "class":
        return node[1][1], node[1][2]
    return None


__all__ = ["GrammarError", "Pattern", "char_class", "hex_escape", "json_safe"]
