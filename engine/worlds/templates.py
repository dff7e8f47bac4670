"""Sandboxed Jinja2 for everything modders write: storylet text, conditions and prompt templates.

Templates come from strangers, so they run in Jinja2's immutable sandbox with StrictUndefined, a
render time limit, an output size cap, capped ranges and capped string/list multiplication.
Errors become TemplateError naming the file and line. This module must not read files.
"""

from __future__ import annotations

import operator
import threading
import time
from typing import Any, Callable

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from engine.errors import TemplateError

TIME_LIMIT_S = 0.25       # CPU time one render may take (its own thread's: waiting for the
                          # CPU while other threads or processes run does not count)
MAX_OUTPUT = 40_000       # characters one render may produce
MAX_RANGE = 1_000         # items range() may produce in a template
MAX_PRODUCT = 10_000      # length of a string or list made by * in a template
_local = threading.local()


class _Limits(Exception):
    """Internal: a render went past its time or size limit."""


def _check_deadline() -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.thread_time() > deadline:
        raise _Limits("it took longer than its time limit")


def _safe_range(*args: int):
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _Limits(f"range() larger than {MAX_RANGE} items")
    for number in numbers:
        _check_deadline()
        yield number


def _safe_mul(left: Any, right: Any) -> Any:
    if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
        size = (len(left) if hasattr(left, "__len__") else 1) * (
            right if isinstance(right, int) else left if isinstance(left, int) else 1)
        if abs(size) > MAX_PRODUCT:
            raise _Limits(f"a repeated text or list longer than {MAX_PRODUCT}")
    return operator.mul(left, right)


def _safe_add(left: Any, right: Any) -> Any:
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        if len(left) + len(right) > MAX_OUTPUT:
            raise _Limits(f"a joined text or list longer than {MAX_OUTPUT}")
    return operator.add(left, right)


