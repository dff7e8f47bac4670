"""engine.hf_hub: the one reading of HF_HUB_OFFLINE and the one download command."""

import pytest

from engine import hf_hub


@pytest.mark.parametrize("value, expected", [("1", True), ("TRUE", True), (" yes ", True),
                                             ("on", True), ("0", False), ("", False),
                                             ("false", False)])
def test_offline_reads_the_environment_at_call_time(monkeypatch, value, expected):
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert hf_hub.offline() is expected
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert hf_hub.offline() is False


def test_pull_command_is_the_cli_command():
    assert hf_hub.pull_command("Qwen/Qwen2.5-0.5B-Instruct") == \
        "dreamreel models pull Qwen/Qwen2.5-0.5B-Instruct"


def test_pull_advice_says_when_offline_mode_must_go(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert hf_hub.pull_advice("a/b") == "download it with `dreamreel models pull a/b`"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hf_hub.pull_advice("a/b", "one") == \
        "download one with `dreamreel models pull a/b` once HF_HUB_OFFLINE is unset"


def test_in_local_cache_asks_huggingface_hub(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    import huggingface_hub.constants

    snapshot = tmp_path / "models--someone--tiny" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--someone--tiny" / "refs").mkdir()
    (tmp_path / "models--someone--tiny" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert hf_hub.in_local_cache("someone/tiny")
    assert not hf_hub.in_local_cache("someone/other")
    assert not hf_hub.in_local_cache("not a // repo id")
