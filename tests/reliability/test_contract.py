"""Host misuse raises ``TypeError``/``ValueError`` naming the function and the value; lookups
that must find something raise :class:`ExportNotFound` (a ``LookupError``). Each case here was
found by probing the API as a careless or hostile user would (issue 16) and failed before."""

from __future__ import annotations

from typing import Any

import pytest

from wasm_component import (
    Component,
    Engine,
    EngineConfig,
    ExportNotFound,
    Linker,
    Record,
    ResourceTable,
    ResourceType,
    Store,
)
from wasm_component import types as t
from wasm_component.resources import WrongType

from .components import GREETER, MISC


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture
def misc(engine: Engine) -> tuple[Store, Any]:
    store = Store(engine)
    return store, Linker(engine).instantiate(store, Component.new(engine, MISC))


def test_store_of_none_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"`Store`: expected an Engine, got NoneType"):
        Store(None)  # type: ignore[arg-type]


def test_set_epoch_deadline_checks_its_argument(engine: Engine) -> None:
    store = Store(Engine(EngineConfig(epoch_interruption=True)))
    with pytest.raises(TypeError, match=r"`Store.set_epoch_deadline`: expected an int .*'x'"):
        store.set_epoch_deadline("x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`Store.set_epoch_deadline`.*-1"):
        store.set_epoch_deadline(-1)
    with pytest.raises(ValueError, match="epoch interruption"):
        Store(engine).set_epoch_deadline(1)
    with pytest.raises(TypeError, match=r"`Store.set_fuel`"):
        Store(engine).set_fuel(1.5)  # type: ignore[arg-type]


def test_get_func_of_a_non_name(misc: tuple[Store, Any]) -> None:
    store, inst = misc
    with pytest.raises(TypeError, match=r"`Instance.get_func`: expected an export name.*123"):
        inst.get_func(store, 123)
    with pytest.raises(TypeError, match=r"`Instance.get_export_index`: expected .*None"):
        inst.get_export_index(store, None)


def test_get_typed_func_of_an_unknown_name_is_export_not_found(misc: tuple[Store, Any]) -> None:
    store, inst = misc
    with pytest.raises(ExportNotFound, match=r"`Instance.get_typed_func`: no function export "
                       r"`nope`") as e:
        inst.get_typed_func(store, "nope", [])
    assert isinstance(e.value, LookupError) and not isinstance(e.value, KeyError)


def test_resource_table_argument_checks() -> None:
    table = ResourceTable()
    with pytest.raises(TypeError, match=r"`ResourceTable.get`: expected a Resource or an int "
                       r"index, got str 'x'"):
        table.get("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`ResourceTable`: expected an int for `max_capacity`"):
        ResourceTable(max_capacity="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`ResourceTable.set_max_capacity`.*-5"):
        table.set_max_capacity(-5)
    with pytest.raises(TypeError, match=r"`ResourceTable.delete`: expected a Resource"):
        table.delete(2.0)  # type: ignore[arg-type]


class File:
    pass


def test_resource_table_get_of_a_handle_of_another_type() -> None:
    from wasm_component import Resource

    table = ResourceTable()
    r = table.push(File(), ResourceType.host(File))
    with pytest.raises(WrongType, match=r"`ResourceTable.get`: expected a handle to `File` "
                       r"for entry 0, got a handle to `str`"):
        table.get(Resource.new_own(r.rep, str))
    with pytest.raises(WrongType, match=r"`ResourceTable.delete`"):
        table.delete(Resource.new_own(r.rep, str))
    assert isinstance(table.get(Resource.new_borrow(r.rep, File)), File)
    assert isinstance(table.get(r.rep), File)

    class SubFile(File):
        pass

    anything = table.push(File(), ResourceType.host(object))
    assert isinstance(table.get(Resource.new_own(anything.rep, SubFile)), File)


def test_resource_table_default_typed_entry_refuses_another_type() -> None:
    """An entry pushed without a type is of its value's class: a handle of another type is
    refused too (issue 16), except one the entry's own handle was re-typed as (bindings)."""
    from wasm_component import Resource

    table = ResourceTable()
    r = table.push(File())
    assert r.resource_type == ResourceType.host(File)
    with pytest.raises(WrongType, match=r"`ResourceTable.get`: expected a handle to `File` "
                       r"for entry 0, got a handle to `str`"):
        table.get(Resource.new_borrow(r.rep, str))
    with pytest.raises(WrongType, match=r"`ResourceTable.delete`"):
        table.delete(Resource.new_own(r.rep, str))
    child = table.push_child(File(), r)
    with pytest.raises(WrongType, match=r"`ResourceTable.get`"):
        table.get(Resource.new_borrow(child.rep, bytes))
    assert isinstance(table.get(Resource.new_borrow(r.rep, File)), File)

    class Marker:  # an imported resource's host type in generated bindings
        pass

    r.retyped(ResourceType.host(Marker))  # what bindings do when they pass it to a guest
    assert isinstance(table.get(Resource.new_borrow(r.rep, Marker)), File)


def test_engine_features_must_be_known() -> None:
    with pytest.raises(ValueError, match=r"unknown component-model feature 'bogus'"):
        Engine(features="bogus")
    with pytest.raises(TypeError, match=r"`Engine`: expected a Features"):
        Engine(features=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`Engine`: expected an EngineConfig"):
        Engine("fast")
    assert Engine(features="cm-async").features.cm_async


def test_record_with_extra_fields_is_refused(misc: tuple[Store, Any]) -> None:
    store, inst = misc
    f = inst.get_func(store, "sum")
    assert f(store, {"x": 1, "y": 2}) == 3
    assert f(store, Record(x=1, y=2)) == 3
    with pytest.raises(TypeError, match=r"`sum`.*unknown field 'z'"):
        f(store, {"x": 1, "y": 2, "z": 3})
    with pytest.raises(TypeError, match=r"`sum`.*unknown field 'z'"):
        f(store, Record(x=1, y=2, z=3))


def test_generator_for_list_u8_is_refused(misc: tuple[Store, Any]) -> None:
    store, inst = misc
    f = inst.get_func(store, "len")
    assert f(store, b"abc") == 3
    assert f(store, [1, 2]) == 2
    with pytest.raises(TypeError, match=r"`len`.*generator"):
        f(store, (i for i in range(3)))
    with pytest.raises(TypeError, match=r"`len`.*one-shot iterator"):
        f(store, iter([1, 2]))


def test_greeter_typed_func_still_works(engine: Engine) -> None:
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, GREETER))
    assert inst.get_typed_func(store, "add", (t.U32, t.U32), t.U32)(store, 2, 3) == 5
