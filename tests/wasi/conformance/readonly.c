/* A read-only preopen (/ro: `preopen_dir(..., readonly=True)`, wasmtime's DirPerms::READ /
 * FilePerms::READ): reading works, every mutation fails. The WIT says a descriptor without
 * `mutate-directory` fails them with `read-only` (EROFS); wasmtime says `not-permitted`
 * (EPERM) for most: those lines are the @wit ones.
 * @ro-file: r.txt=read me
 * @ro-file: sub/s.txt=s
 * @expect: write to read fd EPERM
 * @wit: mkdir EPERM => mkdir EROFS | the WIT: without `mutate-directory`, a mutation "shall fail with error-code::read-only"; wasmtime: not-permitted
 * @wit: rmdir sub EPERM => rmdir sub EROFS | as above
 * @wit: unlink r.txt EPERM => unlink r.txt EROFS | as above
 * @wit: rename EPERM => rename EROFS | as above
 * @wit: symlink EPERM => symlink EROFS | as above
 * @wit: link EPERM => link EROFS | as above
 * @wit: set_times path EPERM => set_times path EROFS | as above
 * @wit: open create EPERM => open create EROFS | as above (open-at's own doc: create, truncate or write without `mutate-directory` is read-only)
 * @wit: open write EPERM => open write EROFS | as above
 * @wit: open trunc EPERM => open trunc EROFS | as above
 * @wit: libc fopen w -1 EPERM => libc fopen w -1 EROFS | as above
 * @wit: sub: mkdir EPERM => sub: mkdir EROFS | as above (a directory opened below inherits the preopen's permissions)
 * @wit: sub: unlink s.txt EPERM => sub: unlink s.txt EROFS | as above
 * @wit: rename ro -> rw EPERM => rename ro -> rw EROFS | as above
 * @wit: link ro -> rw EPERM => link ro -> rw EROFS | as above
 * @wit: rename rw -> ro EPERM => rename rw -> ro EROFS | as above
 */
int main(void) {
    __wasi_fd_t ro = preopen("/ro"), fd; __wasi_filestat_t st; __wasi_size_t n; uint8_t buf[32];
    W("open r.txt read", popen_(ro, 0, "r.txt", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    { __wasi_iovec_t i = {buf, sizeof buf}; W("read", __wasi_fd_read(fd, &i, 1, &n)); P("  [%.*s]", (int)n, buf); }
    { __wasi_ciovec_t c = {buf, 1}; W("write to read fd", __wasi_fd_write(fd, &c, 1, &n)); }
    W("set_size on read fd", __wasi_fd_filestat_set_size(fd, 0));
    W("fd set_times on read fd", __wasi_fd_filestat_set_times(fd, 0, 1, __WASI_FSTFLAGS_MTIM));
    __wasi_fd_close(fd);
    W("stat", __wasi_path_filestat_get(ro, 0, "r.txt", &st)); P("  size %llu", (unsigned long long)st.size);
    W("readdir", popen_(ro, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &fd)); __wasi_fd_close(fd);
    W("mkdir", __wasi_path_create_directory(ro, "new"));
    W("rmdir sub", __wasi_path_remove_directory(ro, "sub"));
    W("unlink r.txt", __wasi_path_unlink_file(ro, "r.txt"));
    W("rename", __wasi_path_rename(ro, "r.txt", ro, "moved"));
    W("symlink", __wasi_path_symlink("r.txt", ro, "ln"));
    W("link", __wasi_path_link(ro, 0, "r.txt", ro, "hl"));
    W("set_times path", __wasi_path_filestat_set_times(ro, 0, "r.txt", 0, 1, __WASI_FSTFLAGS_MTIM));
    W("open create", popen_(ro, 0, "c", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("open write", popen_(ro, 0, "r.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("open trunc", popen_(ro, 0, "r.txt", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, &fd));
    R("libc fopen w", fopen("/ro/r.txt", "w") ? 0 : -1);
    W("open sub", popen_(ro, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("sub: mkdir", __wasi_path_create_directory(fd, "x"));
    W("sub: unlink s.txt", __wasi_path_unlink_file(fd, "s.txt"));
    __wasi_fd_close(fd);
    W("open sub mutate...", popen_(ro, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_CREATE_DIRECTORY, 0, &fd));
    /* the read-write preopen beside it still works */
    __wasi_fd_t rw = preopen("/rw");
    W("rw mkdir", __wasi_path_create_directory(rw, "made"));
    W("rename ro -> rw", __wasi_path_rename(ro, "r.txt", rw, "stolen"));
    W("link ro -> rw", __wasi_path_link(ro, 0, "r.txt", rw, "stolen"));
    W("rename rw -> ro", __wasi_path_rename(rw, "made", ro, "made"));
    return 0;
}
