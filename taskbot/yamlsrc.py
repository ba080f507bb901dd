"""A streaming YAML reader that keeps positions, for validated configuration files.

PyYAML's own loader builds a node tree of the whole document before it makes values
(17 s and 1 GB for a 24 MB file). Here the C parser's events are turned into plain values
directly; positions are only gathered, by a second pass, when a problem must be located.
Dates stay strings, so the registry can report an impossible date with its position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from .diagnostics import Problems, show

try:  # libyaml when present; the pure parser otherwise
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
         "yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
         "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False}
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$")
_STR_TAG = "tag:yaml.org,2002:str"

MAX_BYTES = 64 * 1024 * 1024
# YAML aliases (`*name`) repeat a value without its bytes: ten levels of ten make 10^10 values from 1.4 KB
# ("billion laughs"). The values themselves are shared, but anything that walks one would not end; so the
# values that aliases stand for are counted, and a file whose aliases repeat more than this many values,
# and more than the file writes out, is refused (walking its values stays linear in the file's size).
MAX_ALIASED = 100_000
MAX_ANCHOR_SHOWN = 40
_NOT_YAML = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class YamlError(Exception):
    """A syntax or structure error with its 1-based position."""

    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def _plain(value: str):
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        try:
            return int(value.replace("_", ""))
        except ValueError:  # more digits than int() accepts: keep the text, the checker reports it
            return value
    if _FLOAT.match(value):
        return float(value.replace("_", ""))
    return value


_CORE = "tag:yaml.org,2002:"
_TYPED = {_CORE + "int": int, _CORE + "float": float, _CORE + "bool": bool, _CORE + "null": type(None)}


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _scalar(ev):
    if ev.tag == _STR_TAG or (ev.tag in (None, "!") and not ev.implicit[0]):
        return ev.value
    if ev.tag in (None, "!"):
        return _plain(ev.value)
    line, col = ev.start_mark.line + 1, ev.start_mark.column + 1
    if ev.tag in _TYPED:
        value = _plain(ev.value)
        want = _TYPED[ev.tag]
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not want:
            raise YamlError(f"{ev.value[:40]!r} is not a valid {_short_tag(ev.tag)}", line, col)
        return value
    raise YamlError(f"unsupported tag {_short_tag(ev.tag)}; write plain values without tags", line, col)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, col) of a character offset."""
    offset = max(0, min(offset, len(text)))
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _events(text: str):
    try:
        yield from yaml.parse(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "syntax error").strip()
        if exc.problem and exc.context and exc.context_mark and exc.context_mark is not mark:
            cm = exc.context_mark
            problem += f" ({exc.context.strip()} at line {cm.line + 1}, column {cm.column + 1})"
        raise YamlError(f"YAML syntax error: {problem}", mark.line + 1 if mark else 1,
                        mark.column + 1 if mark else 1) from None
    except yaml.reader.ReaderError as exc:  # control characters and the like
        # libyaml reports the offset where its buffer stopped, not the character's: find it ourselves
        bad = _NOT_YAML.search(text)
        offset = bad.start() if bad else exc.position
        line, col = _line_col(text, offset)
        char = bad.group() if bad else (exc.character if isinstance(exc.character, str) else chr(exc.character))
        raise YamlError(f"YAML error: character #x{ord(char):04X} is not allowed in YAML text; remove it",
                        line, col) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", 1, 1) from None


CONSUMED = type("Consumed", (), {"__repr__": lambda self: "<consumed>"})()


