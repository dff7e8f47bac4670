import pytest

from engine.errors import TemplateError
from engine.worlds.templates import Templates

HOSTILE = [
    "{{ ().__class__.__bases__[0].__subclasses__() }}",     # sandbox escape
    "{{ lipsum.__globals__ }}",                              # no helpers leak
    "{{ 'x' * 10000000 }}",                                  # memory bomb
    "{% for a in range(999) %}{% for b in range(999) %}{% for c in range(999) %}"
    "{% endfor %}{% endfor %}{% endfor %}",                  # time bomb
    "{% for a in range(999) %}{% for b in range(999) %}xxxxxxxx{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",       # recursion
    "{{ 9 ** 9999999 }}",                                    # big number
    "{{ inventory.append('gold') }}",                        # mutation
    "{{ undefined_name }}",                                  # StrictUndefined
    "{% if %}",                                              # syntax
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_templates_are_refused_with_a_clear_message(source):
    with pytest.raises(TemplateError) as caught:
        Templates().render(source, {"inventory": []}, "lore.toml")
    assert "lore.toml" in str(caught.value)


def test_ordinary_templates_render():
    out = Templates().render("Hello {{ name }}.{% if has('key') %} You hold the key.{% endif %}",
                             {"name": "Wren", "has": lambda item: item == "key"}, "t")
    assert out == "Hello Wren. You hold the key."


def test_conditions_compile_once_and_evaluate():
    templates = Templates()
    check = templates.condition("flag('coin') > 2 and location == 'harbour'", "w")
    assert check({"flag": lambda n: 3, "location": "harbour"})
    assert not check({"flag": lambda n: 1, "location": "harbour"})


def test_syntax_errors_name_the_line():
    with pytest.raises(TemplateError, match=r"scene.j2, line 2"):
        Templates().compile("ok\n{% for x in %}\n", "scene.j2")


@pytest.mark.parametrize("count, expected", [(0, "0 hours"), (1, "1 hour"), (2, "2 hours"),
                                             (-1, "-1 hour"), (1.0, "1.0 hour")])
def test_plural_filter_agrees_with_the_count(count, expected):
    assert Templates().render('{{ n }} {{ "hour" | plural(n) }}', {"n": count}) == expected


def test_plural_knows_common_english_and_takes_an_explicit_form():
    render = Templates().render
    words = "ferry box knife man Gull CANTOR"
    out = render("{% for w in words.split(' ') %}{{ w | plural(2) }} {% endfor %}",
                 {"words": words})
    assert out.split() == ["ferries", "boxes", "knives", "men", "Gulls", "CANTORS"]
    assert render('{{ "keeper\'s log" | plural(2) }}', {}) == "keeper's logs"
    assert render('{{ "cactus" | plural(3, "cacti") }}', {}) == "cacti"
    assert render('{{ "cactus" | plural(1, "cacti") }}', {}) == "cactus"
    assert render('{{ "coin" | plural("many") }}', {}) == "coins"


def test_shipped_worlds_print_counts_with_the_plural_helper():
    from engine.narrators import Action, NarrationRequest
    from engine.narrators.storylets import StoryletNarrator
    from engine.story.schema import Effects
    from engine.story.state import apply_effects
    from engine.worlds.loading import load_world
    world = load_world("hollow_orbit")
    state = apply_effects(world.initial_state(), Effects(adjust={"oxygen": -3}), "")
    draft = StoryletNarrator().narrate(NarrationRequest(world, state, Action("Push on", "travel",
                                                        goto="arrive_hydroponics"), 1, 1))
    assert "1 hour." in draft.narration and "1 hours" not in draft.narration
