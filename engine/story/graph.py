"""The story graph: scenes as nodes of a networkx DiGraph, choices as edges.

The graph is a tree grown from one root. Every scene keeps the choice (or typed action) that led
to it and the version of its parent it hangs under, so regenerating a scene keeps the earlier
versions, their choices and everything explored beyond them. World state is derived from the
effects along the path (memoised). This module does no I/O and knows no backend.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterator

import networkx as nx

from engine.story.records import compact, shape_of
from engine.story.schema import Effects, SceneDraft
from engine.story.state import WorldState, apply_effects

STUB, GENERATING, READY, FAILED = "stub", "generating", "ready", "failed"
STATUSES = (STUB, GENERATING, READY, FAILED)
STATE_MEMO_SIZE = 8192  # derived states kept in memory; older ones are recomputed on demand


@dataclass(slots=True)
class Version:
    """One telling of a scene. Regeneration appends a new one; the old stay as alternatives."""

    title: str
    narration: str
    image_prompt: str = ""
    mood: str = "calm"
    effects: dict = field(default_factory=dict)  # Effects as a compact dict (empty fields left out)
    ending: bool = False
    source: str = ""      # storylet id, or "" for language models
    author: str = ""      # "backend:model" that wrote it
    seed: int = 0
    image_key: str = ""   # content-addressed cache key of its picture, once painted

    @classmethod
    def from_draft(cls, draft: SceneDraft, author: str, seed: int) -> "Version":
        return cls(
            title=draft.title,
            narration=draft.narration,
            image_prompt=draft.image_prompt,
            mood=draft.mood,
            effects=draft.effects.model_dump(exclude_defaults=True),
            ending=draft.ending,
            source=draft.source,
            author=author,
            seed=seed,
        )

    def to_dict(self) -> dict:
        """Compact form for saves: fields equal to their default are left out."""
        return compact(self, VERSION_SHAPE)


@dataclass(slots=True)
class Scene:
    """A node of the story: the choice that led here and every version told of it."""

    id: int
    parent: int | None
    parent_version: int = 0     # which version of the parent offered the choice leading here
    label: str = ""             # the choice label or the typed action that led here
    intent: str = "explore"
    goto: str = ""              # storylet hint carried by the choice
    free_text: bool = False     # True when the player typed the action
    seed: int = 0
    status: str = STUB
    error: str = ""             # why the last attempt failed, shown to the player
    versions: list[Version] = field(default_factory=list)
    active: int = 0             # index of the version shown
    visited: bool = False       # the player has been here (prefetched scenes have not)
    pace_ms: int = 0            # milliseconds the player took to choose it; 0: not measured

    @property
    def current(self) -> Version | None:
        return self.versions[self.active] if self.versions else None

    @property
    def title(self) -> str:
        return self.current.title if self.current else self.label

    def to_dict(self) -> dict:
        """Compact form for saves: fields equal to their default are left out."""
        return compact(self, SCENE_SHAPE)


# The saved forms, derived from the fields above: a new field needs no other edit.
VERSION_SHAPE = shape_of(Version)
SCENE_SHAPE = shape_of(Scene)


class StoryGraph:
    """The branching story. Mutated only on the main thread (workers hand drafts back)."""

    def __init__(self, initial: WorldState):
        self.initial = initial
        self.g = nx.DiGraph()
        self.root: int | None = None
        self.next_id = 0
        self._by_id: list[Scene | None] = []   # scenes by id, only ever appended to
        self._states: OrderedDict[tuple[int, int], WorldState] = OrderedDict()

    # -- building -------------------------------------------------------------------------
    def add_root(self, seed: int, label: str = "Begin") -> Scene:
        scene = Scene(id=self._new_id(), parent=None, label=label, seed=seed)
        self.g.add_node(scene.id, scene=scene)
        self._index(scene)
        self.root = scene.id
        return scene

    def add_child(self, parent: int, label: str, intent: str, seed: int, goto: str = "",
                  free_text: bool = False) -> Scene:
        owner = self.scene(parent)
        scene = Scene(id=self._new_id(), parent=parent, parent_version=owner.active, label=label,
                      intent=intent, goto=goto or "", free_text=free_text, seed=seed)
        self.g.add_node(scene.id, scene=scene)
        self.g.add_edge(parent, scene.id)
        self._index(scene)
        return scene

    def add_version(self, node: int, version: Version) -> None:
        """Store a new telling of a scene and make it the one shown."""
        scene = self.scene(node)
        scene.versions.append(version)
        scene.active = len(scene.versions) - 1
        scene.status = READY
        scene.error = ""

    def select_version(self, node: int, index: int) -> None:
        scene = self.scene(node)
        if not 0 <= index < len(scene.versions):
            raise IndexError(f"scene {node} has no version {index}")
        scene.active = index

    def insert(self, scene: Scene) -> None:
        """Add a scene read back from a save (its parent must already be present)."""
        self.insert_many([scene])

    def insert_many(self, scenes) -> None:
        """Add many scenes read back from a save, parents first."""
        scenes = list(scenes)
        self.g.add_nodes_from((scene.id, {"scene": scene}) for scene in scenes)
        self.g.add_edges_from((scene.parent, scene.id) for scene in scenes
                              if scene.parent is not None)
        for scene in scenes:
            self._index(scene)
            if scene.parent is None:
                self.root = scene.id
            if scene.id >= self.next_id:
                self.next_id = scene.id + 1

    def _index(self, scene: Scene) -> None:
        by_id = self._by_id
        if scene.id >= len(by_id):
            by_id.extend([None] * (scene.id + 1 - len(by_id)))
        by_id[scene.id] = scene

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    # -- reading --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.g.number_of_nodes()

    def __contains__(self, node: int) -> bool:
        return node in self.g

    def scene(self, node: int) -> Scene:
        try:
            return self.g.nodes[node]["scene"]
        except KeyError:
            raise KeyError(f"no scene {node} in this story") from None

    def scenes(self) -> Iterator[Scene]:
        """Every scene, in id order (parents before their children).

        Safe to run on another thread while this one adds scenes (a snapshot built on the
        saver thread): it walks a list that is only ever appended to, and sees the scenes
        added before it reaches the end."""
        by_id = self._by_id
        index = 0
        while index < len(by_id):
            scene = by_id[index]
            if scene is not None:
                yield scene
            index += 1

    def children(self, node: int) -> list[Scene]:
        return [self.scene(c) for c in self.g.successors(node)]

    def choices(self, node: int) -> list[Scene]:
        """The offered choices of the version shown (typed actions are not choices)."""
        scene = self.scene(node)
        return [c for c in self.children(node)
                if c.parent_version == scene.active and not c.free_text]

    def path(self, node: int) -> list[int]:
        """Scene ids from the root to node."""
        out = [node]
        while (parent := self.scene(out[-1]).parent) is not None:
            out.append(parent)
        out.reverse()
        return out

    def recent(self, node: int, count: int) -> list[Scene]:
        """Up to `count` ready scenes ending at node, oldest first (cost independent of depth)."""
        out: list[Scene] = []
        current: int | None = node
        while current is not None and len(out) < count:
            scene = self.scene(current)
            if scene.current is not None:
                out.append(scene)
            current = scene.parent
        out.reverse()
        return out

    # -- world state ------------------------------------------------------------------------
    def state_before(self, node: int) -> WorldState:
        """World state when the player arrives at node, before its own effects."""
        scene = self.scene(node)
        if scene.parent is None:
            return self.initial
        return self.state_after(scene.parent, scene.parent_version)

    def state_after(self, node: int, version: int | None = None) -> WorldState:
        """World state once node (in the given version, default the shown one) has been told."""
        chain: list[tuple[int, int]] = []
        current: int | None = node
        wanted = version
        state = self.initial
        while current is not None:
            scene = self.scene(current)
            key = (current, scene.active if wanted is None else wanted)
            memo = self._states.get(key)
            if memo is not None:
                self._states.move_to_end(key)
                state = memo
                break
            chain.append(key)
            wanted = scene.parent_version
            current = scene.parent
        for key in reversed(chain):
            scene = self.scene(key[0])
            told = scene.versions[key[1]] if key[1] < len(scene.versions) else None
            if told is not None:
                state = apply_effects(state, Effects.model_validate(told.effects), told.source)
            self._remember(key, state)
        return state

    def forget_states(self) -> None:
        """Drop memoised states (after a version's effects changed or a load)."""
        self._states.clear()

    def _remember(self, key: tuple[int, int], state: WorldState) -> None:
        self._states[key] = state
        if len(self._states) > STATE_MEMO_SIZE:
            self._states.popitem(last=False)

    # -- the story map ----------------------------------------------------------------------
    def explored(self, current: int) -> set[int]:
        """The scenes the player has been to: the path to `current`, every scene marked
        visited (kept in saves), and the way to each of those. Scenes told ahead by prefetch
        but never visited are not explored, so a map can show them as open ends without
        giving their text away."""
        seen = set(self.path(current))
        seen.update(scene.id for scene in self.scenes() if scene.visited)
        for node in list(seen):       # the way to a visited scene was visited too
            seen.update(self.path(node))
        return seen

    def map_view(self, current: int) -> MapView:
        """What a story map draws, as plain data: the explored scenes and, hanging from them,
        their choices (the open ends), laid out as a tree. See MapView."""
        visited = self.explored(current)
        keep = set(visited)
        for node in visited:
            keep.update(self.g.successors(node))
        tree = self.g.subgraph(keep)
        positions = _tree_layout(tree, self.root)
        children = {node: tuple(tree.successors(node)) for node in positions}
        return MapView(root=self.root, visited=frozenset(visited), positions=positions,
                       children=children)


@dataclass(frozen=True)
class MapView:
    """A story map as plain data (StoryGraph.map_view): no graph library needed to draw it.

    positions gives each shown scene its (depth, row): depth is its distance from the root,
    rows come from a post-order walk so that every parent sits centred over its children and
    leaves are on consecutive rows. children lists the shown children of each shown scene.
    """

    root: int | None
    visited: frozenset[int]                       # the explored scenes (the others: open ends)
    positions: dict[int, tuple[int, float]]       # scene -> (depth, row)
    children: dict[int, tuple[int, ...]]          # scene -> its shown children, in story order

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(parent, child) for every line the map draws."""
        return [(parent, child) for parent, kids in self.children.items() for child in kids]


def _tree_layout(tree: nx.DiGraph, root: int | None) -> dict[int, tuple[int, float]]:
    """node -> (depth, row) for a tree: leaves on consecutive rows, parents centred on children."""
    if root is None or root not in tree:
        return {}
    depth = nx.single_source_shortest_path_length(tree, root)
    rows: dict[int, float] = {}
    next_row = 0
    for node in nx.dfs_postorder_nodes(tree, root):
        children = [c for c in tree.successors(node) if c in rows]
        if children:
            rows[node] = (rows[children[0]] + rows[children[-1]]) / 2
        else:
            rows[node] = float(next_row)
            next_row += 1
    return {node: (depth[node], rows[node]) for node in rows}
