"""JSON schema to GBNF, for servers of the llama.cpp family that take a `grammar` field.

llama.cpp's server and llama-cpp-python's server accept a grammar in GBNF (llama.cpp's
grammars/README.md) with each request. llama-cpp-python cannot compile the scene schema itself
(its `json_schema` response format is refused, and its own converter copies a pattern's `\\s`
into a grammar that llama.cpp cannot parse, which crashes the server), so the openai narrator
sends a grammar built here. Patterns are read by engine.narrators.gbnf_regex.

Covered: objects (required properties in order, then optional ones; additionalProperties with
a value schema and maxProperties), arrays (items, minItems, maxItems), strings (minLength,
maxLength, and patterns in a regex subset: classes, escapes, groups, alternation,
quantifiers), enum and const, integers (small ranges are spelled out), numbers, booleans, null,
anyOf/oneOf and `#/$defs` references. Anything else raises GrammarError: a grammar the server
cannot parse crashes llama-cpp-python's server, so nothing uncertain is ever sent.

The grammar is never looser than the schema, sometimes stricter: JSON is written compactly
(`", "` and `": "` as json.dumps does, no room for endless whitespace); strings allow only the
escapes prose needs; a pattern made of a first word and repeated words (a title, a label) gets
word lengths that keep it within its maxLength, and a pattern with one run of characters (the
narration) takes its run's length from minLength and maxLength; named fields may be made to
end at a sentence boundary. Other patterns are kept as written and their length is checked
when the draft is validated, as llama.cpp's own converter does. Pure text: no llama_cpp, no
network.
"""

from __future__ import annotations

import json
import re

from engine.narrators.gbnf_regex import (GrammarError, Pattern, allows, char_class, hex_escape,
                                         fit_repeated, fit_single_run, json_safe)

MAX_REPEAT = 2000          # llama.cpp treats a larger repetition bound as unbounded
SMALL_INT_RANGE = 200      # integer ranges up to this size are listed value by value
KEY_CHARS = 40             # characters of a free-form object key (an identifier)
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$comment",
                "deprecated", "readOnly", "writeOnly"}
_KNOWN = _ANNOTATIONS | {"type", "properties", "required", "additionalProperties", "items",
                         "minItems", "maxItems", "minLength", "maxLength", "pattern", "enum",
                         "const", "anyOf", "oneOf", "$ref", "$defs", "definitions", "minimum",
                         "maximum", "maxProperties", "minProperties"}

PRIMITIVES = {
    # One character of a JSON string: anything printable but `"` and `\`, or the escapes
    # prose needs (a quote, a backslash, a line break).
    "char": r'[^"\\\x7F\x00-\x1F] | "\\" ["\\n]',
    "boolean": '"true" | "false"',
    "null": '"null"',
    "integer": '"-"? ([0] | [1-9] [0-9]{0,15})',
    "number": '"-"? ([0] | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})?',
}


def json_schema_to_gbnf(schema: dict, *, sentence_end: tuple[str, ...] = ()) -> str:
    """A GBNF grammar (rule `root`) whose every sentence is a JSON value valid for `schema`.

    Args:
        schema: a JSON schema in the subset described in the module docstring.
        sentence_end: names of string properties that must end with `.`, `!` or `?` (a closing
            quote may follow), so text cut by its maxLength still ends with a sentence.

    Raises:
        GrammarError: naming the part of the schema that cannot be converted.
    """
    builder = _Builder(schema, frozenset(sentence_end))
    top = builder.visit(schema, "root", field="")
    if top != "root":
        builder.rules["root"] = top
    return "".join(f"{name} ::= {body}\n" for name, body in builder.rules.items())


def _literal(text: str) -> str:
    """A GBNF string literal for `text` (escaped for GBNF, not for JSON)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.append(hex_escape(code))
    return '"' + "".join(out) + '"'


def _json_literal(value) -> str:
    """GBNF for a JSON value written exactly as json.dumps writes it."""
    return _literal(json.dumps(value, ensure_ascii=False))


def _repeat(item: str, low: int, high: int | None) -> str:
    """`item` repeated low..high times (high None: unbounded), in llama.cpp's syntax."""
    if high is not None and high > MAX_REPEAT:
        high = None
    if low > MAX_REPEAT:
        raise GrammarError(f"a repetition of at least {low} is more than llama.cpp allows")
    if high == 0:
        return '""'
    if (low, high) == (1, 1):
        return item
    if (low, high) == (0, 1):
        return f"{item}?"
    if high is None:
        return f"{item}*" if low == 0 else f"{item}+" if low == 1 else f"{item}{{{low},}}"
    return f"{item}{{{low}}}" if low == high else f"{item}{{{low},{high}}}"


