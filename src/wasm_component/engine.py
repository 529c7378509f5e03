"""``Engine``, ``EngineConfig`` and ``Store``: where components are compiled and where their
instances live, with the limits and deadlines that keep a hostile guest in its box.

An :class:`Engine` holds compilation settings (an :class:`EngineConfig`, or a raw
``wasmtime.Config``, for core wasm, plus the component-model feature set used by the validator);
share one across stores and components. A :class:`Store` owns instances, their handle tables
and host state (``store.data``); values from one store never mix with another's.

Limits and deadlines (all per store):

- ``store.limiter(memory_size=..., table_elements=..., instances=..., tables=..., memories=...)``
  (wasmtime's ``StoreLimits``; ``memory.grow`` past ``memory_size`` returns -1);
- ``store.set_handle_limit(n)``: guest handles per component instance (resource handles);
- ``store.set_hostcall_fuel(n)``: bytes of lists and strings one lift may turn into host values
  (wasmtime's "hostcall fuel", 128 MiB by default): more traps;
- fuel (``EngineConfig(consume_fuel=True)``, then ``store.set_fuel(n)``): running out traps;
- epochs (``EngineConfig(epoch_interruption=True)``): ``store.set_epoch_deadline(ticks)`` with
  ``engine.increment_epoch()`` by hand, or a wall-clock deadline ``store.set_deadline(seconds)``
  / ``with store.deadline(seconds): ...``, for which the engine runs a timer thread: a guest
  still running when it passes traps (an infinite loop ends as a :class:`~.errors.Trap`).

Threads: a store is entered by one thread at a time. Each store has a re-entrant lock taken by
every call into it (function calls, instantiation, resource drops, fuel, limits and deadlines;
to stop a running guest from another thread, use ``engine.increment_epoch()``, which does not
wait), so threads sharing a store
are serialised (and a host function calling back into its own store, on its own thread, does
not deadlock); stores on different threads run in parallel as far as wasmtime and the GIL let
them (wasmtime's calls release the GIL). Without the lock, two threads in one store corrupt
wasmtime's per-store state (a Rust panic aborting the process) and the store's shared trap and
argument slots. On free-threaded CPython (3.13t) the lock still serialises each store; the
caches shared across stores (per-type ABI adapters, the engine's function types) are filled by
single dict writes, so a race at worst builds an entry twice -- untested on a free-threaded
build so far.

Example::

    >>> engine = Engine(EngineConfig(consume_fuel=True))
    >>> store = Store(engine, {"greeting": "hi"})
    >>> store.data["greeting"]
    'hi'
    >>> store.set_fuel(10_000); store.get_fuel()
    10000
    >>> store.limiter(memory_size=16 << 20, instances=10)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import weakref
from _thread import RLock as _RLock
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from ._abi.layout import DEFAULT_HOSTCALL_FUEL
from ._runtime import core
from ._validate.features import Features

__all__ = ["Engine", "EngineConfig", "Store"]

_OPT_LEVELS = ("none", "speed", "speed_and_size")
_NO_DEADLINE = 2**62  # "ticks after now" that never come


def _check_int(where: str, what: str, v: object, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"`{where}`: expected an int for `{what}`, got {type(v).__name__} {v!r}")
    if not lo <= v <= hi:
        raise ValueError(f"`{where}`: expected `{what}` in [{lo}, {hi}], got {v}")
    return v


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How an :class:`Engine` compiles and runs core wasm, without importing ``wasmtime``.

    - ``consume_fuel``: guests burn fuel; ``Store.set_fuel`` sets how much (running out traps);
    - ``epoch_interruption``: guests check the engine's epoch; needed for
      ``Store.set_epoch_deadline``, ``Store.set_deadline`` and ``Store.deadline``;
    - ``max_wasm_stack``: bytes of native stack a guest may use (deeper recursion traps);
    - ``cranelift_opt_level``: ``"none"``, ``"speed"`` (default) or ``"speed_and_size"``;
    - ``cache``: ``True`` for wasmtime's compilation cache, or the path of its TOML config;
    - ``wasm_features``: core wasm proposals to enable (``"simd"``, ``"gc"``, ``"threads"``, ...;
      the names of ``_runtime.core.FEATURES``) and ``disable_wasm_features`` to turn off.

    Example::

        >>> engine = Engine(EngineConfig(consume_fuel=True, max_wasm_stack=1 << 20))
    """

    consume_fuel: bool = False
    epoch_interruption: bool = False
    max_wasm_stack: int | None = None
    cranelift_opt_level: str | None = None
    cache: bool | str = False
    wasm_features: tuple[str, ...] = ()
    disable_wasm_features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("consume_fuel", "epoch_interruption"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"`EngineConfig`: expected a bool for `{name}`, got "
                                f"{getattr(self, name)!r}")
        if self.max_wasm_stack is not None:
            _check_int("EngineConfig", "max_wasm_stack", self.max_wasm_stack, 1, 2**31)
        if self.cranelift_opt_level is not None and self.cranelift_opt_level not in _OPT_LEVELS:
            raise ValueError(f"`EngineConfig`: expected `cranelift_opt_level` in {_OPT_LEVELS}, "
                             f"got {self.cranelift_opt_level!r}")
        if not isinstance(self.cache, (bool, str)):
            raise TypeError(f"`EngineConfig`: expected a bool or a path for `cache`, got "
                            f"{self.cache!r}")
        for name in ("wasm_features", "disable_wasm_features"):
            v = getattr(self, name)
            if isinstance(v, str) or not all(isinstance(x, str) for x in v):
                raise TypeError(f"`EngineConfig`: expected a tuple of names for `{name}`, got "
                                f"{v!r}")
            object.__setattr__(self, name, tuple(v))

    def _wasmtime(self) -> Any:
        return core.make_config(
            self.wasm_features, disable=self.disable_wasm_features,
            consume_fuel=self.consume_fuel, epoch_interruption=self.epoch_interruption,
            max_wasm_stack=self.max_wasm_stack, cranelift_opt_level=self.cranelift_opt_level,
            cache=self.cache)

    def replace(self, **changes: Any) -> EngineConfig:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)


