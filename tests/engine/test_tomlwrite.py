"""engine.tomlwrite: whatever is written parses back with tomllib to the same value."""

import math
import tomllib

import pytest

from engine.tomlwrite import dump_toml, toml_table, toml_value

AWKWARD = ['plain', 'Say "aye"', "back\\slash", "two\nlines", "ends with a quote\n\"",
           "tab\tand\rreturn", "bell\x07 nul\x00 del\x7f", "nbsp\u00a0zwj\u200d",
           "tag \U000e0001 char", "emoji \U0001f409", '"""triple"""', "C:\\new\\table"]


@pytest.mark.parametrize("text", AWKWARD)
def test_strings_round_trip(text):
    assert tomllib.loads(f"v = {toml_value(text)}")["v"] == text


def test_a_lone_surrogate_becomes_a_replacement_character():
    written = toml_value("a\ud800b")
    assert tomllib.loads(f"v = {written}")["v"] == "a\ufffdb"


@pytest.mark.parametrize("value", [True, False, 0, -7, 2**40, 0.5, 1e20, -1.25e-7,
                                   ["a", 2, False], [], ("x", "y\nz")])
def test_scalars_and_lists_round_trip(value):
    expected = list(value) if isinstance(value, tuple) else value
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == expected


def test_special_floats():
    parsed = tomllib.loads(f"a = {toml_value(float('inf'))}\nb = {toml_value(float('-inf'))}\n"
                           f"c = {toml_value(float('nan'))}")
    assert parsed["a"] == math.inf and parsed["b"] == -math.inf and math.isnan(parsed["c"])


def test_none_is_refused():
    with pytest.raises(TypeError):
        toml_value(None)


def test_dump_toml_writes_sections_and_quotes_odd_keys():
    data = {"game": {"seed": 3, "author_note": "Be kind.\nBe brief."},
            "narrator": {"min_p": 0.1, "odd key": "x", "top-k": 40}, "ignored": 1}
    text = dump_toml(data)
    assert text.startswith("[game]\n") and text.endswith("\n") and "ignored" not in text
    assert tomllib.loads(text) == {k: v for k, v in data.items() if k != "ignored"}
    assert dump_toml({}) == ""


def test_toml_table_leaves_out_empty_values_but_those_kept():
    text = toml_table("lore", {"id": "a", "keywords": [], "text": "", "note": None,
                               "priority": 0, "tags": []}, keep_empty=("keywords",))
    assert tomllib.loads(text) == {"lore": [{"id": "a", "keywords": [], "priority": 0}]}
