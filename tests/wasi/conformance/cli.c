/* The command line (wasi-testsuite: stdio, isatty, poll_oneoff_stdio, clock_time_get,
 * sched_yield, big_random_buf; 0.3's cli-env, cli-stdio, clocks, random): arguments and
 * environment through the raw calls (sizes, NUL terminators), clocks and their resolution,
 * poll_oneoff on timers (relative, absolute, zero, several) and on stdin/stdout/stderr,
 * random_get of a large buffer, and stdin read to its end.
 * @args: one two=2 "three" ünïcødé
 * @env: GREETING=hello world
 * @env: EMPTY=
 * @env: EQ=a=b
 * @stdin: line one\nline two\n
 * @expect: stdin total 18 eof 1
 */
#include <sched.h>
#include <time.h>

static void sub_clock(__wasi_subscription_t *s, __wasi_userdata_t ud, __wasi_clockid_t id,
                      __wasi_timestamp_t t, __wasi_subclockflags_t flags) {
    memset(s, 0, sizeof *s); s->userdata = ud; s->u.tag = __WASI_EVENTTYPE_CLOCK;
    s->u.u.clock.id = id; s->u.u.clock.timeout = t; s->u.u.clock.flags = flags;
}
static void sub_fd(__wasi_subscription_t *s, __wasi_userdata_t ud, __wasi_eventtype_t tag, __wasi_fd_t fd) {
    memset(s, 0, sizeof *s); s->userdata = ud; s->u.tag = tag; s->u.u.fd_read.file_descriptor = fd;
}
static void show_events(const char *label, __wasi_subscription_t *in, int n) {
    __wasi_event_t out[8]; __wasi_size_t got = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(in, out, n, &got);
    printf("%-34s %s %zu:", label, ename(e), (size_t)got);
    for (__wasi_size_t i = 0; i < got; i++)
        printf(" [ud=%llx type=%d err=%s]", (unsigned long long)out[i].userdata, out[i].type, ename(out[i].error));
    printf("\n");
}

