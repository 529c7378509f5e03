/* The filesystem API through wasi-libc and the preview1 adapter: each step prints what it
 * saw, errors as errno names, so two hosts can be compared line by line.
 * Preopens: /rw (read-write, holding data.txt, dir/, dir/inner.txt), /ro (read-only,
 * holding ro.txt). Built with fs_common.h prepended. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *tname(mode_t m) {
    if (S_ISREG(m)) return "file"; if (S_ISDIR(m)) return "dir"; if (S_ISLNK(m)) return "link";
    return "other";
}
static void show_stat(const char *label, const char *path, int follow) {
    struct stat st; errno = 0;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r < 0) { printf("%-28s %s\n", label, ename(errno)); return; }
    printf("%-28s %s size=%lld nlink=%llu\n", label, tname(st.st_mode), (long long)st.st_size,
           (unsigned long long)st.st_nlink);
}
static void cat(const char *label, const char *path) {
    char buf[256]; int fd = open(path, O_RDONLY);
    if (fd < 0) { printf("%-28s %s\n", label, ename(errno)); return; }
    ssize_t n = read(fd, buf, sizeof buf - 1); close(fd);
    if (n < 0) { printf("%-28s read %s\n", label, ename(errno)); return; }
    buf[n] = 0; printf("%-28s [%s]\n", label, buf);
}
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void list(const char *label, const char *path) {
    DIR *d = opendir(path); char *names[64]; int n = 0; struct dirent *e;
    if (!d) { printf("%-28s %s\n", label, ename(errno)); return; }
    while ((e = readdir(d)) && n < 64) {
        char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : e->d_type == DT_REG ? 'f' : '?';
        names[n] = malloc(strlen(e->d_name) + 3); sprintf(names[n++], "%s:%c", e->d_name, t);
    }
    closedir(d); qsort(names, n, sizeof *names, cmp);
    printf("%-28s", label); for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(void) {
    char buf[64]; int fd;
    /* open flags */
    R("open missing", open("/rw/missing", O_RDONLY));
    fd = open("/rw/new.txt", O_CREAT | O_WRONLY | O_EXCL, 0644); R("create excl", fd >= 0 ? 0 : -1);
    R("write new", write(fd, "hello world", 11)); close(fd);
    R("create excl again", open("/rw/new.txt", O_CREAT | O_WRONLY | O_EXCL, 0644));
    R("O_DIRECTORY on file", open("/rw/new.txt", O_RDONLY | O_DIRECTORY));
    R("write to dir", open("/rw/dir", O_WRONLY));
    fd = open("/rw/new.txt", O_WRONLY | O_APPEND); R("append", write(fd, "!!", 2)); close(fd);
    cat("after append", "/rw/new.txt");
    fd = open("/rw/data.txt", O_WRONLY | O_TRUNC); R("truncate open", fd >= 0 ? 0 : -1); close(fd);
    show_stat("stat truncated", "/rw/data.txt", 1);
    /* seek */
    fd = open("/rw/new.txt", O_RDWR);
    R("lseek set", lseek(fd, 6, SEEK_SET));
    R("read at 6", read(fd, buf, 5));
    R("lseek cur", lseek(fd, -3, SEEK_CUR));
    R("lseek end", lseek(fd, 0, SEEK_END));
    R("lseek negative", lseek(fd, -100, SEEK_SET));
    R("pwrite at 0", pwrite(fd, "HELLO", 5, 0));
    R("pread at 4", pread(fd, buf, 4, 4));
    buf[4] = 0; printf("pread data: [%s]\n", buf);
    R("write past end", pwrite(fd, "Z", 1, 20));
    /* truncate */
    R("ftruncate shrink", ftruncate(fd, 8));
    R("ftruncate grow", ftruncate(fd, 12));
    struct stat st; fstat(fd, &st); printf("fstat size %lld\n", (long long)st.st_size);
    close(fd);
    R("truncate path", truncate("/rw/new.txt", 5));
    cat("after truncate", "/rw/new.txt");
    /* directories */
    R("mkdir", mkdir("/rw/sub", 0755));
    R("mkdir again", mkdir("/rw/sub", 0755));
    R("mkdir nested missing", mkdir("/rw/no/such", 0755));
    fd = open("/rw/sub/x", O_CREAT | O_WRONLY, 0644); write(fd, "x", 1); close(fd);
    R("rmdir non-empty", rmdir("/rw/sub"));
    R("unlink dir", unlink("/rw/sub"));
    R("rmdir file", rmdir("/rw/new.txt"));
    /* rename */
    R("rename file", rename("/rw/sub/x", "/rw/sub/y"));
    R("rename over file", rename("/rw/new.txt", "/rw/sub/y"));
    R("rename dir into itself", rename("/rw/sub", "/rw/sub/inside"));
    R("rename missing", rename("/rw/nothing", "/rw/other"));
    R("rename dir", rename("/rw/sub", "/rw/sub2"));
    R("rename file over dir", rename("/rw/data.txt", "/rw/dir"));
    /* symlinks */
    R("symlink", symlink("sub2/y", "/rw/ln"));
    R("symlink exists", symlink("x", "/rw/ln"));
    { ssize_t n = readlink("/rw/ln", buf, sizeof buf - 1);
      if (n >= 0) { buf[n] = 0; printf("readlink [%s]\n", buf); } else printf("readlink %s\n", ename(errno)); }
    R("readlink on file", readlink("/rw/sub2/y", buf, sizeof buf));
    cat("read through link", "/rw/ln");
    show_stat("lstat link", "/rw/ln", 0);
    show_stat("stat link", "/rw/ln", 1);
    R("O_NOFOLLOW on link", open("/rw/ln", O_RDONLY | O_NOFOLLOW));
    R("dangling link", symlink("nowhere", "/rw/dangling"));
    cat("open dangling", "/rw/dangling");
    R("link loop a", symlink("loopb", "/rw/loopa"));
    R("link loop b", symlink("loopa", "/rw/loopb"));
    cat("open loop", "/rw/loopa");
    R("dir link", symlink("dir", "/rw/dirln"));
    cat("through dir link", "/rw/dirln/inner.txt");
    R("hard link", link("/rw/sub2/y", "/rw/hard"));
    show_stat("stat hard", "/rw/hard", 1);
    R("unlink link", unlink("/rw/dangling"));
    /* sandbox escapes: all refused */
    cat("dotdot escape", "/rw/../etc/passwd");
    cat("deep dotdot", "/rw/dir/../../rw/dir/inner.txt");
    R("abs symlink", symlink("/etc", "/rw/etcln"));
    cat("via abs symlink", "/rw/etcln/passwd");
    R("rel escape link", symlink("../../../../../../etc", "/rw/up"));
    cat("via rel escape link", "/rw/up/passwd");
    R("mkdir via escape", mkdir("/rw/up/evil", 0755));
    cat("inner dotdot ok", "/rw/dir/../sub2/y");
    /* stat, times, sync */
    show_stat("stat dir", "/rw/dir", 1);
    show_stat("stat file", "/rw/sub2/y", 1);
    { struct timespec ts[2] = {{1000000000, 0}, {1234567890, 500}};
      R("utimensat", utimensat(AT_FDCWD, "/rw/sub2/y", ts, 0));
      stat("/rw/sub2/y", &st);
      printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
             (long long)st.st_atim.tv_sec); }
    fd = open("/rw/sub2/y", O_RDWR);
    R("fsync", fsync(fd)); R("fdatasync", fdatasync(fd));
    R("fadvise", posix_fadvise(fd, 0, 10, POSIX_FADV_SEQUENTIAL));
    R("fcntl getfl", fcntl(fd, F_GETFL) & O_ACCMODE);
    close(fd);
    /* read-only preopen */
    cat("ro read", "/ro/ro.txt");
    R("ro open write", open("/ro/ro.txt", O_WRONLY));
    R("ro create", open("/ro/new", O_CREAT | O_WRONLY, 0644));
    R("ro mkdir", mkdir("/ro/d", 0755));
    R("ro unlink", unlink("/ro/ro.txt"));
    R("ro rename out", rename("/ro/ro.txt", "/rw/stolen"));
    R("ro symlink", symlink("x", "/ro/l"));
    /* readdir */
    list("list rw", "/rw");
    list("list sub2", "/rw/sub2");
    list("list ro", "/ro");
    list("list file", "/rw/hard");
    R("rmdir", rmdir("/rw/dir/../sub2/../dir/../sub2") == 0 ? 0 : -1);
    R("unlink y", unlink("/rw/sub2/y"));
    return 0;
}
