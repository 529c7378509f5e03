"""``wasi:random@0.3.0``: 0.2's sources (:mod:`..random`: ``os.urandom``, a seeded PRNG, one
insecure seed per context; ``WasiConfig.random_seed(n)`` makes them deterministic).

0.3 asks for "at most ``max-len``" bytes, so a request above ``WasiConfig.limits(max_alloc=...)``
gets ``max_alloc`` bytes (0.2, which promises exactly ``len``, traps instead).

Example::

    store.set_wasi(WasiConfig().random_seed(42))   # the same bytes on every run, 0.2 or 0.3
"""

from __future__ import annotations

from .._bindings_p3.imports import wasi_random_insecure as _b_insecure
from .._bindings_p3.imports import wasi_random_insecure_seed as _b_seed
from .._bindings_p3.imports import wasi_random_random as _b_random
from ..ctx import register
from ..random import InsecureSeedHost as _InsecureSeedHost02
from ..random import _RandomHost

__all__ = ["InsecureSeedHost", "RandomHost"]


class RandomHost(_RandomHost):
    """``wasi:random/random@0.3.0`` and ``insecure``: at most ``max_alloc`` bytes a call."""

    def _bytes(self, len: int) -> bytes:  # the WIT's `max-len`
        return self._source(min(len, self._max))

    get_random_bytes = get_insecure_random_bytes = _bytes


class InsecureSeedHost(_InsecureSeedHost02):
    """``wasi:random/insecure-seed@0.3.0``."""

    get_insecure_seed = _InsecureSeedHost02.insecure_seed


register(_b_random, lambda ctx: RandomHost(ctx, ctx.random, "wasi:random/random.get-random-bytes"))
register(_b_insecure, lambda ctx: RandomHost(
    ctx, ctx.insecure_random, "wasi:random/insecure.get-insecure-random-bytes"))
register(_b_seed, InsecureSeedHost)
