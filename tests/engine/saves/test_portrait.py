"""The player's portrait: checked like world pictures, kept in the slot folder, named by its
hash in the play state, and never needed to play on: a broken one is a clear message."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zlib

import pytest
from PIL import Image

from engine.errors import SaveError
from engine.saves.portrait import PORTRAIT_SIZE, load_portrait, read_portrait
from engine.session.core import Session
from engine.session.jobs import InlineRunner


def bomb_png(path, width=60_000, height=60_000):
    """A tiny PNG whose header claims a huge picture (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "me.jpg"
    Image.new("RGB", (1200, 800), (180, 40, 30)).save(path, "JPEG")
    return path


def test_a_portrait_is_checked_shrunk_and_named_by_its_hash(picture):
    digest, data = read_portrait(picture)
    assert digest == hashlib.sha256(data).hexdigest()
    with Image.open(__import__("io").BytesIO(data)) as image:
        assert image.format == "PNG" and max(image.size) == PORTRAIT_SIZE


@pytest.mark.parametrize("make, problem", [
    (lambda p: p, "does not exist"),
    (lambda p: (p.write_text("not a picture"), p)[1], "not a PNG, JPEG or WebP"),
    (bomb_png, "decompression bomb"),
])
def test_a_broken_portrait_is_refused_naming_the_file(tmp_path, make, problem):
    path = make(tmp_path / "face.png")
    with pytest.raises(SaveError, match=problem) as err:
        read_portrait(path)
    assert "face.png" in str(err.value) and "without a portrait" in str(err.value)


def test_the_portrait_is_kept_in_the_slot_and_saved_by_hash(config, picture):
    config = config.with_changes(game={"painter": "none"})
    session = Session.new(config, runner=InlineRunner(),
                          player={"name": "Mira", "pronouns": "she/her",
                                  "look": "tall, red cloak", "portrait": str(picture)})
    try:
        session.wait()
        digest = session.player().portrait
        folder = session.store.slot_dir(session.slot)
        assert (folder / f"portrait-{digest}.png").is_file()
        assert session.portrait().size == (PORTRAIT_SIZE, PORTRAIT_SIZE * 2 // 3)
        session.choose(0)
        session.wait()
        assert session.flush_saves()
        slot = session.slot
    finally:
        session.close()
    picture.unlink()                                   # the slot has its own copy
    again = Session.resume(config, slot, runner=InlineRunner())
    try:
        hero = again.player()
        assert (hero.name, hero.pronouns, hero.look) == ("Mira", "she/her", "tall, red cloak")
        assert again.portrait() is not None and again.play.portrait == digest
        again.save("copy")                              # another slot gets its own copy too
        assert (again.store.slot_dir("copy") / f"portrait-{digest}.png").is_file()
    finally:
        again.close()


def test_a_broken_portrait_is_an_error_event_and_the_story_goes_on(config, tmp_path):
    config = config.with_changes(game={"painter": "none"})
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    session = Session.new(config, runner=InlineRunner(),
                          player={"name": "Mira", "portrait": str(broken)})
    try:
        events = session.wait()
        errors = [str(e.payload) for e in events if e.kind.name == "ERROR"]
        assert any("broken.png" in e and "without a portrait" in e for e in errors), errors
        assert session.player().portrait == "" and session.portrait() is None
        assert session.player().name == "Mira" and session.scene().current is not None
    finally:
        session.close()


def test_a_portrait_file_that_does_not_match_its_hash_is_not_shown(config, picture):
    config = config.with_changes(game={"painter": "none"})
    session = Session.new(config, runner=InlineRunner(), player={"portrait": str(picture)})
    try:
        session.wait()
        digest, folder = session.play.portrait, session.store.slot_dir(session.slot)
    finally:
        session.close()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(folder / f"portrait-{digest}.png")
    assert load_portrait(folder, digest) is None
    assert json.loads((folder / "meta.json").read_text())   # the slot itself is untouched
    shutil.rmtree(folder)
