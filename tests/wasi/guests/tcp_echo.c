/* A TCP echo over loopback, in C for wasm32-wasi, calling wasi:sockets@0.2.12 directly.
 *
 * Why direct imports: Debian's wasi-libc (wasip1) has no socket/bind/connect/listen (its
 * <sys/socket.h> keeps them under __wasilibc_unmodified_upstream); preview1 can only
 * accept/recv/send on sockets the host preopened, and the preview1 component adapter has none.
 * So this program declares the component-model imports itself and speaks the Canonical ABI by
 * hand (flattened parameters, a return area for results); printf goes through wasi-libc and the
 * preview1 adapter as usual. `wasm-tools component embed` adds the WIT world, `component new
 * --adapt` makes the component.
 *
 * Everything is bounded: one listener on 127.0.0.1:0, one client, a fixed set of messages, then
 * a connect to a port nobody listens on. Output never includes port numbers (they differ per
 * run), so two hosts can be compared line by line.
 */
#include "sockets_guest.h"

#define NET "wasi:sockets/network@0.2.12"
#define INET "wasi:sockets/instance-network@0.2.12"
#define TCPC "wasi:sockets/tcp-create-socket@0.2.12"
#define TCP "wasi:sockets/tcp@0.2.12"
#define POLL "wasi:io/poll@0.2.12"
#define STREAMS "wasi:io/streams@0.2.12"

IMPORT(INET, "instance-network") h instance_network(void);
IMPORT(NET, "[resource-drop]network") void drop_network(h);
IMPORT(TCPC, "create-tcp-socket") void create_tcp_socket(i family, void *ret);
/* self, network, ip-socket-address (discriminant + 11 joined payload slots), return area */
IMPORT(TCP, "[method]tcp-socket.start-bind") void tcp_start_bind(h, h, i, i, i, i, i, i, i, i, i, i, i, i, void *);
IMPORT(TCP, "[method]tcp-socket.start-connect") void tcp_start_connect(h, h, i, i, i, i, i, i, i, i, i, i, i, i, void *);
IMPORT(TCP, "[method]tcp-socket.finish-bind") void tcp_finish_bind(h, void *);
IMPORT(TCP, "[method]tcp-socket.start-listen") void tcp_start_listen(h, void *);
IMPORT(TCP, "[method]tcp-socket.finish-listen") void tcp_finish_listen(h, void *);
IMPORT(TCP, "[method]tcp-socket.finish-connect") void tcp_finish_connect(h, void *);
IMPORT(TCP, "[method]tcp-socket.accept") void tcp_accept(h, void *);
IMPORT(TCP, "[method]tcp-socket.local-address") void tcp_local_address(h, void *);
IMPORT(TCP, "[method]tcp-socket.remote-address") void tcp_remote_address(h, void *);
IMPORT(TCP, "[method]tcp-socket.is-listening") i tcp_is_listening(h);
IMPORT(TCP, "[method]tcp-socket.shutdown") void tcp_shutdown(h, i, void *);
IMPORT(TCP, "[method]tcp-socket.subscribe") h tcp_subscribe(h);
IMPORT(TCP, "[resource-drop]tcp-socket") void drop_tcp_socket(h);
IMPORT(POLL, "[method]pollable.block") void pollable_block(h);
IMPORT(POLL, "[resource-drop]pollable") void drop_pollable(h);
IMPORT(STREAMS, "[method]input-stream.blocking-read") void blocking_read(h, int64_t, void *);
IMPORT(STREAMS, "[method]output-stream.blocking-write-and-flush") void blocking_write_and_flush(h, const void *, i, void *);
IMPORT(STREAMS, "[resource-drop]input-stream") void drop_input_stream(h);
IMPORT(STREAMS, "[resource-drop]output-stream") void drop_output_stream(h);

