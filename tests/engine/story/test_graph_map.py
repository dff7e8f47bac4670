"""The story map's data (StoryGraph.explored / map_view): what the player has seen, laid out as a tree."""

from engine.story.graph import StoryGraph, Version
from engine.story.state import initial_state


def _told(graph, node, title):
    graph.add_version(node, Version(title=title, narration=f"{title} text"))


def _story():
    """root -> a (visited) -> a1 (told ahead), a2; root -> b (told ahead) -> b1."""
    graph = StoryGraph(initial_state())
    root = graph.add_root(seed=1)
    _told(graph, root.id, "start")
    a = graph.add_child(root.id, "Go up", "travel", seed=2)
    b = graph.add_child(root.id, "Stay", "rest", seed=3)
    _told(graph, a.id, "up")
    _told(graph, b.id, "stay")                 # prefetched: told, never visited
    a1 = graph.add_child(a.id, "Look", "explore", seed=4)
    a2 = graph.add_child(a.id, "Leave", "travel", seed=5)
    _told(graph, a1.id, "look")
    b1 = graph.add_child(b.id, "Sleep", "rest", seed=6)
    return graph, root.id, a.id, b.id, a1.id, a2.id, b1.id


def test_explored_is_the_path_and_the_visited_scenes_not_what_prefetch_told():
    graph, root, a, b, a1, a2, b1 = _story()
    assert graph.explored(a) == {root, a}
    graph.scene(a1).visited = True             # been there, then went back
    assert graph.explored(root) == {root, a, a1}       # the way to a visited scene counts
    assert b not in graph.explored(root) and b1 not in graph.explored(root)


def test_map_view_shows_explored_scenes_and_their_choices_as_a_tree():
    graph, root, a, b, a1, a2, b1 = _story()
    view = graph.map_view(a)
    assert view.root == root and view.visited == {root, a}
    assert set(view.positions) == {root, a, b, a1, a2}  # b1 hangs from an open end: not shown
    assert view.children[root] == (a, b) and view.children[a] == (a1, a2)
    assert view.children[b] == () and set(view.edges) == {(root, a), (root, b), (a, a1), (a, a2)}
    for node, (depth, _) in view.positions.items():   # depth is the distance from the root
        assert depth == len(graph.path(node)) - 1
    rows = {node: row for node, (_, row) in view.positions.items()}
    assert sorted(rows[n] for n in (a1, a2, b)) == [0.0, 1.0, 2.0]    # leaves on their own rows
    assert rows[a] == (rows[a1] + rows[a2]) / 2 and rows[root] == (rows[a] + rows[b]) / 2

