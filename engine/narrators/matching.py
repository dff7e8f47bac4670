"""Reading a typed action against a world: its verb, object, intent and the character it names.

The storylet narrator answers what the player types. This module reads the words (first person
"I light the lamp" and imperative "light the lamp" alike), finds the verb, its object, the
character it names and the intent it means, and says it back in the second person ("You light
the lamp."). It also gives the stems that engine.narrators.storylet_index matches against a
world's storylets. Pure functions over the loaded world; it renders nothing and decides nothing
about state, which stays with engine.narrators.storylets.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from engine.worlds.world import World

# Verbs and the intent each means. The first verb of an action decides its intent.
INTENT_VERBS: dict[str, tuple[str, ...]] = {
    "talk": ("ask", "say", "tell", "speak", "talk", "greet", "chat", "question", "call", "shout",
             "whisper", "reply", "answer", "persuade", "convince", "thank", "kiss", "hug",
             "embrace", "flirt", "wave", "smile", "nod", "introduce", "apologise", "apologize",
             "beg", "plead", "insult", "joke", "confess", "accuse", "argue", "lie", "warn",
             "promise", "swear", "sing", "yell", "scream", "laugh", "hail"),
    "fight": ("attack", "hit", "strike", "fight", "punch", "kill", "stab", "shoot", "kick",
              "wrestle", "duel", "smash", "break", "slap", "shove", "tackle", "bite", "choke",
              "destroy", "threaten", "charge", "fire", "hurt", "beat", "batter", "wound"),
    "sneak": ("hide", "sneak", "creep", "steal", "pickpocket", "spy", "eavesdrop", "follow",
              "lurk", "tiptoe", "crouch", "shadow", "slip", "pocket"),
    "trade": ("buy", "sell", "pay", "trade", "barter", "bribe", "haggle", "offer", "hire",
              "bargain", "spend", "tip"),
    "rest": ("sleep", "rest", "sit", "wait", "eat", "drink", "relax", "nap", "breathe", "pray",
             "doze", "smoke", "meditate", "dream", "stay", "kneel", "sigh", "cry", "weep"),
    "travel": ("go", "walk", "travel", "head", "leave", "sail", "climb", "return", "enter",
               "descend", "ascend", "row", "ride", "cross", "visit", "move", "swim", "dive",
               "board", "exit", "approach", "fly", "step", "crawl", "wade"),
    "investigate": ("look", "examine", "search", "inspect", "read", "study", "check",
                    "investigate", "listen", "smell", "sniff", "touch", "watch", "observe",
                    "scan", "peer", "taste", "feel", "count", "compare", "x", "l", "analyse",
                    "analyze", "view", "see", "find"),
    "use": ("use", "open", "close", "shut", "light", "unlock", "lock", "wear", "repair",
            "fix", "ring", "pull", "push", "activate", "turn", "play", "switch", "press",
            "fill", "pour", "write", "cut", "tie", "burn", "drop", "take", "pick", "grab",
            "throw", "put", "place", "hold", "lift", "wind", "trim", "load", "start", "restart",
            "swap", "plug", "type", "dig", "raise", "lower", "show", "mend", "clean", "get"),
    "help": ("help", "give", "save", "heal", "rescue", "aid", "comfort", "protect", "free",
             "carry", "bandage", "feed", "guard", "support", "assist", "cover"),
    "flee": ("run", "flee", "escape", "retreat", "hurry", "bolt", "abandon"),
    "explore": ("explore", "wander", "roam", "discover", "venture", "jump", "leap", "dance",
                "float", "drift", "hum", "whistle", "stand", "think", "remember", "shiver"),
}
VERB_INTENT = {verb: intent for intent, verbs in INTENT_VERBS.items() for verb in verbs}
VERB_INTENT.update(am="rest", was="rest")   # "I am tired": how the player feels
# Verbs that say no more than their intent ("talk to Maren" is any talk with Maren): a storylet
# that answers the intent covers them.
PLAIN_VERBS: dict[str, frozenset[str]] = {intent: frozenset(verbs.split()) for intent, verbs in {
    "talk": "talk speak chat ask say tell greet converse", "fight": "fight attack",
    "investigate": "look examine search inspect check study investigate explore",
    "travel": "go walk head travel return visit move", "explore": "explore wander look",
    "rest": "rest wait sleep sit relax", "use": "use", "help": "help", "sneak": "sneak hide",
    "trade": "trade buy sell", "flee": "flee run escape"}.items()}
GREETINGS = frozenset("hello hi hey hullo ahoy oi howdy greetings goodbye bye farewell thanks "
                      "yes no sorry please help".split())
PARTICLES = frozenset("up down in out on off over around round about away back at to into onto "
                      "through across towards toward under behind inside outside along past by "
                      "near for from with upon".split())
CUT_AT = frozenset("about with to into onto from at on in under over behind for through across "
                   "towards toward using near by".split())
DETERMINERS = frozenset("the a an my your his her their its our some this that these those "
                        "any every all".split())
STOP = frozenset("""a an the to of and or in on at with for from into onto my your i me you it
this that is are be do go get let then now just again some there here up down out off over
around about away back by as so if not no but what who how when where why which will would can
could shall should may might must very too also only am was were been being have has had
i'm i'll i've i'd im ill we us our they them their he him his she her its try want going
please maybe""".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Said back without change of meaning: "please", "let me", "I'll", "I'm going to".
_POLITE = re.compile(r"^(?:please|let me|let's|lets|then|now|and|so|ok|okay|i'll|we'll|"
                     r"(?:i|we) will|(?:i|we) shall|i'm going to|(?:i|we) decide to)\b[\s,]*",
                     re.I)
# Kept when said back, skipped to find the verb: "I try to open it" -> "open it".
_MODAL = re.compile(r"^(?:(?:(?:i|we)\s+)?(?:would like to|'d like to|want to|wanna|try to|"
                    r"attempt to|am going to|'m going to|going to|need to|must|quickly|slowly|"
                    r"carefully|quietly|gently))\s+", re.I)
_SUBJECT = re.compile(r"^(?:i|we)\s+(?=\S)", re.I)
_CONTRACTED = re.compile(r"^(?:i'll|i'm|i've|i'd|i am|i was|we'll|we're)\b", re.I)
_PUNCT = ".,;:!?\"'()\u201c\u201d"
_SWAPS = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
          "i'm": "you're", "im": "you're", "i'll": "you'll", "i've": "you've", "i'd": "you'd",
          "we": "you", "us": "you", "our": "your", "ourselves": "yourselves", "we're": "you're",
          "we'll": "you'll"}
_IRREGULAR = {"lit": "light", "went": "go", "spoke": "speak", "took": "take", "ran": "run",
              "swam": "swim", "fought": "fight", "sat": "sit", "slept": "sleep", "ate": "eat",
              "drank": "drink", "stole": "steal", "hid": "hide", "rang": "ring", "rung": "ring",
              "gave": "give", "wore": "wear", "threw": "throw", "bought": "buy", "sold": "sell",
              "children": "child", "men": "man", "women": "woman", "feet": "foot",
              "teeth": "tooth", "geese": "goose", "mice": "mouse", "people": "person"}


def stem(word: str) -> str:
    """A light English stem, the same for a word's common forms: lamps, lamp -> lamp;
    lighting, lighted, lit -> light; used, using, use -> us. Only ever compared with itself."""
    word = word.lower().removesuffix("'s").strip("'")
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3:
        return word[:-1] if len(word) == 3 and word.endswith("e") and word[1] != "e" else word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) >= 5 and _VOWEL.search(word[:-3]):
        word = _undouble(word[:-3])
    elif word.endswith("ed") and not word.endswith("eed") and _VOWEL.search(word[:-2]):
        word = _undouble(word[:-2])
    elif word.endswith(("ches", "shes", "sses", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and not word.endswith("ee") and len(word) >= 3:
        word = word[:-1]
    return word


_VOWEL = re.compile(r"[aeiouy]")


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of a text, in order (apostrophes kept inside words)."""
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def terms(text: str) -> list[str]:
    """The stems of a text's content words (stop words dropped), in order."""
    return [stem(t) for t in tokens(text) if t not in STOP and len(t) > 1]


