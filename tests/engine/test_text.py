"""engine.text: one way to shorten text and one way to clean out unprintable characters."""

import pytest

from engine.text import ELLIPSIS, shorten, without_controls


def test_text_that_fits_is_returned_as_it_is():
    assert shorten("A short line.", 13) == "A short line."


@pytest.mark.parametrize("limit", range(1, 40))
def test_a_cut_text_keeps_within_its_limit_and_says_so(limit):
    text = "The lantern swings, and the keeper's shadow leans over the rocks."
    for at_word in (True, False):
        cut = shorten(text, limit, at_word=at_word)
        assert len(cut) <= limit and cut.endswith(ELLIPSIS)


def test_the_cut_falls_between_words_without_dangling_punctuation():
    text = "Walk to the harbour, then wait for the tide"
    assert shorten(text, 24) == "Walk to the harbour…"          # not "harbour,…" nor "the…"
    assert shorten(text, 21) == "Walk to the harbour…"          # a word that ends at the limit
    assert shorten(text, 24, at_word=False) == "Walk to the harbour, th…"


def test_a_single_long_word_is_cut_inside():
    assert shorten("Supercalifragilistic", 8) == "Superca…"


def test_limits_below_two():
    assert shorten("abc", 1) == ELLIPSIS and shorten("abc", 0) == ""


def test_unprintable_characters_are_replaced_or_dropped():
    text = "bell\x07 escape\x1b[31m nul\x00 zero\u200bwidth\nline\ttab"
    assert without_controls(text) == "bell  escape [31m nul  zero width\nline\ttab"
    assert without_controls(text, replacement="") == "bell escape[31m nul zerowidth\nline\ttab"
    assert without_controls("a\nb", keep="") == "a b"
