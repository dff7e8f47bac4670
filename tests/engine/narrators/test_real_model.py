"""The transformers narrator on a real model: SmolLM2-135M-Instruct from its GGUF file.

Random weights only prove that every draft parses. These tests play real scenes with the first
real instruct model a player might try, loaded the way a player loads it
(`--narrator transformers:<file.gguf>`), and check what a player would notice: choices cut to
stubs, titles with markup, the prompt copied into the story, loops, narration out of range.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("llguidance")
pytest.importorskip("gguf")

# Converts and runs a real 135M model (minutes on a CPU): `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

from engine.evaluation.metrics import longest_shared_run, repeated_ngram_share, words  # noqa: E402
from engine.session.jobs import InlineRunner  # noqa: E402
from engine.narrators.gguf import CONVERTED_MARK, converted_folder  # noqa: E402
from engine.narrators.shaping import OVERRUN_WORDS, shape_for  # noqa: E402
from engine.session.core import Session  # noqa: E402

from tests.support.llm_fixtures import smollm2_gguf, smollm2_narrator

__all__ = ["smollm2_narrator"]   # a fixture, used by name

SCRIPT = ["1", "I search the rocks below the quay for the lost bell", "2"]


def _wait(session: Session) -> None:
    """Tell the current scene: the inline runner does the queued work inside poll()."""
    for _ in range(10):
        if session.scene().status in ("ready", "failed"):
            break
        session.poll()
    assert session.scene().status in ("ready", "failed"), "the scene was never told"
    session.poll()


@pytest.fixture(scope="module")
def played(smollm2_narrator, tmp_path_factory):
    """Three turns on The Lantern Coast after its authored opening: a choice, a typed action,
    a choice. Returns the world and [(scene, the narrator's prompt, its choices' labels)]."""
    from engine.config import load_config
    saves = tmp_path_factory.mktemp("real-model-saves")
    config = load_config(use_user_file=False).with_changes(
        game={"world": "lantern_coast", "painter": "none", "saves_dir": str(saves), "seed": 29},
        prefetch={"enabled": False})
    session = Session.new(config, narrator=smollm2_narrator, runner=InlineRunner())
    _wait(session)
    scenes = []
    for line in SCRIPT:
        if line.isdigit():
            session.choose(min(int(line), len(session.choices())) - 1)
        else:
            session.act(line)
        _wait(session)
        scene = session.scene()
        assert scene.status == "ready", scene.error
        labels = [choice.label for choice in session.choices()]
        scenes.append((scene, session.prompt_for(scene.id)["prompt"], labels))
    session.close()
    return session.world, scenes


def test_the_gguf_file_is_converted_once_into_a_cached_folder(smollm2_narrator, monkeypatch):
    import engine.narrators.gguf as gguf
    from engine.narrators import make_narrator
    monkeypatch.setenv("DREAMREEL_CACHE", str(smollm2_narrator.test_cache_dir))
    folder = converted_folder(smollm2_gguf())
    assert (folder / CONVERTED_MARK).exists() and (folder / "config.json").exists()

    def no_second_conversion(*_args):
        raise AssertionError("the GGUF file was read again instead of its converted folder")
    monkeypatch.setattr(gguf, "_read_gguf", no_second_conversion)
    again = make_narrator(f"transformers:{smollm2_gguf()}")
    again.load()
    assert again.sampling == smollm2_narrator.sampling      # 135M parameters: small preset
    assert again.sampling.dry_multiplier > 0


def test_real_scenes_are_well_formed(played):
    world, scenes = played
    shape = shape_for(world)
    for scene, _, labels in scenes:
        assert 1 <= len(scene.title.split()) <= 8, scene.title
        assert not set(scene.title) & set("(){}[]<>#*|\":;"), scene.title
        count = len(words(scene.current.narration))
        assert shape.min_words * 0.8 <= count <= shape.max_words + OVERRUN_WORDS + 10, count
        assert 2 <= len(labels) <= 4, labels
        assert all(len(label) >= 6 and len(label.split()) >= 2 for label in labels), labels


def test_real_scenes_never_copy_the_prompt_or_loop(played):
    _, scenes = played
    earlier: list[list[str]] = []
    for scene, prompt, _ in scenes:
        told = words(scene.current.narration)
        from_prompt = longest_shared_run(told, [words(prompt)])
        assert from_prompt.length < 12, f"copied from the prompt: {from_prompt}"
        if earlier:
            from_scenes = longest_shared_run(told, earlier)
            assert from_scenes.length < 12, f"copied from an earlier scene: {from_scenes}"
        assert repeated_ngram_share(told) <= 0.15, scene.current.narration
        earlier.append(told)
