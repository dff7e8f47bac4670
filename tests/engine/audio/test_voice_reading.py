"""Narration cut into sentences to read as they appear, and quoted speech given its speaker's voice."""

from __future__ import annotations

import pytest

from engine.audio.voices import Line, lines, sentences
from engine.audio.voices.reading import MAX_CHARS


@pytest.mark.parametrize("text, expected", [
    ("The fog lifts. Skerrow is there! Is it?", ["The fog lifts.", "Skerrow is there!", "Is it?"]),
    ("Mr. Holt met Dr. Venn at St. Jude's. They spoke.",
     ["Mr. Holt met Dr. Venn at St. Jude's.", "They spoke."]),
    ("J. R. R. Tolkien wrote it. No. 5 was late.", ["J. R. R. Tolkien wrote it.", "No. 5 was late."]),
    ("It is 3.5 miles. Then the moor.", ["It is 3.5 miles.", "Then the moor."]),
    ("He paused... and went on. I waited… Then it came.",
     ["He paused... and went on.", "I waited…", "Then it came."]),
    ('"Run!" she said. "Where?" Ivy asked.', ['"Run!" she said.', '"Where?"', "Ivy asked."]),
    ("“Go now.” He went.", ["“Go now.”", "He went."]),
    ('"But I—" The wind took the rest.', ['"But I—"', "The wind took the rest."]),
    ("He turned — Mara was there — and smiled. Yes.",
     ["He turned — Mara was there — and smiled.", "Yes."]),
    ("What?! No.", ["What?!", "No."]),
    ("One.\n\n* * *\n\nTwo without a stop\nThree.", ["One.", "Two without a stop", "Three."]),
    ("  \n \n", []),
    ("霧が晴れた。灯台が見える。", ["霧が晴れた。", "灯台が見える。"]),
])
def test_sentences_end_where_a_reader_would_pause(text, expected):
    assert sentences(text) == expected


def test_whitespace_is_collapsed_and_nothing_is_lost():
    text = "The   tide\tturns.  Gulls   cry."
    assert sentences(text) == ["The tide turns.", "Gulls cry."]


def test_a_long_sentence_is_cut_at_a_comma_under_the_limit():
    clause = "the wind came off the sea and rattled every shutter on the quay"
    text = ", ".join([clause] * 8) + "."
    pieces = sentences(text)
    assert len(pieces) > 1 and all(len(piece) <= MAX_CHARS for piece in pieces)
    assert all(piece.endswith(",") for piece in pieces[:-1])
    assert " ".join(pieces) == text


VOICES = {"Ivy Marsh": "en+f3", "Silas Venn": "en+m3", "Lieutenant Ansel Cole": "en-us"}


def test_narration_without_voiced_characters_is_one_line_a_sentence():
    text = 'Ivy hauls the boat up. "Five ships," she says.'
    assert lines(text, "en") == [Line("Ivy hauls the boat up.", "en"),
                                 Line('"Five ships," she says.', "en")]


def test_a_quote_takes_the_voice_of_the_character_named_in_its_sentence():
    result = lines('"Five ships since spring," Ivy says, "and not a spar."', "en", VOICES)
    assert result == [Line("Five ships since spring,", "en+f3", "Ivy Marsh"),
                      Line("Ivy says,", "en"),
                      Line("and not a spar.", "en+f3", "Ivy Marsh")]


def test_a_name_in_the_sentence_before_or_after_attributes_the_quote():
    before = lines("Silas Venn leans back. “You are new here.”", "", VOICES)
    assert before[-1] == Line("You are new here.", "en+m3", "Silas Venn")
    after = lines("“Keep the light lit.” Ivy turns away.", "", VOICES)
    assert after[0] == Line("Keep the light lit.", "en+f3", "Ivy Marsh")


def test_part_of_a_name_names_the_character_but_a_title_does_not():
    assert lines('"Halt," says Cole.', "", VOICES)[0].speaker == "Lieutenant Ansel Cole"
    assert lines('"Halt," says the Lieutenant.', "", VOICES)[0] == Line('"Halt," says the Lieutenant.', "")


def test_the_first_named_character_speaks_and_speech_continues_in_a_paragraph():
    text = '"Sit," Silas told Ivy. He poured. "Drink."\n"No," she said.'
    result = lines(text, "en", VOICES)
    assert result[0] == Line("Sit,", "en+m3", "Silas Venn")
    assert Line("Drink.", "en+m3", "Silas Venn") in result          # same paragraph: still Silas
    assert result[-1] == Line('"No," she said.', "en")               # new paragraph, no name


def test_a_character_without_a_voice_is_read_by_the_narrator_in_one_piece():
    result = lines('"Come in," Tam says.', "en", {"Tam Ashby": "", **VOICES})
    assert result == [Line('"Come in," Tam says.', "en")]


def test_unquoted_narration_naming_a_character_stays_with_the_narrator():
    assert lines("Ivy spits over the side.", "en", VOICES) == [Line("Ivy spits over the side.", "en")]


def test_every_word_is_read_once_in_order():
    text = ('The fog opens. "That\'s yours," Ivy says at last. "Dark four weeks now." '
            'Silas laughs. "Never," he says.')
    spoken = " ".join(line.text for line in lines(text, "en", VOICES))
    words = [word.strip('".,') for word in text.split()]
    assert [word.strip('".,') for word in spoken.split()] == words


def test_lines_of_streaming_text_are_never_taken_back():
    text = ('Ivy hauls the boat up the slip.\n\n"Five ships since spring," she says. "The Anna '
            'Lisle. The Merrow." Her thumb goes still. "Jory went the next night," Ivy says. '
            '"Left his tea on the table." Silas laughs. "Never."\n\nThe wind drops. "Keep the '
            'light lit." Ivy turns away. "Every night."')
    final = lines(text, "en", VOICES)
    seen = 0
    for end in range(1, len(text) + 1):
        partial = lines(text[:end], "en", VOICES, complete=False)
        assert partial == final[:len(partial)], text[:end]
        assert len(partial) >= seen
        seen = len(partial)
    assert len(final) - 4 <= seen < len(final)    # all but the last two sentences' lines
