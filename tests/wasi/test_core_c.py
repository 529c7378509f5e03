"""C programs (wasm32-wasi, adapted with the preview1 command adapter) run through our WASI
host and through ``wasmtime.component`` + ``add_wasip2``: the same stdout, stderr and exit code
for the same inputs. They cover args/env, stdin, exit codes and traps, clocks (including a
virtual clock), random bytes and ``poll``."""

from __future__ import annotations

import time

import pytest

from wasm_component.wasi import WasiConfig

from ._build import TRAPPED, Inputs, c_component, run_ours, run_wasmtime

ARGS_ENV = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern char **environ;
int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e; e++) printf("env %s\n", *e);
  const char *v = getenv("GREETING");
  printf("GREETING=%s\n", v ? v : "(unset)");
  fprintf(stderr, "to stderr\n");
  if (argc > 1 && strcmp(argv[1], "exit") == 0) exit(atoi(argv[2]));
  if (argc > 1 && strcmp(argv[1], "abort") == 0) abort();
  return argc > 1 && strcmp(argv[1], "fail") == 0 ? 1 : 0;
}
"""

STDIN = r"""
#include <stdio.h>
#include <ctype.h>
int main(void) {
  char buf[4096]; size_t n, total = 0;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
    for (size_t i = 0; i < n; i++) putchar(toupper((unsigned char)buf[i]));
    total += n;
  }
  printf("\ntotal=%zu eof=%d\n", total, feof(stdin));
  return 0;
}
"""

CLOCKS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <stdint.h>
static int64_t ns(clockid_t c) { struct timespec t; clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }
int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 20;
  int64_t m0 = ns(CLOCK_MONOTONIC), w0 = ns(CLOCK_REALTIME);
  struct timespec req = { ms / 1000, (ms % 1000) * 1000000 };
  nanosleep(&req, NULL);
  int64_t m1 = ns(CLOCK_MONOTONIC);
  struct timespec res; clock_getres(CLOCK_MONOTONIC, &res);
  printf("slept_enough=%d\n", m1 - m0 >= (int64_t)ms * 1000000);
  printf("wall_after_2020=%d\n", w0 > (int64_t)1577836800 * 1000000000);
  printf("resolution_positive=%d\n", res.tv_sec > 0 || res.tv_nsec > 0);
  fprintf(stderr, "elapsed_ns=%lld wall_ns=%lld\n", (long long)(m1 - m0), (long long)w0);
  return 0;
}
"""

RANDOM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  unsigned char a[64], b[64];
  if (getentropy(a, sizeof a) || getentropy(b, sizeof b)) { puts("getentropy failed"); return 2; }
  int nonzero = 0; for (int i = 0; i < 64; i++) nonzero |= a[i];
  printf("nonzero=%d differ=%d\n", nonzero != 0, memcmp(a, b, sizeof a) != 0);
  uint32_t r = arc4random();
  (void)r;
  fprintf(stderr, "first=%02x%02x%02x%02x\n", a[0], a[1], a[2], a[3]);
  return 0;
}
"""

POLL = r"""
#include <stdio.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
static int64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }
int main(void) {
  struct pollfd p = { 0, POLLIN, 0 };
  int n = poll(&p, 1, 1000);
  printf("stdin ready: n=%d in=%d\n", n, (p.revents & POLLIN) != 0);
  char buf[64]; ssize_t got = read(0, buf, sizeof buf);
  printf("read %zd\n", got);
  struct pollfd o = { 1, POLLOUT, 0 };
  n = poll(&o, 1, 1000);
  printf("stdout ready: n=%d out=%d\n", n, (o.revents & POLLOUT) != 0);
  int64_t t0 = now();
  n = poll(NULL, 0, 30);
  printf("timeout: n=%d waited=%d\n", n, now() - t0 >= 30000000);
  return 0;
}
"""


def _same(source: str, name: str, inputs: Inputs) -> tuple[bytes, bytes, int]:
    path = c_component(source, name)
    ours = run_ours(path, inputs)
    theirs = run_wasmtime(path, inputs)
    assert ours == theirs
    return ours.stdout, ours.stderr, ours.code


@pytest.mark.parametrize("inputs", [
    Inputs(("prog",), (("GREETING", "hi"), ("LANG", "C.UTF-8"))),
    Inputs(("prog", "one", "two words", "ünïcode"), ()),
    Inputs(("prog", "fail"), ()),
    Inputs(("prog", "exit", "42"), ()),
    Inputs(("prog", "exit", "0"), ()),
    Inputs(("prog", "abort"), ()),
], ids=["env", "args", "return-1", "exit-42", "exit-0", "abort-traps"])
def test_args_env_stdio_exit(inputs: Inputs) -> None:
    out, err, code = _same(ARGS_ENV, "args_env", inputs)
    assert out.startswith(f"argc={len(inputs.args)}\n".encode()) and err == b"to stderr\n"
    mode = inputs.args[1] if len(inputs.args) > 1 else ""
    expected = {"fail": 1, "abort": TRAPPED}.get(mode, 0)
    # the preview1 adapter's `proc_exit(n)` calls `exit(err)` for any n != 0: code 1
    assert code == ((int(inputs.args[2]) != 0) if mode == "exit" else expected)


@pytest.mark.parametrize("data", [b"", b"hello, world", bytes(range(256)) * 300])
def test_stdin(data: bytes) -> None:
    out, _, code = _same(STDIN, "stdin", Inputs(("prog",), (), data))
    assert code == 0 and out.endswith(f"total={len(data)} eof=1\n".encode())


BIG_STDIN_READ = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
  /* a large heap buffer first: wasi-libc's heap then covers the pages the preview1 adapter
     grew for its own state, so a stream read answered with more than the adapter asked of
     its buffer would overwrite that state (found by the filesystem tests; fixed for stdin) */
  char *buf = malloc(1 << 20); size_t total = 0; ssize_t n;
  while ((n = read(0, buf, 131072)) > 0) total += (size_t)n;
  printf("total=%zu last=%zd\n", total, n);
  free(buf);
  return 0;
}
"""


