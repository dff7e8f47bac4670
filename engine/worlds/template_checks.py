"""Template checks for `worlds validate` and hot reload: storylet templates and prompt overrides.

Every storylet title, text and picture prompt is rendered and every condition compiled in the
sandbox against a representative state; the names a template uses are checked statically against
the names it is given (so branches that state does not take are covered too); a world's prompts/
overrides are rendered with the very contexts the narrator gives them, and the narrator prompt
is measured. Problems carry the file line, not the template line. No writes, no models.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import TemplateSyntaxError, meta, nodes

from engine.worlds import loading as w
from engine.errors import DreamreelError, TemplateError
from engine.story.memory import rolling_summary
from engine.narrators import Action, NarrationRequest
from engine.story.memory import RecentScene
from engine.narrators.storylets import StoryletNarrator
from engine.story.player_model import EMPTY
from engine.story.schema import MAX_NAME, SceneDraft
from engine.story.state import WorldState, apply_effects, as_id
from engine.worlds.templates import Templates
from engine.worlds.world import Problem, World

PROMPT_TOKENS_WARN = 3000   # a longer narrator prompt crowds small models' 4096-token context
SAMPLE_SCENES = 12          # scenes played (first choice each time) for the sample prompt
STATE_CALLS = ("has", "flag", "here", "visited")
_WHERE = re.compile(r"^[^:]*?(?:, line (?P<line>\d+))?: (?P<message>.*)$", re.S)
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?\s*(#.*)?$")


def template_problem(err: TemplateError, file: str, first_line: int, prefix: str) -> Problem:
    """A TemplateError as a Problem whose line is the file line (template line + offset)."""
    match = _WHERE.match(str(err))
    message = match.group("message") if match else str(err)
    line = first_line + int(match.group("line")) - 1 if match and match.group("line") else 0
    return Problem(file, line or first_line, f"{prefix}: {message}",
                   "see the names and rules in docs/MODDING.md")


class SourceLines:
    """A TOML file's lines, to point problems at the line of a key or table."""

    def __init__(self, root: Path, relative: str):
        path = w.confined(root, relative)
        self.lines: list[str] = []
        if path is not None and path.is_file():   # never a link out, a pipe or a device
            try:
                with path.open("rb") as handle:
                    self.lines = handle.read(w.MAX_FILE_BYTES).decode("utf-8", "replace") \
                        .splitlines()
            except OSError:
                pass

    def headers(self, name: str, start: int = 0, end: int | None = None) -> list[int]:
        end = len(self.lines) if end is None else end
        return [i + 1 for i in range(start, end)
                if (m := _HEADER.match(self.lines[i])) and m.group(1) == name]

    def table_end(self, start: int) -> int:
        """The line number of the next table header after line `start` (or the end)."""
        for i in range(start, len(self.lines)):
            if _HEADER.match(self.lines[i]):
                return i
        return len(self.lines)

    def key(self, key: str, start: int, end: int) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(max(start, 0), min(end, len(self.lines))):
            if pattern.match(self.lines[i]):
                return i + 1
        return 0

    def template_start(self, key_line: int) -> int:
        """File line of a multi-line string's first template line (TOML drops the newline)."""
        text = self.lines[key_line - 1] if 0 < key_line <= len(self.lines) else ""
        return key_line + 1 if re.search(r'("""|\'\'\')\s*$', text) else key_line

    def span(self, heads: list[int], entry_line: int) -> tuple[int, int]:
        """(first, last) line of the table that starts at `entry_line`, given the lines of
        every table of its kind (`heads`)."""
        first = max([h for h in heads if h <= entry_line] or [1])
        end = min([h - 1 for h in heads if h > entry_line] or [len(self.lines)])
        return first, end

    def locate(self, loc: tuple) -> int:
        """The line of a pydantic error location like ("characters", 2, "name")."""
        if len(loc) >= 2 and isinstance(loc[1], int) and self.headers(str(loc[0])):
            found = self.headers(str(loc[0]))
            start, rest = (found[loc[1]] if loc[1] < len(found) else found[-1]), loc[2:]
        elif len(loc) >= 2 and self.headers(str(loc[0])):
            start, rest = self.headers(str(loc[0]))[0], loc[1:]
        else:
            start, rest = 0, loc
        end = self.table_end(start)
        line = self.key(str(rest[0]), start, end) if rest else 0
        return line or start or self.key(str(loc[0]), 0, len(self.lines)) or 1


