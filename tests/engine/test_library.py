"""The Library: worlds and covers, save slots (details, thumbnails, delete and undo), cached
pictures and report files, read the way every front end reads them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import SaveError, WorldError
from engine.library import COVER_SIZE, Library, cover_prompt, cover_seed
from engine.painters.imagecache import cache_key
from engine.saves.store import SaveStore, SlotMeta, png_bytes

SHIPPED = Path(__file__).resolve().parents[2] / "assets" / "worlds"


class FlatPainter:
    """Paints one flat colour and counts its calls (the painter protocol)."""

    id, model, steps = "flat", "flat-v1", 1

    def __init__(self, colour=(10, 200, 30)):
        self.colour = colour
        self.calls = 0

    def paint(self, prompt, seed, size, on_progress=None):
        self.calls += 1
        return Image.new("RGB", size, self.colour)


class NoPainter(FlatPainter):
    id = "none"


def _slot(library: Library, name: str, saved_at: float, image_key: str = "",
          thumbnail: Image.Image | None = None) -> None:
    """A slot as a save leaves it: its details (meta.json) beside a snapshot."""
    meta = SlotMeta(name=name, saved_at=saved_at, turn=3, world="hollow_orbit",
                    world_title="Hollow Orbit", scene_title="The airlock", image_key=image_key)
    SaveStore(library.config.saves_dir).write_snapshot(
        name, {"format": "dreamreel-save"}, meta,
        png_bytes(thumbnail) if thumbnail is not None else None)


def test_importing_the_library_loads_no_story_or_picture_code():
    code = ("import sys, engine.library, engine; engine.Library; "
            "print(','.join(m for m in ('pygame', 'PIL', 'networkx', 'engine.saves.store', "
            "'engine.worlds.loading', 'engine.session.core') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_worlds_are_listed_once_with_a_broken_one_saying_why(config, tmp_path):
    worlds = tmp_path / "worlds"
    (worlds / "broken").mkdir(parents=True)
    (worlds / "broken" / "world.toml").write_text('title = "Broken\n')
    library = Library(config.with_changes(game={"worlds_dir": str(worlds)}))
    assert library.known_worlds is None
    entries = library.worlds()
    ids = [entry.id for entry in entries]
    assert ids == sorted(ids) and {"broken", "hollow_orbit", "lantern_coast"} <= set(ids)
    broken = entries[ids.index("broken")]
    assert broken.world is None and "world.toml" in broken.error and broken.title == "broken"
    playable = entries[ids.index("hollow_orbit")]
    world_id, world, error = playable
    assert world.title == "Hollow Orbit" == playable.title and error == ""
    assert library.known_worlds is entries and library.worlds() is entries     # loaded once
    assert ("hollow_orbit", "Hollow Orbit") in library.world_titles()
    assert library.worlds(reload=True) is not entries


def test_a_world_given_by_folder_comes_first(config, tmp_path):
    folder = tmp_path / "my_world"
    shutil.copytree(SHIPPED / "hollow_orbit", folder)
    library = Library(config.with_changes(game={"world": str(folder)}))
    assert library.world_ids()[0] == str(folder)
    assert library.load_world(str(folder)).root == folder.resolve()
    with pytest.raises(WorldError):
        library.load_world("no_such_world")


def test_a_cover_is_painted_once_then_read_from_the_cache(config):
    library = Library(config)
    world = library.load_world("hollow_orbit")
    painter = FlatPainter()
    cover = library.cover(world, painter=painter)
    assert cover.size == COVER_SIZE and cover.getpixel((5, 5)) == painter.colour
    again = Library(config).cover(world, painter=painter)      # another Library, same disk cache
    assert painter.calls == 1 and again.getpixel((5, 5)) == painter.colour
    key = cache_key("flat", "flat-v1", cover_prompt(world), "", cover_seed(world), COVER_SIZE, 1)
    assert library.picture(key) is not None
    assert world.spec.art_style in cover_prompt(world)
    assert library.cover(world, painter=NoPainter()) is None


def test_a_world_with_its_own_cover_picture_shows_it_unpainted(config, tmp_path):
    folder = tmp_path / "painted"
    shutil.copytree(SHIPPED / "hollow_orbit", folder)
    (folder / "images").mkdir()
    Image.new("RGB", (160, 90), (230, 20, 200)).save(folder / "images" / "cover.png")
    toml = folder / "world.toml"
    toml.write_text("\n".join('cover = "images/cover.png"' if line.startswith("cover =") else line
                              for line in toml.read_text().splitlines()))
    library = Library(config)
    painter = FlatPainter()
    cover = library.cover(library.load_world(str(folder)), (320, 180), painter)
    assert cover.size == (320, 180) and cover.getpixel((160, 90)) == (230, 20, 200)
    assert painter.calls == 0


def test_slots_newest_first_with_details_and_thumbnails(config):
    library = Library(config)
    assert library.slots() == [] and library.newest_slot() is None
    picture = Image.new("RGB", (64, 36), (200, 40, 40))
    key = cache_key("flat", "flat-v1", "a harbour", "", 1, (64, 36), 1)
    library.images.put(key, picture)
    _slot(library, "older", 100.0, thumbnail=Image.new("RGB", (64, 36), (0, 0, 250)))
    _slot(library, "newer", 200.0, image_key=key)
    (library.slots_dir / "damaged").mkdir()
    (library.slots_dir / "damaged" / "meta.json").write_text("{ not json")
    slots = library.slots()
    assert [name for meta, name, _ in slots if meta is not None] == ["newer", "older"]
    damaged = next(slot for slot in slots if slot[1] == "damaged")
    assert damaged[0] is None and damaged[2]
    name, meta = library.newest_slot()
    assert name == "newer" and meta.turn == 3 and meta.world_title == "Hollow Orbit"
    assert library.slot_exists("older") and not library.slot_exists("nobody")
    assert library.slot_meta("older").scene_title == "The airlock"
    assert library.slot_holder("older") is None
    assert library.thumbnail("older").getpixel((2, 2)) == (0, 0, 250)     # its thumb.png
    assert library.thumbnail("newer").getpixel((2, 2)) == (200, 40, 40)   # its scene's picture
    assert library.thumbnail("damaged") is None
    assert library.check_slot_name("my story") == "my story"
    with pytest.raises(SaveError):
        library.check_slot_name("../escape")


def test_a_deleted_slot_comes_back_with_undo(config):
    library = Library(config)
    _slot(library, "keepsake", 100.0)
    assert not library.can_undo_delete and library.undo_delete() is None
    library.delete_slot("keepsake")
    assert not library.slot_exists("keepsake") and library.can_undo_delete
    _slot(library, "keepsake", 300.0)                 # the name was taken again meanwhile
    with pytest.raises(SaveError, match="exists again"):
        library.undo_delete()
    assert library.can_undo_delete                    # still undoable once the name is free
    library.delete_slot("keepsake")                   # the newer one goes too
    assert library.undo_delete() == "keepsake" and library.slot_meta("keepsake").saved_at == 300
    assert library.can_undo_delete                    # the older one waits for its name
    with pytest.raises(SaveError):
        library.delete_slot("nobody")


def test_a_report_is_written_whole_or_says_why(config, tmp_path):
    from engine.evaluation import EvalError
    target = tmp_path / "deep" / "report.md"
    Library.write_report(target, "# walk\n")
    assert target.read_text() == "# walk\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(EvalError, match="Cannot write"):
        Library.write_report(tmp_path / "file" / "report.md", "text")
