"""``wasi:random``: secure random bytes (``os.urandom``), insecure ones (a PRNG seeded from
them) and the insecure seed. ``WasiConfig.random_seed(n)`` makes all three deterministic, for
tests.

Example::

    store.set_wasi(WasiConfig().random_seed(42))   # the same bytes on every run
"""

from __future__ import annotations

import os
import random as _random
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import Trap
from ._bindings.imports import wasi_random_insecure as _b_insecure
from ._bindings.imports import wasi_random_insecure_seed as _b_seed
from ._bindings.imports import wasi_random_random as _b_random
from .ctx import register

if TYPE_CHECKING:
    from .config import WasiConfig
    from .ctx import WasiCtx

__all__ = ["make_random"]

Source = Callable[[int], bytes]


def make_random(config: WasiConfig) -> tuple[Source, Source, tuple[int, int]]:
    """``(secure bytes, insecure bytes, insecure seed)`` for a context."""
    secure: Source
    if config.seed is not None:
        secure = _random.Random(config.seed).randbytes
        insecure_rng = _random.Random(config.seed ^ 0x5EED)
    else:
        secure = os.urandom
        insecure_rng = _random.Random(os.urandom(16))
    seed_bytes = insecure_rng.randbytes(16)
    seed = (int.from_bytes(seed_bytes[:8], "little"), int.from_bytes(seed_bytes[8:], "little"))
    return secure, insecure_rng.randbytes, seed


class _RandomHost:
    """One of ``wasi:random/random`` and ``wasi:random/insecure``: the same two calls over a
    different source."""

    def __init__(self, ctx: WasiCtx, source: Source, what: str) -> None:
        self._source = source
        self._max = ctx.config.max_alloc
        self._what = what

    def _bytes(self, len: int) -> bytes:
        if len > self._max:
            raise Trap(f"`{self._what}`: expected at most {self._max} bytes "
                       f"(`WasiConfig.limits(max_alloc=...)`), got {len}")
        return self._source(len)

    def _u64(self) -> int:
        return int.from_bytes(self._source(8), "little")

    get_random_bytes = get_insecure_random_bytes = _bytes
    get_random_u64 = get_insecure_random_u64 = _u64


class InsecureSeedHost:
    """``wasi:random/insecure-seed``: one seed per context."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._seed = ctx.insecure_seed

    def insecure_seed(self) -> tuple[int, int]:
        return self._seed


register(_b_random,
         lambda ctx: _RandomHost(ctx, ctx.random, "wasi:random/random.get-random-bytes"))
register(_b_insecure, lambda ctx: _RandomHost(
    ctx, ctx.insecure_random, "wasi:random/insecure.get-insecure-random-bytes"))
register(_b_seed, InsecureSeedHost)
