from engine import compute


def test_window_keeps_a_core_and_override_wins(monkeypatch):
    monkeypatch.delenv("DREAMREEL_TORCH_THREADS", raising=False)
    monkeypatch.setattr(compute.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    compute.reserve_cores_for_ui(0)
    assert compute.torch_threads() == 4
    compute.reserve_cores_for_ui(1)
    assert compute.torch_threads() == 3
    monkeypatch.setattr(compute.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert compute.torch_threads() == 1          # never zero
    monkeypatch.setenv("DREAMREEL_TORCH_THREADS", "2")
    assert compute.torch_threads() == 2
    compute.reserve_cores_for_ui(0)