/* result<_, error-code>: u8 discriminant, u8 code */
typedef struct { uint8_t is_err, code; } unit_result;
/* result<T, error-code> with T of 4-byte alignment: discriminant, then payload at offset 4 */
typedef struct { uint8_t is_err; uint8_t pad[3]; union { uint8_t code; h handles[3]; struct {
    uint8_t tag; uint8_t pad[3]; uint16_t port; uint8_t addr[4]; } sa; } u; } big_result;
/* result<list<u8>, stream-error> */
typedef struct { uint8_t is_err; uint8_t pad[3]; union { struct { uint8_t *ptr; i len; } list;
    struct { uint8_t tag; uint8_t pad[3]; h error; } err; } u; } read_result;

static int failed(const char *what, uint8_t c) {
    printf("%s: error %s\n", what, code(c));
    return 1;
}

/* Call a finish-style operation until it stops saying would-block, blocking on the socket's
 * pollable in between (bounded: a broken host cannot make this spin forever). */
#define UNTIL_READY(sock, call, res, code)                                 \
    do {                                                                   \
        h pollable_ = tcp_subscribe(sock);                                 \
        for (int n_ = 0; n_ < 1000; n_++) {                                \
            call;                                                          \
            if (!(res).is_err || (res).code != WOULD_BLOCK) break;         \
            pollable_block(pollable_);                                     \
        }                                                                  \
        drop_pollable(pollable_);                                          \
    } while (0)

static void loopback(h sock, h net, int port, int connect, unit_result *r) {
    if (connect)
        tcp_start_connect(sock, net, 0, port, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, r);
    else
        tcp_start_bind(sock, net, 0, port, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, r);
}

static int write_all(h out, const uint8_t *data, size_t len) {
    read_result r;  /* result<_, stream-error> shares the layout */
    while (len) {
        size_t n = len > 4096 ? 4096 : len;
        blocking_write_and_flush(out, data, (i)n, &r);
        if (r.is_err) return printf("write: stream error %d\n", r.u.err.tag), -1;
        data += n; len -= n;
    }
    return 0;
}

/* Read exactly len bytes (0 on success, 1 at end of stream, -1 on failure). */
static int read_exact(h in, uint8_t *buf, size_t len) {
    while (len) {
        read_result r;
        blocking_read(in, (int64_t)len, &r);
        if (r.is_err) return r.u.err.tag == 1 ? 1 : -1;
        memcpy(buf, r.u.list.ptr, (size_t)r.u.list.len);
        free(r.u.list.ptr);
        buf += r.u.list.len; len -= (size_t)r.u.list.len;
    }
    return 0;
}

static int port_of(h sock, int remote) {
    big_result r;
    if (remote) tcp_remote_address(sock, &r); else tcp_local_address(sock, &r);
    if (r.is_err) return -(int)r.u.code - 1;
    return r.u.sa.port;
}

