"""`dreamreel models list / pull`: the recommended table, the local cache, offline downloads."""

from __future__ import annotations

import io

import pytest

from engine.models import (RECOMMENDED, hub_cache_dir, is_cached, kind_of, list_models,
                           pull_model)


def fake_snapshot(cache, repo_id: str) -> None:
    folder = cache / ("models--" + repo_id.replace("/", "--")) / "snapshots" / "abc123"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return tmp_path / "hf" / "hub"


def test_the_table_is_data_with_kinds():
    assert {entry.kind for entry in RECOMMENDED} == {"narrator", "painter", "music", "voice"}
    ids = [entry.repo_id for entry in RECOMMENDED]
    assert "Qwen/Qwen2.5-0.5B-Instruct" in ids and "meta-llama/Llama-3.2-1B-Instruct" in ids
    assert kind_of("facebook/musicgen-small") == "music"
    assert kind_of("facebook/mms-tts-eng") == "voice"
    assert len(ids) == len(set(ids))


def test_list_marks_cached_models_and_honours_hf_home(hf_home):
    fake_snapshot(hf_home, "Qwen/Qwen2.5-1.5B-Instruct")
    fake_snapshot(hf_home, "someone/custom-model")
    assert hub_cache_dir() == hf_home and is_cached("Qwen/Qwen2.5-1.5B-Instruct")
    out = io.StringIO()
    assert list_models(out) == 0
    lines = out.getvalue().splitlines()
    row = next(line for line in lines if "Qwen2.5-1.5B-Instruct" in line)
    assert " yes " in row
    other = next(line for line in lines if "Qwen2.5-0.5B-Instruct" in line)
    assert " yes " not in other
    assert "Also in your cache: someone/custom-model" in out.getvalue()
    assert str(hf_home) in out.getvalue()
    assert "Offline mode" in out.getvalue()          # tests run with HF_HUB_OFFLINE=1


def test_list_filters_by_kind(hf_home):
    out = io.StringIO()
    assert list_models(out, kind="painter") == 0
    assert "narrator models" not in out.getvalue()
    assert list_models(io.StringIO(), kind="sculptor") == 2


def test_pull_is_refused_clearly_when_offline(hf_home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = io.StringIO()
    assert pull_model("Qwen/Qwen2.5-0.5B-Instruct", out) == 1
    assert "offline" in out.getvalue() and "HF_HUB_OFFLINE" in out.getvalue()
    fake_snapshot(hf_home, "Qwen/Qwen2.5-0.5B-Instruct")
    out = io.StringIO()
    assert pull_model("Qwen/Qwen2.5-0.5B-Instruct", out) == 0
    assert "already in the cache" in out.getvalue()


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "a/b/c", "has space/x"])
def test_pull_refuses_ids_that_are_not_hub_ids(bad):
    out = io.StringIO()
    assert pull_model(bad, out) == 2
    assert "not a Hugging Face model id" in out.getvalue()


def test_painter_models_are_listed_and_pulled_as_pipelines(monkeypatch, tmp_path):
    import io
    import engine.models as models
    out = io.StringIO()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.list_models(out) == 0
    assert "--painter diffusers:<id>" in out.getvalue() and "stabilityai/sd-turbo" in out.getvalue()
    assert models.kind_of("stabilityai/sd-turbo") == "painter"
    assert models.kind_of("Qwen/Qwen2.5-0.5B-Instruct") == "narrator"
