"""Focused validator rules: instance-type freshening, resource names by created type, type
renaming on instantiation, nesting depth, embedder restrictions, per-validation state."""

from __future__ import annotations

import pytest
import wasmtime

from wasm_component._binary.reader import decode_component
from wasm_component._validate import ValidatedComponent, validate
from wasm_component._validate.restrictions import check_embedder_restrictions
from wasm_component.errors import ValidationError


def v(wat: str) -> ValidatedComponent:
    return validate(decode_component(bytes(wasmtime.wat2wasm(wat))))


def bad(wat: str, msg: str) -> None:
    with pytest.raises(ValidationError, match=msg):
        v(wat)


def test_each_instance_import_has_fresh_resources() -> None:
    bad("""(component
      (type $i (instance (export "r" (type $r (sub resource)))
                         (export "f" (func (result (own $r))))))
      (import "i1" (instance $i1 (type $i)))
      (import "i2" (instance $i2 (type $i)))
      (component $c (import "r" (type $t (sub resource)))
                    (import "f" (func (result (own $t)))))
      (instance (instantiate $c (with "r" (type $i1 "r")) (with "f" (func $i2 "f")))))""",
        "resource types are not the same")
    v("""(component
      (type $i (instance (export "r" (type $r (sub resource)))
                         (export "f" (func (result (own $r))))))
      (import "i1" (instance $i1 (type $i)))
      (component $c (import "r" (type $t (sub resource)))
                    (import "f" (func (result (own $t)))))
      (instance (instantiate $c (with "r" (type $i1 "r")) (with "f" (func $i1 "f")))))""")


def test_bag_of_exports_names_resources_by_created_type() -> None:
    bad("""(component
      (type $T (resource (rep i32)))
      (core module $m (func (export "a") (result i32) unreachable))
      (core instance $i (instantiate $m))
      (func $f (result (own $T)) (canon lift (core func $i "a")))
      (instance (export "a" (type $T)) (export "[constructor]a" (func $f))))""",
        "resource used in function does not have a name in this context")
    bad("""(component (type (component
      (import "b" (type $T (sub resource)))
      (import "[constructor]a" (func (result (own $T)))))))""",
        "function does not match expected resource name `b`")


def test_instantiation_renames_imported_types() -> None:
    v("""(component
      (type $r' (record (field "f" u32)))
      (import "r" (type $r (eq $r')))
      (component $C
        (type $r' (record (field "f" u32)))
        (import "r" (type $r (eq $r')))
        (type $r2' (record (field "r" $r)))
        (export "r2" (type $r2')))
      (instance $c (instantiate $C (with "r" (type $r))))
      (export "r2" (type $c "r2")))""")


def test_type_nesting_depth() -> None:
    def chain(n: int) -> str:
        return "(component (type string) " + "".join(
            f"(type (list {i}))" for i in range(n - 1)) + ")"
    v(chain(100))
    bad(chain(101), "type nesting is too deep")


def test_core_module_limits_and_duplicates() -> None:
    bad("""(component (core module (import "" "a" (func)) (import "" "a" (func))))""",
        "duplicate import name `:a`")
    bad("""(component (core type (module (import "" "" (memory 70000)))))""",
        "memory size must be at most")
    bad("""(component (core type $t (module)) (core type (func (param (ref $t)))))""",
        "type index 0 is a module type")


@pytest.mark.parametrize(("wat", "msg"), [
    ("(component (import \"x\" (component)))", "root-level component imports"),
    ("(component (component (export \"x\")))", "exporting a component from the root"),
    ("(component (import \"f\" (func $f)) (export \"f\" (func $f)))",
     "component export `f` is a reexport of an imported function"),
    ("""(component (import "i" (instance $i (export "g" (func))))
         (alias export $i "g" (func $g))
         (instance $b (export "h" (func $g)))
         (export "b" (instance $b)))""", "component export `h` is a reexport"),
    ("""(component (import "f" (func $f))
         (component $c (import "f" (func $f)) (export "g" (func $f)))
         (instance $x (instantiate $c (with "f" (func $f))))
         (export "g" (func $x "g")))""", "component export `g` is a reexport"),
])
def test_embedder_restrictions(wat: str, msg: str) -> None:
    vc = v(wat)  # valid component model ...
    with pytest.raises(ValidationError, match=msg):  # ... but not loadable by wasmtime
        check_embedder_restrictions(vc)


def test_embedder_restrictions_accept_lifted_exports() -> None:
    check_embedder_restrictions(v("""(component
      (import "f" (func $f))
      (core func $lf (canon lower (func $f)))
      (core module $m (import "" "f" (func)) (func (export "g")))
      (core instance $i (instantiate $m (with "" (instance (export "f" (func $lf))))))
      (func (export "g") (canon lift (core func $i "g"))))"""))


def test_no_state_leaks_between_validations() -> None:
    import wasm_component._validate.component as comp
    import wasm_component._validate.typecheck as tc

    assert not hasattr(tc, "SUB_KEYS") and not hasattr(tc, "_SIZE")
    assert not hasattr(comp, "GC_KEYS")
