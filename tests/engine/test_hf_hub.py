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
