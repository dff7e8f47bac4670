"""The JSON-schema-to-GBNF converter: the scene grammar accepts valid scenes, refuses bad ones.

The grammar is checked by turning it into a Python regex (our grammars have no recursion, so
every rule can be inlined) and matching JSON text against it.
"""

from __future__ import annotations

import json
import re

import pytest

from engine.narrators.gbnf import GrammarError, json_schema_to_gbnf
from engine.narrators.openai_formats import scene_grammar, scene_schema
from engine.schema import LLMScene

try:
    from tests.engine.fake_openai_server import VALID_SCENE, gbnf_parses
except ImportError:  # tests/ is not a package: pytest put this folder on sys.path
    from fake_openai_server import VALID_SCENE, gbnf_parses

_TOKEN = re.compile(r'\s*(?:(?P<lit>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|'
                    r'(?P<name>[a-zA-Z0-9-]+)|(?P<rep>\{\d+(?:,\d*)?\})|(?P<op>[()|?*+]))')


def gbnf_to_regex(grammar: str) -> re.Pattern:
    """A regex for a recursion-free GBNF grammar (the subset the converter writes)."""
    rules = dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())
    done: dict[str, str] = {}

    def expand(name: str, depth: int = 0) -> str:
        assert depth < 50, f"rule {name} is recursive"
        if name not in done:
            out = []
            for token in _TOKEN.finditer(rules[name].strip()):
                kind, text = token.lastgroup, token.group(token.lastgroup)
                if kind == "lit":
                    value = re.sub(r'\\(x[0-9A-F]{2}|u[0-9A-F]{4}|U[0-9A-F]{8}|.)', _unescape,
                                   text[1:-1])
                    out.append("(?:" + re.escape(value) + ")")
                elif kind == "cls":
                    out.append(text.replace("\\U", "\\U"))
                elif kind == "name":
                    out.append("(?:" + expand(text, depth + 1) + ")")
                elif kind == "op" and text == "(":
                    out.append("(?:")
                else:
                    out.append(text)
            done[name] = "".join(out)
        return done[name]

    return re.compile(expand("root"), re.DOTALL)


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)


@pytest.fixture(scope="module")
def scene():
    return gbnf_to_regex(scene_grammar(scene_schema((120, 1100))))


def compact(value) -> str:
    """A scene as a model writes it under the grammar: keys in the schema's order."""
    order = list(scene_schema()["properties"])
    if isinstance(value, dict) and set(value) <= set(order):
        value = {key: value[key] for key in order if key in value}
    return json.dumps(value, ensure_ascii=False)


def scene_with(**changes) -> dict:
    return {**VALID_SCENE, **changes}


def test_the_scene_grammar_is_well_formed_gbnf():
    grammar = scene_grammar(scene_schema())
    assert gbnf_parses(grammar)
    names = {line.split(" ::= ")[0] for line in grammar.splitlines()}
    used = set(re.findall(r"(?<![\"\[\\\w-])([a-z][a-z0-9-]*)(?![\w\"])",
                          " ".join(line.split(" ::= ", 1)[1] for line in grammar.splitlines())))
    assert "root" in names and used - {"true", "false", "null"} <= names
    assert "\\s" not in grammar                     # llama.cpp's parser has no \s


def test_a_valid_scene_is_accepted(scene):
    assert LLMScene.model_validate(VALID_SCENE)
    assert scene.fullmatch(compact(VALID_SCENE))
    ending = scene_with(narration=VALID_SCENE["narration"][:-1] + "!\"",
                        effects={"location": None, "add_items": ["old key"],
                                 "adjust": {"courage": -3}, "characters_leave": ["Maren"]})
    assert scene.fullmatch(compact(ending))
    assert LLMScene.model_validate(ending)
    shuffled = scene_with(effects={"adjust": {"courage": -3}, "location": None})
    assert not scene.fullmatch(compact(shuffled))      # properties come in the schema's order