int main(int argc, char **argv) {
    __wasi_size_t argc_, argv_len, envc, env_len;
    W("args_sizes_get", __wasi_args_sizes_get(&argc_, &argv_len)); P("  %zu %zu", (size_t)argc_, (size_t)argv_len);
    { char **av = malloc(argc_ * sizeof *av); char *buf = malloc(argv_len);
      W("args_get", __wasi_args_get((uint8_t **)av, (uint8_t *)buf));
      for (size_t i = 1; i < argc_; i++) P("  argv[%zu] [%s]", i, av[i]);
      P("  last NUL %d", buf[argv_len - 1] == 0); }
    W("environ_sizes_get", __wasi_environ_sizes_get(&envc, &env_len)); P("  %zu %zu", (size_t)envc, (size_t)env_len);
    { char **ev = malloc(envc * sizeof *ev); char *buf = malloc(env_len);
      W("environ_get", __wasi_environ_get((uint8_t **)ev, (uint8_t *)buf));
      for (size_t i = 0; i < envc; i++) P("  env [%s]", ev[i]); }
    P("getenv GREETING [%s] EMPTY [%s] EQ [%s] NONE %d", getenv("GREETING"), getenv("EMPTY"), getenv("EQ"), getenv("NONE") == NULL);
    /* clocks */
    __wasi_timestamp_t res, t0, t1, w;
    W("res realtime", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res)); P("  positive %d <= 1s %d", res > 0, res <= 1000000000);
    W("res monotonic", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res)); P("  positive %d <= 1s %d", res > 0, res <= 1000000000);
    W("res process", __wasi_clock_res_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, &res));
    W("res thread", __wasi_clock_res_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, &res));
    W("res bad id", __wasi_clock_res_get(9, &res));
    W("time realtime", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &w)); P("  after 2020 %d", w > 1577836800ull * 1000000000);
    W("time monotonic", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t0));
    W("time monotonic again", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1)); P("  not backwards %d", t1 >= t0);
    W("time process", __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 0, &t1));
    W("time bad id", __wasi_clock_time_get(9, 0, &t1));
    { struct timespec ts; R("libc clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &ts));
      R("libc clock_gettime REALTIME", clock_gettime(CLOCK_REALTIME, &ts)); }
    W("sched_yield", __wasi_sched_yield());
    R("libc sched_yield", sched_yield());
    /* poll_oneoff: timers */
    __wasi_subscription_t s[4];
    sub_clock(&s[0], 0x11, __WASI_CLOCKID_MONOTONIC, 20000000, 0);
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t0);
    show_events("poll relative 20ms", s, 1);
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1); P("  waited %d", t1 - t0 >= 20000000);
    sub_clock(&s[0], 0x12, __WASI_CLOCKID_MONOTONIC, 0, 0);
    show_events("poll zero timeout", s, 1);
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t0);
    sub_clock(&s[0], 0x13, __WASI_CLOCKID_MONOTONIC, t0 + 10000000, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    show_events("poll absolute +10ms", s, 1);
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1); P("  waited %d", t1 - t0 >= 10000000);
    sub_clock(&s[0], 0x14, __WASI_CLOCKID_MONOTONIC, 1, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    show_events("poll absolute in the past", s, 1);
    sub_clock(&s[0], 0x15, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    sub_clock(&s[1], 0x16, __WASI_CLOCKID_MONOTONIC, 10000000, 0);
    show_events("poll two timers", s, 2);
    { __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &w);
      sub_clock(&s[0], 0x17, __WASI_CLOCKID_REALTIME, 10000000, 0);
      show_events("poll realtime relative", s, 1);
      sub_clock(&s[0], 0x18, __WASI_CLOCKID_REALTIME, w + 10000000, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
      show_events("poll realtime absolute", s, 1); }
    sub_clock(&s[0], 0x19, 9, 1, 0);
    show_events("poll bad clock", s, 1);
    show_events("poll nothing", s, 0);
    /* poll_oneoff: stdio */
    /* stdout and stderr writable: polled until each was seen (a host may report one at a
     * time, as wasi-testsuite's poll_oneoff_stdio allows) */
    { int seen1 = 0, seen2 = 0, rounds = 0, bad = 0;
      while (!(seen1 && seen2) && rounds++ < 10) {
          int k = 0; __wasi_event_t ev[3]; __wasi_size_t got = 0;
          if (!seen1) sub_fd(&s[k++], 0x21, __WASI_EVENTTYPE_FD_WRITE, 1);
          if (!seen2) sub_fd(&s[k++], 0x22, __WASI_EVENTTYPE_FD_WRITE, 2);
          sub_clock(&s[k++], 0x23, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
          if (__wasi_poll_oneoff(s, ev, k, &got)) { bad++; break; }
          for (__wasi_size_t i = 0; i < got; i++) {
              seen1 |= ev[i].userdata == 0x21; seen2 |= ev[i].userdata == 0x22;
              bad += ev[i].userdata == 0x23 || ev[i].error != 0 || ev[i].type != __WASI_EVENTTYPE_FD_WRITE;
          }
      }
      P("poll stdout stderr writable: both %d problems %d", seen1 && seen2, bad); }
    sub_fd(&s[0], 0x24, __WASI_EVENTTYPE_FD_READ, 0);
    sub_clock(&s[1], 0x25, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    show_events("poll stdin readable", s, 2);
    sub_fd(&s[0], 0x26, __WASI_EVENTTYPE_FD_READ, 99);
    show_events("poll bad fd", s, 1);
    sub_fd(&s[0], 0x27, __WASI_EVENTTYPE_FD_READ, 1);
    sub_clock(&s[1], 0x28, __WASI_CLOCKID_MONOTONIC, 20000000, 0);
    show_events("poll read on stdout", s, 2);
    /* random */
    { static uint8_t big[1 << 20]; int nz = 0;
      W("random_get 1 MiB", __wasi_random_get(big, sizeof big));
      for (size_t i = 0; i < sizeof big; i += 4096) nz += big[i] != 0 || big[i + 1] != 0;
      P("  mostly nonzero %d", nz > 200);
      W("random_get 0", __wasi_random_get(big, 0)); }
    /* stdin to its end */
    { char buf[64]; size_t total = 0, k;
      while ((k = fread(buf, 1, sizeof buf, stdin)) > 0) total += k;
      P("stdin total %zu eof %d", total, feof(stdin)); }
    { uint8_t b[4]; __wasi_iovec_t i = {b, 4}; __wasi_size_t n;
      W("read stdin at eof", __wasi_fd_read(0, &i, 1, &n)); P("  %zu", (size_t)n); }
    fprintf(stderr, "to stderr\n");
    { __wasi_ciovec_t cs[2] = {{(const uint8_t *)"two ", 4}, {(const uint8_t *)"iovecs\n", 7}}; __wasi_size_t n;
      fflush(stdout); W("raw write 2 iovecs", __wasi_fd_write(1, cs, 2, &n)); P("  %zu", (size_t)n); }
    return argc == 5 ? 0 : 9;
}