def test_large_stdin_reads_into_a_heap_buffer() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB, more than one stream chunk
    out, _, code = _same(BIG_STDIN_READ, "big_stdin", Inputs(("prog",), (), data))
    assert code == 0 and out == f"total={len(data)} last=0\n".encode()


def test_clocks_match_and_sleep_really_waits() -> None:
    path = c_component(CLOCKS, "clocks")
    t0 = time.monotonic()
    ours = run_ours(path, Inputs(("prog", "50")))
    assert time.monotonic() - t0 >= 0.05
    theirs = run_wasmtime(path, Inputs(("prog", "50")))
    assert (ours.stdout, ours.code) == (theirs.stdout, theirs.code)  # stderr has timings
    assert ours.stdout == b"slept_enough=1\nwall_after_2020=1\nresolution_positive=1\n"


def test_virtual_clock_sleeps_without_waiting() -> None:
    path = c_component(CLOCKS, "clocks")
    wall = 1_700_000_000 * 10**9
    t0 = time.monotonic()
    ours = run_ours(path, Inputs(("prog", "3600000")),  # an hour
                    config=WasiConfig().virtual_clock(wall_start_ns=wall))
    assert time.monotonic() - t0 < 30
    assert ours.stdout == b"slept_enough=1\nwall_after_2020=1\nresolution_positive=1\n"
    assert ours.stderr == f"elapsed_ns={3600 * 10**9} wall_ns={wall}\n".encode()


def test_random() -> None:
    path = c_component(RANDOM, "random")
    ours, theirs = run_ours(path, Inputs()), run_wasmtime(path, Inputs())
    assert ours.stdout == theirs.stdout == b"nonzero=1 differ=1\n"
    assert ours.stderr != theirs.stderr  # random bytes differ between runs


def test_seeded_random_is_deterministic() -> None:
    path = c_component(RANDOM, "random")
    a = run_ours(path, Inputs(), config=WasiConfig().random_seed(7))
    b = run_ours(path, Inputs(), config=WasiConfig().random_seed(7))
    c = run_ours(path, Inputs(), config=WasiConfig().random_seed(8))
    assert a == b and a.stderr != c.stderr


def test_poll_streams_and_timeouts() -> None:
    out, _, code = _same(POLL, "poll", Inputs(("prog",), (), b"ready data"))
    assert code == 0
    assert out == (b"stdin ready: n=1 in=1\nread 10\nstdout ready: n=1 out=1\n"
                   b"timeout: n=0 waited=1\n")
