"""What the openai narrator puts in a request besides the prompt, and how it reads the answer.

Response formats, tried in this order until the server accepts one:
  json_schema   OpenAI's `response_format: {type: json_schema}`: vLLM, Ollama, llama.cpp's
                server, OpenAI. llama-cpp-python's server answers 500 to it.
  grammar       a GBNF `grammar` field built from the scene schema (engine.narrators.gbnf):
                llama.cpp's server and llama-cpp-python's server.
  json_object   `{type: json_object, schema: ...}`, llama.cpp's own form; servers that do not
                know `schema` still answer JSON, shaped after the prompt's example. Length
                limits and patterns are left out of that schema: llama-cpp-python's converter
                writes grammars from patterns that llama.cpp cannot parse, and its server dies.
  none          nothing; the schema is spelled out in the prompt (a long prompt: the modes
                above keep it out, since the server holds the shape).

Sampler settings go out as the standard fields (temperature, top_p, frequency_penalty,
presence_penalty) plus the extra fields llama.cpp's server, llama-cpp-python, vLLM and
text-generation-webui read (top_k, min_p, repeat_penalty / repetition_penalty, repeat_last_n,
dry_*); servers ignore the ones they do not know, and a server that refuses them (OpenAI's API)
gets the standard fields only. This module builds dicts and reads text; it does no I/O.
"""

from __future__ import annotations

import copy
import json
import re

from pydantic import ValidationError

from engine.narrators.gbnf import json_schema_to_gbnf
from engine.narrators.sampling import Sampling
from engine.story.schema import LLM_NARRATION_MAX, LLM_NARRATION_MIN, LLMScene, llm_scene_json_schema

MODES = ("json_schema", "grammar", "json_object", "none")
CONSTRAINED = ("json_schema", "grammar", "json_object")   # modes whose answer must be JSON
SHOWS_SCHEMA = ("none",)   # modes where the prompt spells out the schema
STANDARD_FIELDS = ("temperature", "top_p", "frequency_penalty", "presence_penalty")
EXTRA_FIELDS = ("top_k", "min_p", "repeat_penalty", "repetition_penalty", "repeat_last_n",
                "no_repeat_ngram_size", "dry_multiplier", "dry_base", "dry_allowed_length",
                "dry_penalty_last_n", "dry_sequence_breakers")
_FORMAT_WORDS = re.compile(r"response[_ ]?format|json[_ ]?schema|json[_ ]?object|\bschema\b|"
                           r"grammar|gbnf|guided|structured[_ ]output", re.IGNORECASE)
_REFUSED_FIELD = re.compile(r"unrecognized request argument|extra (inputs|fields) are not "
                            r"permitted|unknown (field|parameter|argument)|unexpected keyword|"
                            r"not (a )?(supported|valid) (field|parameter)", re.IGNORECASE)
_CONTEXT_WORDS = re.compile(r"context (length|window|size)|exceeds? (the )?(maximum|context)|"
                            r"too many tokens|n_ctx", re.IGNORECASE)
CHARS_PER_WORD = (5.0, 6.5)   # characters per narration word, counting its space: least, most
NARRATION_SLACK = 40          # characters kept between the least and the most narration
_STRIPPED_IN_JSON_OBJECT = ("minLength", "maxLength", "pattern", "maxProperties",
                            "minProperties")


def narration_chars(words: tuple[int, int], most_chars: int = 0) -> tuple[int, int]:
    """Characters of narration (least, most) for a world's word range (world.toml
    `narration_words`), optionally capped at `most_chars`. Servers count characters, not words:
    a word with its space is taken as 5 to 6.5 characters."""
    least = int(words[0] * CHARS_PER_WORD[0])
    most = int(words[1] * CHARS_PER_WORD[1])
    if most_chars:
        most = min(most, most_chars)
    return min(least, most - NARRATION_SLACK), most


def scene_schema(narration: tuple[int, int] | None = None) -> dict:
    """The scene schema as sent to servers, its narration kept to `narration` (least, most
    characters) within the schema's own limits. That only narrows what the schema allows, so
    every answer that fits it is a valid scene."""
    schema = llm_scene_json_schema()
    if narration is not None:
        field = schema["properties"]["narration"]
        floor = field.get("minLength", LLM_NARRATION_MIN)
        ceiling = field.get("maxLength", LLM_NARRATION_MAX)
        most = max(floor + NARRATION_SLACK, min(ceiling, narration[1]))
        field["maxLength"] = most
        field["minLength"] = max(floor, min(narration[0], most - NARRATION_SLACK))
    return schema


