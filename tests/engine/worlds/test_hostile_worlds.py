"""A corpus of hostile worlds: every attack is refused with a message that says what and where.

Worlds are data from strangers. Sandbox escapes and template bombs in storylets and prompt
overrides, path traversal through links and `..`, special files and oversized files must all be
refused, by loading, by playing and by `dreamreel worlds validate`, without running anything.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import NarratorError, WorldError
from engine.narrators import Action, NarrationRequest
from engine.narrators.prompting import PromptBuilder
from engine.narrators.storylets import StoryletNarrator
from engine.worlds.validate import validate_world
from engine.worlds.loading import load_world
from engine.worlds.tools import new_world

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ has.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
    "{{ cycler.__init__.__globals__.os.system('touch CANARY') }}",
    "{{ namespace.__init__.__globals__['os'].system('touch CANARY') }}",
    "{{ range.__globals__ }}",
    "{{ (has|attr('__self__')).__class__ }}",
    "{{ lore.__class__.__base__.__subclasses__() }}",
    "{{ self._TemplateReference__context }}",
    "{{ inventory.append('crown') }}",
    "{{ player.update({'name': 'x'}) }}",
    "{% include '/etc/passwd' %}",
    "{% extends '../../world.toml' %}",
]
BOMBS = {   # payload: the limit that refuses it
    "{% for a in range(1000) %}{% for b in range(1000) %}" + "x" * 100 + "{% endfor %}{% endfor %}":
        "output longer than 40000 characters",
    "{{ 'x' * 1000000000 }}": "a repeated text or list longer than 10000",
    "{{ [1, 2] * 100000000 }}": "a repeated text or list longer than 10000",
    "{{ 2 ** 100000000 }}": "an exponent larger than 64",
    "{{ range(1000000000) | list }}": "range() larger than 1000 items",
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}": "the template recurses too deeply",
    "{% set s = namespace(x='ab') %}{% for i in range(200) %}{% set s.x = s.x ~ s.x %}"
    "{% endfor %}{{ s.x }}": "a namespace value longer than 40000",
    # a billion empty steps: within every size cap, so only the render time limit stops it
    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}": "it took longer than its time limit",
}


@pytest.fixture
def root(tmp_path) -> Path:
    return new_world(str(tmp_path / "hostile"), tmp_path)


def _opening_text(root: Path, text: str) -> None:
    story = root / "storylets" / "story.toml"
    source = story.read_text()
    start = source.index('text = """', source.index('id = "arrival"'))
    end = source.index('"""', start + 10) + 3
    story.write_text(source[:start] + "text = '''\n" + text + "\n'''" + source[end:])


def _tell_opening(root: Path):
    world = load_world(str(root))
    request = NarrationRequest(world=world, state=world.initial_state(),
                               action=Action(label="Begin", opening=True), seed=1, node=0)
    return StoryletNarrator().narrate(request)


@pytest.mark.parametrize("payload", ESCAPES)
def test_sandbox_escapes_in_storylet_text_are_refused(root, payload, monkeypatch):
    monkeypatch.chdir(root)
    _opening_text(root, payload)
    with pytest.raises(NarratorError, match="refused|undefined|no loader|No filter named"):
        _tell_opening(root)
    report = validate_world(root)
    errors = [str(p) for p in report.errors]
    assert any(e.startswith("storylets/story.toml, line 11: storylet 'arrival' text") and
               ("refused" in e or "not a name" in e or "No filter" in e) for e in errors), errors
    assert not (root / "CANARY").exists()


@pytest.mark.parametrize("payload", ESCAPES[:6])
def test_sandbox_escapes_in_prompt_overrides_are_refused(root, payload, monkeypatch):
    monkeypatch.chdir(root)
    (root / "prompts" / "system.j2").write_text("You narrate {{ world.title }}.\n" + payload)
    world = load_world(str(root))
    request = NarrationRequest(world=world, state=world.initial_state(),
                               action=Action(label="Begin", opening=True), seed=1, node=0)
    with pytest.raises(NarratorError, match="prompts/system.j2"):
        PromptBuilder().build(request)
    errors = [str(p) for p in validate_world(root).errors]
    assert any(e.startswith("prompts/system.j2, line 2: prompt system.j2") for e in errors), errors
    assert not (root / "CANARY").exists()


@pytest.mark.parametrize("payload", BOMBS, ids=list(BOMBS.values()))
def test_template_bombs_are_refused_by_their_limit(root, payload):
    _opening_text(root, payload)
    with pytest.raises(NarratorError, match="refused|recurses") as refused:
        _tell_opening(root)
    assert BOMBS[payload] in str(refused.value)
    errors = [str(p) for p in validate_world(root).errors]
    assert any("storylets/story.toml, line 11" in e and BOMBS[payload] in e
               for e in errors), errors


