"""Checks of a world's reactions.toml for `worlds validate` and hot reload.

Every reaction's condition is compiled and its title and text rendered in the sandbox with the
names a reaction gets (a storylet's names and the player's words), for a few sample actions;
the names used are checked statically, so branches the samples do not take are covered too.
A text that never names the player's action is warned about: the game then puts the action
("You light the lamp.") before it. Problems carry the file line. No writes, no models.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError, meta

from engine.errors import TemplateError
from engine.story.memory import RecentScene
from engine.narrators.reactions import ACTION_NAMES, action_context
from engine.narrators.storylets import StoryletNarrator
from engine.worlds.template_checks import (SourceLines, check_names, parse_part, template_problem,
                                    world_facts)
from engine.worlds.templates import Templates
from engine.worlds.world import Problem, World

SAY_ACTION = ("words", "you", "action", "object", "thing", "verb")   # names that tell it
SAMPLE_ACTIONS = ("light the lamp", "xyzzy", "hello?", "look around")


def sample_contexts(world: World, narrator: StoryletNarrator | None = None) -> list[dict]:
    """Reaction contexts for a few sample actions in the world's starting state (one of them
    naming the first character, present)."""
    narrator = narrator or StoryletNarrator()
    state = world.initial_state()
    last = RecentScene(world.title, world.spec.premise, "Begin", world.start)
    actions = list(SAMPLE_ACTIONS)
    if world.spec.characters:
        actions.append(f"talk to {world.spec.characters[0].name}")
    contexts = []
    for text in actions:
        parsed = narrator.read(world, state, text)
        context = dict(narrator.context(world, state))
        context.update(action_context(parsed, world, state, last))
        contexts.append(context)
    return contexts


def check_reaction_templates(world: World, templates: Templates | None = None,
                             facts: dict | None = None) -> tuple[list[Problem], list[Problem]]:
    """Compile every reaction condition and render every title and text.

    Returns:
        (errors, warnings).
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not world.reactions:
        return errors, warnings
    templates, facts = templates or Templates(), facts or world_facts(world)
    file = world.reactions[0].file
    source = SourceLines(world.root, file)
    heads = source.headers("reaction")
    contexts = sample_contexts(world)
    sample = contexts[0]
    for reaction in world.reactions:
        spec = reaction.spec
        first, end = source.span(heads, reaction.line)
        parts = [("text", spec.text)] + ([("title", spec.title)] if spec.title else [])
        for part, text in parts:
            line0 = source.template_start(source.key(part, first - 1, end) or reaction.line)
            prefix = f"reaction '{reaction.id}' {part}"
            tree = parse_part(templates, text, file, line0, prefix, errors)
            if tree is None:
                continue
            found = len(errors)
            check_names(tree, sample, world, facts, (file, line0, prefix), errors, warnings)
            if len(errors) > found:
                continue
            if part == "text" and not _names_action(tree):
                warnings.append(Problem(file, line0, f"{prefix} never names the player's "
                                        "action, so the game puts `you` before it",
                                        "use {{ you }}, {{ action }} or {{ object }}"))
            for context in contexts:
                try:
                    templates.render(text, context, f"{reaction.id}.{part}")
                except TemplateError as err:
                    errors.append(template_problem(err, file, line0, prefix))
                    break
        if spec.when:
            line = source.key("when", first - 1, end) or reaction.line
            prefix = f"reaction '{reaction.id}' when"
            try:
                evaluate = templates.condition(spec.when, f"{reaction.id}.when")
                tree = templates.env.parse("{{ (" + spec.when + ") }}")
            except (TemplateError, TemplateSyntaxError) as err:
                errors.append(Problem(file, line, template_problem(err, file, 1, prefix).message,
                                      "write a Jinja2 expression, e.g. target == 'maren'"))
                continue
            found = len(errors)
            check_names(tree, sample, world, facts, (file, line, prefix), errors, warnings)
            try:
                if len(errors) == found:
                    for context in contexts:
                        evaluate(context)
            except TemplateError as err:
                errors.append(Problem(file, line, template_problem(err, file, 1, prefix).message,
                                      "see the names and rules in docs/MODDING.md"))
    return errors, warnings


def _names_action(tree) -> bool:
    return bool(set(meta.find_undeclared_variables(tree)) & set(SAY_ACTION))


__all__ = ["check_reaction_templates", "sample_contexts", "SAY_ACTION", "ACTION_NAMES"]