def _capped_filter(name: str, func: Callable) -> Callable:
    """Wrap a built-in filter: numbers it is given and what it returns stay within limits."""

    def capped(*args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        for value in list(args[1:]) + list(kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_PRODUCT:
                raise _Limits(f"the {name} filter was given a number over {MAX_PRODUCT}")
        if name == "replace" and len(args) >= 3:
            grow = max(1, len(str(args[2]))) * len(str(args[0]))
            if grow > MAX_OUTPUT * 4:
                raise _Limits(f"the replace filter would make a text over {MAX_OUTPUT} characters")
        result = func(*args, **kwargs)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_OUTPUT:
            raise _Limits(f"the {name} filter made something over {MAX_OUTPUT} long")
        return result

    capped.__name__ = getattr(func, "__name__", name)
    for flag in ("jinja_pass_arg",):   # keep pass_context / pass_environment markers
        if hasattr(func, flag):
            setattr(capped, flag, getattr(func, flag))
    return capped


_IRREGULAR = {"man": "men", "woman": "women", "child": "children", "foot": "feet",
              "tooth": "teeth", "goose": "geese", "mouse": "mice", "person": "people",
              "ox": "oxen", "die": "dice", "sheep": "sheep", "fish": "fish", "deer": "deer",
              "cod": "cod", "salmon": "salmon", "crew": "crew", "aircraft": "aircraft"}
_F_TO_VES = ("knife", "life", "wife", "leaf", "loaf", "half", "shelf", "self", "thief", "wolf",
             "calf", "sheaf", "elf")


def english_plural(word: str) -> str:
    """The plural of an English noun: hours, ferries, boxes, knives, men. The last word of a
    phrase changes ("keeper's log" -> "keeper's logs"); capitals are kept."""
    head, space, last = word.rpartition(" ")
    lower = last.lower()
    if not lower or not lower[-1].isalpha() or lower.endswith(("'s", "\u2019s")):
        return word
    if lower in _IRREGULAR:
        plural = _IRREGULAR[lower]
    elif lower.endswith(_F_TO_VES):
        plural = lower[:-2] + "ves" if lower.endswith("fe") else lower[:-1] + "ves"
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        plural = lower[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        plural = lower + "es"
    else:
        plural = lower + "s"
    if last.isupper() and len(last) > 1:
        plural = plural.upper()
    elif last[0].isupper():
        plural = plural[0].upper() + plural[1:]
    return head + space + plural


def plural(word: Any, count: Any = 2, many: str | None = None) -> str:
    """The `plural` template filter: the word as it goes with a number.

    `{{ n }} {{ "hour" | plural(n) }}` gives "1 hour", "0 hours", "5 hours";
    `{{ "goose" | plural(n) }}` knows common irregular nouns; `{{ "cactus" | plural(n, "cacti")
    }}` names the plural itself. A count that is not a number counts as many.
    """
    word = str(word)
    try:
        single = abs(float(count)) == 1
    except (TypeError, ValueError):
        single = False
    if single:
        return word
    return str(many) if many is not None else english_plural(word)


def _safe_pow(left: Any, right: Any) -> Any:
    if isinstance(right, (int, float)) and abs(right) > 64:
        raise _Limits("an exponent larger than 64")
    return operator.pow(left, right)


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "+"])

    def call_binop(self, context, operator_name, left, right):
        _check_deadline()
        if operator_name == "*":
            return _safe_mul(left, right)
        if operator_name == "+":
            return _safe_add(left, right)
        if operator_name == "**":
            return _safe_pow(left, right)
        return super().call_binop(context, operator_name, left, right)

    def call(self, __context, __obj, *args, **kwargs):
        _check_deadline()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        _check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _check_deadline()
        return super().getitem(obj, argument)


class Templates:
    """Compiles and renders modders' templates and conditions inside the sandbox."""

    def __init__(self, time_limit: float = TIME_LIMIT_S, max_output: int = MAX_OUTPUT):
        self.time_limit = time_limit
        self.max_output = max_output
        self.env = _Sandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True,
                            lstrip_blocks=True, keep_trailing_newline=False)
        self.env.optimized = False   # no constant folding at compile time, outside the limits
        for name in ("format", "xmlattr", "attr", "map", "select", "reject", "selectattr",
                     "rejectattr", "groupby", "pprint", "urlize", "tojson"):
            self.env.filters.pop(name, None)   # not needed by stories; classic escape vectors
        for name, func in list(self.env.filters.items()):
            self.env.filters[name] = _capped_filter(name, func)
        self.env.filters["plural"] = plural   # output bounded by its word: needs no cap
        self.env.globals.clear()
        self.env.globals.update(range=_safe_range, dict=dict, namespace=self._namespace())
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _namespace():
        from jinja2.utils import Namespace

        class CappedNamespace(Namespace):
            def __setitem__(self, name: str, value: Any) -> None:
                _check_deadline()
                if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
                    raise _Limits(f"a namespace value longer than {MAX_OUTPUT}")
                super().__setitem__(name, value)

        return CappedNamespace

    def compile(self, source: str, where: str = "<template>"):
        """Parse a template once (cached by text); syntax errors name `where` and the line."""
        key = ("t", source)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            code = self.env.compile(source, name=where, filename=where)
            template = self.env.template_class.from_code(self.env, code, self.env.globals, None)
        except TemplateSyntaxError as err:
            raise TemplateError(f"{where}, line {err.lineno}: {(err.message or '').rstrip('.')}. "
                                f"Fix the template "
                                f"syntax (see docs/MODDING.md).") from None
        with self._lock:
            self._cache[key] = template
        return template

    def render(self, source: str, context: dict, where: str = "<template>") -> str:
        """Render within the time and size limits; any failure is a TemplateError."""
        template = self.compile(source, where)
        return self._run(lambda: self._stream(template, context), where)

    def condition(self, expression: str, where: str = "<condition>") -> Callable[[dict], bool]:
        """Compile a condition once; the returned callable evaluates it within the limits."""
        key = ("c", expression)
        with self._lock:
            compiled = self._cache.get(key)
        if compiled is None:
            try:
                compiled = self.env.compile_expression(expression, undefined_to_none=False)
            except TemplateSyntaxError as err:
                raise TemplateError(f"{where}: condition {expression!r} is not valid: "
                                    f"{err.message}.") from None
            with self._lock:
                self._cache[key] = compiled

        def evaluate(context: dict) -> bool:
            return bool(self._run(lambda: compiled(**context), where))

        return evaluate

    def _stream(self, template, context: dict) -> str:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > self.max_output:
                raise _Limits(f"output longer than {self.max_output} characters")
            _check_deadline()
            parts.append(chunk)
        return "".join(parts)

    def _run(self, work: Callable[[], Any], where: str) -> Any:
        outer = getattr(_local, "deadline", None)
        _local.deadline = time.thread_time() + self.time_limit
        try:
            return work()
        except _Limits as err:
            raise TemplateError(f"{where}: template refused ({err}). Simplify it.") from None
        except SecurityError as err:
            raise TemplateError(f"{where}: refused by the sandbox ({err}). Templates may only "
                                f"use the names listed in docs/MODDING.md.") from None
        except UndefinedError as err:
            raise TemplateError(f"{where}{_line(err, where)}: {err.message}. Use only the names "
                                f"listed in docs/MODDING.md.") from None
        except RecursionError:
            raise TemplateError(f"{where}: refused, the template recurses too deeply.") from None
        except MemoryError:
            raise TemplateError(f"{where}: refused, the template needs too much memory.") from None
        except TemplateError:
            raise
        except Exception as err:  # anything a hostile template provokes is the template's fault
            raise TemplateError(f"{where}{_line(err, where)}: {type(err).__name__}: {err}") from None
        finally:
            _local.deadline = outer


def _line(err: BaseException, where: str) -> str:
    """The template line of an error raised while rendering, when the traceback has it."""
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == where:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f", line {line}" if line else ""
