"""`taskbot import`: gazette-style Chinese policy text -> a `tasks.yaml` registry draft.

Rule-based and offline: text.py cleans PDF text and cuts documents and sections (a text without
any header is one document, named by its title line or its file), assign.py reads assignment forms,
convention.py the "first listed leads" convention, tables.py task tables (PDF-flattened, or tab- and
space-separated in any column order), prose.py assignments in running sentences, deadlines.py
deadline words, targets.py indicator annexes, goals.py plan goals, indicator tables, per-unit
breakdowns and duty lists, places.py whose document it is (another government's names are kept as
printed), traditional.py traditional Chinese via OpenCC, core.py puts them together; evaluate.py
scores the importer on an evaluation set of texts with known items.
"""

from __future__ import annotations

import os
import sys

import yaml

from .core import ImportResult, import_text
from .deadlines import Deadline, parse_deadline

__all__ = ["Deadline", "ImportResult", "cli_import", "dump_registry", "import_text", "parse_deadline"]

_DOC_KEYS = ("number", "title", "plan_title", "issued", "issuer")
_TASK_KEYS = ("id", "doc", "ref", "title", "detail", "lead", "responsible", "cooperating", "due",
              "due_text", "milestones", "every", "kind", "source_line")


class _Dumper(yaml.SafeDumper):
    pass


