"""The modder's toolchain behind `dreamreel worlds <list|validate|new|import>`.

list: the built-in and installed worlds with their titles. validate: every problem of a world at
once (engine.worlds.validate). new: a small world that validates cleanly and plays, to start from.
import: SillyTavern cards and lorebooks into a world folder (engine.worlds.cards parses them,
engine.worlds.append writes them), making a new world from the scaffold when the folder has
none. Writes only inside the world folder it is given or creates; never into the shipped worlds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from engine.worlds.cards import read_import
from engine.errors import WorldError
from engine.story.state import as_id
from engine.worlds.validate import format_report, validate_world
from engine.worlds.append import write_import
from engine.worlds.loading import BUILTIN_WORLDS, Problem, _read_toml


def run(action: str, target: str | None, args, config, stream: TextIO) -> int:
    """Run one `dreamreel worlds` action; the return value is the process exit code.

    Exit codes: 0 success; 1 validation found errors, or an import refused some entries;
    2 (raised as WorldError, shown by the CLI) when the command cannot run at all.
    """
    if action == "list":
        return list_worlds(config, stream)
    if not target:
        raise WorldError(f"Say what to {action}: dreamreel worlds {action} "
                         + {"validate": "PATH", "new": "NAME", "import": "FILE --into WORLD"}
                         .get(action, "TARGET"))
    if action == "validate":
        report = validate_world(target, config.worlds_dir)
        print(format_report(report), file=stream)
        return 0 if report.ok else 1
    if action == "new":
        path = new_world(target, config.worlds_dir)
        print(f"Created a new world in {path}\nNext: dreamreel worlds validate {path}\n"
              f"      dreamreel play --world {path} --text", file=stream)
        return 0
    if action == "import":
        return import_file(Path(target).expanduser(), getattr(args, "into", None), config, stream)
    raise WorldError(f"Unknown action '{action}'; use list, validate, new or import.")


def list_worlds(config, stream: TextIO) -> int:
    """Print the built-in and installed worlds with their titles, and where they live."""
    builtin = _titles(BUILTIN_WORLDS)
    installed = _titles(config.worlds_dir)
    print(f"Built-in worlds ({BUILTIN_WORLDS}):", file=stream)
    for world_id, title in builtin:
        print(f"  {world_id:<24} {title}", file=stream)
    print(f"\nInstalled worlds ({config.worlds_dir}):", file=stream)
    for world_id, title in installed:
        shadow = "  (used instead of the built-in world)" if world_id in dict(builtin) else ""
        print(f"  {world_id:<24} {title}{shadow}", file=stream)
    if not installed:
        print("  none yet: `dreamreel worlds new NAME` makes one here, or copy a world folder "
              "in", file=stream)
    print("\nPlay one with: dreamreel play --world ID", file=stream)
    return 0


def _titles(base: Path) -> list[tuple[str, str]]:
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        if not (folder / "world.toml").is_file():
            continue
        problems: list[Problem] = []
        raw = _read_toml(folder, "world.toml", problems)
        title = raw.get("title") if isinstance(raw, dict) else None
        found.append((folder.name, str(title)[:80] if title else
                      f"(unreadable world.toml: {problems[0] if problems else 'no title'})"))
    return found


def new_world(name: str, worlds_dir: Path) -> Path:
    """Scaffold a small, playable world: a bare NAME goes into the user's worlds folder."""
    bare = "/" not in name and "\\" not in name and not name.startswith(".")
    path = (worlds_dir / (as_id(name) or "my_world")) if bare else Path(name).expanduser()
    if path.exists() and any(path.iterdir()):
        raise WorldError(f"{path} already exists and is not empty. Choose another name, or "
                         "delete the folder first.")
    title = " ".join(word.capitalize() for word in as_id(path.name).split("_")) or "My World"
    for relative, text in SCAFFOLD.items():
        file = path / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text.replace("{{TITLE}}", title.replace('"', "'")), encoding="utf-8")
    return path


