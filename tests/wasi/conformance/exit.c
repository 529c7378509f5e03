/* Exit codes (wasi-testsuite: 0.3's cli-exit, run-with-err): main's return value, exit(),
 * proc_exit with codes past 255, abort() and a trap (both report 134 here), and output
 * written before the end reaching both streams.
 * @args: return 0
 * @args: return 1
 * @args: return 42
 * @args: exit 0
 * @args: exit 3
 * @args: exit 255
 * @args: proc_exit 256
 * @args: proc_exit 7
 * @args: abort x
 * @args: trap x
 */
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    printf("before %s %s\n", argv[1], argv[2]);
    fprintf(stderr, "err %s\n", argv[1]);
    int code = atoi(argv[2]);
    if (!strcmp(argv[1], "return")) return code;
    if (!strcmp(argv[1], "exit")) exit(code);
    if (!strcmp(argv[1], "proc_exit")) { fflush(stdout); __wasi_proc_exit(code); }
    if (!strcmp(argv[1], "abort")) { fflush(stdout); abort(); }
    if (!strcmp(argv[1], "trap")) { fflush(stdout); __builtin_trap(); }
    return 100;
}