def _build(text: str, positions: dict | None, wanted: set | None = None, on_item=None):
    """Turn the event stream into values; record positions of paths when asked (only `wanted` ones if given).

    `on_item(path, value, root)` is offered every finished container two levels down (such as one
    task of `tasks`); when it returns True the value was consumed and is replaced by CONSUMED, so a
    big file's raw values never all sit in memory at once.
    """
    stack: list = []  # frames: [container, path, pending_key, anchor, nodes before it]
    anchors: dict = {}
    sizes: dict = {}  # anchor -> how many values (nodes) it stands for, once its value is complete
    nodes = aliased = 0  # values read, counting what aliases repeat; values repeated by aliases
    root = _MISSING = object()
    docs = 0

    def put(value, ev, is_container=False):
        nonlocal root
        if ev is not None and getattr(ev, "anchor", None):
            anchors[ev.anchor] = value
        if not stack:
            root = value
            return ()
        frame = stack[-1]
        container, path = frame[0], frame[1]
        if isinstance(container, list):
            sub = path + (len(container),)
            container.append(value)
        elif frame[2] is _MISSING:
            if isinstance(value, (dict, list)) or not _hashable(value):
                raise YamlError("a mapping key must be a plain value", ev.start_mark.line + 1, ev.start_mark.column + 1)
            if value in container:
                raise YamlError(f"duplicate key {show(value)}", ev.start_mark.line + 1, ev.start_mark.column + 1)
            frame[2] = value
            if positions is not None and (wanted is None or path + (value, "#key") in wanted):
                positions[path + (value, "#key")] = (ev.start_mark.line + 1, ev.start_mark.column + 1)
            return None
        else:
            sub = path + (frame[2],)
            container[frame[2]] = value
            frame[2] = _MISSING
        return sub

    for ev in _events(text):
        if isinstance(ev, yaml.DocumentStartEvent):
            docs += 1
            if docs > 1:
                raise YamlError("expected one YAML document, found another", ev.start_mark.line + 1, 1)
        elif isinstance(ev, yaml.ScalarEvent):
            nodes += 1
            if ev.anchor:
                sizes[ev.anchor] = 1
            path = put(_scalar(ev), ev)
            if positions is not None and path is not None and (wanted is None or path in wanted):
                positions[path] = (ev.start_mark.line + 1, ev.start_mark.column + 1)
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            is_map = isinstance(ev, yaml.MappingStartEvent)
            if ev.tag not in (None, "!", _CORE + ("map" if is_map else "seq")):
                raise YamlError(f"unsupported tag {_short_tag(ev.tag)}; write plain values without tags",
                                ev.start_mark.line + 1, ev.start_mark.column + 1)
            value = {} if is_map else []
            nodes += 1
            if ev.anchor:
                sizes.pop(ev.anchor, None)  # incomplete until its end: an alias inside it is recursive
            path = put(value, ev, True)
            if path is None:
                raise YamlError("a mapping key must be a plain value", ev.start_mark.line + 1, ev.start_mark.column + 1)
            if positions is not None and (wanted is None or path in wanted):
                positions[path] = (ev.start_mark.line + 1, ev.start_mark.column + 1)
            stack.append([value, path, _MISSING, ev.anchor, nodes - 1])
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            value, path, _, anchor, before = stack.pop()
            if anchor and anchors.get(anchor) is value:
                sizes[anchor] = nodes - before
            if on_item is not None and len(path) == 2 and isinstance(stack[-1][0], list) \
                    and on_item(path, value, root):
                stack[-1][0][path[1]] = CONSUMED
        elif isinstance(ev, yaml.AliasEvent):
            line, col = ev.start_mark.line + 1, ev.start_mark.column + 1
            name = _cut(ev.anchor)
            if ev.anchor not in anchors:
                raise YamlError(f"unknown alias *{name}", line, col)
            if ev.anchor not in sizes:
                raise YamlError(f"alias *{name} is used inside the value of its own anchor &{name}; "
                                "a value cannot contain itself", line, col)
            nodes += sizes[ev.anchor]
            aliased += sizes[ev.anchor]
            if aliased > MAX_ALIASED and aliased > nodes - aliased:
                raise YamlError(f"aliases repeat more than {MAX_ALIASED:,} values (alias *{name} stands for "
                                f"{sizes[ev.anchor]:,}); write the values out instead of repeating them "
                                "with &anchors and *aliases", line, col)
            path = put(anchors[ev.anchor], None)
            if positions is not None and path is not None and (wanted is None or path in wanted):
                positions[path] = (ev.start_mark.line + 1, ev.start_mark.column + 1)
    return None if root is _MISSING else root


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ANCHOR_SHOWN else text[:MAX_ANCHOR_SHOWN] + "…"


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@dataclass
class Source:
    """A parsed YAML file: its value and a lazy map from value paths to positions."""

    filename: str
    text: str
    data: object
    _positions: dict | None = None

    def reparse(self) -> object:
        """Read the text again into `data`, every value kept (after a streamed read consumed some)."""
        self.data = _build(self.text, None)
        return self.data

    def locate(self, path: tuple, key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the value at path (or of its key), nearest parent when absent."""
        if self._positions is None:
            self._positions = {}
            _build(self.text, self._positions)
        return _nearest(self._positions, path + ("#key",) if key else path)

    def locate_many(self, requests: list[tuple[tuple, bool]]) -> list[tuple[int, int]]:
        """Like `locate` for many (path, key) pairs at once, in one pass that keeps only the wanted positions."""
        if self._positions is not None:
            return [self.locate(path, key) for path, key in requests]
        probes = [path + ("#key",) if key else path for path, key in requests]
        wanted = {probe[:i] for probe in probes for i in range(1, len(probe) + 1)}
        positions: dict = {}
        _build(self.text, positions, wanted)
        return [_nearest(positions, probe) for probe in probes]


def _nearest(positions: dict, probe: tuple) -> tuple[int, int]:
    while probe:
        if probe in positions:
            return positions[probe]
        probe = probe[:-1]
    return (1, 1)


def decode(raw: bytes) -> str:
    """Decode a file's bytes: UTF-8 (with or without BOM), else GB18030; NUL bytes mean binary."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise UnicodeError("the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw[:8192]:
        raise UnicodeError("the file looks binary (it holds NUL bytes); expected YAML text in UTF-8 or GB18030")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise UnicodeError("the file is neither UTF-8 nor GB18030 text") from None
        return text


def read_yaml(path: str, on_item=None) -> Source:
    """Read and parse a YAML file; raises OSError, UnicodeError or YamlError."""
    with open(path, "rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlError(f"file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MiB", 1, 1)
    text = decode(raw)
    del raw
    return Source(path, text, _build(text, None, on_item=on_item))


def read_source(path: str, on_item=None) -> tuple[Source | None, Problems]:
    """Read a YAML file; any failure becomes a located problem instead of an exception."""
    problems = Problems(filename=path)
    try:
        return read_yaml(path, on_item), problems
    except FileNotFoundError:
        problems.at(1, 1, "file not found; pass the right path or create it")
    except IsADirectoryError:
        problems.at(1, 1, "is a directory, not a YAML file")
    except OSError as exc:
        problems.at(1, 1, f"cannot read file: {exc.strerror or exc}")
    except UnicodeError as exc:
        problems.at(1, 1, f"cannot read file: {exc}")
    except YamlError as exc:
        problems.at(exc.line, exc.col, exc.message)
    return None, problems