def infer_intent(text: str) -> str:
    """The intent a typed action most likely means: its first known verb's, else the intent
    most of its words point to, else 'explore'."""
    found = tokens(_lead_stripped(" ".join(text.split()))[1])
    for word in found[:3]:
        if word in VERB_INTENT:
            return VERB_INTENT[word]
        if stem(word) in _STEM_INTENT:
            return _STEM_INTENT[stem(word)]
    counts = Counter(VERB_INTENT[w] for w in found if w in VERB_INTENT)
    if counts:
        return counts.most_common(1)[0][0]
    if text.strip().endswith("?") or (found and found[0] in GREETINGS):
        return "talk"
    return "explore"


_STEM_INTENT = {stem(verb): intent for verb, intent in VERB_INTENT.items()}
VERB_STEMS = frozenset(_STEM_INTENT)   # stems of the verbs the matcher knows


@dataclass(frozen=True)
class ParsedAction:
    """A typed action read against the world. Every field is plain text for templates."""

    words: str           # what the player typed, tidied ("Light the lamp")
    verb: str            # its verb, lower case ("light"); "" when it has none
    object: str          # what the verb acts on, as typed ("the lamp"); may be ""
    thing: str           # the object without "the", "my"... ("lamp")
    action: str          # the action in the second person, without "You" ("light the lamp")
    you: str             # the action said back to the player ("You light the lamp.")
    intent: str          # the intent it means (engine.story.schema.INTENTS)
    target: str = ""     # id of the character it names, "" when none
    speech: bool = False     # words said aloud ("hello?")
    nonsense: bool = False   # words that mean nothing in this world ("xyzzy")
    query: tuple[str, ...] = ()   # stems matched against storylets
    first: str = ""      # its first clause said back ("You climb up." of "climb up and look")
    first_action: str = ""   # ... without "You" and without "try to" ("climb up")
    clauses: tuple[str, ...] = ()   # its clauses when it has several ("climb up", "look")

    @property
    def plain_verb(self) -> bool:
        """Whether the verb says no more than the intent ("talk", "look", "go")."""
        return self.verb in PLAIN_VERBS.get(self.intent, ())

    @property
    def kind(self) -> str:
        """What kind of reaction answers it: its intent, or 'nonsense'."""
        return "nonsense" if self.nonsense else self.intent

    def named_in(self, text: str) -> bool:
        """Whether a narration names this action: its verb, its object or its words."""
        told = {stem(t) for t in tokens(text)}
        wanted = [stem(t) for t in tokens(self.thing) if t not in STOP]
        if self.verb and stem(self.verb) in told:
            return True
        if wanted and all(w in told for w in wanted):
            return True
        return self.words.lower() in text.lower()