if TYPE_CHECKING:
    from typing_extensions import TypeVar

    #: The type of ``store.data`` (``Any`` where a ``Store`` is written without one).
    T = TypeVar("T", default=Any)
else:
    from typing import TypeVar

    T = TypeVar("T")


class Engine:
    """Compilation environment. ``config`` is an :class:`EngineConfig` (or a raw
    ``wasmtime.Config``/``wasmtime.Engine``); ``features`` the component-model features to
    accept (a :class:`Features`, or a wasm-tools style flag list such as
    ``"cm-async,cm-fixed-length-lists"``; default: all that we support).
    """

    __slots__ = ("__weakref__", "_core", "_deadlines", "_ticker", "_ticker_lock", "config",
                 "features")

    #: seconds between the epoch ticks that drive wall-clock deadlines
    TICK = 0.01

    def __init__(self, config: EngineConfig | Any = None, *,
                 features: Features | str | None = None) -> None:
        if isinstance(features, str):
            features = Features.from_flags(features, strict=True)
        elif features is not None and not isinstance(features, Features):
            raise TypeError(f"`Engine`: expected a Features or a flag string for `features`, "
                            f"got {type(features).__name__} {features!r}")
        self.features: Features = features if features is not None else Features.all()
        #: the :class:`EngineConfig` given (None for a raw wasmtime config)
        self.config: EngineConfig | None
        if isinstance(config, EngineConfig):
            self.config = config
            raw = config._wasmtime()
        elif config is None:
            self.config = EngineConfig()
            raw = None
        elif core.is_raw_config(config):
            self.config = None
            raw = config
        else:
            raise TypeError(f"`Engine`: expected an EngineConfig or a wasmtime.Config, got "
                            f"{type(config).__name__} {config!r}")
        self._core = core.CoreEngine(raw, ours=self.config is not None)
        self._deadlines = 0  # stores with a wall-clock deadline set
        self._ticker: threading.Thread | None = None
        self._ticker_lock = threading.Lock()

    def increment_epoch(self) -> None:
        """Advance the epoch counter (for stores with an epoch deadline). Thread-safe."""
        self._core.increment_epoch()

    def _epochs(self, where: str) -> None:
        if self.config is not None and not self.config.epoch_interruption:
            raise ValueError(f"`{where}`: the engine was made without epoch interruption "
                             "(use `Engine(EngineConfig(epoch_interruption=True))`)")

    # -- the timer behind wall-clock deadlines ------------------------------------------------

    def _deadline_started(self) -> None:
        with self._ticker_lock:
            self._deadlines += 1
            if self._ticker is None or not self._ticker.is_alive():
                self._ticker = threading.Thread(target=_tick, args=(weakref.ref(self),),
                                                name="wasm-component-epoch", daemon=True)
                self._ticker.start()

    def _deadline_ended(self) -> None:
        with self._ticker_lock:
            self._deadlines = max(0, self._deadlines - 1)