def scene_grammar(schema: dict) -> str:
    """The GBNF grammar for `schema`; narration ends at a sentence boundary."""
    return json_schema_to_gbnf(schema, sentence_end=("narration",))


def without_limits(schema: dict) -> dict:
    """A copy of `schema` without string lengths, patterns and property counts: the shape
    only, which llama-cpp-python's json_object converter handles without crashing."""
    def strip(node):
        if isinstance(node, dict):
            return {key: strip(value) for key, value in node.items()
                    if key not in _STRIPPED_IN_JSON_OBJECT}
        if isinstance(node, list):
            return [strip(value) for value in node]
        return node
    return strip(copy.deepcopy(schema))


def response_fields(mode: str, schema: dict, grammar: str | None) -> dict:
    """The request fields that ask for the scene's shape in `mode`."""
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {
            "name": "scene", "schema": schema, "strict": True}}}
    if mode == "grammar":
        return {"grammar": grammar}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": without_limits(schema)}}
    return {}


def sampler_fields(sampling: Sampling, extras: bool) -> dict:
    """Request fields for the sampler settings: the standard ones, plus the extras when on."""
    body = {name: getattr(sampling, name) for name in STANDARD_FIELDS}
    if not extras:
        return body
    body.update(top_k=sampling.top_k, min_p=sampling.min_p,
                repeat_penalty=sampling.repetition_penalty,      # llama.cpp, llama-cpp-python
                repetition_penalty=sampling.repetition_penalty,  # vLLM, text-generation-webui
                repeat_last_n=sampling.repetition_range or -1)   # llama.cpp: -1 = whole context
    if sampling.no_repeat_ngram:
        body["no_repeat_ngram_size"] = sampling.no_repeat_ngram
    if sampling.dry_multiplier > 0:
        body.update(dry_multiplier=sampling.dry_multiplier, dry_base=sampling.dry_base,
                    dry_allowed_length=sampling.dry_allowed_length,
                    dry_penalty_last_n=sampling.dry_range or -1,
                    dry_sequence_breakers=list(sampling.dry_breakers))
    return body


def names_response_format(message: str) -> bool:
    """True when a server's error message is about the response format, schema or grammar."""
    return bool(_FORMAT_WORDS.search(message))


def names_extra_field(message: str) -> bool:
    """True when a server's error message refuses one of the extra sampler fields."""
    return bool(_REFUSED_FIELD.search(message)) or any(
        re.search(rf"\b{name}\b", message) for name in EXTRA_FIELDS)


def names_context(message: str) -> bool:
    """True when a server's error message says the prompt does not fit the context."""
    return bool(_CONTEXT_WORDS.search(message))


def ignored_format(mode: str, content: str) -> bool:
    """True when an answer in a constrained mode is not JSON at all: the server accepted the
    request but did not apply the format (a server that honours one starts with `{`)."""
    if mode not in CONSTRAINED:
        return False
    text = content.lstrip()
    if text.startswith("```"):
        text = text.split("\n", 1)[-1].lstrip()
    return bool(text) and not text.startswith("{")


def follows_schema(content: str) -> bool:
    """True when an answer is exactly a scene of the schema, with nothing to mend."""
    try:
        LLMScene.model_validate_json(content.strip())
    except (ValidationError, ValueError):
        return False
    return True


def top_level_error(content: str) -> str | None:
    """Why the answer's top-level JSON object is broken, or None when it is not.

    A broken top level must be reported as such: searching on inside it would find a nested
    object (a choice, the effects) and blame the scene's missing title instead.
    """
    text = content.strip()
    if text.startswith("```"):
        text = re.sub(r"^```[a-zA-Z]*\s*|\s*```\s*$", "", text)
    if not text.startswith("{"):
        return None
    try:
        json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as err:
        if err.msg.startswith("Unterminated") or err.pos >= len(text) - 1 or \
                err.msg.startswith("Expecting") and err.pos >= len(text.rstrip()) - 1:
            return "the JSON was cut off before it ended"
        return f"invalid JSON ({err.msg} at character {err.pos})"
    return None


__all__ = ["MODES", "CONSTRAINED", "SHOWS_SCHEMA", "EXTRA_FIELDS", "narration_chars",
           "scene_schema",
           "scene_grammar", "without_limits", "response_fields", "sampler_fields",
           "names_response_format", "names_extra_field", "names_context", "ignored_format",
           "follows_schema", "top_level_error"]
