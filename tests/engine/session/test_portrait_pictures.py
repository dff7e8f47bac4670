"""The player's portrait reaches only painters that declare they take one, only for scenes that
show the player, and is part of those pictures' cache keys; every other key is as before."""

from __future__ import annotations

from PIL import Image

from engine.events import EventKind
from engine.painters import NOTICE_KEY, make_painter, takes_portrait
from engine.painters.imagecache import cache_key
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.story.persona import in_frame

LOOK = "tall, silver hair, a crimson hooded cloak"
SETTINGS = "ip_adapter=tiny;weight=w.safetensors;subfolder=;scale=0.6"


class LikenessPainter:
    """Takes the portrait: paints its top-left colour (or grey without one), records calls."""

    id, model, steps = "likeness", "tiny-model", 1
    takes_portrait = True
    likeness_key = SETTINGS
    note = ""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def paint(self, prompt, seed, size, on_progress=None, portrait=None):
        self.calls.append((prompt, portrait))
        image = Image.new("RGB", size, portrait.getpixel((0, 0)) if portrait else (90, 90, 90))
        if self.note and portrait is not None:
            image.info[NOTICE_KEY] = self.note
        return image


class TextOnlyPainter:
    """Declares nothing: paint() has no portrait argument, so passing one would fail."""

    id, model, steps = "text-only", "m", 1

    def __init__(self):
        self.calls = 0

    def paint(self, prompt, seed, size, on_progress=None):
        self.calls += 1
        return Image.new("RGB", size, (1, 2, 3))


def portrait_file(tmp_path, colour, name="me.png"):
    path = tmp_path / name
    Image.new("RGB", (48, 48), colour).save(path)
    return path


def start(config, tmp_path, painter, colour=(200, 30, 30)):
    config = config.with_changes(images={"width": 64, "height": 64}, prefetch={"images": False})
    return Session.new(config, painter=painter, runner=InlineRunner(),
                       player={"name": "Mira", "look": LOOK,
                               "portrait": str(portrait_file(tmp_path, colour))})


def play_until_both(session, turns=14):
    """Nodes whose picture shows the player, and nodes whose picture does not."""
    shown, empty = [], []
    session.wait(images=True)
    for turn in range(turns):
        version = session.scene().current
        (shown if in_frame(session.player(), version.image_prompt, version.narration)
         else empty).append(session.current)
        if shown and empty:
            break
        session.choose(turn % 2 if len(session.choices()) > 1 else 0)
        session.wait(images=True)
    assert shown and empty, "no scene showed the player, or every scene did"
    return shown, empty


def plain_key(session, node, model):
    painter, scene = session.painter, session.scene(node)
    return cache_key(painter.id, model, session.image_prompt(node), "", scene.current.seed,
                     (64, 64), painter.steps)


def test_a_portrait_painter_gets_the_portrait_in_frame_and_the_key_names_it(config, tmp_path):
    painter = LikenessPainter()
    session = start(config, tmp_path, painter)
    try:
        shown, empty = play_until_both(session)
        digest = session.player().portrait
        assert len(digest) == 64
        for node in shown:
            assert session.pictures.image_key(node) == plain_key(
                session, node, f"tiny-model|portrait={digest}|{SETTINGS}")
        for node in empty:       # not in frame: exactly the key pictures always had
            assert session.pictures.image_key(node) == plain_key(session, node, "tiny-model")
        given = {prompt: portrait for prompt, portrait in painter.calls}
        assert given[session.image_prompt(shown[0])].getpixel((0, 0)) == (200, 30, 30)
        assert given[session.image_prompt(empty[0])] is None
        assert session.image(shown[0]).getpixel((0, 0)) == (200, 30, 30)

        before = session.pictures.image_key(shown[0])
        session.set_player(portrait=str(portrait_file(tmp_path, (20, 40, 220), "other.png")))
        assert session.player().portrait != digest
        assert session.pictures.image_key(shown[0]) != before      # another face, another key
        session.set_player(portrait="")
        assert session.pictures.image_key(shown[0]) == plain_key(session, shown[0], "tiny-model")
    finally:
        session.close()


def test_without_adapter_settings_the_key_stays_as_before(config, tmp_path):
    painter = LikenessPainter()
    painter.likeness_key = ""       # takes the portrait, but it changes nothing
    session = start(config, tmp_path, painter)
    try:
        shown, _ = play_until_both(session)
        assert session.pictures.image_key(shown[0]) == plain_key(session, shown[0], "tiny-model")
    finally:
        session.close()


def test_painters_that_do_not_declare_it_never_get_the_portrait(config, tmp_path):
    painter = TextOnlyPainter()
    session = start(config, tmp_path, painter)
    try:
        shown, _ = play_until_both(session)
        assert painter.calls and not [e for e in session.poll() if e.kind == EventKind.ERROR]
        assert session.pictures.portrait_for(shown[0]) is None
        assert session.pictures.image_key(shown[0]) == plain_key(session, shown[0], "m")
    finally:
        session.close()
    server = make_painter("openai-images:sd-turbo@http://127.0.0.1:9/v1")
    assert not takes_portrait(server) and not takes_portrait(make_painter("procedural"))


def test_a_painter_that_paints_from_the_text_only_says_so_once(config, tmp_path):
    painter = LikenessPainter()
    painter.note = "The image model paints the player from the text look only."
    config = config.with_changes(images={"width": 64, "height": 64}, prefetch={"images": False})
    session = Session.new(config, painter=painter, runner=InlineRunner(),
                          player={"name": "Mira", "look": LOOK,
                                  "portrait": str(portrait_file(tmp_path, (5, 5, 5)))})
    try:
        notes = [e for e in session.wait(images=True) if e.payload == painter.note]
        shown = 0
        for turn in range(12):
            session.choose(turn % 2 if len(session.choices()) > 1 else 0)
            notes += [e for e in session.wait(images=True) if e.payload == painter.note]
            version = session.scene().current
            shown += in_frame(session.player(), version.image_prompt, version.narration)
        assert shown >= 2
        assert len(notes) == 1 and notes[0].kind == EventKind.NOTICE
    finally:
        session.close()


def test_an_export_paints_a_missing_picture_with_the_portrait_as_play_would(config, tmp_path):
    from engine.export.story import scene_picture

    painter = LikenessPainter()
    session = start(config, tmp_path, painter)
    try:
        shown, _ = play_until_both(session)
        key = session.pictures.image_key(shown[0])
        session.cache.path_for(key).unlink()                     # the cache lost it
        picture = scene_picture(session, shown[0], (32, 32))
        assert painter.calls[-1][1] is not None                   # painted with the portrait
        assert picture.getpixel((5, 5)) == (200, 30, 30)
        assert session.cache.get(key).getpixel((0, 0)) == (200, 30, 30)
    finally:
        session.close()