def _tick(ref: weakref.ref[Engine]) -> None:
    """Increment the engine's epoch every ``TICK`` seconds while any store has a deadline."""
    wait = threading.Event().wait
    while True:
        engine = ref()
        if engine is None:
            return
        with engine._ticker_lock:
            if engine._deadlines == 0:
                engine._ticker = None
                return
        engine._core.increment_epoch()
        tick = engine.TICK
        del engine
        wait(tick)


class Store(Generic[T]):
    """Owns instances and host state. ``data`` is yours: host functions receive the store.

    ``Store[T]`` is generic in the type of ``data``, so host functions typed with
    ``store: Store[MyState]`` see ``store.data`` as ``MyState``; ``Store(engine, MyState())``
    infers it.

    Safe to share between threads: calls into the store are serialised by a re-entrant lock
    (see the module docstring). Limits and deadlines: :meth:`limiter`, :meth:`set_handle_limit`,
    :meth:`set_hostcall_fuel`,
    :meth:`set_fuel`, :meth:`set_epoch_deadline`, :meth:`set_deadline`, :meth:`deadline`.
    """

    __slots__ = (
        "__weakref__", "_core", "_deadline_on", "_drop_fns", "_handle_limit", "_handles",
        "_hostcall_fuel", "_instances", "_lock", "_resource_dtors", "_sched", "_wasi", "engine",
    )

    def __init__(self, engine: Engine, data: T = None) -> None:  # type: ignore[assignment]
        if engine.__class__ is not Engine and not isinstance(engine, Engine):
            raise TypeError(f"`Store`: expected an Engine, got {type(engine).__name__} {engine!r}")
        self.engine = engine
        self._core = core.CoreStore(engine._core, data)
        self._lock = _RLock()
        self._instances: list[Any] = []
        # concrete resource type -> (defining instance state or None for host, dtor(rep) or None)
        self._resource_dtors: dict[Any, tuple[Any, Any]] = {}
        self._drop_fns: dict[Any, Any] = {}  # per resource type: the host-side drop call
        self._handle_limit: int | None = None
        self._hostcall_fuel = DEFAULT_HOSTCALL_FUEL
        self._deadline_on = False
        config = engine.config
        if config is not None and config.epoch_interruption:
            # our config: no deadline until one is set (wasmtime's default traps at once)
            self._core.set_epoch_deadline(_NO_DEADLINE)
        self._handles: Any = None  # see ``_host_handles``
        self._wasi: Any = None
        #: the component-model async scheduler (``_runtime.tasks``), made when an async
        #: feature is first instantiated in the store
        self._sched: Any = None

    @property
    def _host_handles(self) -> Any:
        """The host-side forms of this store's handles (``_runtime.host_handles``), made when
        the first instance state needs them (a store that never instantiates makes none)."""
        handles = self._handles
        if handles is None:
            from ._runtime.host_handles import HostHandles

            handles = self._handles = HostHandles(self)
            handles.handle_limit = self._handle_limit
            handles.hostcall_fuel = self._hostcall_fuel
        return handles

    def set_wasi(self, config: Any) -> None:
        """Give this store a WASI context built from ``config`` (a ``wasi.WasiConfig``, or a
        ready ``wasi.WasiCtx``), for hosts added with ``Linker.add_wasip2()``."""
        from .wasi import WasiConfig, WasiCtx

        if isinstance(config, WasiConfig):
            config = WasiCtx(config)
        if not isinstance(config, WasiCtx):
            raise TypeError(f"`Store.set_wasi`: expected a WasiConfig, got "
                            f"{type(config).__name__}")
        config.attach(self)
        self._wasi = config

    @property
    def calling_instance(self) -> object:
        """While a host function runs, an opaque token for the component instance that called
        it (equal tokens: the same instance); ``None`` otherwise. Hosts keep per-instance
        state with it (the WASI host caps the handles each instance holds)."""
        handles = self._handles
        return None if handles is None else handles.caller

    @property
    def wasi(self) -> Any:
        """The store's ``wasi.WasiCtx`` (see :meth:`set_wasi`)."""
        ctx = self._wasi
        if ctx is None:
            from .errors import Trap

            raise Trap("the guest called WASI, but the store has no WASI context "
                       "(call `store.set_wasi(WasiConfig())` first)")
        return ctx

    def __del__(self) -> None:
        # Nothing below refers back to the store (host functions and resource lifts hold it
        # weakly), so reference counting gets here; what remains refers to itself (call paths,
        # the core store's host callbacks) and is let go now rather than by the cyclic GC.
        if not hasattr(self, "_instances"):
            return  # ``__init__`` refused its arguments
        instances = self._instances
        if instances:
            for root in instances:
                root.release()
            instances.clear()
        if self._resource_dtors:
            self._resource_dtors.clear()
        if self._drop_fns:
            self._drop_fns.clear()
        if getattr(self, "_sched", None) is not None:
            self._sched.close()  # (host async operations still running are cancelled)
        handles = getattr(self, "_handles", None)  # (None: none made, or ``__init__`` stopped)
        if handles is not None:
            handles.clear()  # its drop calls refer back to it
        wasi = getattr(self, "_wasi", None)
        if wasi is not None:
            wasi.detach()  # (its hosts refer back to it)
        self._core.release()

    @property
    def data(self) -> T:
        """The embedder's state given to the constructor (or set later)."""
        data: T = self._core.data
        return data

    @data.setter
    def data(self, value: T) -> None:
        self._core.data = value

    # -- fuel and epochs -----------------------------------------------------------------------

    def set_fuel(self, fuel: int) -> None:
        """Give the store ``fuel`` units (needs ``EngineConfig(consume_fuel=True)``)."""
        n = _check_int("Store.set_fuel", "fuel", fuel)
        with self._lock:
            self._core.set_fuel(n)

    def get_fuel(self) -> int:
        with self._lock:
            return self._core.get_fuel()

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        """Trap guests once the engine's epoch passes ``ticks_after_current`` increments."""
        ticks = _check_int("Store.set_epoch_deadline", "ticks_after_current",
                           ticks_after_current)
        self.engine._epochs("Store.set_epoch_deadline")
        with self._lock:
            self._core.set_epoch_deadline(ticks)

    def set_deadline(self, seconds: float | None) -> None:
        """A wall-clock deadline: guest code still running ``seconds`` from now traps (to within
        ``Engine.TICK``). ``None`` clears it. Needs ``EngineConfig(epoch_interruption=True)``;
        the engine runs a timer thread while any of its stores has a deadline.

        Example::

            engine = Engine(EngineConfig(epoch_interruption=True))
            store = Store(engine)
            store.set_deadline(0.5)   # an infinite loop now raises Trap after ~0.5 s
        """
        engine = self.engine
        if seconds is None:
            if self._deadline_on:
                self._deadline_on = False
                engine._deadline_ended()
            if engine.config is None or engine.config.epoch_interruption:
                with self._lock:
                    self._core.set_epoch_deadline(_NO_DEADLINE)
            return
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"`Store.set_deadline`: expected seconds as a number, got "
                            f"{type(seconds).__name__} {seconds!r}")
        if not seconds > 0 or math.isinf(seconds):
            raise ValueError(f"`Store.set_deadline`: expected a positive finite number of "
                             f"seconds, got {seconds!r}")
        engine._epochs("Store.set_deadline")
        with self._lock:
            self._core.set_epoch_deadline(max(1, math.ceil(seconds / engine.TICK)))
        if not self._deadline_on:
            self._deadline_on = True
            engine._deadline_started()

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[Store]:
        """``with store.deadline(2.0): ...``: :meth:`set_deadline` for the block, cleared after."""
        self.set_deadline(seconds)
        try:
            yield self
        finally:
            self.set_deadline(None)

    # -- limits --------------------------------------------------------------------------------

    def limiter(
        self,
        memory_size: int | None = None,
        table_elements: int | None = None,
        instances: int | None = None,
        tables: int | None = None,
        memories: int | None = None,
    ) -> None:
        """Resource limits for the store (wasmtime's ``StoreLimits``; None leaves one as is):
        bytes of each linear memory, elements of each table, and how many core instances,
        tables and memories may be created. Growing past a limit fails (``memory.grow`` returns
        -1); instantiating past one traps."""
        vals = {"memory_size": memory_size, "table_elements": table_elements,
                "instances": instances, "tables": tables, "memories": memories}
        for k, v in vals.items():
            if v is not None:
                _check_int("Store.limiter", k, v, 0, 2**63 - 1)
        with self._lock:
            self._core.set_limits(*(-1 if v is None else v for v in vals.values()))

    def set_limits(self, memory_size: int = -1, table_elements: int = -1, instances: int = -1,
                   tables: int = -1, memories: int = -1) -> None:
        """wasmtime-py's spelling of :meth:`limiter` (a negative value leaves a limit as is)."""
        vals = (memory_size, table_elements, instances, tables, memories)
        for name, v in zip(("memory_size", "table_elements", "instances", "tables",
                            "memories"), vals, strict=True):
            _check_int("Store.set_limits", name, v, -(2**63), 2**63 - 1)
        self.limiter(*(None if v < 0 else v for v in vals))

    def set_handle_limit(self, n: int | None) -> None:
        """At most ``n`` live resource handles per component instance made from now on
        (``None``: only the Canonical ABI's 2**28 - 1): creating or receiving one more traps.
        A guest holding 2**24 handles costs gigabytes of host memory; this bounds it."""
        if n is not None:
            _check_int("Store.set_handle_limit", "n", n, 0, 2**28 - 1)
        self._handle_limit = n
        # instances made from now on read it here (see ``ComponentInstanceState``)
        if self._handles is not None:  # (else made with it)
            self._handles.handle_limit = n

    def set_hostcall_fuel(self, fuel: int) -> None:
        """wasmtime's ``Store::set_hostcall_fuel``: at most ``fuel`` bytes of lists and strings
        (each list its length times its element size, each string its bytes) may be turned
        into host values by one lift -- the arguments of a call into the host, the results of
        an export call, a value passed between two components, the elements of one
        stream/future copy. Each lift starts with the whole amount; going past it raises
        :class:`~.errors.Trap` ("fuel allocated for hostcalls has been exhausted") before the
        value is built. Lowering host values into a guest is not charged (they already exist).
        Default 128 MiB, as wasmtime's; a lift may still build host objects a few times
        larger than the bytes charged (a Python ``int`` per ``u32``). Applies to the next lift,
        in every instance of the store."""
        n = _check_int("Store.set_hostcall_fuel", "fuel", fuel, 0, 2**63 - 1)
        self._hostcall_fuel = n
        if self._handles is not None:  # (else made with it)
            self._handles.hostcall_fuel = n

    def hostcall_fuel(self) -> int:
        """The hostcall fuel each lift starts with (see :meth:`set_hostcall_fuel`)."""
        return self._hostcall_fuel

    def gc(self) -> None:
        with self._lock:
            self._core.gc()
