"""The synchronous Canonical ABI: moving component values between Python and core wasm.

- :mod:`.layout`: alignment, ``elem_size``, flattening, ``flatten_functype`` (pure, cached);
- :mod:`.context`: ``cx`` (:class:`LiftLowerContext`), options, instance state, Task/Subtask;
- :mod:`.lift` / :mod:`.lower`: per-type generated ``lift_flat``/``load`` and
  ``lower_flat``/``store``;
- :mod:`.strings`: the three string encodings; :mod:`.handles`: handle tables and resources;
- :mod:`.func`: per-function-type adapters for export and import calls.
"""

from .context import (
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Memory,
    Subtask,
    Task,
    trap,
    trap_if,
)
from .func import FuncAbi, canon_lift_sync, canon_lower_sync, func_abi
from .handles import (
    ErrorContext,
    ResourceHandle,
    Table,
    resource_drop,
    resource_new,
    resource_rep,
)
from .layout import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    alignment,
    despecialize,
    elem_size,
    flatten_functype,
    flatten_type,
)
from .lift import build_lift_flat, build_load, lift_flat, load
from .lower import build_lower_flat, build_store, lower_flat, store
from .memory import BytearrayMemory

__all__ = [
    "MAX_FLAT_PARAMS",
    "MAX_FLAT_RESULTS",
    "BytearrayMemory",
    "CanonicalOptions",
    "ComponentInstanceState",
    "ErrorContext",
    "FuncAbi",
    "LiftLowerContext",
    "Memory",
    "ResourceHandle",
    "Subtask",
    "Table",
    "Task",
    "alignment",
    "build_lift_flat",
    "build_load",
    "build_lower_flat",
    "build_store",
    "canon_lift_sync",
    "canon_lower_sync",
    "despecialize",
    "elem_size",
    "flatten_functype",
    "flatten_type",
    "func_abi",
    "lift_flat",
    "load",
    "lower_flat",
    "resource_drop",
    "resource_new",
    "resource_rep",
    "store",
    "trap",
    "trap_if",
]
