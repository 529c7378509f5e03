/* Names (wasi-testsuite: interesting_paths; 0.3's filesystem-read-directory): non-ASCII,
 * spaces, dots, a backslash, 255 and 256 bytes, deep paths, relative paths resolved through
 * libc's cwd ("/"), and the names readdir gives back for them.
 * @dir: d
 * @file: d/plain=p
 */
#include <dirent.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd; char long_name[300];
    const char *names[] = {"ünïcødé", "日本語", "with space", "...", "..x", "-", "a\\b", "tab\tname",
                           "emoji-\xf0\x9f\x98\x80", "trailing.", " lead"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[64], label[80]; snprintf(path, sizeof path, "d/%s", names[i]);
        snprintf(label, sizeof label, "create [%s]", names[i]);
        W(label, popen_(rw, 0, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, __WASI_RIGHTS_FD_WRITE, 0, &fd));
        __wasi_fd_close(fd);
    }
    memset(long_name, 'n', 255); long_name[255] = 0;
    W("create 255 bytes", popen_(rw, 0, long_name, __WASI_OFLAGS_CREAT, 0, 0, &fd)); __wasi_fd_close(fd);
    W("stat 255 bytes", __wasi_path_filestat_get(rw, 0, long_name, &(__wasi_filestat_t){0}));
    W("unlink 255 bytes", __wasi_path_unlink_file(rw, long_name));
    memset(long_name, 'n', 256); long_name[256] = 0;
    W("create 256 bytes", popen_(rw, 0, long_name, __WASI_OFLAGS_CREAT, 0, 0, &fd));
    W("mkdir 256 bytes", __wasi_path_create_directory(rw, long_name));
    W("stat 256 bytes", __wasi_path_filestat_get(rw, 0, long_name, &(__wasi_filestat_t){0}));
    /* a deep path: 60 levels */
    { char path[1024] = "deep"; W("mkdir deep", __wasi_path_create_directory(rw, path));
      for (int i = 0; i < 60; i++) { strcat(path, "/x"); if (__wasi_path_create_directory(rw, path)) break; }
      strcat(path, "/leaf"); W("create at depth 61", popen_(rw, 0, path, __WASI_OFLAGS_CREAT, 0, 0, &fd));
      __wasi_fd_close(fd); W("stat it", __wasi_path_filestat_get(rw, 0, path, &(__wasi_filestat_t){0}));
      P("path length %zu", strlen(path)); }
    /* readdir gives the names back */
    { DIR *dir = opendir("/rw/d"); struct dirent *e; char *seen[32]; int n = 0;
      while (dir && (e = readdir(dir)) && n < 32) seen[n++] = strdup(e->d_name);
      if (dir) closedir(dir);
      qsort(seen, n, sizeof *seen, cmp);
      for (int i = 0; i < n; i++) P("  entry [%s]", seen[i]); }
    /* relative paths through libc's cwd */
    R("open rw/d/plain (relative)", open("rw/d/plain", O_RDONLY) >= 0 ? 0 : -1);
    R("chdir /rw/d", chdir("/rw/d"));
    R("open plain (relative)", open("plain", O_RDONLY) >= 0 ? 0 : -1);
    R("open ../d/plain", open("../d/plain", O_RDONLY) >= 0 ? 0 : -1);
    R("open ../../rw/d/plain", open("../../rw/d/plain", O_RDONLY) >= 0 ? 0 : -1);
    R("open ../../../etc/passwd", open("../../../etc/passwd", O_RDONLY));
    { char cwd[64]; P("getcwd [%s]", getcwd(cwd, sizeof cwd) ? cwd : "?"); }
    R("mkdir rel", mkdir("rel", 0755));
    R("rmdir rel", rmdir("rel"));
    return 0;
}
