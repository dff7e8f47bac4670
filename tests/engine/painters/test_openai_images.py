"""The openai-images painter against a fake OpenAI-compatible images server on 127.0.0.1:
real requests, real PNG / JPEG answers, a Session playing with it, a dead server, garbage."""

import pytest
from PIL import Image

from engine.errors import PainterError
from engine.events import EventKind
from engine.painters import make_painter
from engine.painters.imagecache import ImageCache, cache_key
from engine.painters.openai_images import OpenAIImagesPainter
from engine.painters.procedural.painter import ProceduralPainter
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.story.graph import READY
from tests.support.fake_images_server import FakeImages, closed_port_url, prompt_colours

SIZE = (128, 72)
FAST = "?retries=1&backoff=0.01&timeout=10"      # a dead server fails within milliseconds
STANDARD_FIELDS = {"model", "prompt", "n", "size", "response_format"}


@pytest.fixture
def server():
    with FakeImages() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("DREAMREEL_OPENAI_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def painter_for(url: str, model: str = "sd-turbo", options: str = FAST, **kwargs):
    return make_painter(f"openai-images:{model}@{url}{options}", **kwargs)


def play_config(config, url: str, model: str = "sd-turbo"):
    return config.with_changes(
        game={"painter": f"openai-images:{model}@{url}{FAST}", "world": "lantern_coast"},
        images={"width": SIZE[0], "height": SIZE[1]}, prefetch={"images": False})


def top_colour(image: Image.Image) -> tuple[int, int, int]:
    return image.convert("RGB").getpixel((image.width // 2, 0))


def messages(events, kind=EventKind.ERROR) -> list[str]:
    return [e.payload for e in events if e.kind == kind]


# -- painting -------------------------------------------------------------------------------
def test_a_picture_is_asked_for_with_the_model_prompt_size_and_seed(server):
    painter = painter_for(server.url, options=FAST + "&steps=4&negative_prompt=blurry")
    image = painter.paint("a lighthouse at dusk", 1234, SIZE)
    assert image.mode == "RGB" and image.size == SIZE
    assert top_colour(image) == pytest.approx(prompt_colours("a lighthouse at dusk")[0], abs=3)
    (body,) = server.generations
    assert body == {"model": "sd-turbo", "prompt": "a lighthouse at dusk", "n": 1,
                    "size": "128x72", "response_format": "b64_json", "seed": 1234,
                    "steps": 4, "step": 4, "negative_prompt": "blurry"}


def test_only_the_text_prompt_and_numbers_leave_the_machine(server):
    painter_for(server.url).paint("a harbour", 7, SIZE)
    (body,) = server.generations
    assert set(body) <= STANDARD_FIELDS | {"seed", "steps", "step", "negative_prompt"}
    assert all(isinstance(v, (int, str)) for v in body.values())
    assert body["prompt"] == "a harbour"


def test_a_picture_of_another_size_or_format_is_fitted_to_the_size_asked(config):
    with FakeImages(image_format="JPEG", fixed_size=(64, 64)) as fake:
        image = painter_for(fake.url).paint("a cliff", 1, SIZE)
    assert image.size == SIZE and image.mode == "RGB"


def test_the_size_option_asks_the_server_for_its_own_size_and_keys_apart(server):
    fixed = painter_for(server.url, options=FAST + "&size=512x512")
    image = fixed.paint("a cliff", 1, SIZE)
    assert server.generations[-1]["size"] == "512x512" and image.size == SIZE
    assert fixed.model != painter_for(server.url).model


def test_a_url_answer_is_fetched_from_the_same_server(config):
    with FakeImages(mode="url") as fake:
        image = painter_for(fake.url).paint("a bell", 3, SIZE)
        assert [r["path"] for r in fake.requests] == ["/v1/images/generations",
                                                      "/generated-images/0.png"]
    assert top_colour(image) == pytest.approx(prompt_colours("a bell")[0], abs=3)


def test_a_data_url_answer_is_read(config):
    with FakeImages(mode="data_url") as fake:
        assert painter_for(fake.url).paint("a bell", 3, SIZE).size == SIZE


def test_a_url_on_another_host_is_refused_and_not_fetched(config):
    with FakeImages(mode="url_elsewhere") as fake:
        with pytest.raises(PainterError, match=r"another server.*refused") as err:
            painter_for(fake.url).paint("a bell", 3, SIZE)
    assert fake.url in str(err.value) and "images.example.invalid" in str(err.value)


def test_the_api_key_is_sent_as_a_bearer_token(monkeypatch):
    with FakeImages(api_key="sekret") as fake:
        with pytest.raises(PainterError, match="refused the API key.*DREAMREEL_OPENAI_KEY"):
            painter_for(fake.url).paint("a bell", 3, SIZE)
        assert "Authorization" not in fake.requests[0]["headers"]
        monkeypatch.setenv("DREAMREEL_OPENAI_KEY", "sekret")
        assert painter_for(fake.url).paint("a bell", 3, SIZE).size == SIZE
        assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sekret"


def test_a_busy_server_is_asked_again(config):
    with FakeImages(fail_first=1) as fake:
        assert painter_for(fake.url).paint("a bell", 3, SIZE).size == SIZE
    assert len(fake.generations) == 2


def test_a_server_that_refuses_the_extra_fields_is_asked_without_them(config):
    with FakeImages(refuse_extras=True) as fake:
        painter = painter_for(fake.url)
        painter.paint("a bell", 3, SIZE)
        painter.paint("a cliff", 4, SIZE)
    first, second, third = fake.generations
    assert "seed" in first and set(second) == set(third) == STANDARD_FIELDS


def test_localai_reads_the_negative_prompt_after_a_bar(server):
    painter_for(server.url, options=FAST + "&negative_prompt=blurry&negative_in_prompt=true"
                ).paint("a bell | a tower", 3, SIZE)
    body = server.generations[0]
    assert body["prompt"] == "a bell   a tower|blurry" and "negative_prompt" not in body


def test_an_unknown_model_is_named(server):
    with pytest.raises(PainterError, match="no model 'sdxl'"):
        painter_for(server.url, model="sdxl").paint("a bell", 3, SIZE)


# -- garbage --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, problem", [
    ("not_json", "not JSON"),
    ("no_data", "without a picture"),
    ("not_an_image", "not a PNG, JPEG or WebP picture"),
    ("bomb", "5000 x 5000 pixels.*decompression bomb.*refused without decoding"),
    ("huge_bomb", "a decompression bomb.*refused"),
    ("error", "failed: CUDA out of memory"),
])
def test_garbage_answers_are_clear_painter_errors(mode, problem):
    huge = mode == "huge_bomb"          # past PIL's own limit as well
    with FakeImages(mode="bomb" if huge else mode,
                    bomb_size=(50_000, 50_000) if huge else (5000, 5000)) as fake:
        with pytest.raises(PainterError, match=problem) as err:
            painter_for(fake.url).paint("a bell", 3, SIZE)
    assert fake.url in str(err.value)


def test_a_dead_server_is_named_with_what_to_do():
    url = closed_port_url()
    with pytest.raises(PainterError) as err:
        painter_for(url).paint("a bell", 3, SIZE)
    message = str(err.value)
    assert url in message and "connection refused" in message
    assert "Is it running" in message and "--painter procedural" in message


# -- specs and cache keys -------------------------------------------------------------------
def test_specs_name_the_server_model_and_host_in_the_cache_key():
    one = make_painter("openai-images:sd-turbo@http://127.0.0.1:8080/v1")
    other = make_painter("openai-images:sd-turbo@http://10.0.0.2:8080/v1")
    assert isinstance(one, OpenAIImagesPainter) and one.id == "openai-images"
    assert one.model == "sd-turbo@127.0.0.1:8080/v1" and one.endpoint.endswith(
        "/v1/images/generations")
    key = [cache_key(p.id, p.model, "a bell", p.negative_prompt, 3, SIZE, p.steps)
           for p in (one, other)]
    assert key[0] != key[1]
    configured = make_painter("openai-images:sd-turbo@http://h:1/v1?timeout=5", steps=4,
                              content_filter="standard")
    assert configured.steps == 4 and configured.options.timeout == 5.0


@pytest.mark.parametrize("spec, problem", [
    ("openai-images:sd-turbo", "needs a server"),
    ("openai-images:@http://127.0.0.1:1/v1", "needs a server"),
    ("openai-images:sd@http://h:port/v1", "Use --painter openai-images:<model>@<base url>"),
    ("openai-images:sd@http://h/v1?colour=red", "Unknown openai-images painter option 'colour'"),
    ("openai-images:sd@http://h/v1?timeout=soon", "timeout='soon' is not a valid float"),
    ("openai-images:sd@http://h/v1?size=big", "WIDTHxHEIGHT"),
])
def test_bad_specs_say_what_is_wrong(spec, problem):
    with pytest.raises(PainterError, match=problem):
        make_painter(spec)


# -- a Session plays with it ----------------------------------------------------------------
def test_ten_turns_fill_the_cache_and_a_second_visit_asks_nothing(config, server):
    config = play_config(config, server.url)
    session = Session.new(config, runner=InlineRunner(), slot="remote")
    cache = ImageCache(config.saves_dir / "cache")
    try:
        events = session.wait(images=True)
        visited = [session.current]
        for _ in range(10):
            session.choose(0)
            events += session.wait(images=True)
            visited.append(session.current)
        assert not messages(events) and session.turn == 10
        painter = session.painter
        for node in visited:
            key = session.image_key(node)
            assert session.scene(node).current.image_key == key and cache.contains(key)
            assert session.image(node) is not None
        prompts = [body["prompt"] for body in server.generations]
        assert prompts == [session.image_prompt(node) for node in visited]
        assert {body["model"] for body in server.generations} == {"sd-turbo"}
        assert {body["size"] for body in server.generations} == {"128x72"}
        assert painter.model == f"sd-turbo@{server.url.removeprefix('http://')}"
        asked = len(server.requests)
        assert session.back()
        session.wait(images=True)
        assert len(server.requests) == asked
        session.flush_saves()
    finally:
        session.close()
    again = Session.resume(config, "remote", runner=InlineRunner())   # nothing in memory
    try:
        again.request_image()
        again.wait(images=True)
        assert again.image() is not None and len(server.requests) == asked
    finally:
        again.close()


def test_a_dead_server_shows_the_procedural_picture_with_one_message(config):
    url = closed_port_url()
    config = play_config(config, url)
    session = Session.new(config, runner=InlineRunner())
    try:
        events = session.wait(images=True)
        for _ in range(3):
            session.choose(0)
            events += session.wait(images=True)
        assert session.turn == 3 and session.scene().status == READY
        (message,) = messages(events)
        assert url in message and "painter failed" in message
        assert "built-in pictures" in message and "--painter procedural" in message
        scene = session.scene()
        shown = session.image()
        expected = ProceduralPainter().paint(session.image_prompt(), scene.current.seed, SIZE)
        assert shown.tobytes() == expected.tobytes()
        assert scene.current.image_key != session.image_key()     # not the failed painter's key
        assert not session.cache.contains(session.image_key())
    finally:
        session.close()


def test_pictures_are_painted_properly_once_the_server_is_back(config):
    with FakeImages(fail_first=10_000) as fake:
        session = Session.new(play_config(config, fake.url), runner=InlineRunner())
        try:
            events = session.wait(images=True)
            session.choose(0)
            events += session.wait(images=True)
            assert len(messages(events)) == 1 and "failed 2 times: HTTP 503" in messages(events)[0]
            stand_in = session.scene().current.image_key
            fake.fail_first = 0                                  # the server is back
            session.back()
            session.choose(0)                                    # the same scene again
            events = session.wait(images=True)
            assert not messages(events)
            key = session.image_key()
            assert session.scene().current.image_key == key != stand_in
            assert session.cache.contains(key)
            assert top_colour(session.image()) == pytest.approx(
                prompt_colours(session.image_prompt())[0], abs=3)
            fake.fail_first = 10_000                             # and down again: said again
            session.choose(0)
            events = session.wait(images=True)
            assert len(messages(events)) == 1
        finally:
            session.close()


def test_while_the_server_is_down_only_the_current_scene_asks_it(config):
    with FakeImages(fail_first=10_000) as fake:
        config = play_config(config, fake.url).with_changes(prefetch={"images": True})
        session = Session.new(config, runner=InlineRunner())
        try:
            session.wait(images=True)
            for _ in range(3):
                session.poll()                                   # prefetch tells and paints
            ahead = [s for s in session.choices() if s.status == READY]
            assert ahead and all(session.image(s.id) is not None for s in ahead)
            assert len(fake.generations) == 2                    # one scene, two tries
            session.choose(0)
            session.wait(images=True)
            assert len(fake.generations) == 4                    # the scene arrived at asks again
        finally:
            session.close()