def second_person(text: str) -> str:
    """The player's words turned to the second person: "I light my lamp" gives "you light your
    lamp", "I am lost" gives "you are lost". Capitals stay where they were ("I" aside)."""
    out, after_i = [], False
    for word in text.split():
        core = word.strip(_PUNCT)
        lower = core.lower().replace("\u2019", "'")
        swap = {"am": "are", "was": "were"}.get(lower) if after_i else _SWAPS.get(lower)
        after_i = lower in ("i", "we")
        if swap and core:
            start = word.index(core)
            cased = swap.capitalize() if core[0].isupper() and lower not in ("i", "i'm", "i'll",
                                                                            "i've", "i'd") \
                else swap
            word = word[:start] + cased + word[start + len(core):]
        out.append(word)
    return " ".join(out)


def _lead_stripped(text: str) -> tuple[str, str]:
    """(what the player says they do, the bare action): "please, I try to open it" gives
    ("I try to open it", "open it")."""
    said = text
    while (tidier := _POLITE.sub("", said)) != said:
        said = tidier
    core = said
    while (tidier := _MODAL.sub("", _SUBJECT.sub("", core))) != core:
        core = tidier
    return said, core


def _you(said: str) -> str:
    """The action said back to the player as a sentence: "You light the lamp."."""
    if _CONTRACTED.match(said):
        sentence = second_person(said)
        sentence = sentence[:1].upper() + sentence[1:]
    else:
        sentence = "You " + _lower_first(second_person(_SUBJECT.sub("", said)))
    return sentence if sentence[-1:] in ".!?" else sentence + "."


