"""The decoded form of a component binary: frozen dataclasses linked by indices.

This is what the reader produces and the validator consumes. Nothing here is validated beyond
what decoding needs (well-formed LEBs, UTF-8 names, known opcodes); index references are plain
ints checked later. Every definition carries the byte ``offset`` it started at, for errors.

Value types are written ``ValTypeRef``: an ``int`` is an index into the component's type index
space, a ``str`` is a primitive value type name (``"u32"``, ``"string"``...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ValTypeRef = int | str

# -- sorts ------------------------------------------------------------------------------------

CORE_SORTS = {0x00: "func", 0x01: "table", 0x02: "memory", 0x03: "global", 0x04: "tag",
              0x10: "type", 0x11: "module", 0x12: "instance"}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}


@dataclass(frozen=True, slots=True)
class Sort:
    """A sort: ``core`` is true for the ``core:sort``s (then ``name`` is one of CORE_SORTS)."""

    core: bool
    name: str

    def __str__(self) -> str:
        return f"core {self.name}" if self.core else self.name


@dataclass(frozen=True, slots=True)
class SortIdx:
    sort: Sort
    idx: int


# -- core types ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoreRefType:
    nullable: bool
    heap: int | str  # a type index or an abstract heap type name ("func", "extern", ...)

    def __str__(self) -> str:
        h = self.heap if isinstance(self.heap, str) else f"${self.heap}"
        return f"(ref {'null ' if self.nullable else ''}{h})"


CoreValType = str | CoreRefType  # "i32" | "i64" | "f32" | "f64" | "v128" | ref type


@dataclass(frozen=True, slots=True)
class CoreFuncTypeDef:
    params: tuple[CoreValType, ...]
    results: tuple[CoreValType, ...]


@dataclass(frozen=True, slots=True)
class CoreFieldType:
    storage: CoreValType  # also "i8" / "i16" packed types
    mutable: bool


@dataclass(frozen=True, slots=True)
class CoreStructTypeDef:
    fields: tuple[CoreFieldType, ...]


@dataclass(frozen=True, slots=True)
class CoreArrayTypeDef:
    element: CoreFieldType


CoreCompType = CoreFuncTypeDef | CoreStructTypeDef | CoreArrayTypeDef


@dataclass(frozen=True, slots=True)
class CoreSubType:
    final: bool
    supertypes: tuple[int, ...]
    comp: CoreCompType
    shared: bool = False


@dataclass(frozen=True, slots=True)
class CoreRecGroup:
    """A core (GC) recursive type group; a plain func type is a group of one final subtype."""

    offset: int
    types: tuple[CoreSubType, ...]
    explicit: bool = False  # written with 0x4e (rec ...)


@dataclass(frozen=True, slots=True)
class CoreTableType:
    element: CoreRefType
    minimum: int
    maximum: int | None
    table64: bool = False
    shared: bool = False


@dataclass(frozen=True, slots=True)
class CoreMemoryType:
    minimum: int
    maximum: int | None
    shared: bool = False
    memory64: bool = False
    page_size_log2: int | None = None


@dataclass(frozen=True, slots=True)
class CoreGlobalType:
    content: CoreValType
    mutable: bool
    shared: bool = False


@dataclass(frozen=True, slots=True)
class CoreTagType:
    type_idx: int


@dataclass(frozen=True, slots=True)
class CoreFuncRef:
    """A core import/export of a function with type index ``type_idx``."""

    type_idx: int


CoreExternDesc = CoreFuncRef | CoreTableType | CoreMemoryType | CoreGlobalType | CoreTagType


@dataclass(frozen=True, slots=True)
class CoreImport:
    offset: int
    module: str
    name: str
    desc: CoreExternDesc


@dataclass(frozen=True, slots=True)
class CoreExportDecl:
    offset: int
    name: str
    desc: CoreExternDesc


@dataclass(frozen=True, slots=True)
class CoreOuterAlias:
    """``(alias outer ct idx (type))`` inside a module type."""

    offset: int
    count: int
    idx: int


CoreModuleDecl = CoreImport | CoreRecGroup | CoreOuterAlias | CoreExportDecl


@dataclass(frozen=True, slots=True)
class CoreModuleTypeDef:
    offset: int
    decls: tuple[CoreModuleDecl, ...]


CoreTypeDef = CoreRecGroup | CoreModuleTypeDef


# -- core modules and instances -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoreModuleInfo:
    """What a component needs to know about a core module without compiling it."""

    types: tuple[CoreSubType, ...]
    imports: tuple[CoreImport, ...]
    exports: tuple[tuple[str, str, int], ...]  # (name, kind, index in that kind's space)
    funcs: tuple[int, ...]  # type index of every function (imports first)
    tables: tuple[CoreTableType, ...]
    memories: tuple[CoreMemoryType, ...]
    globals: tuple[CoreGlobalType, ...]
    tags: tuple[int, ...]
    has_start: bool = False  # whether instantiating it runs a start function


@dataclass(frozen=True, slots=True)
class CoreModule:
    """An embedded core module, kept as a byte range of the component binary."""

    offset: int
    start: int
    end: int
    info: CoreModuleInfo


@dataclass(frozen=True, slots=True)
class CoreInstantiate:
    offset: int
    module: int
    args: tuple[tuple[str, int], ...]  # (name, core instance index)


@dataclass(frozen=True, slots=True)
class CoreInlineExports:
    offset: int
    exports: tuple[tuple[str, SortIdx], ...]


CoreInstance = CoreInstantiate | CoreInlineExports


# -- component-level types --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrimDef:
    name: str


@dataclass(frozen=True, slots=True)
class RecordDef:
    fields: tuple[tuple[str, ValTypeRef], ...]


@dataclass(frozen=True, slots=True)
class VariantDef:
    cases: tuple[tuple[str, ValTypeRef | None], ...]


@dataclass(frozen=True, slots=True)
class ListDef:
    element: ValTypeRef
    length: int | None = None


@dataclass(frozen=True, slots=True)
class TupleDef:
    types: tuple[ValTypeRef, ...]


@dataclass(frozen=True, slots=True)
class FlagsDef:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EnumDef:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OptionDef:
    inner: ValTypeRef


@dataclass(frozen=True, slots=True)
class ResultDef:
    ok: ValTypeRef | None
    err: ValTypeRef | None


@dataclass(frozen=True, slots=True)
class OwnDef:
    resource: int


@dataclass(frozen=True, slots=True)
class BorrowDef:
    resource: int


@dataclass(frozen=True, slots=True)
class StreamDef:
    element: ValTypeRef | None


@dataclass(frozen=True, slots=True)
class FutureDef:
    element: ValTypeRef | None


@dataclass(frozen=True, slots=True)
class MapDef:
    key: ValTypeRef
    value: ValTypeRef


DefValType = (
    PrimDef | RecordDef | VariantDef | ListDef | TupleDef | FlagsDef | EnumDef | OptionDef
    | ResultDef | OwnDef | BorrowDef | StreamDef | FutureDef | MapDef
)


@dataclass(frozen=True, slots=True)
class FuncTypeDef:
    params: tuple[tuple[str, ValTypeRef], ...]
    result: ValTypeRef | None
    is_async: bool = False


@dataclass(frozen=True, slots=True)
class ResourceTypeDef:
    rep: CoreValType
    dtor: int | None


@dataclass(frozen=True, slots=True)
class ExternName:
    """An import/export name and its attributes (🏷️/🔗)."""

    name: str
    implements: str | None = None
    version_suffix: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExternDesc:
    """An ``externtype``: ``kind`` is module/func/value/type/component/instance.

    ``idx`` is the type index (core type index for module); for ``type`` bounds ``idx`` is the
    ``eq`` target or ``None`` for ``(sub resource)``; for values ``value_type`` (wasm-tools encodes
    a value extern type as a bare valtype; ``value_eq`` is kept for the spec's ``eq`` form).
    """

    kind: str
    idx: int | None = None
    value_type: ValTypeRef | None = None
    value_eq: int | None = None


@dataclass(frozen=True, slots=True)
class ImportDecl:
    offset: int
    name: ExternName
    desc: ExternDesc


@dataclass(frozen=True, slots=True)
class ExportDecl:
    offset: int
    name: ExternName
    desc: ExternDesc


@dataclass(frozen=True, slots=True)
class CoreTypeDecl:
    """A core type definition (core type section entry, or ``0x00`` declarator)."""

    offset: int
    type: CoreTypeDef


@dataclass(frozen=True, slots=True)
class ComponentTypeDef:
    decls: tuple[CoreTypeDecl | TypeDef | Alias | ImportDecl | ExportDecl, ...]


@dataclass(frozen=True, slots=True)
class InstanceTypeDef:
    decls: tuple[CoreTypeDecl | TypeDef | Alias | ExportDecl, ...]


TypeDefBody = DefValType | FuncTypeDef | ComponentTypeDef | InstanceTypeDef | ResourceTypeDef


@dataclass(frozen=True, slots=True)
class TypeDef:
    offset: int
    body: TypeDefBody


# -- aliases, instances, canon, start, imports, exports ----------------------------------------


@dataclass(frozen=True, slots=True)
class AliasExport:
    offset: int
    sort: Sort
    instance: int
    name: str


@dataclass(frozen=True, slots=True)
class AliasCoreExport:
    offset: int
    sort: Sort
    instance: int
    name: str


@dataclass(frozen=True, slots=True)
class AliasOuter:
    offset: int
    sort: Sort
    count: int
    idx: int


Alias = AliasExport | AliasCoreExport | AliasOuter


@dataclass(frozen=True, slots=True)
class Instantiate:
    offset: int
    component: int
    args: tuple[tuple[str, SortIdx], ...]


@dataclass(frozen=True, slots=True)
class InlineExports:
    offset: int
    exports: tuple[tuple[ExternName, SortIdx], ...]


Instance = Instantiate | InlineExports


@dataclass(frozen=True, slots=True)
class CanonOpts:
    offset: int = 0
    string_encoding: str | None = None  # None means not given (utf8 by default)
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None
    is_async: bool = False
    callback: int | None = None
    # Every option in order, for duplicate/conflict checks: (name, offset)
    given: tuple[tuple[str, int], ...] = ()
    gc: bool = False  # 🛸 cm-gc: lift/lower through GC types ("gc" in ``given``)
    core_type: int | None = None  # 🛸 cm-gc: the (core-type t) option ("core-type" in ``given``)


@dataclass(frozen=True, slots=True)
class Canon:
    """A ``canon`` definition. ``kind`` is the spec's name (``lift``, ``lower``, ``resource.new``,
    ``stream.read``, ``thread.new-indirect``...); the other fields hold its immediates.

    ``lift`` defines a component function; every other kind defines a core function.
    """

    offset: int
    kind: str
    func: int | None = None  # lift: core func idx; lower: component func idx
    type: int | None = None  # component type idx (lift, resource.*, stream.*, future.*)
    opts: CanonOpts | None = None
    is_async: bool = False  # the async? immediate
    cancellable: bool = False
    shared: bool = False
    core_type: int | None = None  # thread.new-indirect / spawn: core type idx
    table: int | None = None  # core table idx
    memory: int | None = None  # waitable-set.wait/poll: core memory idx
    valtype: CoreValType | None = None  # context.get/set
    index: int | None = None  # context.get/set slot
    result: ValTypeRef | None = None  # task.return
    has_result: bool = False


@dataclass(frozen=True, slots=True)
class Start:
    offset: int
    func: int
    args: tuple[int, ...]
    results: int


@dataclass(frozen=True, slots=True)
class Import:
    offset: int
    name: ExternName
    desc: ExternDesc


@dataclass(frozen=True, slots=True)
class Export:
    offset: int
    name: ExternName
    item: SortIdx
    desc: ExternDesc | None


@dataclass(frozen=True, slots=True)
class ValueDef:
    """A 🪙 value definition, kept as its type and raw encoded bytes."""

    offset: int
    type: ValTypeRef
    data: bytes


@dataclass(frozen=True, slots=True)
class NestedComponent:
    offset: int
    component: Component


Definition = (
    CoreModule | CoreInstantiate | CoreInlineExports | CoreTypeDecl | NestedComponent
    | Instantiate | InlineExports | AliasExport | AliasCoreExport | AliasOuter | TypeDef | Canon
    | Start | Import | Export | ValueDef
)


@dataclass(frozen=True, slots=True)
class Component:
    """A decoded component: its definitions in binary order, and its ``component-name`` names."""

    offset: int
    end: int
    definitions: tuple[Definition, ...]
    name: str | None = None
    names: dict[str, dict[int, str]] = field(default_factory=dict, compare=False, hash=False)
