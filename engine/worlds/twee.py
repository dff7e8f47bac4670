"""Twee 3: reading a Twine story from its text form, and the escaping both directions share.

A .twee file is a list of passages, each a header line `:: Name [tags] {"position":"x,y"}`
followed by its text, up to the next header (the Twee 3 specification, iftechfoundation/
twine-specs). In names and tags `[`, `]`, `{`, `}` and `\\` are escaped with a backslash, and
any escaped character decodes to itself. Two passages are special to every compiler:
StoryTitle (the story's name) and StoryData (JSON: ifid, format, format-version, start, ...).
Links are the Twine editor's: `[[text]]`, `[[text->target]]`, `[[target<-text]]`,
`[[text|target]]` (the rightmost `->`, the leftmost `<-`, the last `|`), and a SugarCube setter
(`[[text|target][$x to 1]]`) is dropped. plain_text reads a passage's prose out of what Harlowe
and SugarCube would run or style (macros, HTML, variables, markup), and out of template syntax.

.twee files come from strangers: the file is capped in size, passages and header lines in
number and length, reading is linear in the file's size, and anything that is not Twee is
refused with the file and line named; every pattern is linear or bounded in what it scans.
This module only reads and parses (and escapes names for engine.export.twee): it never writes
a file and knows nothing of worlds or storylets.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import WorldError
from engine.text import without_controls

MAX_TWEE_BYTES = 10_000_000   # a whole .twee file
MAX_PASSAGES = 10_000         # passages in one file
MAX_HEADER_CHARS = 10_000     # one passage header line
MAX_TAGS = 100                # tags on one passage
TWEE_SUFFIXES = (".twee", ".tw")
SPECIAL = ("StoryTitle", "StoryData")
_METACHARACTERS = re.compile(r"([\\\[\]{}])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_GONE = "\ue000"          # marks where plain_text removed something, until it tidies up
_TEMPLATE_TAG = re.compile(r"\{\{[^{}\n]{0,500}\}\}|\{%[^{}\n]{0,500}%\}|\{#[^{}\n]{0,500}#\}")
_TEMPLATE = re.compile(r"\{[{%#]|[}%#]\}")
_HARLOWE_MACRO = re.compile(r"\([\w-]{1,60}:(?:[^()\"'\n]|\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'"
                            r"|\([^()\n]{0,500}\))*\)")


class TweeError(WorldError):
    """A .twee file that cannot be read as Twee 3; the message names the file and line."""


@dataclass(frozen=True)
class Link:
    """A link in a passage's text: what it shows and the passage it leads to."""

    text: str
    target: str

    @property
    def external(self) -> bool:
        """A web address rather than a passage (Twine draws no arrow for these)."""
        return "://" in self.target


@dataclass(frozen=True)
class Passage:
    """One passage: its decoded name and tags, its metadata block, its text and links."""

    name: str
    tags: tuple[str, ...]
    metadata: dict
    text: str
    line: int                     # the line of its header in the file

    @property
    def links(self) -> list[Link]:
        return parse_links(self.text)


@dataclass
class TweeStory:
    """A parsed .twee file. Passages keep the file's order; title and data come from the
    StoryTitle and StoryData passages (which stay in `passages` too)."""

    file: str
    passages: list[Passage]
    title: str = ""
    data: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)   # what the spec says to skip, not fail

    def passage(self, name: str) -> Passage | None:
        return next((p for p in self.passages if p.name == name), None)

    @property
    def start(self) -> str:
        """The start passage's name: StoryData's `start`, else a passage named Start, else
        the first passage that is not special ("" when there is none)."""
        start = self.data.get("start")
        if isinstance(start, str) and self.passage(start) is not None:
            return start
        if self.passage("Start") is not None:
            return "Start"
        return next((p.name for p in self.passages if p.name not in SPECIAL
                     and not {"script", "stylesheet"} & set(p.tags)), "")


