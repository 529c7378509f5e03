"""A typed host for examples/bindgen/roundtrip.wat, over statically generated bindings:

    wasm-component bindgen examples/bindgen/roundtrip.wit --world roundtrip -o OUT/roundtrip_bindings \\
        --with test:bg/host/logger=mylog:Log
    PYTHONPATH=OUT:examples/bindgen python examples/bindgen/app.py   # and: mypy --strict app.py
"""

from pathlib import Path

import roundtrip_bindings as rb
from mylog import Log
from roundtrip_bindings.imports import test_bg_host as host_api
from roundtrip_bindings.imports.test_bg_types import Color, Item, Perms, Point, Shape, ShapeCircle

from wasm_component import Component, Engine, Err, Linker, Ok, Resource, ResourceTable, Some, Store
from wasm_component.bindgen import ErrorResult


class Loggers:  # implements host_api.HostLogger
    def __init__(self) -> None:
        self.table = ResourceTable()

    def new(self, prefix: str) -> Resource[Log]:
        return self.table.push(Log(prefix))

    def log(self, self_: Resource[Log], msg: str) -> int:
        obj = self.table.get(self_)
        obj.lines.append(obj.prefix + msg)
        return len(obj.lines)

    def count(self) -> int:
        return len(self.table)

    def drop(self, rep: Resource[Log]) -> None:
        self.table.delete(rep)


class HostImpl:  # implements host_api.Host
    def __init__(self) -> None:
        self.logger = Loggers()

    def echo_record(self, x: Point) -> Point: return x
    def echo_variant(self, x: Shape) -> Shape: return x
    def echo_enum(self, x: Color) -> Color: return x
    def echo_flags(self, x: Perms) -> Perms: return x
    def echo_option(self, x: Some[int | None] | None) -> Some[int | None] | None: return x
    def echo_result(self, x: Ok[str] | Err[int]) -> Ok[str] | Err[int]: return x
    def echo_tuple(self, x: tuple[int, str]) -> tuple[int, str]: return x
    def echo_bytes(self, x: bytes) -> bytes: return x
    def echo_list(self, x: list[Point]) -> list[Point]: return x
    def echo_item(self, x: Item) -> Item: return x

    def check(self, x: Perms) -> Ok[Perms] | Err[str]:
        if Perms.EXEC in x:
            raise ErrorResult("no exec")
        return Ok(x)


class World:  # implements rb.Imports
    def __init__(self) -> None:
        self.host: host_api.Host = HostImpl()

    def name(self) -> str:
        return "world"


engine = Engine()
store = Store(engine, World())
linker = Linker(engine)
rb.add_to_linker(linker, lambda store: store.data)
component = Component.from_file(engine, Path(__file__).with_name("roundtrip.wat"))
app = rb.Roundtrip.instantiate(store, component, linker)
print(app.greet())
print(app.api.echo_variant(ShapeCircle(2.0)), app.api.check(Perms.READ | Perms.EXEC))
with app.api.counter(7) as c:
    print(c.get())
print(app.api.log_once("> ", "hello"))
