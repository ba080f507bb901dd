"""The unit directory, `data/units.yaml`: units, their aliases, and groups of units."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .diagnostics import Problems, RegistryError, did_you_mean, normalize_name, show
from .yamlsrc import Source, read_source

UNIT_KINDS = ("department", "district", "zone", "other")
_UNIT_KEYS = {"name": True, "full_name": False, "aliases": False, "kind": True}
_GROUP_KEYS = {"name": True, "aliases": False, "members": True}
MAX_NAME = 200  # characters of a name, alias or full name (docs/registry.md)


def _too_long(what: str, text: str) -> str:
    return f"{what} is too long: {len(text):,} characters, at most {MAX_NAME}; shorten it (it starts {show(text[:20] + '…')})"


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    full_name: str
    aliases: tuple[str, ...]
    kind: str


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    aliases: tuple[str, ...]
    members: tuple[str, ...]  # canonical unit names; empty = open, filled in by coordinators


class UnitDirectory:
    """Resolves any spelling of a unit or group to its canonical name, and expands groups."""

    def __init__(self, units: list[Unit], groups: list[Group]):
        self.units = {u.name: u for u in units}
        self.groups = {g.name: g for g in groups}
        self._index: dict[str, str] = {}
        for entry in [*units, *groups]:
            for spelling in (entry.name, *entry.aliases):
                self._index.setdefault(normalize_name(spelling), entry.name)
        for unit in units:  # the full name too, after every name and alias (which win on a clash)
            self._index.setdefault(normalize_name(unit.full_name), unit.name)
        self._expand = {g.name: g.members for g in groups}

    def resolve(self, name: str) -> str | None:
        """Canonical name of a unit or group, or None when unknown.

        Also found: the full name, the name without its level (`城管局` for `市城管局`) and with the
        city's name (`郑州市城管局`).
        """
        norm = normalize_name(name)
        hit = self._index.get(norm)
        if hit is None and not norm.startswith("市"):
            hit = self._index.get("市" + norm)
            city = norm.find("市")
            if hit is None and 1 < city <= 4:  # 郑州市城管局 -> 市城管局, but not 新密市人民政府 -> 市政府
                hit = self._index.get(norm[city:])
                unit = self.units.get(hit)
                if unit is None or not normalize_name(unit.full_name).startswith(norm[:city + 1]):
                    hit = None
        if hit is None:  # 新密市人民政府 -> 新密市: a county or district named with its government
            for suffix in ("人民政府", "政府", "管委会", "管理委员会"):
                stem = self._index.get(norm[: -len(suffix)]) if norm.endswith(suffix) else None
                if stem in self.units and self.units[stem].kind in ("district", "zone"):
                    return stem
        return hit

    def expand(self, name: str) -> tuple[str, ...]:
        """The units a name stands for: a group's members, or the unit itself."""
        return self._expand.get(name, (name,))

    def is_group(self, name: str) -> bool:
        return name in self.groups

    def spellings(self) -> list[str]:
        """Every known name and alias, for suggestions."""
        out = []
        for entry in [*self.units.values(), *self.groups.values()]:
            out += [entry.name, *entry.aliases]
        return out

    def unknown_message(self, name: str) -> str:
        return f"unknown unit {show(name)}{did_you_mean(name, self.spellings())}"

    def __len__(self) -> int:
        return len(self.units)


def _strings(problems: Problems, value, path: tuple, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"{what} must be a list of names, got {type(value).__name__} {show(value)}")
        return ()
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str) and len(item.strip()) > MAX_NAME:
            problems.add(path + (i,), _too_long(what, item.strip()))
        elif isinstance(item, str) and item.strip():
            out.append(sys.intern(item.strip()))
        else:
            problems.add(path + (i,), f"{what} must hold non-empty names, got {show(item)}")
    return tuple(out)


