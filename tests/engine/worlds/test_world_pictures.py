"""Hand-made pictures a world ships in images/ are shown in place of painted ones."""

import shutil

import pytest
from PIL import Image

from engine.errors import WorldError
from engine.worlds.pictures import fill, load_world_picture, shipped_picture
from engine.session.jobs import InlineRunner
from engine.session.core import Session
from engine.worlds.loading import BUILTIN_WORLDS, load_world

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


# -- declared pictures: a storylet's `picture` and world.toml's [locations.*] -------------------
@pytest.fixture
def coast_dir(tmp_path):
    root = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", root)
    return root


def test_the_shipped_worlds_declare_their_locations():
    coast, orbit = load_world("lantern_coast"), load_world("hollow_orbit")
    assert coast.problems == [] and orbit.problems == []
    assert {"harbour", "moor", "lighthouse", "caves", "flats", "sea"} <= set(coast.spec.locations)
    assert coast.location_picture("lighthouse") == "[location place=lighthouse lights=unlit]"
    assert {"cryo_bay", "bridge", "airlock", "hydroponics", "reactor"} <= set(orbit.spec.locations)
    assert coast.location_picture("nowhere") == ""


def test_the_scene_and_its_location_reach_the_painter_and_the_cache_key(config, coast_dir):
    session = new_session(config, coast_dir)
    prompt = session.image_prompt()
    # the storylet's own declaration first (a long prompt's cut never drops it), the location's last
    assert prompt.startswith("[picture place=harbour time=dawn weather=fog lights=unlit] ")
    assert prompt.endswith("[location place=harbour]")
    key = session.image_key()
    world_toml = coast_dir / "world.toml"
    world_toml.write_text(world_toml.read_text().replace(
        '[locations.harbour]\nplace = "harbour"', '[locations.harbour]\nplace = "harbour"\ntime = "night"'))
    fresh = new_session(config, coast_dir)
    assert fresh.image_prompt().endswith("[location place=harbour time=night]")
    assert fresh.image_key() != key                  # what changes the picture changes its key


def test_a_bad_declaration_names_the_file_field_and_the_places_allowed(coast_dir):
    world_toml = coast_dir / "world.toml"
    world_toml.write_text(world_toml.read_text().replace('place = "moor"', 'place = "moon"'))
    with pytest.raises(WorldError) as caught:
        load_world(str(coast_dir))
    assert "world.toml" in str(caught.value) and "locations.moor.place" in str(caught.value)
    assert "harbour" in str(caught.value)


def test_a_storylets_declaration_is_checked_too(coast_dir):
    moor = coast_dir / "storylets" / "moor.toml"
    moor.write_text(moor.read_text().replace('time = "afternoon"', 'time = "teatime"', 1))
    world = load_world(str(coast_dir))
    assert any("storylets/moor.toml" in str(p) and "time" in str(p) for p in world.problems)
