/* fd_readdir (wasi-testsuite: fd_readdir): an empty directory lists "." and "..", entry
 * types and inode numbers match stat, a cookie resumes after its entry, a 256-byte buffer
 * walks 400 entries in pieces (wasi-testsuite: 1000; the adapter re-reads the directory from the start for each piece, so the cost grows as the square), a removed entry is gone, and readdir through libc.
 * @dir: d
 * @dir: other/x
 * @expect: lots total 402 distinct 402
 */
#include <dirent.h>

typedef struct { char name[300]; __wasi_dirent_t d; } entry;

/* every entry fd_readdir gives from `cookie` into a buffer of `size` bytes */
static int readdir_buf(__wasi_fd_t fd, size_t size, __wasi_dircookie_t cookie, entry *out, int max,
                       int *eof) {
    static uint8_t buf[4096]; __wasi_size_t used;
    __wasi_errno_t e = __wasi_fd_readdir(fd, buf, size, cookie, &used);
    if (e) { P("readdir error %s", ename(e)); return -1; }
    int n = 0; size_t at = 0;
    while (at + sizeof(__wasi_dirent_t) <= used && n < max) {
        memcpy(&out[n].d, buf + at, sizeof(__wasi_dirent_t));
        size_t len = out[n].d.d_namlen;
        if (at + sizeof(__wasi_dirent_t) + len > used) break; /* cut: ask again from here */
        memcpy(out[n].name, buf + at + sizeof(__wasi_dirent_t), len); out[n].name[len] = 0;
        at += sizeof(__wasi_dirent_t) + len; n++;
    }
    *eof = used < size;
    return n;
}
static int by_name(const void *a, const void *b) { return strcmp(((entry *)a)->name, ((entry *)b)->name); }
static entry ents[1100];

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), d, f;
    __wasi_filestat_t st, fst; int eof, n;
    W("open d", popen_(rw, 0, "d", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &d));
    __wasi_fd_filestat_get(d, &st);
    n = readdir_buf(d, 256, 0, ents, 1100, &eof);
    qsort(ents, n, sizeof *ents, by_name);
    P("empty: %d entries eof %d", n, eof);
    for (int i = 0; i < n; i++)
        P("  [%s] type %d namlen %u ino-is-dir's %d", ents[i].name, ents[i].d.d_type,
          ents[i].d.d_namlen, ents[i].d.d_ino == st.ino);
    W("create file", popen_(d, 0, "file", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_FILESTAT_GET, 0, &f));
    __wasi_fd_filestat_get(f, &fst); __wasi_fd_close(f);
    W("mkdir sub", __wasi_path_create_directory(d, "sub"));
    W("symlink", __wasi_path_symlink("file", d, "link"));
    n = readdir_buf(d, 256, 0, ents, 1100, &eof);
    P("three: %d entries eof %d", n, eof);
    /* cookie of each entry resumes right after it */
    for (int i = 0; i < n; i++) {
        entry rest[8]; int e2; int m = readdir_buf(d, 256, ents[i].d.d_next, rest, 8, &e2);
        P("  after entry %d: %d left, next is entry %d's %d", i, m, i + 1,
          m > 0 && i + 1 < n && strcmp(rest[0].name, ents[i + 1].name) == 0);
    }
    qsort(ents, n, sizeof *ents, by_name);
    for (int i = 0; i < n; i++)
        P("  [%s] type %d ino-is-file's %d", ents[i].name, ents[i].d.d_type, ents[i].d.d_ino == fst.ino);
    /* a small buffer: the entry that does not fit is cut and its bytes still counted */
    { uint8_t small[30]; __wasi_size_t used;
      W("readdir 30-byte buffer", __wasi_fd_readdir(d, small, sizeof small, 0, &used));
      P("  used %zu", (size_t)used); }
    /* an unknown cookie past the end */
    n = readdir_buf(d, 256, 1000000, ents, 1100, &eof);
    P("cookie past end: %d entries eof %d", n, eof);
    W("unlink file", __wasi_path_unlink_file(d, "file"));
    W("unlink link", __wasi_path_unlink_file(d, "link"));
    W("rmdir sub", __wasi_path_remove_directory(d, "sub"));
    n = readdir_buf(d, 256, 0, ents, 1100, &eof);
    P("emptied: %d entries", n);
    /* many entries walked with a 256-byte buffer */
    for (int i = 0; i < 400; i++) {
        char name[32]; snprintf(name, sizeof name, "file.%d", i);
        if (popen_(d, 0, name, __WASI_OFLAGS_CREAT, 0, 0, &f) == 0) __wasi_fd_close(f);
    }
    { int total = 0, calls = 0; __wasi_dircookie_t cookie = 0; static entry all[1100];
      for (;;) {
          entry part[16]; int m = readdir_buf(d, 256, cookie, part, 16, &eof);
          if (m < 0 || ++calls > 2000) break;
          for (int i = 0; i < m && total < 1100; i++) all[total++] = part[i];
          if (eof) break;
          cookie = part[m - 1].d.d_next;
      }
      qsort(all, total, sizeof *all, by_name); int distinct = total > 0;
      for (int i = 1; i < total; i++) distinct += strcmp(all[i].name, all[i - 1].name) != 0;
      P("lots total %d distinct %d", total, distinct); }
    for (int i = 0; i < 400; i++) {
        char name[32]; snprintf(name, sizeof name, "file.%d", i); __wasi_path_unlink_file(d, name);
    }
    /* libc's readdir over a directory with a subdirectory */
    { DIR *dir = opendir("/rw/other"); struct dirent *e; int k = 0; char seen[8][64];
      while (dir && (e = readdir(dir)) && k < 8) snprintf(seen[k++], 64, "%s:%d", e->d_name, e->d_type);
      if (dir) closedir(dir);
      qsort(seen, k, 64, (int (*)(const void *, const void *))strcmp);
      printf("libc readdir other:"); for (int i = 0; i < k; i++) printf(" %s", seen[i]); printf("\n");
      dir = opendir("/rw/other"); long pos = -1;
      if (dir) { readdir(dir); pos = telldir(dir); readdir(dir); seekdir(dir, pos); e = readdir(dir);
                 P("seekdir back: %s", e ? "an entry" : "none"); rewinddir(dir); int c = 0;
                 while (readdir(dir)) c++; P("after rewind %d", c); closedir(dir); } }
    W("close d", __wasi_fd_close(d));
    W("readdir closed", __wasi_fd_readdir(d, (uint8_t *)ents, 256, 0, &(__wasi_size_t){0}));
    return 0;
}
