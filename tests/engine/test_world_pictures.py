"""Hand-made pictures a world ships in images/ are shown in place of painted ones."""

import shutil

import pytest
from PIL import Image

from engine.images import fill, load_world_picture, shipped_picture
from engine.jobs import InlineRunner
from engine.session import Session
from engine.worlds import BUILTIN_WORLDS, load_world

ARRIVAL_IMAGE = ('image = "small rowing boat approaching a black stone harbour through thick sea '
                 'fog at grey dawn, a dark lighthouse faint on the cliff above"')


@pytest.fixture
def world_dir(tmp_path):
    """The Lantern Coast with a two-colour picture for its first scene and for its cover."""
    root = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", root)
    (root / "images").mkdir()
    picture = Image.new("RGB", (400, 100), (200, 30, 30))      # red, with blue side bands
    picture.paste((20, 40, 220), (0, 0, 50, 100))
    picture.paste((20, 40, 220), (350, 0, 400, 100))
    picture.save(root / "images" / "arrival.png")
    harbour = root / "storylets" / "harbour.toml"
    text = harbour.read_text()
    assert ARRIVAL_IMAGE in text
    harbour.write_text(text.replace(ARRIVAL_IMAGE, 'image = "images/arrival.png"', 1))
    world_toml = root / "world.toml"
    world_toml.write_text("\n".join('cover = "images/arrival.png"' if line.startswith("cover =")
                                    else line for line in world_toml.read_text().splitlines()))
    return root


def new_session(config, world_dir, painter="procedural"):
    session = Session.new(config.with_changes(game={"world": str(world_dir), "painter": painter},
                                              images={"width": 320, "height": 180}),
                          runner=InlineRunner())
    session.wait(images=True)
    return session


def test_a_scene_naming_a_picture_shows_it_instead_of_a_painted_one(config, world_dir):
    world = load_world(str(world_dir))
    assert world.problems == []
    session = new_session(config, world_dir)
    assert session.shipped_picture() == "images/arrival.png"
    image = session.image()
    assert image is not None and image.size == (320, 180)
    # 400x100 scaled to 720x180 and centre-cropped: the blue bands are cut away, all red is left
    assert image.getpixel((0, 90)) == (200, 30, 30)
    assert image.getpixel((319, 0)) == (200, 30, 30)
    assert session.scene().current.image_key == session.image_key()


def test_other_scenes_are_still_painted(config, world_dir):
    session = new_session(config, world_dir)
    session.choose(0)
    session.wait(images=True)
    assert session.shipped_picture() is None
    colours = session.image().getcolors(maxcolors=100_000)
    assert colours is None or len(colours) > 50                 # a painted scene, not a flat fill


def test_editing_the_picture_shows_the_new_version(config, world_dir):
    session = new_session(config, world_dir)
    old_key = session.image_key()
    Image.new("RGB", (64, 36), (10, 200, 10)).save(world_dir / "images" / "arrival.png")
    assert session.image_key() != old_key
    session.request_image(session.current)
    session.wait(images=True)
    assert session.image().getpixel((160, 90)) == (10, 200, 10)


def test_no_pictures_when_the_player_turned_them_off(config, world_dir):
    session = new_session(config, world_dir, painter="none")
    assert session.image() is None


def test_a_missing_or_refused_picture_is_reported_and_the_scene_is_painted(config, world_dir):
    (world_dir / "images" / "arrival.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    world = load_world(str(world_dir))
    messages = [str(p) for p in world.problems]
    assert any(m.startswith("images/arrival.png") for m in messages), messages
    assert shipped_picture(world, "images/arrival.png") is None
    session = new_session(config, world_dir)
    assert session.shipped_picture() is None
    assert session.image() is not None                          # painted from the words instead


def test_cover_and_descriptions(world_dir):
    world = load_world(str(world_dir))
    assert shipped_picture(world, world.spec.cover) == "images/arrival.png"
    assert shipped_picture(world, "a lighthouse at dusk") is None
    assert shipped_picture(world, "images/../../etc/passwd.png") is None
    cover = load_world_picture(world, "images/arrival.png", (100, 100))
    assert cover.size == (100, 100) and cover.getpixel((50, 50)) == (200, 30, 30)


def test_fill_keeps_the_centre_and_exact_size():
    wide = Image.new("RGBA", (300, 100), (0, 0, 0, 255))
    wide.paste((255, 255, 255, 255), (100, 0, 200, 100))
    out = fill(wide, (64, 64))
    assert out.mode == "RGB" and out.size == (64, 64)
    assert out.getpixel((32, 32)) == (255, 255, 255)
