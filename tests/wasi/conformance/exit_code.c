/* wasi:cli/exit@0.2.12's exit-with-code, called directly (0.3's cli-exit; the preview1
 * adapter turns every non-zero proc_exit into exit(err), code 1, see exit.c): the code
 * reaches the host, and output written before it is kept.
 * @imports: wasi:cli/exit@0.2.12
 * @args: 0
 * @args: 3
 * @args: 42
 * @args: 255
 */
IMPORT("wasi:cli/exit@0.2.12", "exit-with-code") void exit_with_code(int32_t code);

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    printf("exiting with %s\n", argv[1]);
    fprintf(stderr, "stderr before exit\n");
    fflush(stdout);
    exit_with_code(atoi(argv[1]));
    return 100;
}