def _lower_first(text: str) -> str:
    if text.isupper() and len(text.split()) > 1:
        return text.lower()
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and not first[1:2].isupper():
        return text[:1].lower() + text[1:]
    return text


def parse_action(text: str, world: World, present: tuple[str, ...] = (),
                 vocabulary: frozenset[str] = frozenset()) -> ParsedAction:
    """Read a typed action: verb, object, intent, the character it names, and how to say it
    back. `vocabulary` holds the stems the world knows (its storylets' words): words with no
    known verb, no known thing and no name are nonsense."""
    words = " ".join(text.split()).strip()
    plain = words.strip("\"'\u201c\u201d ")
    quoted = bool(plain) and plain != words
    if plain.isupper() and len(plain.split()) > 1:
        plain = plain.lower()          # caps lock is not shouting at the world
    plain = _proper_names(plain, world)
    said, core = _lead_stripped(plain)
    said, core = said.rstrip(" .!;,"), core.rstrip(" .!;,?")
    if core.lower() in ("look", "l"):
        said = core = "look around"
    core = re.sub(r"^go (?:back )?to (sleep|bed)\b", r"\1", core, flags=re.I)   # not travel
    found = tokens(core)
    target = _target(found, world, present)
    first = found[0] if found else ""
    known_verb = first in VERB_INTENT or stem(first) in _STEM_INTENT
    if quoted or (first in GREETINGS and first not in VERB_INTENT) \
            or (said.endswith("?") and not known_verb):
        line = said[:1].upper() + said[1:]
        verb = "ask" if line.endswith("?") else "say"
        line = line if line[-1:] in "?!." else line + "."
        return ParsedAction(words, verb, "", "", f'{verb}, "{line}"', f'You {verb}, "{line}"',
                            "talk", target, speech=True, query=tuple(terms(core)))
    content = [t for t in found if t not in STOP]
    known = bool(target) or any(stem(t) in vocabulary for t in content)
    linked = len(found) >= 2 and found[1] in DETERMINERS | PARTICLES
    if not known_verb and not (known or linked):
        line = plain if plain[-1:] in "?!." else plain + "."
        return ParsedAction(words, "", "", "", f'say "{plain}"', f'You say, "{line}"',
                            "explore", target, nonsense=True, query=tuple(terms(core)))
    if not known_verb and not linked and len(found) <= 3:
        # a bare name or thing ("Ivy", "the lamp"): turn to them, or look at it
        bare = core if target or found[0] in DETERMINERS or core[:1].isupper() else f"the {core}"
        core = said = f"speak to {core}" if target and len(content) == 1 else f"look at {bare}"
        found = tokens(core)
    verb = found[0]
    obj = _object(core)
    action = _lower_first(second_person(re.sub(r"^am\b", "are", re.sub(r"^was\b", "were", core))))
    thing = " ".join(w for w in obj.split() if w.lower() not in DETERMINERS)
    intent = VERB_INTENT.get(verb) or _STEM_INTENT.get(stem(verb)) or infer_intent(core)
    if verb == "lie" and found[1:2] in (["down"], ["back"], ["on"], ["in"]):
        intent = "rest"      # "lie down", not "lie to Silas"
    clauses = _clauses(said)
    first_action = _lower_first(second_person(_lead_stripped(clauses[0])[1])).rstrip(" .!?")
    return ParsedAction(words, verb, obj, thing, action, _you(said), intent, target,
                        query=tuple(terms(core)), first=_you(clauses[0]),
                        first_action=first_action,
                        clauses=tuple(clauses) if len(clauses) > 1 else ())


