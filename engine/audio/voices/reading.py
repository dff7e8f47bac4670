"""How narration is read aloud: cut into sentences, and quoted speech given to its speaker's voice.

A voice reads a scene a sentence at a time, so the first sentence can play while the rest is
still being spoken (or still being written). `sentences(text)` cuts narration into those
pieces; `lines(text, narrator_voice, character_voices)` goes one step further and gives every
piece the voice that reads it.

Sentences end at . ! ? … (and "—" when a closing quote follows it, as in `"But I—" The wind`),
with any closing quotes or brackets, when whitespace and then an upper-case letter, a digit,
an opening quote or bracket, or a letter of a script without case follows. So `"Run!" she said`
stays one sentence, `He paused... and went on` too, while `I waited... Then it came.` is two.
A full stop after a known abbreviation (Mr. Dr. St. e.g. ...) or a single capital (an initial)
ends nothing. A line break always ends a sentence; CJK full stops always do. A sentence longer
than MAX_CHARS is cut again at the last ; : , or space before the limit, so no piece keeps the
listener waiting. Pieces with no letter or digit (a "* * *" scene break) are dropped.

Who says a quote (`lines`): quotes are “…”, «…» or "…" pairs within a paragraph (an unclosed
one runs to the paragraph's end). A quote belongs to the first character named in the
narration (the words outside quotes) of its own sentence; else of the sentence just before it;
else of the sentence just after it; else to whoever spoke the paragraph's previous quote; else
to no one. A character is named by the full name or by a part of it that is not a title
("Maren Holt": "Maren", "Holt"; "Lieutenant Ansel Cole": "Ansel", "Cole"), whole words, case as
written; a part two characters share names neither. A quote whose speaker has a voice is read in
that voice; everything else in the narrator's. Pieces of one sentence with the same voice stay
together, so a sentence is cut only where the voice changes.

This module is plain text processing: no audio, no models, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 240   # longer sentences are cut again (a long clip delays the first sound)

# Words that end with a full stop without ending a sentence (compared lower-case, no final dot).
ABBREVIATIONS = frozenset("""
    mr mrs ms mx dr prof st mt ft capt cpt lt col gen sgt cmdr adm rev fr sr jr hon gov sen rep
    messrs mme mlle no nos vol fig figs pp approx cf al vs e.g i.e a.m p.m ca
""".split())
# Parts of a name that do not name someone on their own.
TITLES = frozenset("""
    mr mrs ms miss mx dr doctor prof professor sir lady lord dame master mistress madam captain
    capt lieutenant lt sergeant sgt commander colonel general admiral major private constable
    inspector detective father mother brother sister aunt uncle old young little big the of
    von van de del der la le saint st king queen prince princess duke duchess count countess