# -- escaping ---------------------------------------------------------------------------------
def escape(value: str) -> str:
    """A name or tag as a Twee 3 header writes it: `\\`, `[`, `]`, `{`, `}` get a backslash,
    and leading or trailing spaces are escaped so they are kept (as the Twine editor does)."""
    value = _METACHARACTERS.sub(r"\\\1", value)
    body = value.strip(" ")
    if body == value:
        return value
    lead, trail = len(value) - len(value.lstrip(" ")), len(value) - len(value.rstrip(" "))
    return "\\ " * lead + body + "\\ " * trail


def unescape(value: str) -> str:
    """The Twee 3 decoding: any escaped character yields itself (`\\q` is `q`)."""
    return re.sub(r"\\(.)", r"\1", value)


def escape_text(text: str) -> str:
    """Passage text as a header-safe block: a line starting with `::` would begin a passage,
    so it is written `\\::` (read back by parse_twee)."""
    return re.sub(r"^::", r"\\::", text, flags=re.MULTILINE)


# -- links ------------------------------------------------------------------------------------
def parse_links(text: str) -> list[Link]:
    """Every `[[...]]` link of a passage's text, in order (linear in the text's length).

    A link never spans lines and ends at the first `]]` (as in the Twine editor).
    """
    links: list[Link] = []
    for line in text.split("\n"):
        start = line.find("[[")
        while start != -1:
            end = line.find("]]", start + 2)
            if end == -1:
                break                  # no later `[[` on this line can close either
            link = link_of(line[start + 2:end])
            if link is not None:
                links.append(link)
            start = line.find("[[", end + 2)
    return links


def link_of(body: str) -> Link | None:
    """A link from the text between `[[` and `]]`, or None when it names no passage."""
    body = body.split("][", 1)[0]      # a SugarCube setter: [[text|target][$x to 1]]
    if "->" in body:
        text, target = body.rsplit("->", 1)
    elif "<-" in body:
        target, text = body.split("<-", 1)
    elif "|" in body:
        text, target = body.rsplit("|", 1)
    else:
        text = target = body
    text, target = text.strip(), target.strip()
    return Link(text or target, target) if target else None


# -- prose ------------------------------------------------------------------------------------
def plain_text(text: str, drop_link_lines: bool = False) -> str:
    """Prose from a passage's text: what a story format would run or style is removed.

    Lines holding only links go (drop_link_lines) and other links keep their text; comments,
    `<script>`/`<style>` blocks, HTML tags (a line break for <br> and </p>), SugarCube
    `<<macros>>`, Harlowe `(macros:)` with their hook brackets, `$variables`, emphasis marks
    and template tags ({{ }}, {% %}, {# #}) go, and a line left empty by that goes too;
    entities are decoded, and template syntax is removed again until none is left, so the text
    can never act as a template; control characters go and blank runs are tidied.
    """
    text = text.replace(_GONE, "")
    text = _between(text, "<!--", "-->")
    text = _between(_between(text, "/*", "*/"), "/%", "%/")
    for tag in ("script", "style"):
        text = _between(text, f"<{tag}", f"</{tag}>")
    text = _between(text, "<<", ">>")
    lines = []
    for line in text.split("\n"):
        shown, bare = _without_links(line)
        if drop_link_lines and bare != line and not re.search(r"\w", bare):
            continue
        lines.append(shown)
    text = "\n".join(lines)
    for _ in range(4):                                  # nested macros, innermost first
        text = _HARLOWE_MACRO.sub(_GONE, text)
    text = _TEMPLATE_TAG.sub(_GONE, text)
    text = re.sub(r"\|[\w-]{1,60}>|<[\w-]{1,60}\||[\[\]]", _GONE, text)
    text = re.sub(r"<\s*br\s*/?>|<\s*/\s*(p|div|li|h\d)\s*>", "\n", text, flags=re.I)
    text = re.sub(r"<[^<>\n]{0,1000}>", _GONE, text)
    text = re.sub(r"\$[A-Za-z_][\w.]*", _GONE, text)
    text = re.sub(r"''|//|\*\*|~~|\^\^|@@|__", _GONE, text)
    text = html.unescape(text)
    while _TEMPLATE.search(text):
        text = _TEMPLATE.sub("", text)
    text = "\n".join(line for line in text.split("\n")
                     if _GONE not in line or line.replace(_GONE, "").strip())
    text = without_controls(text.replace(_GONE, ""), replacement="")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _without_links(line: str) -> tuple[str, str]:
    """(the line with each link as its text, the line without its links), found as
    parse_links finds them (linear in the line's length)."""
    shown, bare, index = [], [], 0
    start = line.find("[[")
    while start != -1:
        end = line.find("]]", start + 2)
        if end == -1:
            break
        link = link_of(line[start + 2:end])
        shown += [line[index:start], link.text if link is not None else ""]
        bare.append(line[index:start])
        index = end + 2
        start = line.find("[[", index)
    return "".join(shown) + line[index:], "".join(bare) + line[index:]


