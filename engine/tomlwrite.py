"""Writing TOML: the one small writer for the user config and for tables appended to worlds.

Python reads TOML (tomllib) but cannot write it, and the files Dreamreel writes need little: the
config's [section] tables of scalars, and [[characters]] / [[lore]] tables of strings, numbers,
booleans and lists appended to a world. Whatever the value, the text written parses back with
tomllib to the same value: quotes and backslashes are escaped, control and other unprintable
characters become \\u or \\U escapes, text with line breaks becomes a multi-line string (easy to
edit by hand), and a key that is not a bare key is quoted. This module never reads or writes
files; its callers write the text atomically (engine.atomic).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it may be, else a quoted string."""
    key = str(key)
    return key if _BARE_KEY.fullmatch(key) else _string(key, multiline=False)


def toml_value(value: Any) -> str:
    """The TOML literal of a string, number, boolean or list of those.

    Raises:
        TypeError: a value TOML has no literal for here (None, a table inside a value).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return _string(value, multiline="\n" in value)
    raise TypeError(f"TOML has no value for {type(value).__name__} {value!r}")


def toml_section(name: str, values: Mapping[str, Any]) -> str:
    """One [name] table of key = value lines."""
    lines = [f"[{toml_key(name)}]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines)


def toml_table(name: str, values: Mapping[str, Any], keep_empty: tuple[str, ...] = ()) -> str:
    """One [[name]] entry of an array of tables; empty values ("", None, []) are left out,
    so the file keeps only what was given, except the keys named in keep_empty."""
    lines = [f"[[{toml_key(name)}]]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items()
              if key in keep_empty or value not in ("", None, [])]
    return "\n".join(lines)


def dump_toml(data: Mapping[str, Any]) -> str:
    """A document of [section] tables of scalars (all the config holds); values that are not
    tables are left out."""
    sections = [toml_section(name, values) for name, values in data.items()
                if isinstance(values, Mapping)]
    return "\n\n".join(sections) + "\n" if sections else ""


def _string(text: str, multiline: bool) -> str:
    """A TOML basic string (multi-line when asked) holding exactly text."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = "".join(ch if ch.isprintable() or (multiline and ch == "\n") else _escape(ch)
                   for ch in text)
    return f'"""\n{text}"""' if multiline else f'"{text}"'


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"        # a lone surrogate is no character: TOML cannot hold it
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


__all__ = ["dump_toml", "toml_key", "toml_section", "toml_table", "toml_value"]
