"""`dreamreel export film|book|twee [SLOT]`: the save is only read; progress goes to stderr."""

from __future__ import annotations

import io

import pytest

from game.cli.main import main


@pytest.fixture
def played(tmp_path, monkeypatch):
    """A short game played in the terminal, autosaved in its own slot."""
    saves = tmp_path / "saves"
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n1\n2\n:quit\n"))
    assert main(["play", "--text", "--saves-dir", str(saves), "--painter", "none"]) == 0
    return saves


def test_a_twine_story_and_a_book_of_the_newest_slot(played, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "out" / "story.twee"
    assert main(["export", "twee", "--saves-dir", str(played), "--out", str(out),
                 "--format", "sugarcube"]) == 0
    printed = capsys.readouterr()
    assert str(out) in printed.out and "100%" in printed.err
    assert '"format":"SugarCube"' in out.read_text().replace(" ", "")
    book = tmp_path / "out" / "tale.html"
    assert main(["export", "book", "--saves-dir", str(played), "--out", str(book)]) == 0
    assert book.is_file() and book.with_suffix(".epub").is_file()


def test_a_missing_slot_is_a_clear_error(played, capsys):
    assert main(["export", "film", "no-such-story", "--saves-dir", str(played)]) == 2
    assert "no-such-story" in capsys.readouterr().err
