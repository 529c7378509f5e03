/* Standard streams (wasi-testsuite: stdio, file_unbuffered_write; 0.3's cli-stdio,
 * cli-stdout-flush): one 1 MiB write to stdout and to stderr, many small unbuffered writes,
 * a zero-length write, writes through several iovecs, poll_oneoff on a file (always ready),
 * and stdin read in small pieces to its end.
 * @stdin: 0123456789abcdefghij
 * @file: f=data
 * @expect: stdin pieces 7 total 20 last 0
 */
int main(void) {
    static char big[1 << 20]; __wasi_size_t n, total;
    for (size_t i = 0; i < sizeof big; i++) big[i] = 'a' + i % 26;
    big[sizeof big - 1] = '\n';
    /* one big raw write: the adapter writes what the host takes, the loop the rest */
    total = 0;
    while (total < sizeof big) {
        __wasi_ciovec_t c = {(const uint8_t *)big + total, sizeof big - total};
        if (__wasi_fd_write(1, &c, 1, &n) || n == 0) break;
        total += n;
    }
    fprintf(stderr, "stdout big written %zu\n", (size_t)total);
    total = 0;
    while (total < sizeof big) {
        __wasi_ciovec_t c = {(const uint8_t *)big + total, sizeof big - total};
        if (__wasi_fd_write(2, &c, 1, &n) || n == 0) break;
        total += n;
    }
    P("stderr big written %zu", (size_t)total);
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < 300; i++) printf("%d%c", i, i % 20 == 19 ? '\n' : ' ');
    { __wasi_ciovec_t c = {(const uint8_t *)"", 0}; W("write 0 bytes", __wasi_fd_write(1, &c, 1, &n)); P("  %zu", (size_t)n); }
    /* poll on a file: ready at once */
    { int f = open("/rw/f", O_RDWR); __wasi_subscription_t s[3]; __wasi_event_t ev[3]; __wasi_size_t got;
      memset(s, 0, sizeof s);
      s[0].userdata = 1; s[0].u.tag = __WASI_EVENTTYPE_FD_READ; s[0].u.u.fd_read.file_descriptor = f;
      s[1].userdata = 2; s[1].u.tag = __WASI_EVENTTYPE_FD_WRITE; s[1].u.u.fd_write.file_descriptor = f;
      s[2].userdata = 3; s[2].u.tag = __WASI_EVENTTYPE_CLOCK; s[2].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
      s[2].u.u.clock.timeout = 5000000000ull;
      W("poll file read/write", __wasi_poll_oneoff(s, ev, 3, &got));
      /* which of the two comes first is the host's (wasmtime's file readiness is a thread
       * pool's): at least one, no timeout, no error */
      int clock = 0, errs = 0;
      for (__wasi_size_t i = 0; i < got; i++) { clock |= ev[i].userdata == 3; errs += ev[i].error != 0; }
      P("  events>=1 %d timed out %d errors %d", got >= 1, clock, errs);
      close(f); }
    /* stdin in 3-byte pieces */
    { char b[3]; int pieces = 0; size_t t = 0; ssize_t k;
      while ((k = read(0, b, sizeof b)) > 0) { pieces++; t += k; }
      P("stdin pieces %d total %zu last %zd", pieces, t, k); }
    return 0;
}
