"""The JSON-schema-to-GBNF converter: the scene grammar accepts valid scenes, refuses bad ones,
and everything it can produce is a valid scene.

Grammars are checked two ways, both independent of llama.cpp: turned into a Python regex (our
grammars have no recursion, so every rule can be inlined) to match JSON text, and walked at
random to produce text, which must then pass the scene schema.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from engine.narrators.gbnf import GrammarError, json_schema_to_gbnf
from engine.narrators.openai_formats import scene_grammar, scene_schema
from engine.story.schema import LLMScene

from tests.support.fake_openai_server import VALID_SCENE, gbnf_parses

_TOKEN = re.compile(r'\s*(?:(?P<lit>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|'
                    r'(?P<name>[a-zA-Z0-9-]+)|(?P<rep>\{\d+(?:,\d*)?\})|(?P<op>[()|?*+]))')
_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)')
NARRATION = (400, 1170)      # characters: 80-180 words, as the narrator asks by default
# Characters tried where a negated class allows "anything but": printable ASCII, letters with
# accents, typographic quotes and dashes, an emoji, a line break.
_POOL = [chr(c) for c in range(0x20, 0x7F)] + list("éÀɏ—’“”…🔔\n\t")


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)


def _rules(grammar: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())


def gbnf_to_regex(grammar: str) -> re.Pattern:
    """A regex for a recursion-free GBNF grammar (the subset the converter writes)."""
    rules, done = _rules(grammar), {}

    def expand(name: str, depth: int = 0) -> str:
        assert depth < 50, f"rule {name} is recursive"
        if name not in done:
            out = []
            for token in _TOKEN.finditer(rules[name].strip()):
                kind, text = token.lastgroup, token.group(token.lastgroup)
                if kind == "lit":
                    out.append("(?:" + re.escape(_ESCAPE.sub(_unescape, text[1:-1])) + ")")
                elif kind == "name":
                    out.append("(?:" + expand(text, depth + 1) + ")")
                else:
                    out.append("(?:" if text == "(" else text)
            done[name] = "".join(out)
        return done[name]

    return re.compile(expand("root"), re.DOTALL)


def sample(grammar: str, rng: random.Random) -> str:
    """A random sentence of a recursion-free GBNF grammar; repetitions often at their bounds."""
    rules = _rules(grammar)
    parsed: dict[str, list] = {}

    def parse(tokens: list, at: int):        # alternatives of [atom, least, most] sequences
        options, sequence = [], []
        while at < len(tokens) and tokens[at] != (")", "op"):
            text, kind = tokens[at]
            at += 1
            if kind == "op" and text == "|":
                options.append(sequence)
                sequence = []
            elif kind == "op" and text == "(":
                inner, at = parse(tokens, at)
                sequence.append([("group", inner), 1, 1])
                at += 1
            elif kind in ("op", "rep"):
                bounds = {"?": (0, 1), "*": (0, None), "+": (1, None)}.get(text)
                if bounds is None:
                    low, _, high = text[1:-1].partition(",")
                    bounds = (int(low), int(high) if high else (None if _ else int(low)))
                sequence[-1][1:] = bounds
            else:
                sequence.append([(kind, text), 1, 1])
        return options + [sequence], at

    def atom(item) -> str:
        kind, value = item
        if kind == "lit":
            return _ESCAPE.sub(_unescape, value[1:-1])
        if kind == "name":
            if value not in parsed:
                parsed[value] = parse([(t.group(t.lastgroup), t.lastgroup)
                                       for t in _TOKEN.finditer(rules[value])], 0)[0]
            return alternatives(parsed[value])
        if kind == "group":
            return alternatives(value)
        body = value[1:-1]
        negated = body.startswith("^")
        raw = re.findall(r"\\U.{8}|\\u.{4}|\\x..|\\.|.", body[negated:])
        ranges, index = [], 0
        while index < len(raw):       # an unescaped "-" between two characters makes a range
            first = ord(_ESCAPE.sub(_unescape, raw[index]))
            if index + 2 < len(raw) and raw[index + 1] == "-":
                ranges.append((first, ord(_ESCAPE.sub(_unescape, raw[index + 2]))))
                index += 3
            else:
                ranges.append((first, first))
                index += 1
        inside = [c for c in _POOL if any(lo <= ord(c) <= hi for lo, hi in ranges)]
        if negated:
            return rng.choice([c for c in _POOL if c not in inside])
        low, high = rng.choice(ranges)
        return chr(rng.randint(low, high))

    def alternatives(options) -> str:
        out = []
        for item, low, high in rng.choice(options):
            high = low + 3 if high is None else high
            count = rng.choice([low, high, high, rng.randint(low, high)])
            out.extend(atom(item) for _ in range(count))
        return "".join(out)

    return atom(("name", "root"))


def in_schema_order(value, schema: dict, node: dict | None = None):
    """`value` with its objects' keys in the order the schema lists them (as the grammar
    writes them)."""
    node = schema if node is None else node
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    if isinstance(value, dict) and "properties" in node:
        known = {key: in_schema_order(value[key], schema, node["properties"][key])
                 for key in node["properties"] if key in value}
        return {**known, **{key: item for key, item in value.items() if key not in known}}
    if isinstance(value, list) and "items" in node:
        return [in_schema_order(item, schema, node["items"]) for item in value]
    return value


def compact(value) -> str:
    """A scene as a model writes it under the grammar: json.dumps, keys in schema order."""
    return json.dumps(in_schema_order(value, scene_schema()), ensure_ascii=False)


def scene_with(**changes) -> dict:
    return {**VALID_SCENE, **changes}


@pytest.fixture(scope="module")
def grammar():
    return scene_grammar(scene_schema((120, 1100)))


@pytest.fixture(scope="module")
def scene(grammar):
    return gbnf_to_regex(grammar)


def test_the_scene_grammar_is_well_formed_gbnf(grammar):
    assert gbnf_parses(grammar)
    rules = _rules(grammar)
    used = {t.group("name") for body in rules.values() for t in _TOKEN.finditer(body)
            if t.lastgroup == "name"}
    assert "root" in rules and used <= set(rules)
    assert "\\s" not in grammar and "\\d" not in grammar    # llama.cpp's parser has neither


def test_a_valid_scene_is_accepted(scene):
    assert LLMScene.model_validate(VALID_SCENE)
    assert scene.fullmatch(compact(VALID_SCENE))
    ending = scene_with(narration=VALID_SCENE["narration"][:-1] + "!\"",
                        effects={"location": None, "add_items": ["old key"],
                                 "adjust": {"courage": -3}, "characters_leave": ["Maren"]})
    assert LLMScene.model_validate(ending)
    assert scene.fullmatch(compact(ending))
    shuffled = compact(scene_with(effects={"location": None, "adjust": {"courage": -3}}))
    shuffled = shuffled.replace('{"location": null, "adjust": {"courage": -3}}',
                                '{"adjust": {"courage": -3}, "location": null}')
    assert not scene.fullmatch(shuffled)     # properties come in the schema's order


@pytest.mark.parametrize("change", [
    {"title": "One two three four five six seven eight nine"},       # 9 words
    {"title": "The (Bell)"},                                           # markup
    {"title": "Bells " * 10 + "X"},                                    # over 60 characters
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


def test_everything_the_grammar_produces_is_a_valid_scene():
    rng = random.Random(7)
    grammar = scene_grammar(scene_schema(NARRATION))
    for _ in range(60):
        text = sample(grammar, rng)
        scene = LLMScene.model_validate(json.loads(text))     # valid JSON, valid scene
        assert NARRATION[0] <= len(scene.narration) <= NARRATION[1]
        assert scene.narration.rstrip("\"'\u201d\u2019")[-1] in ".!?"


def test_json_is_written_compactly(scene):
    assert not scene.fullmatch(json.dumps(json.loads(compact(VALID_SCENE)), ensure_ascii=False,
                                          indent=1))
    assert not scene.fullmatch(" " + compact(VALID_SCENE))


def test_patterns_in_the_supported_regex_subset():
    schema = {"type": "object", "properties": {
        "code": {"type": "string", "pattern": r"^[A-Z]{2}-\d{3}(x|yz)?$"},
        "any": {"type": "string", "pattern": r"^a.c$"},
        "accent": {"type": "string", "pattern": r"^[\u00c0-\u00ff]\x41$"}},
        "required": ["code", "any", "accent"], "additionalProperties": False}
    grammar = gbnf_to_regex(json_schema_to_gbnf(schema))
    assert grammar.fullmatch('{"code": "AB-123", "any": "abc", "accent": "éA"}')
    assert grammar.fullmatch('{"code": "AB-123yz", "any": "a\\"c", "accent": "ÀA"}')  # a"c
    assert not grammar.fullmatch('{"code": "AB-12", "any": "abc", "accent": "éA"}')
    assert not grammar.fullmatch('{"code": "AB-123", "any": "a"c", "accent": "éA"}')  # raw "
    assert not grammar.fullmatch('{"code": "AB-123", "any": "a\\nc", "accent": "éA"}')  # . ≠ \n
    assert not grammar.fullmatch('{"code": "AB-123", "any": "abc", "accent": "eA"}')


def test_words_under_a_pattern_stay_within_the_length_limits():
    words = {"type": "string", "pattern": r"^[a-z]{1,10}( [a-z]{1,10}){0,5}$",
             "minLength": 5, "maxLength": 20}
    grammar = json_schema_to_gbnf(words)
    matches = gbnf_to_regex(grammar)
    assert matches.fullmatch('"abc d"') and matches.fullmatch('"abcdefghi abcdefghi"')
    assert matches.fullmatch('"a b c d e f"')
    assert not matches.fullmatch('"ab c"')                         # 4 characters
    assert not matches.fullmatch('"abcdefghij abcdefghij"')        # 21 characters
    rng = random.Random(3)
    for _ in range(300):
        text = json.loads(sample(grammar, rng))
        assert 5 <= len(text) <= 20 and re.fullmatch(words["pattern"], text), text


def test_a_single_run_pattern_takes_its_length_from_min_and_max_length():
    prose = {"type": "string", "pattern": r"^[A-Z][a-z .]{9,99}$", "minLength": 30,
             "maxLength": 40}
    matches = gbnf_to_regex(json_schema_to_gbnf(prose))
    assert matches.fullmatch('"' + "A" + "b" * 29 + '"')
    assert not matches.fullmatch('"' + "A" + "b" * 28 + '"')
    assert not matches.fullmatch('"' + "A" + "b" * 40 + '"')


@pytest.mark.parametrize("schema, problem", [
    ({"type": "string", "pattern": "a+"}, "must start with"),
    ({"type": "string", "pattern": "^(?=a)b$"}, "lookaround"),
    ({"type": "string", "pattern": "^a+?$"}, "lazy"),
    ({"type": "string", "pattern": r"^\p{L}$"}, "escape"),
    ({"type": "string", "pattern": r"^\u12$"}, "hex digits"),
    ({"type": "object", "properties": {"x": {}}}, "any value"),
    ({"allOf": [{"type": "string"}]}, "allOf"),
    ({"$ref": "#/$defs/Missing"}, "does not point"),
])
def test_what_cannot_be_converted_is_refused_with_a_reason(schema, problem):
    with pytest.raises(GrammarError, match=problem):
        json_schema_to_gbnf(schema)
