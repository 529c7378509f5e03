"""A fuzzing harness for wasm-component: targets that must only fail inside the error contract.

Why this exists: the contract (malformed binaries raise ``DecodeError``/``ValidationError``, guest
faults ``Trap``, host misuse ``TypeError``/``ValueError``, unbuilt features ``NotSupported``, and
nothing crashes the process) is only believable if hostile inputs are thrown at it at scale.

Targets (see :mod:`fuzz.targets`), each a function of one input that raises :class:`Finding` when
the library fails outside the contract:

- ``decode`` -- decode + validate (+ embedder restrictions) mutated corpus components;
- ``instantiate`` -- compile and instantiate mutated valid components with every import defined
  as a trap, then call every export with generated arguments;
- ``abi`` -- lower generated values into memory and lift them back (must round-trip), and lift
  random memory (may only trap);
- ``wit`` -- parse and resolve mutated WIT documents;
- ``wave`` -- print generated values as WAVE, parse them back (must round-trip), and parse
  mutated WAVE text (may only raise ``WaveError``);
- ``vdiff`` -- generated component type sections validated by us and by ``wasm-tools
  validate``: the verdicts must agree (needs ``wasm-tools``);
- ``diff`` -- differential against ``wasmtime.component`` (needs the test tree's
  ``tests/differential/_diffgen.py``; by hand only).

By hand: ``python -m fuzz decode --budget 1000000`` (``--help`` for the options); in CI the
suite runs each target derandomized on a small budget (``tests/reliability/test_fuzz.py``), and
replays ``fuzz/corpus/<target>/*`` -- inputs that once found a bug -- as regression tests.

Inputs are made from ``(seed, index)`` with :mod:`random`, so a finding is replayed with
``python -m fuzz TARGET --seed S --start I --budget 1``.
"""
