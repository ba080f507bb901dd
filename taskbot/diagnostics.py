"""Located problems found while reading the registry or the unit directory."""

from __future__ import annotations

import difflib
import re
import reprlib
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")
_PAREN = str.maketrans({"（": "(", "）": ")", "〔": "(", "〕": ")", "【": "(", "】": ")", "，": ",", "：": ":"})


def normalize_name(name: str) -> str:
    """A unit name as compared: no white space, full-width brackets read as half-width."""
    return _SPACE.sub("", name).translate(_PAREN)


def suggest(word: str, choices, n: int = 1) -> list[str]:
    """Closest choices to a mistyped word: containment first, then similarity."""
    if len(word) > 1000:  # nobody mistypes a name that long: not even normalized
        return []
    norm = normalize_name(word)
    if len(norm) > 200:  # nobody mistypes a name that long; difflib would be slow
        return []
    pool = list(dict.fromkeys(choices))
    contained = [c for c in pool if norm and (norm in normalize_name(c) or normalize_name(c) in norm)]
    contained.sort(key=lambda c: abs(len(c) - len(norm)))
    close = difflib.get_close_matches(word, pool, n=n + 2, cutoff=0.5)
    return list(dict.fromkeys(contained + close))[:n]


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 60, 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def show(value) -> str:
    """A short repr of a value read from a file, for messages: long texts and deep or big lists are cut."""
    return _REPR.repr(value)


def did_you_mean(word: str, choices) -> str:
    """'; did you mean X?' or '' when nothing is close."""
    best = suggest(word, choices)
    return f"; did you mean {best[0]}?" if best else ""


MAX_DIAGNOSTICS = 1000  # per file: past this, one last line counts the rest


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is, how bad, and what to do."""

    file: str
    line: int
    col: int
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"


class Problems:
    """Collects diagnostics for one YAML source; positions are looked up only when reported.

    `add` only records the value path; `items` locates every pending problem in one pass over the
    file, so a big file with many problems is read twice, not once per problem. `refs` are further
    paths whose `FILE:LINE:COL` is formatted into the message (`{0}`, `{1}`... in a callable message).
    """

    def __init__(self, source=None, filename: str | None = None):
        self.source = source
        self.filename = filename or (source.filename if source else "?")
        self._items: list[Diagnostic] = []
        self._pending: list[tuple] = []  # (index in _items, path, key, message, severity, refs)
        self._dropped = {"error": 0, "warning": 0}
        self._n_errors = 0

    def _full(self, severity: str) -> bool:
        if len(self._items) >= MAX_DIAGNOSTICS:
            self._dropped[severity] = self._dropped.get(severity, 0) + 1
            return True
        return False

    def add(self, path: tuple, message, severity: str = "error", key: bool = False, refs: tuple = ()) -> None:
        """A problem at the value at `path` (its key when `key`); `message` may be a callable taking the refs' places."""
        self._n_errors += severity == "error"
        if self._full(severity):
            return
        self._pending.append((len(self._items), path, key, message, severity, refs))
        self._items.append(None)

    def at(self, line: int, col: int, message: str, severity: str = "error") -> None:
        self._n_errors += severity == "error"
        if not self._full(severity):
            self._items.append(Diagnostic(self.filename, line, col, severity, message))

    def _resolve(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        requests = []
        for _, path, key, _, _, refs in pending:
            requests.append((path, key))
            requests += [(r, False) for r in refs]
        places = self.source.locate_many(requests) if self.source else [(1, 1)] * len(requests)
        it = iter(places)
        for index, _, _, message, severity, refs in pending:
            line, col = next(it)
            ref_places = [f"{self.filename}:{ln}:{c}" for ln, c in (next(it) for _ in refs)]
            text = message(*ref_places) if callable(message) else message
            self._items[index] = Diagnostic(self.filename, line, col, severity, text)

    @property
    def items(self) -> list[Diagnostic]:
        self._resolve()
        out = list(self._items)
        dropped = sum(self._dropped.values())
        if dropped:
            severity = "error" if self._dropped["error"] else "warning"
            out.append(Diagnostic(self.filename, out[-1].line, out[-1].col, severity,
                                  f"too many problems: {dropped} more not shown after the first {MAX_DIAGNOSTICS}"))
        return out

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def error_count(self) -> int:
        """How many errors were added (cheap: locates nothing)."""
        return self._n_errors


class RegistryError(Exception):
    """The registry or unit directory is invalid; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(str(d) for d in errors) or "invalid registry")
