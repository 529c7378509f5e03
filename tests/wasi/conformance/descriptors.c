/* Descriptors (wasi-testsuite: dir_fd_op_failures, directory_seek, close_preopen,
 * overwrite_preopen, renumber, dangling_fd, path_open_dirfd_not_dir, path_open_preopen,
 * path_open_read_write, stdio): data operations on a directory descriptor fail, a directory
 * holds no seek right, prestat names, closing and renumbering over a preopen, rights of
 * what path_open returns, and the three stdio descriptors.
 * @file: f.txt=hello
 * @dir: sub
 */
static void fdstat(const char *label, __wasi_fd_t fd) {
    __wasi_fdstat_t st; __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
    if (e) { P("%-34s %s", label, ename(e)); return; }
    P("%-34s type=%d flags=%d read=%d write=%d seek=%d", label, st.fs_filetype, st.fs_flags,
      (st.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0, (st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0,
      (st.fs_rights_base & __WASI_RIGHTS_FD_SEEK) != 0);
}

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd, fd2;
    uint8_t buf[128] = {0}; __wasi_size_t n; __wasi_filesize_t off;
    __wasi_iovec_t iov = {buf, sizeof buf}; __wasi_ciovec_t ciov = {buf, sizeof buf};
    __wasi_filestat_t fst, fst2; __wasi_prestat_t ps;

    /* prestat */
    W("prestat_get", __wasi_fd_prestat_get(rw, &ps));
    P("prestat tag=%d len=%zu", ps.tag, (size_t)ps.u.dir.pr_name_len);
    { uint8_t name[16] = {0};
      __wasi_errno_t e = __wasi_fd_prestat_dir_name(rw, name, 0);
      P("%-34s %s", "prestat_dir_name len 0 fails", e ? "yes" : "no");
      W("prestat_dir_name len+1", __wasi_fd_prestat_dir_name(rw, name, ps.u.dir.pr_name_len + 1));
      P("prestat name [%.*s]", (int)ps.u.dir.pr_name_len, name); }
    W("prestat_get stdin", __wasi_fd_prestat_get(0, &ps));
    W("prestat_get 99", __wasi_fd_prestat_get(99, &ps));

    /* data operations on a directory */
    W("filestat dir", __wasi_fd_filestat_get(rw, &fst));
    P("dir filetype %d", fst.filetype);
    W("read dir", __wasi_fd_read(rw, &iov, 1, &n));
    W("pread dir", __wasi_fd_pread(rw, &iov, 1, 0, &n));
    W("write dir", __wasi_fd_write(rw, &ciov, 1, &n));
    W("pwrite dir", __wasi_fd_pwrite(rw, &ciov, 1, 0, &n));
    W("seek dir cur", __wasi_fd_seek(rw, 0, __WASI_WHENCE_CUR, &off));
    W("seek dir set", __wasi_fd_seek(rw, 0, __WASI_WHENCE_SET, &off));
    W("seek dir end", __wasi_fd_seek(rw, 0, __WASI_WHENCE_END, &off));
    W("tell dir", __wasi_fd_tell(rw, &off));
    W("allocate dir", __wasi_fd_allocate(rw, 0, 1));
    W("set_size dir", __wasi_fd_filestat_set_size(rw, 0));
    W("datasync dir", __wasi_fd_datasync(rw));
    W("sync dir", __wasi_fd_sync(rw));
    W("advise dir", __wasi_fd_advise(rw, 0, 0, __WASI_ADVICE_NORMAL));
    fdstat("fdstat preopen", rw);

    /* a subdirectory asked for the seek right */
    W("open sub with seek right", popen_(rw, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_SEEK, 0, &fd));
    W("seek sub", __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &off));
    fdstat("fdstat sub", fd);
    W("close sub", __wasi_fd_close(fd));
    W("close sub again", __wasi_fd_close(fd));
    W("fdstat closed", __wasi_fd_fdstat_get(fd, &(__wasi_fdstat_t){0}));

    /* opening "." of the preopen */
    W("open . no rights", popen_(rw, 0, ".", 0, 0, 0, &fd)); __wasi_fd_close(fd);
    W("open . O_DIRECTORY read", popen_(rw, 0, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, &fd));
    __wasi_fd_close(fd);
    W("open . O_DIRECTORY read|write", popen_(rw, 0, ".", __WASI_OFLAGS_DIRECTORY,
                                             __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &fd));

    /* read-only, write-only, read-write */
    W("open f ro", popen_(rw, 0, "f.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    fdstat("fdstat f ro", fd);
    W("write ro", __wasi_fd_write(fd, &ciov, 1, &n));
    W("read ro", __wasi_fd_read(fd, &iov, 1, &n)); P("read %zu", (size_t)n);
    __wasi_fd_close(fd);
    W("open f wo", popen_(rw, 0, "f.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    fdstat("fdstat f wo", fd);
    W("read wo", __wasi_fd_read(fd, &iov, 1, &n));
    { __wasi_ciovec_t c = {(const uint8_t *)"HE", 2};
      W("write wo", __wasi_fd_write(fd, &c, 1, &n)); P("wrote %zu", (size_t)n); }
    __wasi_fd_close(fd);
    W("open f rw", popen_(rw, 0, "f.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("read rw", __wasi_fd_read(fd, &iov, 1, &n)); P("read [%.*s]", (int)n, buf);
    W("filestat rw", __wasi_fd_filestat_get(fd, &fst)); P("size %llu type %d nlink %llu", (unsigned long long)fst.size, fst.filetype, (unsigned long long)fst.nlink);

    /* a file as the base of a path */
    W("open under a file", popen_(fd, 0, "foo", __WASI_OFLAGS_CREAT, 0, 0, &fd2));
    W("mkdir under a file", __wasi_path_create_directory(fd, "foo"));
    W("stat under a file", __wasi_path_filestat_get(fd, 0, "foo", &fst2));
    W("readdir a file", __wasi_fd_readdir(fd, buf, sizeof buf, 0, &n));

    /* renumber */
    W("open sub", popen_(rw, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd2));
    W("filestat sub", __wasi_fd_filestat_get(fd2, &fst));
    W("renumber sub -> f", __wasi_fd_renumber(fd2, fd));
    W("filestat renumbered", __wasi_fd_filestat_get(fd, &fst2));
    P("same ino %d dev %d", fst.ino == fst2.ino, fst.dev == fst2.dev);
    W("fdstat old number", __wasi_fd_fdstat_get(fd2, &(__wasi_fdstat_t){0}));
    W("renumber closed", __wasi_fd_renumber(fd2, fd));
    W("renumber to closed", __wasi_fd_renumber(fd, 77));
    W("renumber to itself", __wasi_fd_renumber(fd, fd));

    /* renumber over the preopen, then close a preopen */
    W("open sub 2", popen_(rw, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd2));
    W("renumber sub over preopen", __wasi_fd_renumber(fd2, rw));
    W("filestat preopen now", __wasi_fd_filestat_get(rw, &fst2));
    P("preopen is sub %d", fst.ino == fst2.ino);
    W("stat f.txt via it", __wasi_path_filestat_get(rw, 0, "f.txt", &fst2));
    W("close preopen", __wasi_fd_close(rw));
    W("fdstat closed preopen", __wasi_fd_fdstat_get(rw, &(__wasi_fdstat_t){0}));
    W("close renumbered", __wasi_fd_close(fd));

    /* stdio */
    fdstat("fdstat stdin", 0); fdstat("fdstat stdout", 1); fdstat("fdstat stderr", 2);
    P("isatty %d %d %d", isatty(0), isatty(1), isatty(2));
    W("filestat stdout", __wasi_fd_filestat_get(1, &fst)); P("stdout filetype %d", fst.filetype);
    W("seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &off));
    W("close stdin", __wasi_fd_close(0));
    W("read closed stdin", __wasi_fd_read(0, &iov, 1, &n));
    return 0;
}
