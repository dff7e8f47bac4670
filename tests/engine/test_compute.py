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


def test_importing_compute_loads_no_torch():
    import subprocess
    import sys
    code = "import sys, engine.compute; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_device_and_precision_follow_the_machine_and_the_request(monkeypatch):
    import pytest
    torch = pytest.importorskip("torch")
    assert compute.torch_device("cuda:1") == "cuda:1"                 # asked for: kept
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert compute.torch_device("auto") == compute.torch_device(None) == "cpu"
    assert compute.torch_dtype("cpu") is torch.float32                # half is slow on CPUs
    assert compute.torch_dtype("mps") is torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert compute.torch_dtype("cuda") is torch.bfloat16
    assert compute.torch_dtype("cuda", bf16=False) is torch.float16   # diffusion pipelines
    assert compute.torch_dtype("cpu", "bf16") is torch.bfloat16       # asked for: kept
    with pytest.raises(ValueError, match="Unknown dtype 'fp8'"):
        compute.torch_dtype("cpu", "fp8")