def _between(text: str, opener: str, closer: str) -> str:
    """text with every opener ... closer span marked gone (linear: an opener never closed
    stays)."""
    out, index = [], 0
    while True:
        start = text.find(opener, index)
        end = text.find(closer, start + len(opener)) if start != -1 else -1
        if end == -1:
            out.append(text[index:])
            return "".join(out)
        out.append(text[index:start] + _GONE)
        index = end + len(closer)


# -- reading ----------------------------------------------------------------------------------
def read_twee(path: Path) -> TweeStory:
    """Read and parse a .twee file; TweeError says what is wrong and where."""
    path = Path(path)
    try:
        if not path.is_file():
            raise TweeError(f"{path}: no such file (or not a regular file).")
        size = path.stat().st_size
        if size > MAX_TWEE_BYTES:
            raise TweeError(f"{path}: {size} bytes, over the {MAX_TWEE_BYTES} byte limit for a "
                            "Twine story; refused.")
        with path.open("rb") as handle:
            data = handle.read(MAX_TWEE_BYTES + 1)
    except OSError as err:
        raise TweeError(f"{path}: cannot be read ({err.strerror}).") from None
    if len(data) > MAX_TWEE_BYTES:
        raise TweeError(f"{path}: over the {MAX_TWEE_BYTES} byte limit for a Twine story; "
                        "refused.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise TweeError(f"{path.name}, line {line}: not UTF-8 text; a .twee file is UTF-8 "
                        "(Twine's 'Export as Twee' writes it so).") from None
    return parse_twee(text, path.name)


def parse_twee(text: str, name: str = "story.twee") -> TweeStory:
    """Parse Twee 3 text into passages; TweeError names the file and line of a problem."""
    if len(text) > MAX_TWEE_BYTES:
        raise TweeError(f"{name}: over the {MAX_TWEE_BYTES} character limit; refused.")
    story = TweeStory(file=name, passages=[])
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: tuple[str, tuple[str, ...], dict, int] | None = None
    body: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        bad = _CONTROLS.search(line)
        if bad is not None:
            raise TweeError(f"{name}, line {number}: control character "
                            f"U+{ord(bad.group()):04X}; this is not a Twee text file.")
        if line.startswith("::"):
            if header is not None:
                _add(story, header, body, seen)
            header, body = _header(line, number, name, story.warnings), []
        elif header is not None:
            body.append(line[1:] if line.startswith("\\::") else line)
        elif line.strip():
            raise TweeError(f"{name}, line {number}: expected a passage header (a line "
                            "starting with '::', e.g. ':: Start'); this is not a Twee 3 file.")
    if header is not None:
        _add(story, header, body, seen)
    if not story.passages:
        raise TweeError(f"{name}: no passages (a passage starts with a line like ':: Start').")
    _special(story)
    return story


