"""Reading language-model output: stream the narration out of JSON, then validate the draft.

Model output is untrusted. While a scene streams in as JSON, NarrationStream pulls out the text
of its "narration" field so the game can show it as it is written. When the output is complete,
parse_scene finds the JSON object (skipping code fences or chatter around it), mends small
slips a small model makes (an unknown mood or intent, a blank or repeated choice, fields too
long), and validates the result against the scene schema. Anything else is a DraftError with a
reason. This module has no model, no network and no I/O.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from engine.story.schema import (INTENTS, LABEL_PATTERN, TITLE_PATTERN, LLM_IMAGE_PROMPT_MAX, LLM_LABEL_MAX, LLM_LABEL_MIN,
                           LLM_NARRATION_MAX, LLM_TITLE_MAX, MAX_LABEL, MAX_TITLE, MOODS,
                           LLMEffects, LLMScene, SceneDraft)
from engine.text import without_controls

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MARKUP = re.compile(r'[\s"\\(){}\[\]<>#*_|=:;]+')
_NOT_PROSE = re.compile(r"[{}<>\[\]*#|=_\\]")    # markup and JSON left in narration
_LEADING_JUNK = re.compile(r'^[^A-Za-z\u00c0-\u024f"\u201c\']+')
_LABEL = re.compile(LABEL_PATTERN)
_TITLE = re.compile(TITLE_PATTERN)
_TITLE_EDGE = re.compile(r"^[^\w]+|[^\w,.!?']+$|(?<=\w)[,.!?]{2,}$")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")
MAX_JSON_STARTS = 8   # candidate "{" positions tried when chatter surrounds the JSON


class DraftError(ValueError):
    """The model's output is not a usable scene; the message says why."""


class NarrationStream:
    """Incrementally extracts one top-level string field ("narration") from streamed JSON.

    feed() takes the next piece of raw model output and returns the narration text that piece
    completed (escapes decoded), which is "" most of the time outside the narration.
    """

    def __init__(self, field: str = "narration"):
        self.field = field
        self._stack: list[list[str]] = []   # [container, state] with state key/colon/value/comma
        self._in_string = False
        self._is_key = False
        self._capture = False
        self._escape = ""                   # pending escape: "\\" or "\\uXXXX" so far
        self._high_surrogate = ""
        self._key = ""
        self._top_key = ""
        self._last_key = ""                 # the key of the value being read, at any depth
        self._in_label = False
        self.text = ""                      # all narration extracted so far
        self.label = ""                     # the choice label being written
        self.labels: list[str] = []         # choice labels written so far

    @property
    def capturing(self) -> bool:
        """True while the output stands inside the narration string itself."""
        return self._in_string and self._capture

    @property
    def in_label(self) -> bool:
        """True while the output stands inside a choice's label."""
        return self._in_string and self._in_label

    @property
    def in_string(self) -> bool:
        """True while the output stands inside a JSON string (a key or a value)."""
        return self._in_string

    def feed(self, piece: str) -> str:
        """Consume raw output; return the new narration text it contains."""
        out: list[str] = []
        for ch in piece:
            if self._in_string:
                self._string_char(ch, out)
            else:
                self._structure_char(ch)
        new = "".join(out)
        self.text += new
        return new

    def _structure_char(self, ch: str) -> None:
        top = self._stack[-1] if self._stack else None
        if ch == "{":
            self._stack.append(["{", "key"])
        elif ch == "[":
            self._stack.append(["[", "value"])
        elif ch in "}]":
            if self._stack:
                self._stack.pop()
            if self._stack and self._stack[-1][0] == "{":
                self._stack[-1][1] = "comma"
        elif ch == ":" and top and top[0] == "{":
            top[1] = "value"
        elif ch == "," and top and top[0] == "{":
            top[1] = "key"
        elif ch == '"':
            self._in_string = True
            self._is_key = bool(top and top[0] == "{" and top[1] == "key")
            self._key = ""
            self._capture = (not self._is_key and len(self._stack) == 1 and top is not None
                             and top[1] == "value" and self._top_key == self.field)
            self._in_label = (not self._is_key and len(self._stack) == 3 and top is not None
                              and top[1] == "value" and self._top_key == "choices"
                              and self._last_key == "label")
            if self._in_label:
                self.label = ""

    def _string_char(self, ch: str, out: list[str]) -> None:
        if self._escape:
            self._escape += ch
            if self._escape[1] == "u":
                if len(self._escape) < 6:
                    return
                self._emit(self._unicode(self._escape[2:]), out)
            else:
                self._emit(_ESCAPES.get(ch, ch), out)
            self._escape = ""
        elif ch == "\\":
            self._escape = "\\"
        elif ch == '"':
            self._in_string = False
            top = self._stack[-1] if self._stack else None
            if self._in_label:
                self.labels.append(self.label)
                self._in_label = False
            if self._is_key:
                self._last_key = self._key
                if len(self._stack) == 1:
                    self._top_key = self._key
                if top:
                    top[1] = "colon"
            elif top and top[0] == "{":
                top[1] = "comma"
            self._capture = False
        else:
            self._emit(ch, out)

    def _unicode(self, digits: str) -> str:
        try:
            code = int(digits, 16)
        except ValueError:
            return ""
        if 0xD800 <= code < 0xDC00:
            self._high_surrogate = chr(code)
            return ""
        if 0xDC00 <= code < 0xE000 and self._high_surrogate:
            pair = (self._high_surrogate + chr(code)).encode("utf-16", "surrogatepass")
            self._high_surrogate = ""
            return pair.decode("utf-16")
        return chr(code)

    def _emit(self, text: str, out: list[str]) -> None:
        if self._is_key:
            self._key += text
        elif self._in_label:
            self.label += text
        elif self._capture:
            out.append(text)