# -- importing -------------------------------------------------------------------------------
def import_file(file: Path, into: Path | None, config, stream: TextIO) -> int:
    """Import a card or lorebook into a world folder, creating the world when there is none."""
    if into is None:
        raise WorldError("Say which world to add to: dreamreel worlds import FILE --into "
                         "WORLD_FOLDER (a new folder becomes a new world).")
    into = Path(into).expanduser()
    if len(into.parts) == 1 and not into.is_absolute():   # a bare name: like --world ID
        installed = config.worlds_dir / into
        into = into if (into / "world.toml").is_file() and not installed.exists() else installed
    if into.resolve().is_relative_to(BUILTIN_WORLDS.resolve()):
        raise WorldError(f"{into} is a shipped world; copy it into your worlds folder "
                         f"({config.worlds_dir}) and import into the copy.")
    created = not (into / "world.toml").exists()
    imported = read_import(file, player=_player_name(into) if not created else "Rowan")
    if created:
        new_world(str(into.resolve()), config.worlds_dir)
    added, refused = write_import(imported, into)
    print(f"Imported {imported.kind} {file.name} into {into}", file=stream)
    if created:
        print("  (a new world was made from the scaffold: bring the characters into its "
              "storylets)", file=stream)
    for line in added:
        print(f"  added {line}", file=stream)
    for line in refused:
        print(f"  REFUSED {line}", file=stream)
    for note in imported.notes:
        print(f"  note: {note}", file=stream)
    print(f"Next: dreamreel worlds validate {into}", file=stream)
    return 1 if refused else 0


def _player_name(root: Path) -> str:
    raw = _read_toml(root.resolve(), "world.toml", [])
    player = raw.get("player", {}) if isinstance(raw, dict) else {}
    return str(player.get("name", "the player")) if isinstance(player, dict) else "the player"


