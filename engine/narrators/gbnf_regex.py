"""Schema patterns for engine.narrators.gbnf: a regex reader, length fitting, GBNF classes.

JSON schema patterns are regexes; llama.cpp's GBNF has no regexes, only literals, character
classes, groups, alternation and repetition. `Pattern` parses the subset schema patterns use
(anchored `^...$`, classes with ranges, \\s \\d \\w and \\x \\u escapes, `.`, groups, `|`,
`? * + {m,n}`) into a small tree that engine.narrators.gbnf writes out as GBNF, and refuses the
rest (lookaround, lazy quantifiers, Unicode properties) with GrammarError. `fit_single_run` and
`fit_repeated` narrow a pattern's repetitions so that its strings also keep the schema's
minLength and maxLength. Classes never yield a character that a JSON string cannot hold raw
(controls, `"` and `\\`). Pure text: no I/O.
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
    """(ranges, negated) of a class that never yields characters a JSON string cannot hold
    raw (controls, `"`, `\\`); None when nothing is left of a positive class."""
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
    return (tuple(kept), False) if kept else None


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
        digits = {"x": 2, "u": 4, "U": 8}.get(ch)
        if digits:
            code = self.text[self.pos:self.pos + digits]
            if not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", code):
                raise self._error(f"\\{ch} needs {digits} hex digits")
            self.pos += digits
            return ("lit", chr(int(code, 16)))
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


def allows(node, char: str) -> bool:
    """True when the class node ("class", ranges, negated) matches `char`."""
    inside = any(low <= ord(char) <= high for low, high in node[1])
    return inside != node[2]


def _span(item, cap: int | None = None) -> tuple[int, float] | None:
    """(least, most) characters `item` matches, its runs capped at `cap` characters; None
    for an item whose length this module does not follow (nested groups of groups)."""
    kind = item[0]
    if kind in ("lit", "class"):
        return 1, 1
    if kind == "rep" and item[1][0] in ("lit", "class"):
        least, most = item[2], float("inf") if item[3] is None else item[3]
        if cap is not None and (item[2], item[3]) != (0, 1):
            most = min(most, max(cap, least))
        return least, most
    if kind == "alt" and all(o[0] == "seq" and all(p[0] == "lit" for p in o[1])
                             for o in item[1]):
        sizes = [len(option[1]) for option in item[1]]
        return min(sizes), max(sizes)
    if kind == "seq":
        spans = [_span(part, cap) for part in item[1]]
        if None in spans:
            return None
        return sum(s[0] for s in spans), sum(s[1] for s in spans)
    return None


def _capped(item, cap: int):
    """`item` with each run of characters allowed at most `cap` of them (never below its least)."""
    if item[0] == "rep" and item[1][0] in ("lit", "class") and (item[2], item[3]) != (0, 1):
        most = cap if item[3] is None else min(item[3], cap)
        return ("rep", item[1], item[2], max(most, item[2]))
    if item[0] == "seq":
        return ("seq", [_capped(part, cap) for part in item[1]])
    return item


def _raise_least(items: list, extra: int) -> list | None:
    """`items` with the last run made to match `extra` more characters at least, or None."""
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if item[0] == "rep" and item[1][0] in ("lit", "class") and (item[2], item[3]) != (0, 1):
            least = item[2] + extra
            if item[3] is not None and least > item[3]:
                return None
            return items[:index] + [("rep", item[1], least, item[3])] + items[index + 1:]
    return None


def fit_single_run(node, low: int, high: int | None) -> list:
    """The pattern's items with its one variable run narrowed to the length limits.

    A pattern of single characters and one run of a single character (`^[A-Z][a-z ]{9,99}$`)
    has as many characters as its fixed items plus the run, so minLength and maxLength become
    the run's bounds exactly. Other patterns come back unchanged.
    """
    items = list(node[1]) if node[0] == "seq" else [node]
    runs = [i for i, item in enumerate(items)
            if item[0] == "rep" and item[1][0] in ("lit", "class")]
    if len(runs) != 1 or any(item[0] not in ("lit", "class") for i, item in enumerate(items)
                             if i != runs[0]):
        return items
    index, fixed = runs[0], len(items) - 1
    _, inner, least, most = items[index]
    least = max(least, low - fixed)
    if high is not None:
        most = high - fixed if most is None else min(most, high - fixed)
    if most is not None and least > most:
        raise GrammarError("no string fits both the pattern and its length limits")
    items[index] = ("rep", inner, least, most)
    return items


def fit_repeated(node, low: int, high: int | None) -> list | None:
    """Alternatives (lists of items) that keep a pattern `^HEAD(GROUP){a,b}$` within its
    length limits, or None when the pattern has another shape or no maxLength.

    Titles and labels are such patterns: a first word, then up to b more. For each count k of
    the group, every run of characters is capped (the same cap for all, as large as the
    maxLength allows with k groups), and what minLength still needs is added to a run. Only
    ever narrower than the pattern, so whatever fits is valid.
    """
    items = list(node[1]) if node[0] == "seq" else [node]
    if high is None or not items or items[-1][0] != "rep" or items[-1][1][0] != "seq" \
            or items[-1][3] is None:
        return None
    head, (_, group, fewest, most) = items[:-1], items[-1]
    if _span(("seq", head)) is None or _span(group) is None:
        return None
    widest = int(min(max(_span(("seq", head))[1], _span(group)[1]), high))
    options = []
    for count in range(fewest, most + 1):
        cap = next((c for c in range(widest, -1, -1)
                    if _span(("seq", head), c)[1] + count * _span(group, c)[1] <= high), None)
        if cap is None:
            continue
        new_head, new_group = [_capped(item, cap) for item in head], _capped(group, cap)
        shortfall = low - (_span(("seq", new_head))[0] + count * _span(new_group)[0])
        if shortfall > 0:
            raised = _raise_least(new_head, shortfall)
            if raised is None and count:
                parts = _raise_least(list(new_group[1]), -(-shortfall // count))
                if parts is None:
                    continue
                new_group = ("seq", parts)
            elif raised is None:
                continue
            else:
                new_head = raised
        if _span(("seq", new_head))[1] + count * _span(new_group)[1] <= high:
            options.append(new_head + ([("rep", new_group, count, count)] if count else []))
    return options


__all__ = ["GrammarError", "Pattern", "allows", "char_class", "hex_escape", "json_safe",
           "fit_single_run", "fit_repeated"]