def find_json_object(text: str) -> dict:
    """The first JSON object in model output, ignoring code fences and chatter around it."""
    stripped = _FENCE.sub("", text.strip())
    try:
        value = json.loads(stripped)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    start, tried, last_error = stripped.find("{"), 0, "no JSON object in the output"
    while start != -1 and tried < MAX_JSON_STARTS:
        try:
            value, _ = decoder.raw_decode(stripped, start)
            if isinstance(value, dict):
                return value
        except json.JSONDecodeError as err:
            cut_off = err.msg.startswith("Unterminated") or err.pos >= len(stripped) - 1
            last_error = ("the JSON was cut off before it ended" if cut_off
                          else f"invalid JSON ({err.msg} at character {err.pos})")
        start, tried = stripped.find("{", start + 1), tried + 1
    raise DraftError(last_error)


def _text(value, limit: int) -> str:
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    value = without_controls(value)
    value = " ".join(value.split()) if limit <= MAX_LABEL else value.strip()
    return value[:limit]


def mend(raw: dict) -> dict:
    """Fix the slips a small model makes without inventing content.

    Unknown moods become "calm" and unknown intents "explore"; blank and repeated choices are
    dropped and a fifth one cut; text is trimmed to its limits; a blank title is taken from the
    narration's first words; unusable effects are dropped. A missing narration or fewer than
    two usable choices are left for validation to refuse.
    """
    fixed = {key: raw[key] for key in LLMScene.model_fields if key in raw}
    narration = _NOT_PROSE.sub("", _text(raw.get("narration"), LLM_NARRATION_MAX))
    narration = _LEADING_JUNK.sub("", narration)
    fixed["narration"] = narration
    title = _mend_title(_text(raw.get("title"), MAX_TITLE))
    if not title and narration:
        title = _mend_title(" ".join(narration.split()[:5]).rstrip(".,;:!?"))
    fixed["title"] = title
    choices, seen = [], set()
    for item in raw.get("choices") or []:
        if isinstance(item, str):
            item = {"label": item}
        if not isinstance(item, dict):
            continue
        label = _text(item.get("label"), LLM_LABEL_MAX).replace('"', "'").rstrip(" .")
        label = label[:1].upper() + label[1:]
        if not _LABEL.match(label) or len(label) < LLM_LABEL_MIN or label.lower() in seen:
            continue   # not an action of 2-10 words that starts with a verb
        seen.add(label.lower())
        intent = item.get("intent") if item.get("intent") in INTENTS else "explore"
        choices.append({"label": label, "intent": intent})
    fixed["choices"] = choices[:4]
    fixed["image_prompt"] = _text(raw.get("image_prompt"), LLM_IMAGE_PROMPT_MAX)
    fixed["mood"] = raw.get("mood") if raw.get("mood") in MOODS else "calm"
    fixed["effects"] = _mend_effects(raw.get("effects"))
    return fixed


def _mend_title(title: str) -> str:
    """A title without markup (brackets, hashes, quotes) of at most eight plain words."""
    words = []
    for word in _MARKUP.sub(" ", title).split():
        word = _TITLE_EDGE.sub("", word)[:16]
        if word:
            words.append(word)
    title = " ".join(words[:8])[:LLM_TITLE_MAX].strip()
    return title if _TITLE.match(title) else ""


def _mend_effects(raw) -> dict:
    """Each effect that fits the schema on its own is kept; the rest are dropped."""
    if not isinstance(raw, dict):
        return {}
    kept = {}
    for key, value in raw.items():
        if key not in LLMEffects.model_fields:
            continue
        try:
            LLMEffects.model_validate({key: value})
        except ValidationError:
            continue
        kept[key] = value
    return kept


def parse_scene(text: str, *, source: str = "", repair: bool = True) -> SceneDraft:
    """Turn a model's complete output into a validated SceneDraft.

    Args:
        text: everything the model wrote for this scene.
        source: recorded in the draft (language models leave it "").
        repair: mend small slips (see `mend`) before validating; off, the JSON must be exact.

    Raises:
        DraftError: with a short reason when no valid scene can be made of the output.
    """
    raw = find_json_object(text)
    candidate = mend(raw) if repair else raw
    try:
        return LLMScene.model_validate(candidate).to_draft(source=source)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'scene'}: {e['msg']}"
                             for e in err.errors()[:4])
        raise DraftError(f"the scene does not fit the schema ({problems})") from None


__all__ = ["NarrationStream", "DraftError", "parse_scene", "find_json_object", "mend"]