def _entries(problems: Problems, data: dict, key: str, allowed: dict) -> list[tuple[tuple, dict]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add((key,), f"'{key}' must be a list, got {type(value).__name__}")
        return []
    out = []
    for i, entry in enumerate(value):
        path = (key, i)
        if not isinstance(entry, dict):
            problems.add(path, f"each entry of '{key}' must be a mapping, got {type(entry).__name__} {show(entry)}")
            continue
        for k in entry:
            if k not in allowed:
                problems.add(path + (k,), f"unknown key {show(k)} in {key[:-1]}{did_you_mean(str(k), allowed)}; "
                             f"valid keys: {', '.join(allowed)}", key=True)
        for k, required in allowed.items():
            if required and k not in entry:
                problems.add(path, f"{key[:-1]} is missing required key '{k}'")
        if isinstance(entry.get("name"), str) and len(entry["name"].strip()) > MAX_NAME:
            problems.add(path + ("name",), _too_long("'name'", entry["name"].strip()))
        elif isinstance(entry.get("name"), str) and entry["name"].strip():
            out.append((path, entry))
        elif "name" in entry:
            problems.add(path + ("name",), f"'name' must be a non-empty string, got {show(entry['name'])}")
    return out


def parse_units(source: Source) -> tuple[UnitDirectory | None, Problems]:
    """Validate a parsed units file; the directory is None when there were errors."""
    problems = Problems(source)
    data = source.data
    if not isinstance(data, dict):
        got = "an empty file" if data is None else type(data).__name__
        problems.add((), f"the unit directory must be a mapping with 'units' and 'groups', got {got}")
        return None, problems
    for k in data:
        if k not in ("units", "groups"):
            problems.add((k,), f"unknown key {show(k)} at top level; valid keys: units, groups", key=True)
    units, groups, seen = [], [], {}

    def claim(spelling: str, owner: str, path: tuple):
        # an entry is identified by its place (units/groups, index), so two entries with one name collide too
        norm, entry = normalize_name(spelling), path[:2]
        if norm in seen and seen[norm][2] != entry:
            other, first_path = seen[norm][0], seen[norm][1]
            if other == owner and path[-1] == "name":
                problems.add(path, lambda first: f"duplicate name {show(spelling)} (first at {first}); "
                             "list each unit or group once", refs=(first_path,))
            else:
                problems.add(path, lambda first: f"name {show(spelling)} of {owner} collides with {other} "
                             f"(at {first}); give each spelling to one unit only", refs=(first_path,))
        else:
            seen.setdefault(norm, (owner, path, entry))

    for path, e in _entries(problems, data, "units", _UNIT_KEYS):
        name = sys.intern(e["name"].strip())
        kind = e.get("kind")
        if "kind" in e and kind not in UNIT_KINDS:
            problems.add(path + ("kind",), f"unknown unit kind {show(kind)}; valid kinds: {', '.join(UNIT_KINDS)}")
        full = e.get("full_name") or name
        if not isinstance(full, str):
            problems.add(path + ("full_name",), f"'full_name' must be a string, got {show(full)}")
            full = name
        elif len(full) > MAX_NAME:
            problems.add(path + ("full_name",), _too_long("'full_name'", full))
            full = name
        aliases = _strings(problems, e.get("aliases"), path + ("aliases",), "aliases")
        claim(name, name, path + ("name",))
        for i, a in enumerate(aliases):
            claim(a, name, path + ("aliases", i))
        units.append(Unit(name, full, aliases, kind if kind in UNIT_KINDS else "other"))
    unit_names = {u.name for u in units}
    unit_spellings: dict[str, str] = {}  # normalized name or alias -> unit (the first unit to claim it)
    for u in units:
        for spelling in (u.name, *u.aliases):
            unit_spellings.setdefault(normalize_name(spelling), u.name)
    for path, e in _entries(problems, data, "groups", _GROUP_KEYS):
        name = sys.intern(e["name"].strip())
        aliases = _strings(problems, e.get("aliases"), path + ("aliases",), "aliases")
        claim(name, name, path + ("name",))
        for i, a in enumerate(aliases):
            claim(a, name, path + ("aliases", i))
        members = []
        for i, m in enumerate(_strings(problems, e.get("members"), path + ("members",), "members")):
            canon = m if m in unit_names else unit_spellings.get(normalize_name(m))
            if canon is None:
                problems.add(path + ("members", i), lambda m=m, name=name: f"unknown unit {show(m)} in group {name}"
                             f"{did_you_mean(m, [s for u in units for s in (u.name, *u.aliases)])}")
            else:
                members.append(canon)
        groups.append(Group(name, aliases, tuple(members)))
    if problems.error_count:
        return None, problems
    return UnitDirectory(units, groups), problems


def load_units(path: str) -> UnitDirectory:
    """Load and validate a unit directory file, raising RegistryError with every problem."""
    source, problems = read_source(path)
    if source is None:
        raise RegistryError(problems.items)
    directory, problems = parse_units(source)
    if directory is None:
        raise RegistryError(problems.items)
    return directory