def test_filter_bombs_are_refused_without_exhausting_memory(tmp_path):
    script = ("import resource, sys\n"
              "resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))\n"
              "from engine.worlds.templates import Templates\nfrom engine.errors import TemplateError\n"
              "try:\n    Templates().render(\"{{ 'x'|center(999999999) }}\", {})\n"
              "except TemplateError:\n    sys.exit(0)\nsys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[3],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-300:]


def test_links_out_of_the_world_are_refused_everywhere(root, tmp_path):
    secret = tmp_path / "secret.toml"
    secret.write_text('[[storylet]]\nid = "stolen"\ntitle = "S"\ntext = "s"\nending = true\n')
    picture = tmp_path / "outside.png"
    Image.new("RGB", (8, 8)).save(picture)
    (root / "storylets" / "link.toml").symlink_to(secret)
    (root / "prompts" / "scene.j2").symlink_to(secret)
    (root / "images").mkdir(exist_ok=True)   # the scaffold has one
    (root / "images" / "cover.png").symlink_to(picture)
    (root / "lore.toml").unlink()
    (root / "lore.toml").symlink_to("/dev/zero")   # would never end if it were read
    world = load_world(str(root))
    assert "stolen" not in world.storylets and world.prompt_override("scene.j2") is None
    messages = [str(p) for p in world.problems]
    for name in ("storylets/link.toml", "prompts/scene.j2", "images/cover.png", "lore.toml"):
        assert any(m.startswith(name) and ("outside the world folder" in m or
                                           "leaves the world folder" in m) for m in messages), \
            (name, messages)
    assert not validate_world(root).ok


def test_a_linked_world_toml_or_storylets_folder_is_refused(root, tmp_path):
    outside = tmp_path / "elsewhere"
    (root / "storylets").rename(outside)
    (root / "storylets").symlink_to(outside)
    with pytest.raises(WorldError, match="no usable storylets"):
        load_world(str(root))
    assert any(str(p).startswith("storylets/") and "not a folder inside the world" in str(p)
               for p in validate_world(root).warnings + validate_world(root).errors)
    (root / "world.toml").rename(tmp_path / "world.toml")
    (root / "world.toml").symlink_to(tmp_path / "world.toml")
    with pytest.raises(WorldError, match="outside the world folder"):
        load_world(str(root))


def test_dot_dot_in_path_fields_is_refused(root):
    world_toml = root / "world.toml"
    world_toml.write_text(world_toml.read_text().replace(
        'cover = "a lantern-lit village square at dusk, an old stone well, a dark wood beyond"',
        'cover = "../../../../etc/hostname.png"'))
    story = root / "storylets" / "story.toml"
    story.write_text(story.read_text().replace(
        'image = "a traveller with a lantern entering a quiet village square at dusk, an old '
        'stone well"', 'image = "images/../../secret.jpg"').replace(
        'goto = "meet_ada"', 'goto = "../../world"', 1))
    messages = [str(p) for p in validate_world(root).errors]
    assert any(m.startswith("world.toml") and "cover '../../../../etc/hostname.png' is outside "
               "the world folder" in m for m in messages), messages
    assert any(m.startswith("storylets/story.toml, line 4") and "images/../../secret.jpg" in m
               and "outside" in m for m in messages), messages
    assert any("unknown storylet '../../world'" in m for m in messages)


def test_a_fifo_is_refused_instead_of_blocking(root):
    os.mkfifo(root / "storylets" / "pipe.toml")
    (root / "lore.toml").unlink()
    os.mkfifo(root / "lore.toml")
    os.mkfifo(root / "prompts" / "system.j2")
    world = load_world(str(root))
    for name in ("storylets/pipe.toml", "lore.toml"):
        assert any(str(p).startswith(name) and "not a regular file" in str(p)
                   for p in world.problems), name
    assert world.prompt_override("system.j2") is None
    errors = [str(p) for p in validate_world(root).errors]
    assert any(e.startswith("prompts/system.j2") for e in errors)


def test_oversized_files_are_refused_with_their_size(root):
    (root / "storylets" / "huge.toml").write_text("# " + "x" * 1_000_100)
    (root / "prompts" / "system.j2").write_text("{{ world.title }}" + " " * 70_000)
    (root / "images").mkdir(exist_ok=True)   # the scaffold has one
    with open(root / "images" / "huge.png", "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(10_000_001)
    Image.new("1", (5000, 5000)).save(root / "images" / "bomb.png")   # 25 Mpx, a few kB
    messages = [str(p) for p in load_world(str(root)).problems]
    expected = [("storylets/huge.toml", "is 1000102 bytes, over the 1000000 byte limit"),
                ("prompts/system.j2", "byte limit for a prompt template; refused"),
                ("images/huge.png", "is 10000001 bytes, over the 10000000 byte limit"),
                ("images/bomb.png", "claims 5000 x 5000 pixels")]
    for name, fragment in expected:
        assert any(m.startswith(f"{name}: ") and fragment in m for m in messages), (name, messages)
    (root / "lore.toml").write_text("# " + "x" * 1_000_100)
    assert any(str(p).startswith("lore.toml") and "limit" in str(p)
               for p in validate_world(root).errors)
    (root / "world.toml").write_text("# " + "x" * 1_000_100)
    with pytest.raises(WorldError, match="world.toml.*byte limit"):
        load_world(str(root))


def test_a_world_of_hostile_data_still_validates_without_crashing(root):
    (root / "storylets" / "odd.toml").write_text('storylet = 5\n')
    (root / "lore.toml").write_text('lore = "not a list"\n')
    (root / "images").mkdir(exist_ok=True)   # the scaffold has one
    (root / "images" / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "images" / "script.svg").write_text("<svg onload=alert(1)>")
    messages = [str(p) for p in validate_world(root).errors]
    assert any(m.startswith("storylets/odd.toml") and "must be a list" in m for m in messages)
    assert any(m.startswith("lore.toml") and "must be a list" in m for m in messages)
    assert any(m.startswith("images/fake.png") for m in messages)
    assert any(m.startswith("images/script.svg") and "not a picture" in m for m in messages)