def parse_part(templates, text: str, file: str, line0: int, prefix: str,
               errors: list[Problem]):
    """The template's parse tree, or None after adding its syntax error to `errors`."""
    try:
        return templates.env.parse(text)
    except TemplateSyntaxError as err:
        errors.append(Problem(file, line0 + (err.lineno or 1) - 1, f"{prefix}: {err.message}",
                              "fix the template syntax"))
        return None


def world_facts(world: World) -> dict[str, set[str]]:
    """What the world's effects can ever make true: items, flags, locations, characters."""
    spec = world.spec.state
    facts = {"has": {i.strip().lower() for i in spec.inventory},
             "flag": {as_id(k) for k in spec.flags},
             "location": {spec.location.strip()[:MAX_NAME]},
             "here": {as_id(c) for c in spec.characters}}
    for storylet in world.storylets.values():
        effects = storylet.spec.effects
        facts["has"] |= {i.lower() for i in effects.add_items}
        facts["flag"] |= {as_id(k) for k in (*effects.set_flags, *effects.adjust)}
        facts["here"] |= {as_id(c) for c in effects.characters_enter}
        if effects.location:
            facts["location"].add(effects.location.strip()[:MAX_NAME])
    return facts


def check_names(tree: nodes.Template, sample: dict, world: World | None, facts: dict | None,
                where: tuple[str, int, str], errors: list[Problem],
                warnings: list[Problem]) -> None:
    """Names, attributes and state calls a template uses that its context cannot satisfy.

    Static, so it covers branches the representative state does not take. `where` is (file,
    file line of the template's line 1, label); world and facts are None for prompt templates.
    """
    file, first, prefix = where
    try:
        free = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as err:   # e.g. a filter the sandbox does not offer
        errors.append(Problem(file, first + (err.lineno or 1) - 1,
                              f"{prefix}: {(err.message or '').rstrip('.')}",
                              "use only the filters listed in docs/MODDING.md"))
        return
    for name in sorted(free - set(sample)):
        node = next((n for n in tree.find_all(nodes.Name) if n.name == name), None)
        errors.append(Problem(file, first + (node.lineno if node else 1) - 1,
                              f"{prefix}: '{name}' is not a name templates can use here",
                              "known names: " + ", ".join(sorted(sample))))
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        errors.append(Problem(file, first + node.lineno - 1, f"{prefix}: refused: templates "
                              "cannot include, import or extend other files",
                              "write the text in place"))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if (_literal_key(node) or "").startswith("_"):
            errors.append(Problem(file, first + node.lineno - 1, f"{prefix}: refused by the "
                                  "sandbox: names starting with _ are internal",
                                  "templates may only use the documented names"))
            continue
        chain, current = [], node
        while isinstance(current, (nodes.Getattr, nodes.Getitem)):
            key = _literal_key(current)
            chain = chain + [key] if key is not None else []
            current = current.node
        if not chain or not isinstance(current, nodes.Name) or current.name not in free \
                or current.name not in sample:
            continue
        value, path = sample[current.name], current.name
        for key in reversed(chain):
            if not isinstance(value, dict) or hasattr(dict, key):
                break
            if key not in value:
                errors.append(Problem(file, first + node.lineno - 1, f"{prefix}: '{path}.{key}' "
                                      "does not exist", f"{path} has: " +
                                      (", ".join(sorted(value)) or "nothing")))
                break
            value, path = value[key], f"{path}.{key}"
    if world is None or facts is None:
        return
    for call in tree.find_all(nodes.Call):
        name = getattr(call.node, "name", "")
        if name not in STATE_CALLS or name not in free or not call.args \
                or not isinstance(getattr(call.args[0], "value", None), str):
            continue
        arg, line = call.args[0].value, first + call.lineno - 1
        if name == "visited" and arg not in world.storylets:
            errors.append(Problem(file, line, f"{prefix}: visited('{arg}') names no storylet",
                                  "use the id of a storylet of this world"))
        elif name in ("has", "here", "flag") and key_of(name, arg) not in facts[name]:
            what = {"has": "gives the item", "here": "brings in the character",
                    "flag": "sets the flag"}[name]
            warnings.append(Problem(file, line, f"{prefix}: no effect ever {what} '{arg}', so "
                                    f"{name}('{arg}') never changes",
                                    "check the spelling against the effects"))


