/* Timestamps (wasi-testsuite: fd_filestat_set, path_filestat, fstflags_validate): setting
 * mtime alone keeps atime, "now" flags, both a time and its NOW flag is EINVAL (and changes
 * nothing), set-times on a directory and through a path, and a file's size after
 * fd_filestat_set_size.
 * @file: f=x
 * @dir: d
 */
int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd; __wasi_filestat_t st, st2;
    const __wasi_timestamp_t T = 1000000000ull * 1000000 + 123456789;  /* 1e6 s + ns */
    W("open f", popen_(rw, 0, "f", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
        __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES, 0, &fd));
    W("set_size 100", __wasi_fd_filestat_set_size(fd, 100));
    __wasi_fd_filestat_get(fd, &st); P("  size %llu", (unsigned long long)st.size);
    W("set mtim", __wasi_fd_filestat_set_times(fd, 0, T, __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(fd, &st2);
    P("  mtim exact %d atim unchanged %d", st2.mtim == T, st2.atim == st.atim);
    W("set atim", __wasi_fd_filestat_set_times(fd, T + 5, 0, __WASI_FSTFLAGS_ATIM));
    __wasi_fd_filestat_get(fd, &st);
    P("  atim exact %d mtim unchanged %d", st.atim == T + 5, st.mtim == T);
    W("mtim + mtim_now", __wasi_fd_filestat_set_times(fd, 0, 42, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    W("atim + atim_now", __wasi_fd_filestat_set_times(fd, 42, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    __wasi_fd_filestat_get(fd, &st2); P("  unchanged %d %d", st2.mtim == T, st2.atim == T + 5);
    W("bad fstflags", __wasi_fd_filestat_set_times(fd, 0, 0, 0x10));
    W("no flags", __wasi_fd_filestat_set_times(fd, 0, 0, 0));
    __wasi_fd_filestat_get(fd, &st2); P("  unchanged %d %d", st2.mtim == T, st2.atim == T + 5);
    { __wasi_timestamp_t now; __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
      W("mtim_now", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
      __wasi_fd_filestat_get(fd, &st2);
      P("  mtim near now %d atim unchanged %d", st2.mtim + 2000000000ull >= now && st2.mtim <= now + 2000000000ull, st2.atim == T + 5);
      W("atim_now", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW));
      __wasi_fd_filestat_get(fd, &st2); P("  atim near now %d", st2.atim + 2000000000ull >= now); }
    W("set times 0", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(fd, &st2); P("  zero %d %d", st2.atim == 0, st2.mtim == 0);
    __wasi_fd_close(fd);
    /* through a path */
    W("path set mtim", __wasi_path_filestat_set_times(rw, 0, "f", 0, T, __WASI_FSTFLAGS_MTIM));
    W("path stat", __wasi_path_filestat_get(rw, 0, "f", &st)); P("  mtim exact %d size %llu", st.mtim == T, (unsigned long long)st.size);
    W("path mtim + now", __wasi_path_filestat_set_times(rw, 0, "f", 0, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    W("path atim + now", __wasi_path_filestat_set_times(rw, 0, "f", 1, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    W("path missing", __wasi_path_filestat_set_times(rw, 0, "nope", 0, T, __WASI_FSTFLAGS_MTIM));
    W("path ..", __wasi_path_filestat_set_times(rw, 0, "..", 0, T, __WASI_FSTFLAGS_MTIM));
    W("path absolute", __wasi_path_filestat_set_times(rw, 0, "/etc/passwd", 0, T, __WASI_FSTFLAGS_MTIM));
    W("path empty", __wasi_path_filestat_set_times(rw, 0, "", 0, T, __WASI_FSTFLAGS_MTIM));
    W("path f/", __wasi_path_filestat_set_times(rw, 0, "f/", 0, T, __WASI_FSTFLAGS_MTIM));
    /* a directory */
    W("dir set mtim", __wasi_path_filestat_set_times(rw, 0, "d", 0, T, __WASI_FSTFLAGS_MTIM));
    __wasi_path_filestat_get(rw, 0, "d", &st); P("  dir mtim exact %d type %d", st.mtim == T, st.filetype);
    W("dir d/ set mtim", __wasi_path_filestat_set_times(rw, 0, "d/", 0, T + 1, __WASI_FSTFLAGS_MTIM));
    W("open d", popen_(rw, 0, "d", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_FILESTAT_SET_TIMES, 0, &fd));
    W("fd set times on dir", __wasi_fd_filestat_set_times(fd, T, T, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(fd, &st); P("  atim %d mtim %d", st.atim == T, st.mtim == T);
    W("set_size on dir", __wasi_fd_filestat_set_size(fd, 0));
    __wasi_fd_close(fd);
    W("preopen set times", __wasi_fd_filestat_set_times(rw, T, T, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    W("path . set times", __wasi_path_filestat_set_times(rw, 0, ".", T, T, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    /* libc utimensat on a file, stat's nanoseconds */
    { struct timespec ts[2] = {{5, 600}, {7, 800}}; struct stat s;
      R("utimensat", utimensat(AT_FDCWD, "/rw/f", ts, 0)); stat("/rw/f", &s);
      P("  atime %lld.%ld mtime %lld.%ld", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
        (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
      struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
      R("utimensat bad nsec", utimensat(AT_FDCWD, "/rw/f", bad, 0)); }
    return 0;
}