int main(void) {
    h net = instance_network();
    big_result br;
    unit_result ur;

    create_tcp_socket(0, &br);
    if (br.is_err) return failed("create-tcp-socket", br.u.code);
    h listener = br.u.handles[0];
    loopback(listener, net, 0, 0, &ur);
    if (ur.is_err) return failed("start-bind", ur.code);
    tcp_finish_bind(listener, &ur);
    if (ur.is_err) return failed("finish-bind", ur.code);
    tcp_finish_bind(listener, &ur);
    printf("second finish-bind: %s\n", ur.is_err ? CODES[ur.code] : "ok");
    tcp_start_listen(listener, &ur);
    if (ur.is_err) return failed("start-listen", ur.code);
    UNTIL_READY(listener, tcp_finish_listen(listener, &ur), ur, code);
    if (ur.is_err) return failed("finish-listen", ur.code);
    tcp_finish_listen(listener, &ur);
    printf("listening: %d, again finish-listen: %s\n", tcp_is_listening(listener),
           ur.is_err ? CODES[ur.code] : "ok");
    int port = port_of(listener, 0);
    if (port <= 0) return failed("local-address", (uint8_t)(-port - 1));
    tcp_accept(listener, &br);
    printf("accept before any client: %s\n", br.is_err ? CODES[br.u.code] : "ok");

    create_tcp_socket(0, &br);
    if (br.is_err) return failed("create-tcp-socket", br.u.code);
    h client = br.u.handles[0];
    big_result cr;
    tcp_finish_connect(client, &cr);
    printf("finish-connect before start: %s\n", cr.is_err ? CODES[cr.u.code] : "ok");
    loopback(client, net, port, 1, &ur);
    if (ur.is_err) return failed("start-connect", ur.code);
    UNTIL_READY(client, tcp_finish_connect(client, &cr), cr, u.code);
    if (cr.is_err) return failed("finish-connect", cr.u.code);
    h c_in = cr.u.handles[0], c_out = cr.u.handles[1];

    UNTIL_READY(listener, tcp_accept(listener, &br), br, u.code);
    if (br.is_err) return failed("accept", br.u.code);
    h server = br.u.handles[0], s_in = br.u.handles[1], s_out = br.u.handles[2];
    printf("connected; addresses agree: %s\n",
           port_of(client, 1) == port && port_of(server, 1) == port_of(client, 0) ? "yes" : "no");

    /* echo: the client sends, the server echoes what it read, the client checks */
    static const char *msgs[] = {"hello", "wasi sockets from C", ""};
    static uint8_t big[20000];
    for (size_t k = 0; k < sizeof big; k++) big[k] = (uint8_t)(k * 7 + 3);
    for (int m = 0; m < 4; m++) {
        const uint8_t *data = m < 3 ? (const uint8_t *)msgs[m] : big;
        size_t len = m < 3 ? strlen(msgs[m]) : sizeof big;
        if (len == 0) continue;
        uint8_t *buf = malloc(len), *back = malloc(len);
        if (write_all(c_out, data, len) || read_exact(s_in, buf, len) ||
            write_all(s_out, buf, len) || read_exact(c_in, back, len))
            return printf("echo %d failed\n", m), 1;
        unsigned sum = 0;
        for (size_t k = 0; k < len; k++) sum = sum * 31 + back[k];
        if (m < 3) printf("echo: %.*s\n", (int)len, (const char *)back);
        else printf("echo: %zu bytes, intact: %s, checksum %08x\n", len,
                    memcmp(back, data, len) == 0 ? "yes" : "no", sum);
        free(buf); free(back);
    }

    /* the client shuts its sending side: the server reads the end of the stream */
    tcp_shutdown(client, 1, &ur);
    printf("shutdown send: %s\n", ur.is_err ? CODES[ur.code] : "ok");
    uint8_t one;
    printf("server reads after shutdown: %s\n", read_exact(s_in, &one, 1) == 1 ? "end of stream" : "data?");
    tcp_start_listen(server, &ur);
    printf("start-listen on a connected socket: %s\n", ur.is_err ? CODES[ur.code] : "ok");

    drop_input_stream(c_in); drop_output_stream(c_out); drop_tcp_socket(client);
    drop_input_stream(s_in); drop_output_stream(s_out); drop_tcp_socket(server);
    drop_tcp_socket(listener);

    /* a port that was bound and released: nobody listens there */
    create_tcp_socket(0, &br);
    h probe = br.u.handles[0];
    loopback(probe, net, 0, 0, &ur);
    tcp_finish_bind(probe, &ur);
    int free_port = port_of(probe, 0);
    drop_tcp_socket(probe);
    create_tcp_socket(0, &br);
    h lonely = br.u.handles[0];
    loopback(lonely, net, free_port, 1, &ur);
    if (ur.is_err) return failed("start-connect (closed port)", ur.code);
    UNTIL_READY(lonely, tcp_finish_connect(lonely, &cr), cr, u.code);
    printf("connect to a closed port: %s\n", cr.is_err ? CODES[cr.u.code] : "ok?");
    tcp_finish_connect(lonely, &cr);
    printf("finish-connect after the failure: %s\n", cr.is_err ? CODES[cr.u.code] : "ok?");
    drop_tcp_socket(lonely);
    drop_network(net);
    printf("done\n");
    return 0;
}
