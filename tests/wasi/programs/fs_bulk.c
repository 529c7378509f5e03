/* Bulk file I/O for the benchmarks and the bounded-allocation tests:
 *   fs_bulk write PATH MIB CHUNK   write MIB MiB to PATH in CHUNK-byte write() calls
 *   fs_bulk read PATH CHUNK        read PATH back in CHUNK-byte read() calls
 * Prints the byte count and a checksum so both hosts can be compared. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage\n"); return 2; }
    size_t chunk = (size_t)atol(argv[argc - 1]);
    unsigned char *buf = malloc(chunk);
    unsigned long long total = 0, sum = 0;
    if (strcmp(argv[1], "write") == 0) {
        long mib = atol(argv[3]);
        int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) { perror("open"); return 1; }
        unsigned long long goal = (unsigned long long)mib << 20;
        while (total < goal) {
            for (size_t i = 0; i < chunk; i += 64) buf[i] = (unsigned char)((total >> 12) + i / 64);
            ssize_t n = write(fd, buf, chunk);
            if (n <= 0) { perror("write"); return 1; }
            for (ssize_t i = 0; i < n; i += 4096) sum += buf[i];
            total += (unsigned long long)n;
        }
        close(fd);
    } else {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { perror("open"); return 1; }
        for (;;) {
            ssize_t n = read(fd, buf, chunk);
            if (n < 0) { perror("read"); return 1; }
            if (n == 0) break;
            for (ssize_t i = 0; i < n; i += 4096) sum += buf[i];
            total += (unsigned long long)n;
        }
        close(fd);
    }
    printf("%llu bytes, sum %llu\n", total, sum);
    return 0;
}