def _list(item: str, low: int, high: int | None, separator: str = '", "') -> str:
    """`item` low..high times with `separator` between them."""
    if high == 0:
        return '""'
    rest = _repeat(f"({separator} {item})", max(low - 1, 0),
                   None if high is None else high - 1)
    both = item if rest == '""' else f"{item} {rest}"
    return both if low > 0 else f"({both})?"


class _Builder:
    def __init__(self, root: dict, sentence_end: frozenset[str]):
        self.root = root
        self.sentence_end = sentence_end
        self.rules: dict[str, str] = {}
        self._by_body: dict[str, str] = {}
        self._refs: dict[str, str] = {}
        self._resolving: set[str] = set()

    # -- rules ------------------------------------------------------------------------------
    def rule(self, name: str, body: str) -> str:
        """The name of a rule with this body (an existing one when the body repeats)."""
        if body in self._by_body:
            return self._by_body[body]
        base = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-").lower() or "rule"
        unique, number = base, 1
        while unique in self.rules or unique in PRIMITIVES:
            number += 1
            unique = f"{base}-{number}"
        self.rules[unique] = body
        self._by_body[body] = unique
        return unique

    def primitive(self, name: str) -> str:
        if name not in self.rules:
            self.rules[name] = PRIMITIVES[name]
            if name == "char":
                self._by_body[PRIMITIVES[name]] = name
        return name

    # -- schemas ----------------------------------------------------------------------------
    def visit(self, schema, name: str, field: str) -> str:
        """A GBNF expression (usually a rule name) for values valid under `schema`."""
        if schema is True or schema == {}:
            raise GrammarError(f"'{name}' accepts any value; give it a type")
        if not isinstance(schema, dict):
            raise GrammarError(f"'{name}' is not a schema")
        unknown = set(schema) - _KNOWN
        if unknown:
            raise GrammarError(f"'{name}' uses {', '.join(sorted(unknown))}, which the grammar "
                               f"converter does not support")
        if "$ref" in schema:
            return self.reference(schema["$ref"])
        if "anyOf" in schema or "oneOf" in schema:
            options = schema.get("anyOf") or schema.get("oneOf")
            return self.rule(name, " | ".join(self.visit(option, f"{name}-{i}", field)
                                              for i, option in enumerate(options)))
        if "const" in schema:
            return self.rule(name, _json_literal(schema["const"]))
        if "enum" in schema:
            return self.rule(name, " | ".join(_json_literal(v) for v in schema["enum"]))
        kind = schema.get("type")
        if isinstance(kind, list):
            return self.rule(name, " | ".join(self.visit({**schema, "type": k}, f"{name}-{k}",
                                                         field) for k in kind))
        if kind == "object":
            return self.rule(name, self.object(schema, name))
        if kind == "array":
            if not isinstance(schema.get("items"), dict):
                raise GrammarError(f"the array '{name}' needs one items schema")
            item = self.visit(schema["items"], f"{name}-item", field)
            return self.rule(name, f'"[" {_list(item, schema.get("minItems", 0), schema.get("maxItems"))} "]"')
        if kind == "string":
            return self.rule(name, self.string(schema, name, field))
        if kind == "integer":
            return self.rule(name, self.integer(schema))
        if kind in ("number", "boolean", "null"):
            return self.primitive(kind)
        raise GrammarError(f"'{name}' has no type the grammar converter knows ({kind!r})")

    def reference(self, ref: str) -> str:
        match = re.fullmatch(r"#/(\$defs|definitions)/([^/]+)", ref)
        if not match or match.group(2) not in self.root.get(match.group(1), {}):
            raise GrammarError(f"the reference {ref} does not point into this schema's $defs")
        if ref not in self._refs:
            if ref in self._resolving:
                raise GrammarError(f"the reference {ref} is recursive")
            self._resolving.add(ref)
            self._refs[ref] = self.visit(self.root[match.group(1)][match.group(2)],
                                         match.group(2), "")
            self._resolving.discard(ref)
        return self._refs[ref]

    def object(self, schema: dict, name: str) -> str:
        properties = schema.get("properties") or {}
        required = [key for key in properties if key in set(schema.get("required", ()))]
        optional = [key for key in properties if key not in required]
        pairs = {key: self.rule(f"{name}-{key}-kv", f"{_json_literal(key)} \": \" "
                                f"{self.visit(value, f'{name}-{key}', key)}")
                 for key, value in properties.items()}
        extra = schema.get("additionalProperties", False)
        if isinstance(extra, dict) and not properties:
            key = self.rule("key", f'"\\"" [A-Za-z] [A-Za-z0-9_]{{0,{KEY_CHARS - 1}}} "\\""')
            pair = self.rule(f"{name}-pair", f'{key} ": " {self.visit(extra, f"{name}-value", "")}')
            return f'"{{" {_list(pair, schema.get("minProperties", 0), schema.get("maxProperties"))} "}}"'
        if isinstance(extra, dict):
            raise GrammarError(f"'{name}' mixes properties with additionalProperties")
        body = " \", \" ".join(pairs[key] for key in required)
        if optional:
            tails: dict[int, str] = {}
            for index in range(len(optional) - 1, -1, -1):   # tail i: optional[i:] after one
                later = tails.get(index + 1, "")
                tails[index] = self.rule(f"{name}-{optional[index]}-rest",
                                         f'(", " {pairs[optional[index]]})? {later}'.strip())
            starts = [f"{pairs[key]} {tails[i + 1]}" if i + 1 in tails else pairs[key]
                      for i, key in enumerate(optional)]
            chain = " | ".join(starts)
            body = (f'{body} {tails[0]}' if required else f"({chain})?")
        return f'"{{" {body} "}}"'

    def integer(self, schema: dict) -> str:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None and high - low <= SMALL_INT_RANGE:
            return " | ".join(_literal(str(v)) for v in range(int(low), int(high) + 1))
        if low is not None or high is not None:
            raise GrammarError("integer bounds are supported for small ranges only")
        return self.primitive("integer")

    def string(self, schema: dict, name: str, field: str) -> str:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        ending = field in self.sentence_end
        if "pattern" in schema:
            node = Pattern(schema["pattern"]).parse().node
            options = fit_repeated(node, low, high)
            if options is not None:       # a first word, then up to b more: all in bounds
                if not options:
                    raise GrammarError(f"'{name}' has no words within its length limits")
                bodies = [self.regex(("seq", items), name) for items in options]
                return f'"\\"" ({" | ".join(bodies)}) "\\""'
            items = fit_single_run(node, low, high)
            end = self.sentence_end_rule(items[-1]) if ending and items else None
            if end is not None:       # the run's last characters become the sentence's end
                run = items[-1]
                items = items[:-1] + [("rep", run[1], max(run[2] - 1, 0), run[3] - 2)]
            body = self.regex(("seq", items), name) + (f" {end}" if end else "")
            return f'"\\"" ({body}) "\\""'
        char = self.primitive("char")
        if ending:
            end = self.rule("sentence-end", r'[.!?] ("\\\"" | [\u201D\u2019])?')
            body = f"{_repeat(char, max(low - 1, 0), None if high is None else max(high - 2, 0))} {end}"
            return f'"\\"" {body} "\\""'
        return f'"\\"" {_repeat(char, low, high)} "\\""'

    def sentence_end_rule(self, run) -> str | None:
        """A rule for `.`, `!` or `?` and an optional closing quote, all of them characters
        the pattern's final run allows; None when the run cannot end a sentence that way."""
        if run[0] != "rep" or run[1][0] != "class" or run[3] is None or run[3] < 2 \
                or not all(allows(run[1], mark) for mark in ".!?"):
            return None
        closers = [_literal(json.dumps(q, ensure_ascii=False)[1:-1])
                   for q in ('"', "\u201d", "\u2019", "'") if allows(run[1], q)]
        after = f" ({' | '.join(closers)})?" if closers else ""
        return self.rule("sentence-end-in-pattern", f"[.!?]{after}")

    def regex(self, node, name: str) -> str:
        kind = node[0]
        if kind == "seq":      # runs of literal characters become one literal
            parts, text = [], ""
            for part in node[1] + [None]:
                if part is not None and part[0] == "lit":
                    text += part[1]
                    continue
                if text:
                    parts.append(_literal(json.dumps(text, ensure_ascii=False)[1:-1]))
                    text = ""
                if part is not None:
                    parts.append(self.regex(part, name))
            return " ".join(parts) or '""'
        if kind == "alt":       # a rule of its own, written once however often it is used
            return self.rule(f"{name}-either", " | ".join(self.regex(part, name)
                                                           for part in node[1]))
        if kind == "lit":
            return _literal(json.dumps(node[1], ensure_ascii=False)[1:-1])
        if kind == "class":
            return self.json_char(node)
        if kind == "rep":
            inner = self.regex(node[1], name)
            if not re.fullmatch(r"[a-z0-9-]+|\[[^\]]*\]|\"[^\"]*\"", inner):
                inner = self.rule(f"{name}-part", inner)
            return _repeat(inner, node[2], node[3])
        raise GrammarError(f"unknown pattern node {kind}")

    def json_char(self, node) -> str:
        """One character of a class as JSON writes it: raw where JSON allows, else escaped
        (a quote, a backslash and a line break; other controls are left out)."""
        safe = json_safe(node[1], node[2])
        options = [char_class(*safe)] if safe else []
        options += [_literal(json.dumps(char)[1:-1]) for char in ('"', "\\", "\n")
                    if allows(node, char)]
        if not options:
            raise GrammarError("a pattern's class holds only control characters")
        return options[0] if len(options) == 1 else self.rule("pattern-char",
                                                              " | ".join(options))


__all__ = ["json_schema_to_gbnf", "GrammarError", "PRIMITIVES"]
