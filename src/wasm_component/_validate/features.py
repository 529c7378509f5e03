"""Feature flags gating the parts of the component model that are still proposals.

They exist so one validator can follow both the wasm-tools conformance suite (whose ``;; RUN:``
lines enable features with ``-f name,...``) and wasmtime's (``;;! name = true`` lines), and so the
runtime can refuse what its engine cannot run. Names follow wasm-tools' ``-f`` flags.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

__all__ = ["Features"]

# wasmtime `;;!` names (and other spellings) that map onto our fields.
_ALIASES: dict[str, str] = {
    "component_model_async": "cm_async",
    "component_model_async_stackful": "cm_async_stackful",
    "component_model_async_builtins": "cm_async_builtins",
    "component_model_more_async_builtins": "cm_more_async_builtins",
    "component_model_threading": "cm_threading",
    "component_model_error_context": "cm_error_context",
    "component_model_fixed_length_lists": "cm_fixed_length_lists",
    "component_model_map": "cm_map",
    "component_model_gc": "cm_gc",
    "component_model_memory64": "cm64",
    "component_model_values": "cm_values",
    "component_model_nested_names": "cm_nested_names",
    "component_model_implements": "cm_implements",
    "component_model_canon_names": "cm_canon_names",
    "gc_types": "gc",
    "function_references": "function_references",
}


@dataclass(frozen=True, slots=True)
class Features:
    """Which optional proposals validation accepts (wasm-tools ``-f`` names, ``-`` -> ``_``)."""

    cm_async: bool = False
    cm_async_stackful: bool = False
    cm_async_builtins: bool = False
    cm_more_async_builtins: bool = False
    cm_threading: bool = False
    cm_error_context: bool = False
    cm_fixed_length_lists: bool = False
    cm_map: bool = False
    cm_gc: bool = False
    cm64: bool = False
    cm_values: bool = False
    cm_nested_names: bool = False
    cm_implements: bool = False
    cm_canon_names: bool = False
    gc: bool = True
    function_references: bool = True
    reference_types: bool = True
    multi_memory: bool = True
    memory64: bool = True
    custom_page_sizes: bool = False
    shared_everything_threads: bool = False
    threads: bool = True
    exceptions: bool = True
    bulk_memory: bool = True

    @staticmethod
    def default() -> Features:
        """The set wasm-tools validates with when given no ``-f`` flags."""
        return Features()

    @staticmethod
    def all() -> Features:
        """Every feature on."""
        return Features(**{f.name: True for f in fields(Features)})

    @staticmethod
    def from_flags(flags: str, base: Features | None = None, *, strict: bool = False
                   ) -> Features:
        """Parse a ``-f`` list (``"cm-async,-exceptions"``); unknown names are ignored (the
        conformance suites name features of other tools), or with ``strict`` a ``ValueError``.

        Also accepts wasmtime's ``;;!`` names (``component_model_async``). ``all`` enables all.
        """
        out = base if base is not None else Features.default()
        names = {f.name for f in fields(Features)}
        for raw in flags.replace(" ", ",").split(","):
            item = raw.strip()
            if not item:
                continue
            on = True
            if item.startswith("-"):
                on, item = False, item[1:]
            elif item.startswith("+"):
                item = item[1:]
            if "=" in item:
                item, _, val = item.partition("=")
                on = val.strip().lower() in ("true", "y", "yes", "1")
            key = item.strip().replace("-", "_")
            key = _ALIASES.get(key, key)
            if key == "all":
                out = Features.all() if on else Features(**{f: False for f in names})
                continue
            if key in names:
                out = dataclasses.replace(out, **{key: on})
                if key == "cm_threading" and on:
                    out = dataclasses.replace(out, cm_async=True)
                if key == "cm_async" and on:
                    out = dataclasses.replace(out, cm_async_builtins=True)
            elif strict:
                known = ", ".join(sorted(n.replace("_", "-") for n in names))
                raise ValueError(f"unknown component-model feature {raw.strip()!r} "
                                 f"(known: all, {known})")
        return out
