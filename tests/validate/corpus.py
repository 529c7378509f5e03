"""Run the wasm-tools / wasmtime ``.wast`` conformance corpora through decode + validate.

Shared by ``test_corpus.py`` and usable as a script (``python tests/validate/corpus.py``) to print
per-file pass counts and the remaining failures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.corpora import CORPORA
from wasm_component._binary.reader import decode_component
from wasm_component._validate import Features, validate
from wasm_component._validate.restrictions import check_embedder_restrictions
from wasm_component.errors import DecodeError, ValidationError

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FileResult:
    rel: str
    valid_total: int = 0
    valid_ok: int = 0
    invalid_total: int = 0
    invalid_ok: int = 0
    text_match: int = 0
    failures: list[str] = field(default_factory=list)


def features_for(wast: Path, kind: str) -> Features:
    if not wast.exists():
        return Features.default()
    text = wast.read_text(errors="replace")
    if kind == "wasm-tools":
        m = re.search(r";; RUN:.*?(?:-f[ =]?|--features[ =])(\S+)", text)
        f = Features.default()
        for mm in re.finditer(r";; RUN:[^\n]*", text):
            line = mm.group(0)
            for fm in re.finditer(r"(?:-f[ =]|--features[ =])(\S+)", line):
                f = Features.from_flags(fm.group(1), f)
            break
        _ = m
        return f
    f = Features.default()
    for mm in re.finditer(r"^;;!\s*(\S+)\s*=\s*(\S+)", text, re.M):
        f = Features.from_flags(f"{mm.group(1)}={mm.group(2)}", f)
    return f


def _is_component(data: bytes) -> bool:
    return len(data) >= 8 and data[4:8] != b"\x01\x00\x00\x00"


def _check(data: bytes, feats: Features, kind: str) -> None:
    vc = validate(decode_component(data), feats)
    if kind == "wasmtime":  # wasmtime's suite also checks what `Component::new` refuses
        check_embedder_restrictions(vc)


def run_file(test_json: Path, kind: str) -> FileResult:
    base = CORPORA / kind
    rel = test_json.parent.relative_to(base / "json").as_posix()
    wast = base / "wast" / f"{rel}.wast"
    feats = features_for(wast, kind)
    res = FileResult(rel)
    cmds = json.loads(test_json.read_text())["commands"]
    for c in cmds:
        ty = c["type"]
        if ty in ("module", "module_definition"):
            fn = c.get("filename")
            if not fn:
                continue
            data = (test_json.parent / fn).read_bytes()
            if not _is_component(data):
                continue
            res.valid_total += 1
            try:
                _check(data, feats, kind)
                res.valid_ok += 1
            except (DecodeError, ValidationError) as e:
                res.failures.append(f"line {c['line']}: valid rejected: {e}")
            except Exception as e:
                res.failures.append(f"line {c['line']}: valid crashed: {type(e).__name__}: {e}")
        elif ty in ("assert_invalid", "assert_malformed"):
            fn = c.get("filename")
            if not fn:
                continue
            res.invalid_total += 1
            path = test_json.parent / fn
            msg = ""
            rejected = False
            try:
                if c.get("module_type") == "text":
                    import wasmtime

                    try:
                        data = wasmtime.wat2wasm(path.read_text())
                    except Exception as e:
                        rejected, msg = True, str(e)
                        data = b""
                else:
                    data = path.read_bytes()
                if not rejected:
                    _check(data, feats, kind)
            except (DecodeError, ValidationError) as e:
                rejected, msg = True, str(e)
            except Exception as e:
                res.failures.append(f"line {c['line']}: invalid crashed: {type(e).__name__}: {e}"
                                    f" (expected {c['text']!r})")
                continue
            if rejected:
                res.invalid_ok += 1
                if c["text"] in msg:
                    res.text_match += 1
            else:
                res.failures.append(f"line {c['line']}: invalid accepted (expected "
                                    f"{c['text']!r})")
    return res


def run_corpus(kind: str) -> list[FileResult]:
    base = CORPORA / kind / "json"
    return [run_file(p, kind) for p in sorted(base.glob("**/test.json"))]


if __name__ == "__main__":
    import sys

    for kind in [a for a in sys.argv[1:] if not a.startswith("-")] or ["wasm-tools", "wasmtime"]:
        results = run_corpus(kind)
        vt = sum(r.valid_total for r in results)
        vo = sum(r.valid_ok for r in results)
        it = sum(r.invalid_total for r in results)
        io = sum(r.invalid_ok for r in results)
        tm = sum(r.text_match for r in results)
        for r in results:
            if r.failures or "-v" in sys.argv:
                print(f"{r.rel}: valid {r.valid_ok}/{r.valid_total} invalid "
                      f"{r.invalid_ok}/{r.invalid_total} text {r.text_match}")
                for f in r.failures:
                    print("   ", f)
        print(f"== {kind}: valid {vo}/{vt}, invalid rejected {io}/{it}, text match {tm}/{io}")