def _add(story: TweeStory, header, body: list[str], seen: dict[str, int]) -> None:
    name, tags, metadata, line = header
    if name in seen:
        raise TweeError(f"{story.file}, line {line}: a second passage named '{name}' (the "
                        f"first is on line {seen[name]}); passage names must be unique.")
    if len(story.passages) >= MAX_PASSAGES:
        raise TweeError(f"{story.file}, line {line}: more than {MAX_PASSAGES} passages; "
                        "refused.")
    seen[name] = line
    while body and not body[-1].strip():      # trailing blank lines are not content
        body.pop()
    story.passages.append(Passage(name, tags, metadata, "\n".join(body), line))


def _header(line: str, number: int, file: str,
            warnings: list[str]) -> tuple[str, tuple[str, ...], dict, int]:
    """Name, tags and metadata of a `:: Name [tags] {json}` line."""
    where = f"{file}, line {number}"
    if len(line) > MAX_HEADER_CHARS:
        raise TweeError(f"{where}: a passage header of {len(line)} characters, over the "
                        f"limit of {MAX_HEADER_CHARS}; refused.")
    rest, index = line[2:], 0
    name, index = _scan(rest, index, "[{")
    name = _trim(name)
    if not name:
        raise TweeError(f"{where}: a passage header without a name ('::' must be followed "
                        "by the passage's name).")
    tags: list[str] = []
    if index < len(rest) and rest[index] == "[":
        raw, index = _scan(rest, index + 1, "]")
        if index >= len(rest):
            raise TweeError(f"{where}: the tag block '[' is never closed with ']' (a ']' "
                            "in a tag is written '\\]').")
        tags = [unescape(tag) for tag in raw.split()]
        index += 1
        if len(tags) > MAX_TAGS:
            raise TweeError(f"{where}: {len(tags)} tags, over the limit of {MAX_TAGS}.")
    while index < len(rest) and rest[index] in " \t":
        index += 1
    metadata: dict = {}
    if index < len(rest):
        if rest[index] != "{":
            raise TweeError(f"{where}: unexpected '{rest[index:index + 20]}' after the "
                            "passage's tags (a header is ':: Name [tags] {metadata}').")
        try:
            value = json.loads(rest[index:])
        except (json.JSONDecodeError, RecursionError):
            value = None
        if isinstance(value, dict):
            metadata = value
        else:
            warnings.append(f"{where}: the metadata block is not a JSON object; ignored")
    return unescape(name), tuple(tags), metadata, number


def _scan(text: str, index: int, stops: str) -> tuple[str, int]:
    """Raw (still escaped) text from index up to the first unescaped character in stops."""
    start = index
    while index < len(text) and text[index] not in stops:
        index += 2 if text[index] == "\\" else 1
    index = min(index, len(text))
    return text[start:index], index


def _trim(raw: str) -> str:
    """Strip unescaped spaces at both ends (an escaped space, `\\ `, is part of the name)."""
    raw = raw.lstrip(" \t")
    while raw.endswith((" ", "\t")) and not _escaped_end(raw):
        raw = raw[:-1]
    return raw


def _escaped_end(raw: str) -> bool:
    backslashes = len(raw[:-1]) - len(raw[:-1].rstrip("\\"))
    return backslashes % 2 == 1


def _special(story: TweeStory) -> None:
    """StoryTitle and StoryData; a broken StoryData is a warning, as the spec asks."""
    title = story.passage("StoryTitle")
    if title is not None:
        story.title = " ".join(title.text.split())[:200]
    data = story.passage("StoryData")
    if data is not None:
        try:
            value = json.loads(data.text) if data.text.strip() else {}
        except (json.JSONDecodeError, RecursionError):
            value = None
        if isinstance(value, dict):
            story.data = value
        else:
            story.warnings.append(f"{story.file}, line {data.line}: StoryData is not a JSON "
                                  "object; ignored")


__all__ = ["TweeError", "Link", "Passage", "TweeStory", "read_twee", "parse_twee",
           "parse_links", "link_of", "plain_text", "escape", "unescape", "escape_text",
           "MAX_TWEE_BYTES", "MAX_PASSAGES", "TWEE_SUFFIXES"]