""".split())

OPEN_QUOTES = {"“": "”", "«": "»", '"': '"'}
OPENERS = "\"“‘'«„([{"
CLOSERS = "\"”’'»)]}"
_BOUNDARY = re.compile(r"(?:\.\.\.|[.!?…]+|[。！？]+|(?:—|–|--)(?=[\"”’'»]))[\"”’'»)\]}]*")
_WORD_BEFORE = re.compile(r"(\S+)$")
_SPACE = re.compile(r"\s+")
_CUT_AT = ("; ", ": ", ", ", " ")


@dataclass(frozen=True)
class Line:
    """One piece of narration and the voice that reads it.

    Attributes:
        text: the words, whitespace collapsed (a quote is given without its quote marks).
        voice: the backend voice name that reads it ("" = the backend's default).
        speaker: the character whose own voice reads it; "" for the narrator.
    """

    text: str
    voice: str
    speaker: str = ""


def sentences(text: str) -> list[str]:
    """The narration cut into sentences, in order, whitespace collapsed, none empty.

    See the module docstring for the rules (abbreviations, ellipses, quotes, dashes).
    """
    return [_clean(text[start:end]) for start, end in _sentence_spans(text)]


def lines(text: str, narrator_voice: str = "",
          character_voices: dict[str, str] | None = None, complete: bool = True) -> list[Line]:
    """The narration as lines to read, each with its voice, in order.

    Args:
        text: the scene's narration.
        narrator_voice: the voice for everything that is not a voiced character's quote
            ("" = the backend's default).
        character_voices: {character name: voice}; a character with "" (or not listed) is
            read in the narrator's voice.
        complete: False while the narration is still streaming in: the lines of the last
            sentence (perhaps unfinished) and of the one before it (a quote there may yet be
            given to a name in the next sentence) are left out, so that every line returned
            is one that the finished text will have too, in the same place.

    Returns:
        Lines in reading order: a sentence is one line unless a quote in it is read in another
        voice, and then it is cut where the voice changes. Rules: see the module docstring.
    """
    voices = {name: voice for name, voice in (character_voices or {}).items() if name.strip()}
    spans = _sentence_spans(text)
    said = spans if complete else spans[:-2]
    if not voices:
        return [Line(_clean(text[start:end]), narrator_voice) for start, end in said]
    quotes = _quote_spans(text)
    speakers = _attribute(text, spans, quotes, _name_finder(voices))
    result: list[Line] = []
    for start, end in said:
        pieces: list[tuple[int, int, str, str, bool]] = []   # start, end, voice, speaker, quoted
        cursor = start
        for (q_start, q_end), speaker in zip(quotes, speakers):
            if q_end <= start or q_start >= end:
                continue
            if q_start > cursor:
                pieces.append((cursor, q_start, narrator_voice, "", False))
            own = voices.get(speaker, "") if speaker else ""
            pieces.append((max(q_start, start), min(q_end, end), own or narrator_voice,
                           speaker if own else "", True))
            cursor = min(q_end, end)
        if cursor < end:
            pieces.append((cursor, end, narrator_voice, "", False))
        pieces = [piece for piece in pieces if _speakable(text[piece[0]:piece[1]])]
        merged: list[list] = []
        for piece in pieces:
            if merged and merged[-1][2:4] == list(piece[2:4]):
                merged[-1][1], merged[-1][4] = piece[1], False
            else:
                merged.append(list(piece))
        for p_start, p_end, voice, speaker, quoted in merged:
            words = text[p_start:p_end]
            if quoted:
                words = words.strip().strip("".join(OPEN_QUOTES) + "”»")
            result.append(Line(_clean(words), voice, speaker))
    return [line for line in result if _speakable(line.text)]


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _speakable(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence in text, trimmed, speakable, at most MAX_CHARS long."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text or ""):
        start = line.start()
        for match in _BOUNDARY.finditer(line.group()):
            end = line.start() + match.end()
            if _ends_sentence(text, line.start() + match.start(), end, line.end()):
                spans.extend(_cap(text, start, end))
                start = end
        spans.extend(_cap(text, start, line.end()))
    return [span for span in (_trim(text, s, e) for s, e in spans) if _speakable(text[span[0]:span[1]])]


def _ends_sentence(text: str, mark: int, end: int, line_end: int) -> bool:
    """Whether the terminator at text[mark:end] ends a sentence (see the module docstring)."""
    if text[mark] in "。！？":
        return True
    rest = text[end:line_end]
    stripped = rest.lstrip()
    if not stripped or len(stripped) == len(rest):   # end of line, or no space after it
        return False
    following = stripped[0]
    if not (following.isdigit() or following in OPENERS
            or (following.isalpha() and not following.islower())):
        return False
    if text[mark] == "." and text[mark:mark + 3] != "...":
        word = _WORD_BEFORE.search(text[:mark])
        token = word.group(1).lstrip(OPENERS).lower() if word else ""
        if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
            return False
    return True


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into pieces of at most MAX_CHARS, at the best break before the limit."""
    pieces = []
    while end - start > MAX_CHARS:
        window = text[start:start + MAX_CHARS]
        cut = -1
        for separator in _CUT_AT:
            cut = window.rfind(separator)
            if cut > MAX_CHARS // 3:
                cut += len(separator.rstrip())
                break
        if cut <= 0:
            cut = MAX_CHARS
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quote, marks included; a quote never crosses a line break."""
    spans = []
    opened_at, closer = -1, ""
    for index, char in enumerate(text):
        if char == "\n":
            if opened_at >= 0:
                spans.append((opened_at, index))
            opened_at = -1
        elif opened_at >= 0:
            if char == closer:
                spans.append((opened_at, index + 1))
                opened_at = -1
        elif char in OPEN_QUOTES:
            opened_at, closer = index, OPEN_QUOTES[char]
    if opened_at >= 0:
        spans.append((opened_at, len(text)))
    return spans


def _name_finder(voices: dict[str, str]):
    """A function: text -> the characters named in it, in order of appearance."""
    owners: dict[str, set[str]] = {}
    for name in voices:
        owners.setdefault(name.strip(), set()).add(name)
        for part in re.findall(r"[\w'-]+", name):
            if len(part) >= 3 and part[0].isupper() and part.lower() not in TITLES:
                owners.setdefault(part, set()).add(name)
    aliases = {alias: next(iter(names)) for alias, names in owners.items() if len(names) == 1}
    if not aliases:
        return lambda _text: []
    pattern = re.compile(r"(?<![\w'-])(" + "|".join(
        re.escape(alias) for alias in sorted(aliases, key=len, reverse=True)) + r")(?![\w-])")
    return lambda fragment: [aliases[match.group(1)] for match in pattern.finditer(fragment)]


def _attribute(text, spans, quotes, find_names) -> list[str]:
    """The speaker of every quote ("" when no one is named), by the rule in the module docstring."""
    def narration(index: int) -> str:
        if index < 0 or index >= len(spans):
            return ""
        start, end = spans[index]
        parts, cursor = [], start
        for q_start, q_end in quotes:
            if q_end <= start or q_start >= end:
                continue
            parts.append(text[cursor:max(cursor, q_start)])
            cursor = max(cursor, min(q_end, end))
        parts.append(text[cursor:end])
        return " … ".join(parts)

    speakers: list[str] = []
    for number, (q_start, q_end) in enumerate(quotes):
        inside = [i for i, (start, end) in enumerate(spans) if start < q_end and end > q_start]
        speaker = ""
        if inside:
            candidates = [" ".join(narration(i) for i in inside), narration(inside[0] - 1),
                          narration(inside[-1] + 1)]
            for fragment in candidates:
                named = find_names(fragment)
                if named:
                    speaker = named[0]
                    break
        if not speaker and number > 0 and "\n" not in text[quotes[number - 1][1]:q_start]:
            speaker = speakers[-1]
        speakers.append(speaker)
    return speakers