# -- the scaffold of `dreamreel worlds new` ----------------------------------------------------
# Small but complete: every feature once (conditions, effects, items, a character, lore, gotos,
# a conditional choice, a repeatable storylet, an ending), validating without a warning.
SCAFFOLD = {
    "world.toml": '''# {{TITLE}}: made by `dreamreel worlds new`. Change anything; docs/MODDING.md explains each key.
title = "{{TITLE}}"
premise = "You come home to your village on the night its old iron gate is found locked, and nobody will say who holds the key."
tone = "cosy, curious, a little eerie"
player_role = "a traveller coming home"
art_style = "soft watercolour, warm lamplight, muted greens and blues"
cover = "a lantern-lit village square at dusk, an old stone well, a dark wood beyond"
start = "arrival"

[player]
name = "Rowan"

[[characters]]
id = "ada"
name = "Ada Thorne"
appearance = "small woman in her seventies, green shawl, silver hair in a bun, a ring of iron keys at her belt"
description = "Keeper of the village well and of everyone's secrets. Kind, sharp, never in a hurry."

[state]
location = "square"
inventory = ["lantern"]
flags = { courage = 1 }
characters = []
''',
    "lore.toml": '''# Lore: when the story mentions a keyword, the narrator is reminded of the text.

[[lore]]
id = "the_gate"
keywords = ["gate", "woods"]
priority = 5
text = "The iron gate at the edge of the woods is as old as the village. It is locked only when something in the woods must be kept out."

[[lore]]
id = "the_well"
keywords = ["well"]
priority = 3
text = "The old well in the square has been dry for a century, but people still drop wishes into it. Ada says it remembers every one."
''',
    "storylets/story.toml": '''# The scenes of the story. Each [[storylet]] is one scene; see docs/MODDING.md.

[[storylet]]
id = "arrival"
title = "Home at Dusk"
intents = ["explore", "travel"]
tags = ["village", "square", "home"]
mood = "calm"
image = "a traveller with a lantern entering a quiet village square at dusk, an old stone well"
text = """
The road ends where it always did, in the village square. {% if has('lantern') %}Your lantern throws a warm circle on the cobbles. {% endif %}Windows glow, but the doors are shut, and from the edge of the woods comes the slow clank of a chain.

Welcome home, {{ player.name }}. Something is wrong.
"""

[storylet.effects]
location = "square"

[[storylet.choices]]
label = "Knock at the well keeper's door"
intent = "talk"
goto = "meet_ada"

[[storylet.choices]]
label = "Look down the old well"
intent = "investigate"
goto = "old_well"

[[storylet.choices]]
label = "Follow the sound to the woods"
intent = "travel"
goto = "the_woods"


[[storylet]]
id = "meet_ada"
title = "The Well Keeper"
when = "location == 'square'"
intents = ["talk", "help"]
tags = ["ada", "keeper", "keys"]
mood = "mysterious"
image = "an old woman in a green shawl in a lamplit doorway, a ring of iron keys at her belt"
text = """
{{ characters.ada.name }} opens before you knock: {{ characters.ada.appearance }}.

"The gate is locked," she says, "and the key went down the well for safekeeping. Some things should stay on their own side of the woods." She looks at you a long moment. "But you were always the brave one."
"""

[storylet.effects]
characters_enter = ["ada"]
set_flags = { met_ada = true }
adjust = { courage = 1 }

[[storylet.choices]]
label = "Climb down the well for the key"
intent = "investigate"
goto = "old_well"

[[storylet.choices]]
label = "Go to the gate and see for yourself"
intent = "travel"
goto = "the_woods"


[[storylet]]
id = "old_well"
title = "The Dry Well"
intents = ["investigate", "explore"]
tags = ["well", "key", "wishes"]
mood = "eerie"
image = "looking down a dry stone well by lantern light, old coins and an iron key at the bottom"
text = """
The rope holds. At the bottom, among a century of wishing coins, lies a heavy iron key.

{{ lore.the_well }}{% if flag('met_ada') %} You can almost hear Ada counting them.{% endif %}
"""

[storylet.effects]
add_items = ["iron key"]
set_flags = { found_key = true }

[[storylet.choices]]
label = "Take the key to the gate"
intent = "travel"
goto = "the_woods"

[[storylet.choices]]
label = "Ask Ada what the key is for"
intent = "talk"
goto = "meet_ada"


[[storylet]]
id = "the_woods"
title = "The Edge of the Woods"
intents = ["travel", "explore"]
tags = ["woods", "trees", "path"]
mood = "tense"
image = "a dark forest path at night, lantern light on wet leaves, an iron gate ahead"
text = """
The trees close over the path. Ahead, an iron gate stands across it, chained, and beyond it something large breathes slowly in the dark.
"""

[storylet.effects]
location = "woods"

[[storylet.choices]]
label = "Walk up to the gate"
intent = "explore"
goto = "the_gate"

[[storylet.choices]]
label = "Go back to the village"
intent = "travel"
goto = "square_at_night"


[[storylet]]
id = "the_gate"
title = "The Iron Gate"
when = "location == 'woods'"
intents = ["explore", "use", "investigate"]
tags = ["gate", "chain", "lock"]
mood = "eerie"
image = "an old iron gate in a dark forest, a heavy chain and padlock, two pale eyes beyond"
text = """
The chain is cold. Through the bars, two pale eyes open and regard you without fear.{% if has('iron key') %} The key in your pocket feels warm.{% endif %}
"""

[[storylet.choices]]
label = "Unlock the gate with the iron key"
intent = "use"
goto = "the_end"
when = "has('iron key')"

[[storylet.choices]]
label = "Back away to the village"
intent = "flee"
goto = "square_at_night"

[[storylet.choices]]
label = "Wait in silence"
intent = "rest"
goto = "square_at_night"


[[storylet]]
id = "square_at_night"
title = "The Square at Night"
once = false
intents = ["rest", "travel", "flee"]
tags = ["night", "square", "village"]
mood = "melancholy"
image = "an empty village square at night, one lit window, a stone well"
text = """
The square is empty now. One window is still lit, and the well waits in the dark.
"""

[storylet.effects]
location = "square"

[[storylet.choices]]
label = "Look down the well"
intent = "investigate"
goto = "old_well"

[[storylet.choices]]
label = "Return to the woods"
intent = "travel"
goto = "the_woods"


[[storylet]]
id = "the_end"
title = "Beyond the Gate"
when = "has('iron key')"
intents = ["use"]
mood = "triumphant"
ending = true
image = "an open iron gate in a forest at dawn, a great pale stag walking out into the light"
text = """
The lock turns. The gate swings open, and out of the dark walks a great pale stag, the keeper of the woods, who was never kept out but kept safe. It bows its head to you, {{ player.name }}, and the first light of morning follows it into the village.
"""

[storylet.effects]
remove_items = ["iron key"]
set_flags = { gate_open = true }
''',
    "prompts/README.md": '''# Prompt overrides

Put a file here with the name of one of the default prompt templates (system.j2, summary.j2,
scene.j2, image.j2 from Dreamreel's assets/prompts/) to change what LLM narrators are told in
this world. Start from a copy of the default. The names each template may use are listed in
docs/MODDING.md ("Prompt overrides"); `dreamreel worlds validate` renders your overrides and
reports any problem with its line.
''',
    "images/README.md": '''# Your own pictures

Put PNG, JPEG or WebP pictures here (at most 4096 x 4096 pixels and 10 MB each). A storylet
whose `image` is a file name, such as `image = "images/square.png"`, shows that picture instead
of a painted one; so does a `cover = "images/cover.png"` in world.toml on the title screen.
Pictures are scaled and cropped to fill the window, so 16:9 pictures fit best. Details in
docs/MODDING.md ("Pictures").
''',
}


__all__ = ["run", "list_worlds", "new_world", "import_file", "SCAFFOLD"]
