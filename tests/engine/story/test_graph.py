from engine.story.graph import READY, STUB, StoryGraph, Version
from engine.story.state import initial_state


def _version(title, **effects):
    return Version(title=title, narration=f"{title} text", effects=effects, source=title)


def _story():
    graph = StoryGraph(initial_state("harbour", ["lantern"]))
    root = graph.add_root(seed=1)
    graph.add_version(root.id, _version("start", add_items=["map"]))
    a = graph.add_child(root.id, "Go up", "travel", seed=2)
    b = graph.add_child(root.id, "Stay", "rest", seed=3)
    return graph, root, a, b


def test_stubs_and_choices():
    graph, root, a, b = _story()
    assert [c.id for c in graph.choices(root.id)] == [a.id, b.id]
    assert a.status == STUB and root.status == READY
    typed = graph.add_child(root.id, "dance", "explore", seed=4, free_text=True)
    assert typed.id not in [c.id for c in graph.choices(root.id)]  # typed actions are not choices
    assert typed.id in [c.id for c in graph.children(root.id)]


def test_state_derives_from_effects_along_the_path():
    graph, root, a, b = _story()
    graph.add_version(a.id, _version("a", location="cliffs", add_items=["rope"]))
    graph.add_version(b.id, _version("b", remove_items=["lantern"]))
    assert graph.state_after(a.id).inventory == ("lantern", "map", "rope")
    assert graph.state_after(a.id).location == "cliffs"
    assert graph.state_after(b.id).inventory == ("map",)
    assert graph.state_before(a.id).location == "harbour"
    assert graph.path(a.id) == [root.id, a.id]


def test_regenerate_keeps_old_versions_and_their_branches():
    graph, root, a, b = _story()
    graph.add_version(root.id, _version("start again", add_items=["compass"]))
    assert root.active == 1 and len(root.versions) == 2
    assert graph.choices(root.id) == []               # the new telling has no choices yet
    c = graph.add_child(root.id, "New way", "explore", seed=9)
    assert graph.choices(root.id) == [c]
    graph.add_version(a.id, _version("a"))
    # a still hangs under version 0: its state uses version 0's effects
    assert "map" in graph.state_after(a.id).inventory
    assert "compass" not in graph.state_after(a.id).inventory
    graph.select_version(root.id, 0)
    assert [s.id for s in graph.choices(root.id)] == [a.id, b.id]


def test_deep_paths_do_not_recurse():
    graph = StoryGraph(initial_state())
    node = graph.add_root(seed=0)
    graph.add_version(node.id, _version("0"))
    for index in range(5000):
        node = graph.add_child(node.id, "on", "explore", seed=index)
        graph.add_version(node.id, _version(str(index), adjust={"steps": 1}))
    graph.forget_states()
    assert graph.state_after(node.id).flags["steps"] == 999  # clamped at FLAG_MAX
    assert graph.state_after(node.id).depth == 5001
    assert len(graph.path(node.id)) == 5001
    assert [s.title for s in graph.recent(node.id, 3)] == ["4997", "4998", "4999"]