def _clauses(said: str) -> list[str]:
    """The action split where a new verb starts: "climb up and light the lamp" -> ["climb up",
    "light the lamp"]; "take the rope, the lamp and the key" stays whole."""
    parts = re.split(r"(\s*,\s*(?:and\s+|then\s+)?|\s+(?:and then|and|then)\s+)", said)
    clauses = [parts[0]]
    for separator, part in zip(parts[1::2], parts[2::2]):
        head = part.split(" ", 1)[0].lower()
        if head in VERB_INTENT or stem(head) in _STEM_INTENT:
            clauses.append(part)
        else:
            clauses[-1] += separator + part
    return clauses


def _object(body: str) -> str:
    """What the first verb acts on: the words after it and its particles, up to the next
    preposition or clause ("jump into the sea" -> "the sea"; "light the lamp with a match"
    -> "the lamp")."""
    first_clause = re.split(r"\s*(?:,|;|\.|\band\b|\bthen\b|\bbut\b)\s*", body, maxsplit=1)[0]
    words = first_clause.split()[1:]
    while words and words[0].lower() in PARTICLES:
        words = words[1:]
    kept = []
    for word in words:
        if kept and word.lower() in CUT_AT:
            break
        kept.append(word)
    return second_person(" ".join(kept)).strip(" ?!")


_TITLES = frozenset("lieutenant captain doctor dr mister mr miss mrs ms sir lady lord father "
                    "mother sister brother uncle aunt old young".split())


def _name_parts(name: str, ident: str) -> list[str]:
    """The words a player calls a character by: the first name and the word the id is made of
    ("Ansel" and "Cole" for cole, Lieutenant Ansel Cole), not titles or other surnames
    ("marsh" is a word before it is Ivy's name)."""
    parts = [p.strip(".,'") for p in name.split()]
    parts = [p for p in parts if len(p) >= 3 and p.lower() not in _TITLES]
    chosen = parts[:1] + [p for p in parts[1:] if p.lower() == ident]
    return chosen


def _target(found: list[str], world: World, present: tuple[str, ...]) -> str:
    """The character a text names, by id or name (see _name_parts), those present first."""
    characters = sorted(world.spec.characters, key=lambda c: c.id not in present)
    words = set(found)
    for character in characters:
        if ({character.id} | {p.lower() for p in _name_parts(character.name, character.id)}) \
                & words:
            return character.id
    return ""


def _proper_names(text: str, world: World) -> str:
    """Characters' names as the world writes them: "kiss ivy" -> "kiss Ivy", "cantor" ->
    "CANTOR"."""
    for character in world.spec.characters:
        for part in _name_parts(character.name, character.id):
            text = re.sub(rf"\b{re.escape(part)}\b", part, text, flags=re.I)
    return text


def acknowledgement(parsed: ParsedAction, strong: frozenset[str] | None) -> str:
    """The sentence a storylet told for a typed action opens with. When the storylet is about
    the action's verb (its title, tags or labels say it), the action is told as done ("You
    light the lamp."); otherwise as begun ("You set out to light the lamp."), since the scene
    that follows may stop short of it. `strong`: the words the storylet's title, tags or labels
    cover (None: not known)."""
    tentative = parsed.first != f"You {parsed.first_action}."    # "You try to ...", "I'm ..."
    if parsed.speech or parsed.plain_verb or not parsed.first_action or strong is None \
            or not parsed.verb or stem(parsed.verb) in strong or tentative:
        return parsed.first or parsed.you
    return f"You set out to {parsed.first_action}."


def opens_with(narration: str, parsed: ParsedAction) -> bool:
    """Whether a storylet's first sentence already tells the action (its verb and object), so
    that saying it again first would only repeat it."""
    first = re.split(r"(?<=[.!?])\s", narration, maxsplit=1)[0]
    said = {stem(t) for t in tokens(first)}
    named = parsed.query if parsed.speech else [stem(t) for t in tokens(parsed.thing)]
    wanted = set(named) | ({stem(parsed.verb)} if parsed.verb else set())
    return bool(named) and wanted <= said


__all__ = ["ParsedAction", "parse_action", "infer_intent", "second_person", "acknowledgement",
           "opens_with", "stem", "terms", "tokens", "INTENT_VERBS", "PLAIN_VERBS", "VERB_STEMS"]
