import pytest

from engine.errors import TemplateError
from engine.templates import Templates

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
