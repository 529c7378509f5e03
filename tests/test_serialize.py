"""``Component.serialize``/``deserialize``: the validated model travels with the compiled code
(so loading does not decode and validate again), and loading stays safe: damaged bytes raise
:class:`DecodeError` or fall back to validating, and resource types are fresh per load."""

from __future__ import annotations

import dataclasses
import gc
import pickle
import subprocess
import sys
import threading
import time
import weakref
import zlib
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Component, DecodeError, Engine, Linker, Store, Trap, _model_pickle
from wasm_component import component as component_mod
from wasm_component import types as t
from wasm_component._binary import ast

RES = """
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param i32) (result i32) (local.get 0))  ;; a borrow lifts as its rep
    (func (export "unused") (param i32) (result i32) (call $rep (local.get 0))))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))))))
  (export $x "x" (type $r))
  (func (export "make") (param "v" u32) (result (own $x)) (canon lift (core func $i "make")))
  (func (export "get") (param "h" (borrow $x)) (result u32) (canon lift (core func $i "get"))))
"""


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def blob(engine: Engine) -> bytes:
    return Component.new(engine, RES).serialize()


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = _count_validations(monkeypatch)
    monkeypatch.setattr(component_mod, "decode_component",
                        lambda *a: pytest.fail("deserialize decoded the binary again"))
    return calls


