/* File data (wasi-testsuite: file_seek_tell, file_pread_pwrite, file_truncation,
 * file_unbuffered_write, file_allocate, fd_advise, fd_flags_set, path_open_nonblock,
 * path_open_create_existing, path_open_missing, path_filestat): seek and tell (past the end
 * is allowed, before 0 is EINVAL), pread/pwrite at offsets (a gap reads as zeros, the
 * position does not move), truncation, O_APPEND set and cleared with fd_fdstat_set_flags,
 * the fdflags a descriptor reports, fd_advise and fd_allocate, and two descriptors on one
 * file seeing each other's writes at once.
 * @file: ten.txt=0123456789
 * @expect: tell after read 100
 * @wit: open sync|append ENOTSUP => open sync|append OK flags 17 | the WIT: the sync descriptor-flags are "a request, and not a requirement"; we pass them to the host's open (O_SYNC, O_DSYNC) and report them back, wasmtime refuses them
 * @wit: open dsync ENOTSUP => open dsync OK flags 2 | as above
 * @wit: open rsync ENOTSUP => open rsync OK flags 8 | as above
 */
/* "app" opened with `flags`: the error, or the flags the descriptor reports (one line) */
static void open_flags(__wasi_fd_t rw, const char *label, __wasi_rights_t rights, __wasi_fdflags_t flags) {
    __wasi_fd_t fd; __wasi_fdstat_t fs; __wasi_errno_t e = popen_(rw, 0, "app", 0, rights, flags, &fd);
    if (e) { P("%-34s %s", label, ename(e)); return; }
    __wasi_fd_fdstat_get(fd, &fs); __wasi_fd_close(fd);
    P("%-34s OK flags %d", label, fs.fs_flags);
}

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd, fd2; __wasi_filesize_t off; __wasi_size_t n;
    uint8_t buf[300]; __wasi_filestat_t st; __wasi_fdstat_t fs;
    __wasi_rights_t RWS = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |
        __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |
        __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS;
    memset(buf, 'a', sizeof buf);
    __wasi_ciovec_t c100 = {buf, 100}; __wasi_iovec_t i100 = {buf, 100};
    /* seek and tell */
    W("create file", popen_(rw, 0, "file", __WASI_OFLAGS_CREAT, RWS, 0, &fd));
    W("tell", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    W("write 100", __wasi_fd_write(fd, &c100, 1, &n)); P("  %zu", (size_t)n);
    W("tell", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    W("seek -50 cur", __wasi_fd_seek(fd, -50, __WASI_WHENCE_CUR, &off)); P("  %llu", (unsigned long long)off);
    W("seek 0 set", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off)); P("  %llu", (unsigned long long)off);
    W("seek +1000 cur", __wasi_fd_seek(fd, 1000, __WASI_WHENCE_CUR, &off)); P("  %llu", (unsigned long long)off);
    W("seek -2000 cur", __wasi_fd_seek(fd, -2000, __WASI_WHENCE_CUR, &off));
    W("tell after failed seek", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    W("seek -10 end", __wasi_fd_seek(fd, -10, __WASI_WHENCE_END, &off)); P("  %llu", (unsigned long long)off);
    W("seek -101 end", __wasi_fd_seek(fd, -101, __WASI_WHENCE_END, &off));
    W("seek bad whence", __wasi_fd_seek(fd, 0, 7, &off));
    W("seek 0 set", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    W("read 100", __wasi_fd_read(fd, &i100, 1, &n)); P("  %zu", (size_t)n);
    W("tell", __wasi_fd_tell(fd, &off)); P("tell after read %llu", (unsigned long long)off);
    W("read at eof", __wasi_fd_read(fd, &i100, 1, &n)); P("  %zu", (size_t)n);
    /* writing past the end leaves a hole of zeros */
    W("seek 200 set", __wasi_fd_seek(fd, 200, __WASI_WHENCE_SET, &off));
    { __wasi_ciovec_t c = {(const uint8_t *)"Z", 1}; W("write at 200", __wasi_fd_write(fd, &c, 1, &n)); }
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    { __wasi_iovec_t i = {buf, 4}; memset(buf, 'x', 4);
      W("pread 4 at 150", __wasi_fd_pread(fd, &i, 1, 150, &n));
      P("  %zu zeros %d", (size_t)n, buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0); }
    /* pread/pwrite: offsets, no position change, several iovecs */
    W("tell before p-ops", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    { __wasi_ciovec_t cs[2] = {{(const uint8_t *)"AB", 2}, {(const uint8_t *)"CDE", 3}};
      W("pwrite 2 iovecs at 10", __wasi_fd_pwrite(fd, cs, 2, 10, &n)); P("  %zu", (size_t)n); }
    { uint8_t a[3], b[4]; __wasi_iovec_t is[2] = {{a, 3}, {b, 4}};
      W("pread 2 iovecs at 9", __wasi_fd_pread(fd, is, 2, 9, &n)); P("  %zu [%.3s][%.4s]", (size_t)n, a, b); }
    { __wasi_iovec_t i = {buf, 50}; W("pread past end", __wasi_fd_pread(fd, &i, 1, 5000, &n)); P("  %zu", (size_t)n); }
    { __wasi_ciovec_t c = {(const uint8_t *)"far", 3};
      W("pwrite past end", __wasi_fd_pwrite(fd, &c, 1, 400, &n)); P("  %zu", (size_t)n); }
    W("tell after p-ops", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    { __wasi_ciovec_t c = {buf, 0}; W("write 0 bytes", __wasi_fd_write(fd, &c, 1, &n)); P("  %zu", (size_t)n); }
    W("write no iovecs", __wasi_fd_write(fd, NULL, 0, &n)); P("  %zu", (size_t)n);
    /* truncation */
    W("set_size 50", __wasi_fd_filestat_set_size(fd, 50));
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    W("tell after shrink", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    W("set_size 120", __wasi_fd_filestat_set_size(fd, 120));
    { __wasi_iovec_t i = {buf, 4}; memset(buf, 'x', 4);
      W("pread 4 at 60", __wasi_fd_pread(fd, &i, 1, 60, &n)); P("  %zu zero %d", (size_t)n, buf[0] == 0); }
    /* advise and allocate */
    W("advise normal", __wasi_fd_advise(fd, 10, 50, __WASI_ADVICE_NORMAL));
    W("advise sequential", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_SEQUENTIAL));
    W("advise random", __wasi_fd_advise(fd, 0, 1000, __WASI_ADVICE_RANDOM));
    W("advise willneed", __wasi_fd_advise(fd, 0, 1, __WASI_ADVICE_WILLNEED));
    W("advise dontneed", __wasi_fd_advise(fd, 0, 1, __WASI_ADVICE_DONTNEED));
    W("advise noreuse", __wasi_fd_advise(fd, 0, 1, __WASI_ADVICE_NOREUSE));
    W("advise bad", __wasi_fd_advise(fd, 0, 1, 9));
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    W("allocate", __wasi_fd_allocate(fd, 100, 100));
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    W("sync", __wasi_fd_sync(fd)); W("datasync", __wasi_fd_datasync(fd));
    /* a second descriptor sees writes at once (no buffering) */
    W("open again", popen_(rw, 0, "file", 0, RWS, 0, &fd2));
    { __wasi_ciovec_t c = {(const uint8_t *)"QQ", 2}; W("pwrite via 1st", __wasi_fd_pwrite(fd, &c, 1, 0, &n)); }
    { uint8_t b[2] = {0}; __wasi_iovec_t i = {b, 2}; W("read via 2nd", __wasi_fd_read(fd2, &i, 1, &n)); P("  [%.2s]", b); }
    __wasi_fd_close(fd2); __wasi_fd_close(fd);
    /* O_APPEND, toggled */
    W("open append", popen_(rw, 0, "app", __WASI_OFLAGS_CREAT, RWS, __WASI_FDFLAGS_APPEND, &fd));
    W("fdstat", __wasi_fd_fdstat_get(fd, &fs)); P("  flags %d", fs.fs_flags);
    memset(buf, '0', 100); W("write 100 zeros", __wasi_fd_write(fd, &c100, 1, &n));
    W("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    memset(buf, '1', 100); W("write 100 ones", __wasi_fd_write(fd, &c100, 1, &n));
    W("tell", __wasi_fd_tell(fd, &off)); P("  %llu", (unsigned long long)off);
    { __wasi_ciovec_t c = {(const uint8_t *)"P", 1}; W("pwrite at 0 in append", __wasi_fd_pwrite(fd, &c, 1, 0, &n)); }
    W("filestat", __wasi_fd_filestat_get(fd, &st)); P("  size %llu", (unsigned long long)st.size);
    W("clear append", __wasi_fd_fdstat_set_flags(fd, 0));
    W("fdstat", __wasi_fd_fdstat_get(fd, &fs)); P("  flags %d", fs.fs_flags);
    W("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    memset(buf, '2', 100); W("write 100 twos", __wasi_fd_write(fd, &c100, 1, &n));
    W("set append", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    W("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    { __wasi_ciovec_t c = {(const uint8_t *)"E", 1}; W("write E", __wasi_fd_write(fd, &c, 1, &n)); }
    W("set nonblock", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK));
    W("set sync", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC));
    W("set dsync", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_DSYNC));
    W("set rsync", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_RSYNC));
    W("fdstat", __wasi_fd_fdstat_get(fd, &fs)); P("  flags %d", fs.fs_flags);
    __wasi_fd_close(fd);
    { int f = open("/rw/app", O_RDONLY); char b[300]; ssize_t k = read(f, b, sizeof b); close(f);
      P("app size %zd first %c at100 %c last %c", k, b[0], b[100], k > 0 ? b[k - 1] : '?'); }
    /* flags at open */
    open_flags(rw, "open sync|append", RWS, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC);
    open_flags(rw, "open dsync", RWS, __WASI_FDFLAGS_DSYNC);
    open_flags(rw, "open rsync", RWS, __WASI_FDFLAGS_RSYNC);
    open_flags(rw, "open nonblock", RWS, __WASI_FDFLAGS_NONBLOCK);
    W("open dir nonblock", popen_(rw, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, __WASI_FDFLAGS_NONBLOCK, &fd));
    /* create/trunc/excl/missing */
    W("create excl existing", popen_(rw, 0, "ten.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, 0, &fd));
    W("excl without creat", popen_(rw, 0, "ten.txt", __WASI_OFLAGS_EXCL, __WASI_RIGHTS_FD_READ, 0, &fd)); __wasi_fd_close(fd);
    W("open missing", popen_(rw, 0, "missing", 0, 0, 0, &fd));
    W("open missing/x", popen_(rw, 0, "missing/x", __WASI_OFLAGS_CREAT, 0, 0, &fd));
    W("open missing O_DIRECTORY", popen_(rw, 0, "missing", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("creat|directory", popen_(rw, 0, "newdir", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("trunc|directory", popen_(rw, 0, ".", __WASI_OFLAGS_TRUNC | __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("trunc a dir", popen_(rw, 0, ".", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("trunc read-only rights", popen_(rw, 0, "ten.txt", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, &fd));
    if (!__wasi_fd_filestat_get(fd, &st)) { P("  size %llu", (unsigned long long)st.size); __wasi_fd_close(fd); }
    W("creat with dirfd flags", popen_(rw, 0, "c2", __WASI_OFLAGS_CREAT, 0, 0, &fd));
    if (!__wasi_fd_fdstat_get(fd, &fs)) { P("  read %d write %d", (fs.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0,
                                            (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0); __wasi_fd_close(fd); }
    W("empty path", popen_(rw, 0, "", 0, 0, 0, &fd));
    W("name too long", popen_(rw, 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", __WASI_OFLAGS_CREAT, 0, 0, &fd));
    /* libc: lseek on files */
    { int f = open("/rw/ten.txt", O_RDWR); char b[4];
      R("lseek end", lseek(f, 0, SEEK_END)); R("lseek -3 end", lseek(f, -3, SEEK_END));
      R("read 4 near end", read(f, b, 4)); R("lseek -1 set", lseek(f, -1, SEEK_SET));
      R("ftruncate 3", ftruncate(f, 3)); R("lseek end", lseek(f, 0, SEEK_END));
      R("ftruncate -1", ftruncate(f, -1)); R("posix_fallocate", posix_fallocate(f, 0, 10) ? -1 : 0);
      close(f); }
    return 0;
}