def _list(dumper, data):
    # lists of names read best inline (`lead: [市城管局]`); milestones in block style
    flow = all(isinstance(x, str) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _none(dumper, _):
    return dumper.represent_scalar("tag:yaml.org,2002:null", "null")


_Dumper.add_representer(list, _list)
_Dumper.add_representer(type(None), _none)


def dump_registry(result: ImportResult) -> str:
    """YAML text of the documents and tasks, keys in the registry's order."""
    docs = []
    for d in result.documents:
        docs.append({k: d[k] for k in _DOC_KEYS if k in d and not (k == "plan_title" and d[k] is None)})
    tasks = []
    for t in result.tasks:
        out = {}
        for k in _TASK_KEYS:
            v = t.get(k)
            if k in ("ref", "detail") and v is None:
                continue
            if k == "milestones":
                v = [{"due": m["due"], "title": m["title"]} for m in v or []]
            out[k] = v
        tasks.append(out)
    return yaml.dump({"documents": docs, "tasks": tasks}, Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, default_flow_style=False, width=100)


def _bar(stream, width=30):
    state = {"last": -1}

    def progress(done: int, total: int):
        pct = min(100, done * 100 // max(1, total))
        if pct == state["last"]:
            return
        state["last"] = pct
        filled = width * pct // 100
        stream.write(f"\rimport: [{'#' * filled}{'.' * (width - filled)}] {pct:3d}% ({done}/{total} lines)")
        if pct >= 100:
            stream.write("\n")
        stream.flush()
    return progress


def _gb2312_share(text: str) -> float:
    """Share of the hanzi that are common simplified ones (GB2312): near 1 for GB18030 text, low
    for Big5 bytes read as GB18030."""
    han = [c for c in text[:20000] if "\u4e00" <= c <= "\u9fff"]
    if len(han) < 8:
        return 1.0
    ok = 0
    for c in han:
        try:
            c.encode("gb2312")
            ok += 1
        except UnicodeEncodeError:
            pass
    return ok / len(han)


def _utf16_without_bom(raw: bytes) -> bool:
    if len(raw) % 2 or b"\x00" not in raw[:8192]:
        return False
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            t = raw[:8192].decode(enc)
        except UnicodeDecodeError:
            continue
        if not any(ord(c) < 32 and c not in "\r\n\t" for c in t):
            return True
    return False


def _simplified(text: str, note: str | None, big5: bool = False) -> tuple[str, str | None, str | None]:
    """Text in traditional characters converted to simplified ones with OpenCC (`t2s`), one
    character for one, so lines and their numbers stay; simplified text as it is."""
    from .traditional import is_traditional, to_simplified

    if not big5 and not is_traditional(text):
        return text, note, None
    converted = to_simplified(text)
    if converted is None:
        return "", None, ("it is traditional Chinese text and OpenCC is not installed; install it "
                          "(pip install opencc) or save the text in simplified characters")
    what = "Big5 (traditional Chinese)" if big5 else "traditional Chinese"
    return converted, f"{what} text; converted to simplified characters", None


def read_text(raw: bytes) -> tuple[str, str | None, str | None]:
    """(text, note, problem) of a file's bytes: UTF-8 (BOM or not), UTF-16/32 with a BOM, GB18030,
    Big5; traditional characters are converted to simplified ones. Word and PDF files, UTF-16
    without a BOM and other binary files are refused with a reason."""
    kind = binary_document(raw)
    if kind:
        if kind == "ZIP":
            return "", None, "it is a ZIP archive, not text; unpack it and import the text file inside"
        return "", None, (f"it is a {kind} file, not text; export it as text first (Save As or Export: "
                          "plain text, UTF-8) and import that file")
    from ..yamlsrc import decode

    for bom, enc in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return _simplified(raw.decode(enc), f"{enc.upper()} text; read as such")
            except UnicodeDecodeError:
                return "", None, f"it starts with a {enc.upper()} byte-order mark but is not {enc.upper()} text"
    if _utf16_without_bom(raw):
        return "", None, "it looks like UTF-16 text without a byte-order mark; save it as UTF-8"
    try:
        text = decode(raw)
    except UnicodeError:
        if b"\x00" in raw[:8192]:
            return "", None, "it looks binary, not text (it holds NUL bytes)"
        return "", None, "it is neither UTF-8 nor GB18030 text"
    try:
        raw.decode("utf-8-sig")
        return _simplified(text, None)
    except UnicodeDecodeError:
        pass
    if _gb2312_share(text) < 0.8:
        try:
            big5 = raw.decode("big5")
        except UnicodeDecodeError:
            big5 = None
        if big5 is not None:
            return _simplified(big5, None, big5=True)
    return _simplified(text, "not UTF-8; read as GB18030")


def binary_document(raw: bytes) -> str | None:
    """'Word', 'Excel', 'OpenDocument', 'PDF' or 'ZIP' when the bytes are such a file (by their
    signature), else None."""
    if raw.startswith(b"%PDF-"):
        return "PDF"
    if raw.startswith(b"PK\x03\x04") and b"word/" in raw[:65536]:
        return "Word"
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # the old .doc (OLE compound file)
        return "Word"
    if raw.startswith(b"{\\rtf"):
        return "Word"
    if raw.startswith(b"PK\x03\x04") and b"xl/" in raw[:65536]:
        return "Excel"
    if raw.startswith(b"PK\x03\x04") and b"application/vnd.oasis.opendocument" in raw[:200]:
        return "OpenDocument"
    if raw.startswith(b"PK\x03\x04"):
        return "ZIP"
    return None


def cli_import(text_path: str, out_path: str | None, units_path: str | None, stream=sys.stderr) -> int:
    """`taskbot import TEXT [-o OUT] [--units U]`; 0 when items were written, 1 when the text could not
    be read or holds no assigned item (then nothing is written)."""
    from ..diagnostics import RegistryError
    from ..units import load_units

    def say(msg: str):
        print(f"import: {text_path}: {msg}", file=stream)

    try:
        with open(text_path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        say("file not found")
        return 1
    except IsADirectoryError:
        say("is a directory, not a text file")
        return 1
    except OSError as exc:
        say(f"cannot read the file: {exc.strerror or exc}")
        return 1
    if not raw.strip():
        say("the file is empty")
        return 1
    text, note, problem = read_text(raw)
    if problem:
        say(f"cannot read the file: {problem}")
        return 1
    if not text.replace("\ufeff", "").strip():
        say("the file is empty")
        return 1
    if note:
        say(note)
    units = None
    if units_path:
        try:
            units = load_units(units_path)
        except RegistryError as exc:
            for d in exc.diagnostics:
                print(str(d), file=stream)
            return 1
    progress = _bar(stream) if text.count("\n") > 2000 else None
    result = import_text(text, units, progress, name=os.path.splitext(os.path.basename(text_path))[0])
    for d in result.documents:
        if d.get("headerless"):
            say(f"no document header (issuer, title, number such as 郑政文〔2018〕143号); read as one document "
                f"named {d['number']}")
    if not result.tasks:
        print(result.summary(), file=stream)
        say("no assigned items found (numbered items naming their units, fields such as 牵头单位:, or a task "
            "table with a 牵头单位 or 责任单位 column); nothing written")
        return 1
    out = dump_registry(result)
    if out_path:
        try:
            with open(out_path, "w", encoding="utf-8") as fh:
                fh.write(out)
        except OSError as exc:
            print(f"import: {out_path}: cannot write: {exc.strerror or exc}", file=stream)
            return 1
    else:
        sys.stdout.write(out)
    print(result.summary(), file=stream)
    if result.unresolved:
        print("unresolved names (add them to the unit directory or as aliases):" if units is not None else
              "unresolved names (no unit directory given; --units data/units.yaml checks them):", file=stream)
        for name, n in result.unresolved.items():
            print(f"  {name} ({n})", file=stream)
    return 0