def _literal_key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    """The attribute or constant string key of `x.key` / `x['key']`, else None."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    value = getattr(node.arg, "value", None)
    return value if isinstance(value, str) else None


def key_of(call: str, arg: str) -> str:
    return arg.strip().lower() if call == "has" else as_id(arg)


def check_storylet_templates(world: World, templates: Templates | None = None,
                             facts: dict | None = None, files: set[str] | None = None
                             ) -> tuple[list[Problem], list[Problem]]:
    """Render every storylet title, text and picture prompt and compile every condition.

    Renders in the state the storylet narrator would use (the starting state with the
    storylet's own effects applied; conditions: the starting state) and checks statically the
    names used in branches that state does not reach. Also used by engine.worlds.watch after a reload.

    Args:
        files: check only the storylets of these files (relative paths); None: all of them.

    Returns:
        (errors, warnings).
    """
    templates, facts = templates or Templates(), facts or world_facts(world)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    start = world.initial_state()
    before = StoryletNarrator.context(world, start)
    sources: dict[str, SourceLines] = {}
    heads_of: dict[str, list[int]] = {}
    for storylet in world.storylets.values():
        spec, file = storylet.spec, storylet.file
        if files is not None and file not in files:
            continue
        if file not in sources:        # read each file once, however many storylets it holds
            sources[file] = SourceLines(world.root, file)
            heads_of[file] = sources[file].headers("storylet")
        source, heads = sources[file], heads_of[file]
        first, end = source.span(heads, storylet.line)
        after = StoryletNarrator.context(world, apply_effects(start, spec.effects, storylet.id))
        parts = [("title", spec.title), ("text", spec.text)]
        parts += [("image", spec.image)] if "{" in spec.image else []
        for part, text in parts:
            line0 = source.template_start(source.key(part, first - 1, end) or storylet.line)
            prefix = f"storylet '{storylet.id}' {part}"
            tree = parse_part(templates, text, file, line0, prefix, errors)
            if tree is None:
                continue
            found = len(errors)
            check_names(tree, after, world, facts, (file, line0, prefix), errors, warnings)
            if len(errors) > found:
                continue   # rendering would only repeat the first of these
            try:
                templates.render(text, after, f"{storylet.id}.{part}")
            except TemplateError as err:
                errors.append(template_problem(err, file, line0, prefix))
        conditions = [("when", spec.when, source.key("when", first - 1, end))]
        choice_heads = source.headers("storylet.choices", first - 1, end)
        for index, choice in enumerate(spec.choices):
            head = choice_heads[index] if index < len(choice_heads) else storylet.line
            conditions.append((f"choice '{choice.label}' when", choice.when,
                               source.key("when", head, source.table_end(head))))
        for label, expression, line in conditions:
            if not expression:
                continue
            line, prefix = line or storylet.line, f"storylet '{storylet.id}' {label}"
            try:
                evaluate = templates.condition(expression, f"{storylet.id}.when")
                tree = templates.env.parse("{{ (" + expression + ") }}")
            except (TemplateError, TemplateSyntaxError) as err:
                errors.append(Problem(file, line, template_problem(err, file, 1, prefix).message,
                                      "write a Jinja2 expression, e.g. location == 'harbour'"))
                continue
            found = len(errors)
            check_names(tree, before, world, facts, (file, line, prefix), errors, warnings)
            try:
                if len(errors) == found:
                    evaluate(before)
            except TemplateError as err:
                errors.append(Problem(file, line, template_problem(err, file, 1, prefix).message,
                                      "see the names and rules in docs/MODDING.md"))
    return errors, warnings




class _Recorder(Templates):
    """Records the context each prompt template gets; can render the defaults instead."""

    def __init__(self, defaults_only: bool):
        super().__init__()
        self.defaults_only = defaults_only
        self.contexts: dict[str, dict] = {}

    def render(self, source: str, context: dict, where: str = "<template>") -> str:
        from engine.narrators.prompting import _default_source
        name = where.rsplit("/", 1)[-1]
        self.contexts[name] = context
        if self.defaults_only and not where.startswith("assets/"):
            source, where = _default_source(name), f"assets/prompts/{name}"
        return super().render(source, context, where)


def sample_request(world: World) -> tuple[NarrationRequest, SceneDraft, WorldState]:
    """A mid-story narrator request: the storylet narrator plays the first choice a few times."""
    narrator, state = StoryletNarrator(), world.initial_state()
    action, scenes = Action(label="Begin the story", opening=True), []
    draft = SceneDraft(title=world.title[:80], narration=world.spec.premise[:4000] or world.title,
                       image_prompt=world.spec.cover[:400], ending=True)
    player = EMPTY     # what the player model makes of the actions taken
    for step in range(SAMPLE_SCENES):
        if not action.opening:
            player = player.after(action.intent)
        try:
            told = narrator.narrate(NarrationRequest(world, state, action, seed=step + 1,
                                                     node=step))
        except DreamreelError:
            break
        draft = told
        scenes.append(RecentScene(told.title, told.narration, action.label, told.source))
        state = apply_effects(state, told.effects, told.source)
        if told.ending or not told.choices:
            break
        choice = told.choices[0]
        action = Action(label=choice.label, intent=choice.intent, goto=choice.goto or "")
    request = NarrationRequest(world, state, action, seed=99, node=len(scenes),
                               recent=tuple(scenes[-6:]), summary=rolling_summary(scenes[:-6]),
                               player_model=player)
    return request, draft, state


def check_prompts(world: World, errors: list[Problem],
                  warnings: list[Problem]) -> tuple[dict[str, int], str]:
    """Check the world's prompts/ overrides and measure the narrator prompt.

    Returns:
        Approximate token counts (characters / 4) of the system and scene parts and their sum,
        and a note when they were measured with the default prompts.
    """
    from engine.narrators.prompting import (MAX_TEMPLATE_BYTES, PROMPT_NAMES, PromptBuilder,
                                            copy_risks)
    request, draft, state = sample_request(world)
    recorder = _Recorder(defaults_only=True)
    builder = PromptBuilder(recorder)
    try:
        prompt = builder.build(request)
        builder.image_prompt(world, draft, state)
    except DreamreelError as err:
        errors.append(Problem("world.toml", 0, f"the default prompts fail with this world: {err}"))
        return {}, ""
    failed = False
    for name in PROMPT_NAMES:
        path = world.prompt_override(name)
        if path is None or path.stat().st_size > MAX_TEMPLATE_BYTES:
            continue   # absent, or already refused by worlds.check_prompt_files
        where, prefix = f"prompts/{name}", f"prompt {name}"
        try:
            text = path.read_bytes().decode("utf-8")
            tree = recorder.env.parse(text)
        except UnicodeDecodeError:
            errors.append(Problem(where, 0, "is not UTF-8 text", "save it as UTF-8"))
            failed = True
            continue
        except TemplateSyntaxError as err:
            errors.append(Problem(where, err.lineno or 1, f"{prefix}: {err.message}",
                                  "fix the template syntax"))
            failed = True
            continue
        for risk in copy_risks(text):
            warnings.append(Problem(where, 1, f"{prefix}: {risk}"))
        before = len(errors)
        check_names(tree, recorder.contexts.get(name, {}), None, None, (where, 1, prefix),
                    errors, warnings)
        try:
            if len(errors) == before:
                Templates().render(text, recorder.contexts.get(name, {}), where)
        except TemplateError as err:
            errors.append(template_problem(err, where, 1, prefix))
        failed = failed or len(errors) > before
    note = ""
    if failed:
        note = "(measured with the default prompts, because an override failed)"
    elif any(world.prompt_override(name) for name in PROMPT_NAMES):
        prompt = PromptBuilder().build(request)
    tokens = {"system": len(prompt.system) // 4, "scene": len(prompt.user) // 4}
    tokens["total"] = tokens["system"] + tokens["scene"]
    if tokens["total"] > PROMPT_TOKENS_WARN:
        warnings.append(Problem("world.toml", 0, f"the narrator prompt is about "
                                f"{tokens['total']} tokens (characters / 4); small local models "
                                "with a 4096-token context have little room left to answer",
                                "shorten the premise, character descriptions or lore texts"))
    return tokens, note


__all__ = ["SourceLines", "check_names", "parse_part", "check_prompts", "check_storylet_templates",
           "sample_request", "template_problem", "world_facts", "key_of"]