def _count_validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = getattr(component_mod, "validate")  # noqa: B009 (not re-exported: mypy)

    def counting(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(component_mod, "validate", counting)
    return calls


def _run(engine: Engine, c: Component) -> int:
    store = Store(engine)
    inst = Linker(engine).instantiate(store, c)
    make, get = inst.get_func(store, "make"), inst.get_func(store, "get")
    assert make is not None and get is not None
    result: int = get(store, make(store, 41))
    return result


def test_round_trip_uses_the_stored_model(engine: Engine, blob: bytes,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    original = Component.new(engine, RES).component_type()
    calls = _no_validation(monkeypatch)
    c = Component.deserialize(engine, blob)
    assert calls == []
    assert _run(engine, c) == 41
    assert [n for n, _ in c.component_type().exports] == [n for n, _ in original.exports]
    # the plans cached on the model (generated code) are not part of the bytes
    assert Component.deserialize(engine, blob)._validated.derived == {}
    # and serializing again gives a loadable blob
    assert _run(engine, Component.deserialize(engine, c.serialize())) == 41


def _model_span(blob: bytes) -> tuple[int, int]:
    """Where the model's bytes are in ``blob`` (the last length-prefixed part)."""
    model = _model_pickle.dump_model(Component.new(Engine(), RES)._validated)
    start = len(blob) - len(model)
    assert int.from_bytes(blob[start - 8 : start], "little") == len(model) > 0
    return start, len(blob)


@pytest.mark.parametrize("where", [0, 40, -1])  # check, schema, pickle body
def test_damaged_model_falls_back_to_validating(engine: Engine, blob: bytes, where: int) -> None:
    start, end = _model_span(blob)
    at = start + where if where >= 0 else end + where
    bad = bytearray(blob)
    bad[at] ^= 0xFF
    with pytest.MonkeyPatch.context() as mp:
        calls = _count_validations(mp)
        c = Component.deserialize(engine, bytes(bad))
    assert calls == [1]
    assert _run(engine, c) == 41


def test_model_damaged_anywhere_is_not_used(engine: Engine, blob: bytes) -> None:
    # any changed byte of the model (check, schema, objects, columns) is caught before the
    # model is used: the component is validated again and works
    start, end = _model_span(blob)
    for at in range(start, end, max(1, (end - start) // 24)):
        bad = bytearray(blob)
        bad[at] = (bad[at] + 1) % 256
        assert _model_pickle.load_model(bytes(bad[start:end])) is None
        assert _run(engine, Component.deserialize(engine, bytes(bad))) == 41


_NOT_A_MODEL = [b"junk", b"", pickle.dumps(42), pickle.dumps((None, ())), pickle.dumps((1, 2, 3)),
                # columns for objects of another class
                pickle.dumps((None, ((ast.Sort, (object(),), ((True,), ("x",))),)))]


@pytest.mark.parametrize("body", _NOT_A_MODEL)
def test_model_of_the_wrong_shape_is_not_used(body: bytes) -> None:
    # bytes that pass the check but are not a model (made by other code) are not used
    schema = pickle.dumps([])
    payload = len(schema).to_bytes(8, "little") + schema + body
    assert _model_pickle.load_model(_model_pickle._check(payload) + payload) is None


def test_model_from_other_code_is_not_used(engine: Engine, blob: bytes,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # a different format or Python version changes the check's seed: the model is ignored
    monkeypatch.setattr(_model_pickle, "_FORMAT", b"wasm-component model 999")
    assert _model_pickle.load_model(blob[_model_span(blob)[0]:]) is None
    assert _run(engine, Component.deserialize(engine, blob)) == 41


def test_blob_without_model_still_loads(engine: Engine, blob: bytes) -> None:
    start, _ = _model_span(blob)
    assert _run(engine, Component.deserialize(engine, blob[: start - 8])) == 41


def _parts(blob: bytes) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """Where the binary's and each compiled module's bytes are in ``blob`` (read by the format
    ``serialize`` writes: the magic, then the binary and each module as a CRC-32, a length and
    the bytes, each module after its offset in the binary)."""
    pos = len(component_mod._SER_MAGIC)

    def uint(size: int) -> int:
        nonlocal pos
        pos += size
        return int.from_bytes(blob[pos - size : pos], "little")

    def checked() -> tuple[int, int]:
        nonlocal pos
        uint(4)
        n = uint(8)
        pos += n
        return pos - n, pos

    binary = checked()
    modules = []
    for _ in range(uint(8)):
        uint(8)
        modules.append(checked())
    return binary, modules


def _with_crc(blob: bytes, span: tuple[int, int], damage: Any) -> bytes:
    """``blob`` with ``damage`` done to the part at ``span`` and its CRC-32 made to match."""
    bad = bytearray(blob)
    start, end = span
    damage(bad, start, end)
    bad[start - 12 : start - 8] = zlib.crc32(bad[start:end]).to_bytes(4, "little")
    return bytes(bad)


def test_damaged_blobs_raise_decode_error(engine: Engine, blob: bytes) -> None:
    start, _ = _model_span(blob)
    for cut in (3, 30, 40, 100, start - 4, start + 5, len(blob) - 1):
        with pytest.raises(DecodeError):
            Component.deserialize(engine, blob[:cut])
    with pytest.raises(DecodeError, match="end of the serialized component"):
        Component.deserialize(engine, blob + b"junk")
    with pytest.raises(DecodeError, match="bad magic"):
        Component.deserialize(engine, b"junk")
    # cut inside the magic, right after its name: truncated, not "another version"
    with pytest.raises(DecodeError, match="truncated serialized component"):
        Component.deserialize(engine, component_mod._SER_PREFIX)
    with pytest.raises(TypeError, match="expected bytes"):
        Component.deserialize(engine, "text")  # type: ignore[arg-type]
    # a compiled module that matches its CRC-32 but not wasmtime's format: wasmtime refuses it
    (_, binary_end), modules = _parts(blob)

    def zero_header(bad: bytearray, start: int, end: int) -> None:
        bad[start : start + 8] = b"\x00" * 8

    with pytest.raises(DecodeError, match="compiled core module"):
        Component.deserialize(engine, _with_crc(blob, modules[0], zero_header))
    # module count that does not match the component
    bad = bytearray(blob)
    bad[binary_end : binary_end + 8] = (0).to_bytes(8, "little")
    with pytest.raises(DecodeError):
        Component.deserialize(engine, bytes(bad))
    # a blob of another format (the first had no checks)
    old = component_mod._SER_PREFIX + b"\x01" + blob[len(component_mod._SER_MAGIC):]
    with pytest.raises(DecodeError, match="another version of wasm-component"):
        Component.deserialize(engine, old)


@pytest.mark.parametrize("threaded", [False, True])
def test_a_flipped_bit_in_compiled_code_raises(engine: Engine, blob: bytes, threaded: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # A bit flipped in a compiled module used to reach wasmtime, which aborted the process
    # (a panic while loading it, or a crash running it). Each module is now checked before
    # wasmtime sees it, inline for small blobs and on a thread of its own for large ones.
    if threaded:
        monkeypatch.setattr(component_mod, "_CHECK_ON_THREAD", 0)
    _, modules = _parts(blob)
    for start, end in modules:
        for at in range(start, end, 1 if not threaded else 13):
            bad = bytearray(blob)
            bad[at] ^= 1 << (at % 8)
            with pytest.raises(DecodeError, match=r"compiled core module at 0x.* is damaged"):
                Component.deserialize(engine, bytes(bad))
    assert _run(engine, Component.deserialize(engine, blob)) == 41


def test_a_flipped_bit_in_the_binary_raises_where_it_is_read(engine: Engine,
                                                             blob: bytes) -> None:
    # the binary is read only to validate it again (no usable model) and by `serialize`
    (start, end), _ = _parts(blob)
    model_start, _ = _model_span(blob)
    for at in range(start, end):
        bad = bytearray(blob)
        bad[at] ^= 1 << (at % 8)
        c = Component.deserialize(engine, bytes(bad))  # (the model is used: fine to run)
        assert _run(engine, c) == 41
        with pytest.raises(DecodeError, match="binary this component was deserialized from"):
            c.serialize()
        with pytest.raises(DecodeError, match="its binary is damaged"):
            Component.deserialize(engine, bytes(bad[: model_start - 8]))
    again = Component.deserialize(engine, blob).serialize()
    assert Component.deserialize(engine, again).serialize() == again


def _resource(c: Component) -> t.ResourceType:
    ty = dict(c.component_type().exports)["x"]
    assert isinstance(ty, t.TypeBound) and isinstance(ty.eq, t.ResourceType)
    return ty.eq


def test_copies_share_no_resource_types(engine: Engine, blob: bytes) -> None:
    a, b = Component.deserialize(engine, blob), Component.deserialize(engine, blob)
    ra, rb = _resource(a), _resource(b)
    assert ra != rb and ra != _resource(Component.new(engine, RES))
    # within one copy, the export's type is one type wherever it appears
    make = dict(a.component_type().exports)["make"]
    assert isinstance(make, t.FuncType)
    assert make.result == t.OwnType(ra) and make.result != t.OwnType(rb)
    # at run time a handle of one copy's instance is refused by the other's
    store = Store(engine)
    ia, ib = Linker(engine).instantiate(store, a), Linker(engine).instantiate(store, b)
    ma, gb = ia.get_func(store, "make"), ib.get_func(store, "get")
    assert ma is not None and gb is not None
    h = ma(store, 5)
    with pytest.raises((TypeError, ValueError, Trap)):
        gb(store, h)


def test_loaded_resource_numbers_come_from_this_process(tmp_path: Path, engine: Engine) -> None:
    # serialize in another process, whose counter numbered the same resource types alike
    path = tmp_path / "res.bin"
    code = ("import sys; from wasm_component import Engine, Component;"
            f"open(sys.argv[1], 'wb').write(Component.new(Engine(), {RES!r}).serialize())")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    before = next(t._resource_ids)
    c = Component.deserialize(engine, path.read_bytes())
    keys = [r.key for r in _abstract_resources(c._validated)]
    assert keys and all(isinstance(k, int) and k > before for k in keys)


def _abstract_resources(v: Any) -> list[t.ResourceType]:
    out: list[t.ResourceType] = []
    seen: set[int] = set()

    def walk(x: Any) -> None:
        if id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, t.ResourceType):
            if x.kind != "host" and isinstance(x.key, int):
                out.append(x)
            return
        if isinstance(x, dict):
            items: Any = list(x.keys()) + list(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            items = x
        elif hasattr(x, "__dataclass_fields__"):
            items = [getattr(x, f) for f in x.__dataclass_fields__ if f != "derived"]
        else:
            return
        for y in items:
            walk(y)

    walk(v)
    return out


def test_bytearray_input(engine: Engine, blob: bytes) -> None:
    assert _run(engine, Component.deserialize(engine, bytearray(blob))) == 41


def _unset_slots(v: Any) -> list[str]:
    """The fields of dataclass objects under ``v`` that hold no value (``derived`` aside)."""
    out: list[str] = []
    seen: set[int] = set()
    stack = [v]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, dict):
            stack += [*x.keys(), *x.values()]
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack += list(x)
        elif dataclasses.is_dataclass(x):
            for f in dataclasses.fields(x):
                if not hasattr(x, f.name):
                    out.append(f"{type(x).__name__}.{f.name}")
                elif f.name != "derived":
                    stack.append(getattr(x, f.name))
    return out


def test_loaded_model_is_whole_and_equal(engine: Engine) -> None:
    v = Component.new(engine, RES)._validated
    loaded = _model_pickle.load_model(_model_pickle.dump_model(v))
    assert loaded is not None and _unset_slots(loaded) == []
    assert loaded.component == v.component  # (the decoded binary holds no resource type)
    assert [n for n, _ in loaded.type.exports] == [n for n, _ in v.type.exports]
    assert {k: len(e) for k, e in loaded.index_spaces.items()} == {
        k: len(e) for k, e in v.index_spaces.items()}


def test_model_objects_load_without_their_init(engine: Engine,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the objects are made empty and filled field by field, not by calling their class (a
    # frozen dataclass's ``__init__`` was half the load of a large component)
    model = _model_pickle.dump_model(Component.new(engine, RES)._validated)

    def refused(self: Any, *args: Any) -> None:
        raise AssertionError("__init__ called")

    monkeypatch.setattr(ast.CoreImport, "__init__", refused)
    loaded = _model_pickle.load_model(model)
    assert loaded is not None and _unset_slots(loaded) == []
    imports = [i for d in loaded.component.definitions if isinstance(d, ast.CoreModule)
               for i in d.info.imports]
    assert imports and all(isinstance(i, ast.CoreImport) for i in imports)


def test_hashed_model_objects_are_built_whole(engine: Engine) -> None:
    # a dict key or set member is hashed while the graph loads, before any object is filled:
    # such objects (and what they hold) are made by their class instead
    v = Component.new(engine, RES)._validated
    key = ast.SortIdx(ast.Sort(True, "func"), 7)
    member = (ast.SortIdx(ast.Sort(False, "type"), 3), "x")
    odd = dataclasses.replace(v, canons={key: v.canons, 1: frozenset({member})})  # type: ignore[dict-item]
    loaded = _model_pickle.load_model(_model_pickle.dump_model(odd))
    assert loaded is not None and _unset_slots(loaded) == []
    assert loaded.canons[ast.SortIdx(ast.Sort(True, "func"), 7)] == loaded.canons[key]  # type: ignore[index]
    assert member in loaded.canons[1]  # type: ignore[operator]


def test_model_with_mismatched_columns_is_not_used(engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # a column shorter than its class's objects would leave fields unset: the model is refused
    real = _model_pickle._Pickler.plan

    def short(self: Any, root: object) -> Any:
        return tuple((cls, objs, tuple(c[:-1] for c in columns))
                     for cls, objs, columns in real(self, root))

    monkeypatch.setattr(_model_pickle._Pickler, "plan", short)
    model = _model_pickle.dump_model(Component.new(engine, RES)._validated)
    assert model and _model_pickle.load_model(model) is None


def test_equal_names_load_as_one_string(engine: Engine) -> None:
    c = Component.new(engine, """(component
      (core module (import "env" "func" (func)))
      (core module (import "env" "func" (func))))""")
    loaded = _model_pickle.load_model(_model_pickle.dump_model(c._validated))
    assert loaded is not None
    a, b = [d.info.imports[0] for d in loaded.component.definitions
            if isinstance(d, ast.CoreModule)]
    assert (a.module, a.name) == (b.module, b.name) == ("env", "func")
    assert a.module is b.module and a.name is b.name


@pytest.mark.parametrize("how", ["new", "deserialize"])
def test_dropped_component_frees_its_modules_without_the_collector(
        engine: Engine, blob: bytes, how: str) -> None:
    # nothing holds a component's compiled modules in a reference cycle: they go with it,
    # not at the next run of the cyclic collector (a recursive inner function did hold them)
    enabled = gc.isenabled()
    gc.disable()
    try:
        c = Component.new(engine, RES) if how == "new" else Component.deserialize(engine, blob)
        refs = [weakref.ref(m.module) for m in c._modules.values()]
        assert refs
        del c
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        if enabled:
            gc.enable()


THREE = """
(component
  (core module $a (func (export "f")))
  (core module $b (func (export "f")) (func (export "g")))
  (core module $c (func (export "f")) (func (export "g")) (func (export "h")))
  (core instance (instantiate $a))
  (core instance (instantiate $b))
  (core instance (instantiate $c)))
"""


def test_a_damaged_blob_is_not_read_after_deserialize_raises(engine: Engine,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    # Large blobs are checked on a thread of their own. When a module turns out damaged, that
    # thread is stopped and joined before `deserialize` raises, so nothing reads the caller's
    # bytes afterwards (a bytearray can be resized again at once). The thread is made slow
    # on the later modules, so it is still at work when the first (smallest) is found damaged.
    blob = Component.new(engine, THREE).serialize()
    _, modules = _parts(blob)
    smallest = min(modules, key=lambda m: m[1] - m[0])
    bad = bytearray(blob)
    bad[smallest[0] + 50] ^= 1

    class SlowZlib:
        @staticmethod
        def crc32(data: Any) -> int:
            if len(data) != smallest[1] - smallest[0]:
                time.sleep(0.2)
            return zlib.crc32(data)

    monkeypatch.setattr(component_mod, "_CHECK_ON_THREAD", 0)
    monkeypatch.setattr(component_mod, "zlib", SlowZlib)
    with pytest.raises(DecodeError, match="damaged"):
        Component.deserialize(engine, bad)
    bad.extend(b"more")  # (a BufferError while the thread still held a view of it)
    assert all(t.name != "wasm-component deserialize check" for t in threading.enumerate())
