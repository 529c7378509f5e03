"""The public WIT API: errors with locations, feature selection, loading, printing, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_component.errors import WitError
from wasm_component.wit import (
    KRecord,
    KResource,
    Resolve,
    main_json,
    print_package,
    print_resolve,
    to_json,
)

GATED = """
package my:pkg@1.0.0;

interface i {
    @since(version = 1.0.0)
    stable: func();
    @unstable(feature = shiny)
    shiny: func();
    @since(version = 0.9.0)
    @deprecated(version = 1.0.0)
    old: func();
}
"""


def test_error_has_file_line_col_and_caret() -> None:
    src = "package a:b;\n\ninterface i {\n  type t = nope;\n}\n"
    with pytest.raises(WitError) as info:
        Resolve().push_str(src, "demo.wit")
    err = info.value
    assert err.message == "type `nope` does not exist"
    assert (err.file, err.line, err.col) == ("demo.wit", 4, 12)
    assert err.source_line == "  type t = nope;"
    assert "demo.wit:4:12" in str(err)
    assert str(err).rstrip().endswith("^")


def test_syntax_error_message() -> None:
    with pytest.raises(WitError) as info:
        Resolve().push_str("package a:b;\ninterface i { x: func(; }\n", "s.wit")
    assert info.value.message == "expected an identifier or string, found ';'"
    assert (info.value.line, info.value.col) == (2, 23)


@pytest.mark.parametrize(
    ("features", "all_features", "expected"),
    [
        (set(), False, {"stable", "old"}),
        ({"shiny"}, False, {"stable", "old", "shiny"}),
        (set(), True, {"stable", "old", "shiny"}),
    ],
)
def test_feature_selection(features: set[str], all_features: bool, expected: set[str]) -> None:
    r = Resolve(features=features, all_features=all_features)
    r.push_str(GATED)
    (iface,) = r.interfaces
    assert set(iface.functions) == expected
    old = iface.functions["old"].stability
    assert old is not None and old.deprecated == "1.0.0"


def test_since_newer_than_package_is_an_error() -> None:
    with pytest.raises(WitError, match=r"unreleased version 2\.0\.0"):
        Resolve().push_str("package a:b@1.0.0;\n@since(version = 2.0.0)\ninterface i {}\n")


def test_resource_and_record_tables() -> None:
    r = Resolve()
    pid = r.push_str(
        "package a:b;\ninterface i {\n  resource file { constructor(); read: func(n: u32) -> "
        "list<u8>; }\n  record stat { size: u64 }\n}\n"
    )
    pkg = r.packages[pid]
    iface = r.interfaces[pkg.interfaces["i"]]
    assert isinstance(r.types[iface.types["file"]].kind, KResource)
    assert isinstance(r.types[iface.types["stat"]].kind, KRecord)
    read = iface.functions["[method]file.read"]
    assert read.kind == "method" and read.resource == iface.types["file"]
    assert [n for n, _ in read.params] == ["self", "n"]


def test_directory_with_deps(tmp_path: Path) -> None:
    (tmp_path / "deps" / "dep").mkdir(parents=True)
    (tmp_path / "deps" / "dep" / "types.wit").write_text(
        "package x:dep;\ninterface types { type size = u64; }\n"
    )
    (tmp_path / "deps" / "other.wit").write_text("package x:other;\ninterface o {}\n")
    (tmp_path / "README.md").write_text("not wit")
    (tmp_path / "a.wit").write_text("package x:main;\n")
    (tmp_path / "b.wit").write_text(
        "interface i { use x:dep/types.{size}; f: func() -> size; }\nworld w { export i; }\n"
    )
    r = Resolve()
    main = r.push_path(tmp_path)
    assert str(r.packages[main].name) == "x:main"
    assert [str(p.name) for p in r.packages] == ["x:dep", "x:main", "x:other"]
    world = r.worlds[r.select_world(main)]
    # `i` uses `types`, so elaboration imports it implicitly.
    assert [r.name_world_key(k) for k in world.imports] == ["x:dep/types"]
    assert json.loads(main_json(str(tmp_path))) == to_json(r)


def test_duplicate_and_cycle_errors() -> None:
    with pytest.raises(WitError, match="duplicate item named `i`"):
        Resolve().push_str("package a:b;\ninterface i {}\ninterface i {}\n")
    with pytest.raises(WitError, match="interface or world `b` depends on itself"):
        Resolve().push_str(
            "package a:b;\ninterface a { use b.{t}; type u = u8; }\n"
            "interface b { use a.{u}; type t = u8; }\n"
        )


def test_print_package_round_trips() -> None:
    src = (
        "package demo:all@0.1.0;\n\n"
        "/// docs\ninterface types {\n  enum e { a, b }\n  flags f { x }\n"
        "  variant v { none, some(list<u8, 4>) }\n  type m = map<string, option<e>>;\n"
        "  resource r { constructor(); m: async func() -> result<_, e>; s: static func(); }\n"
        "  g: func(a: borrow<r>, b: tuple<u32, f32>) -> stream<future<string>>;\n}\n\n"
        "world w {\n  import types;\n  export run: func() -> result;\n}\n"
    )
    r = Resolve()
    pid = r.push_str(src)
    text = print_package(r, pid)
    again = Resolve()
    again.push_str(text)
    assert to_json(again) == to_json(r)
    assert print_resolve(again) == text


def test_truncated_input_is_a_wit_error() -> None:
    with pytest.raises(WitError):
        Resolve().push_str("package a:b;\ninterface i {\n  record r {\n")


def test_missing_path_is_a_wit_error(tmp_path: Path) -> None:
    with pytest.raises(WitError):
        Resolve().push_path(tmp_path / "missing.wit")
