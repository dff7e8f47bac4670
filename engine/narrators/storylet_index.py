"""BM25F over a world's storylets: which storylets a typed action's words point to.

A storylet is described by strong fields (its title, its tags and the labels of the choices
that lead to it, the words others use for it) and a weak one (its text, without template
markup). Each place is described by the titles and tags of the storylets set there, so "climb
to the lamp room" names the lighthouse. Built once per loaded world; pure data, no state.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from engine.narrators.matching import VERB_STEMS, stem, terms, tokens
from engine.worlds.world import World

K1, B = 1.2, 0.75          # BM25 saturation and length normalisation
FIELD_BOOST = {"title": 3.0, "tags": 3.0, "labels": 2.0, "text": 1.0}
TEXT_ONLY_CREDIT = 0.5     # a word found only in a storylet's text covers half as much


@dataclass(frozen=True)
class Match:
    """How well one storylet answers a typed action."""

    storylet: str
    score: float       # BM25F over all fields
    coverage: float    # share of the action's words (by IDF) the storylet covers, 0-1
    strong: frozenset[str] = frozenset()   # the words its title, tags or labels cover


class StoryletIndex:
    """BM25F over a world's storylets, built once per loaded world."""

    def __init__(self, world: World):
        labels: dict[str, list[str]] = {}
        for storylet in world.storylets.values():
            for choice in storylet.spec.choices:
                if choice.goto:
                    labels.setdefault(choice.goto, []).append(choice.label)
        names = {c.id: c.name for c in world.spec.characters}
        self.ids: list[str] = []
        self.strong: list[set[str]] = []
        self.weak: list[set[str]] = []
        self.tf: list[Counter] = []
        self.lengths: list[float] = []
        df: Counter = Counter()
        for storylet in world.storylets.values():
            spec = storylet.spec
            fields = {"title": terms(spec.title), "tags": terms(" ".join(spec.tags)),
                      "labels": terms(" ".join(labels.get(spec.id, []))),
                      "text": terms(_plain(spec.text, names))}
            tf: Counter = Counter()
            for name, found in fields.items():
                for term in found:
                    tf[term] += FIELD_BOOST[name]
            self.ids.append(spec.id)
            self.strong.append(set(fields["title"]) | set(fields["tags"]) | set(fields["labels"]))
            self.weak.append(set(fields["text"]))
            self.tf.append(tf)
            self.lengths.append(sum(FIELD_BOOST[n] * len(f) for n, f in fields.items()))
            df.update(set(tf))
        self.df = df
        self.places = _place_terms(world)
        self.count = len(self.ids)
        self.average = (sum(self.lengths) / self.count) if self.count else 1.0
        self.vocabulary = frozenset(df) | {stem(t) for n in names.values() for t in tokens(n)}
        self._row = {sid: i for i, sid in enumerate(self.ids)}

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency; a word no storylet has counts as the rarest."""
        n = self.df.get(term, 0)
        return math.log(1 + (self.count - n + 0.5) / (n + 0.5))

    def names_place(self, query: tuple[str, ...], location: str) -> bool:
        """Whether an action names a place: its id or a word of the storylets set there."""
        return any(term in self.places.get(location, ()) for term in query)

    def place_terms(self, location: str) -> frozenset[str]:
        return self.places.get(location, frozenset())

    def match(self, query: tuple[str, ...], storylet_id: str,
              given: frozenset[str] = frozenset()) -> Match:
        """How well a storylet answers the query. Terms in `given` count as the storylet's
        own title words (the place it takes the player to; a verb that only says its intent)."""
        row = self._row.get(storylet_id)
        unique = list(dict.fromkeys(query))
        if row is None or not unique:
            return Match(storylet_id, 0.0, 0.0)
        tf, norm = self.tf[row], K1 * (1 - B + B * self.lengths[row] / self.average)
        strong = self.strong[row] | given if given else self.strong[row]
        score = covered = total = 0.0
        found = set()
        for term in unique:
            weight = self.idf(term)
            total += weight
            if term in strong:
                covered += weight
                found.add(term)
            elif term in self.weak[row]:
                covered += weight * TEXT_ONLY_CREDIT
            frequency = tf.get(term, 0.0)
            score += weight * frequency * (K1 + 1) / (frequency + norm)
        return Match(storylet_id, score, covered / total if total else 0.0, frozenset(found))


_LOCATION_IS = re.compile(r"location\s*==\s*['\"]([a-z0-9_]+)['\"]")


def places_named(condition: str) -> set[str]:
    """The places a condition ties a storylet to (`location == 'harbour'`)."""
    return set(_LOCATION_IS.findall(condition))


def _place_terms(world: World) -> dict[str, frozenset[str]]:
    """Words that name each place: its id, and the titles and tags of the storylets that take
    the player there or happen only there (verbs left out: "climb" names no place)."""
    found: dict[str, set[str]] = {}
    for storylet in world.storylets.values():
        spec = storylet.spec
        places = places_named(spec.when)
        if spec.effects.location:
            places.add(spec.effects.location)
        words = set(terms(spec.title)) | set(terms(" ".join(spec.tags)))
        for place in places:
            found.setdefault(place, set()).update(words | set(terms(place.replace("_", " "))))
    return {place: frozenset(w for w in words if w not in VERB_STEMS)
            for place, words in found.items()}


def _plain(template: str, names: dict[str, str]) -> str:
    """A storylet text without template markup; `characters.<id>.name` becomes the name."""
    text = re.sub(r"\{\{\s*characters\.([a-z0-9_]+)\.name\s*\}\}",
                  lambda m: names.get(m.group(1), m.group(1)), template)
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", " ", text, flags=re.S)
    return text


__all__ = ["StoryletIndex", "Match", "places_named", "K1", "B", "FIELD_BOOST"]