@pytest.mark.parametrize("change", [
    {"title": "One two three four five six seven eight nine"},       # 9 words
    {"title": "The (Bell)"},                                           # markup
    {"title": "x" * 61},                                               # too long
    {"narration": "Too short to be a scene."},
    {"narration": "A long narration that never ends with a full stop " * 4},
    {"choices": [{"label": "Go", "intent": "explore"},
                 {"label": "Run back to the light", "intent": "flee"}]},  # one-word label
    {"choices": [{"label": "...`A moonless night'`}, {", "intent": "explore"},
                 {"label": "Run back to the light", "intent": "flee"}]},  # markup in a label
    {"choices": [{"label": "Dive after the sound", "intent": "dance"},
                 {"label": "Run back to the light", "intent": "flee"}]},  # unknown intent
    {"choices": [{"label": "Dive after the sound", "intent": "explore"}]},  # one choice
    {"mood": "happy"},
    {"effects": {"adjust": {"courage": 4}}},
    {"effects": {"set_flags": {"": True}}},
    {"effects": {"set_flags": {"rebel: ": True}}},
    {"effects": {"weather": "rain"}},
])
def test_bad_scenes_are_refused(scene, change):
    assert not scene.fullmatch(compact(scene_with(**change)))


def test_every_scene_the_grammar_allows_fits_the_schema_limits(scene):
    longest = {"title": " ".join(["Wwwwwwwwww"[:7]] * 7),        # 7 words of 7: 55 chars
               "label": " ".join(["abcdef"] * 10)}               # 10 words of 6: 69 chars
    assert scene.fullmatch(compact(scene_with(title=longest["title"])))
    assert LLMScene.model_validate(scene_with(title=longest["title"]))
    assert not scene.fullmatch(compact(scene_with(title=" ".join(["W" * 8] * 7))))  # 62 chars
    choices = [{"label": longest["label"], "intent": "explore"},
               {"label": "Run back to the light", "intent": "flee"}]
    assert scene.fullmatch(compact(scene_with(choices=choices)))
    assert LLMScene.model_validate(scene_with(choices=choices))
    narration = "A" * 1097 + "."
    assert scene.fullmatch(compact(scene_with(narration=narration)))
    assert not scene.fullmatch(compact(scene_with(narration="A" * 1100 + ".")))


def test_titles_and_labels_read_as_words(scene):
    assert scene.fullmatch(compact(scene_with(title="1797 Lighthouse-keeper's Log")))
    for title in (". You will not lie", "W" * 21, "…and then", "- Bell"):
        assert not scene.fullmatch(compact(scene_with(title=title))), title
    noise = [{"label": "moor-landlifeworldimagined inthe17thcentury", "intent": "explore"},
             {"label": "Run back to the light", "intent": "flee"}]
    assert not scene.fullmatch(compact(scene_with(choices=noise)))      # 26-letter word


def test_json_is_written_compactly(scene):
    assert not scene.fullmatch(json.dumps(json.loads(compact(VALID_SCENE)), ensure_ascii=False,
                                          indent=1))
    assert not scene.fullmatch(" " + compact(VALID_SCENE))


def test_patterns_in_the_supported_regex_subset():
    schema = {"type": "object", "properties": {
        "code": {"type": "string", "pattern": r"^[A-Z]{2}-\d{3}(x|yz)?$"},
        "any": {"type": "string", "pattern": r"^a.c$"}},
        "required": ["code", "any"], "additionalProperties": False}
    grammar = gbnf_to_regex(json_schema_to_gbnf(schema))
    assert grammar.fullmatch('{"code": "AB-123", "any": "abc"}')
    assert grammar.fullmatch('{"code": "AB-123yz", "any": "a c"}')
    assert not grammar.fullmatch('{"code": "AB-12", "any": "abc"}')
    assert not grammar.fullmatch('{"code": "AB-123", "any": "a\\"c"}')   # no raw quotes


@pytest.mark.parametrize("schema, problem", [
    ({"type": "string", "pattern": "a+"}, "must start with"),
    ({"type": "string", "pattern": "^(?=a)b$"}, "lookaround"),
    ({"type": "string", "pattern": "^a+?$"}, "lazy"),
    ({"type": "string", "pattern": r"^\p{L}$"}, "escape"),
    ({"type": "object", "properties": {"x": {}}}, "any value"),
    ({"allOf": [{"type": "string"}]}, "allOf"),
    ({"$ref": "#/$defs/Missing"}, "does not point"),
])
def test_what_cannot_be_converted_is_refused_with_a_reason(schema, problem):
    with pytest.raises(GrammarError, match=problem):
        json_schema_to_gbnf(schema)
