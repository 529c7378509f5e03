/* UDP datagrams over 127.0.0.1 and a name lookup of `localhost`, in C for wasm32-wasi, calling
 * wasi:sockets@0.2.12 directly (see tcp_echo.c for why, sockets_guest.h for the set-up).
 *
 * Lists of records and variants cross the Canonical ABI here: `send` takes a list of
 * outgoing-datagram (data list + option<ip-socket-address>), `receive` returns a list of
 * incoming-datagram, and `resolve-next-address` an option<ip-address>. Output never includes
 * port numbers; the lookup's addresses are printed sorted.
 */
#include "sockets_guest.h"

#define INET "wasi:sockets/instance-network@0.2.12"
#define UDPC "wasi:sockets/udp-create-socket@0.2.12"
#define UDP "wasi:sockets/udp@0.2.12"
#define LOOKUP "wasi:sockets/ip-name-lookup@0.2.12"
#define POLL "wasi:io/poll@0.2.12"

IMPORT(INET, "instance-network") h instance_network(void);
IMPORT(UDPC, "create-udp-socket") void create_udp_socket(i family, void *ret);
IMPORT(UDP, "[method]udp-socket.start-bind") void udp_start_bind(h, h, i, i, i, i, i, i, i, i, i, i, i, i, void *);
IMPORT(UDP, "[method]udp-socket.finish-bind") void udp_finish_bind(h, void *);
/* self, option<ip-socket-address> (discriminant + the 12 flat slots of the variant) */
IMPORT(UDP, "[method]udp-socket.stream") void udp_stream(h, i, i, i, i, i, i, i, i, i, i, i, i, i, void *);
IMPORT(UDP, "[method]udp-socket.local-address") void udp_local_address(h, void *);
IMPORT(UDP, "[method]udp-socket.remote-address") void udp_remote_address(h, void *);
IMPORT(UDP, "[method]udp-socket.subscribe") h udp_subscribe(h);
IMPORT(UDP, "[method]incoming-datagram-stream.receive") void udp_receive(h, int64_t, void *);
IMPORT(UDP, "[method]incoming-datagram-stream.subscribe") h incoming_subscribe(h);
IMPORT(UDP, "[method]outgoing-datagram-stream.check-send") void udp_check_send(h, void *);
IMPORT(UDP, "[method]outgoing-datagram-stream.send") void udp_send(h, const void *, i, void *);
IMPORT(UDP, "[resource-drop]udp-socket") void drop_udp_socket(h);
IMPORT(UDP, "[resource-drop]incoming-datagram-stream") void drop_incoming(h);
IMPORT(UDP, "[resource-drop]outgoing-datagram-stream") void drop_outgoing(h);
IMPORT(LOOKUP, "resolve-addresses") void resolve_addresses(h, const char *, i, void *);
IMPORT(LOOKUP, "[method]resolve-address-stream.resolve-next-address") void resolve_next(h, void *);
IMPORT(LOOKUP, "[method]resolve-address-stream.subscribe") h resolve_subscribe(h);
IMPORT(LOOKUP, "[resource-drop]resolve-address-stream") void drop_resolve(h);
IMPORT(POLL, "[method]pollable.block") void pollable_block(h);
IMPORT(POLL, "[resource-drop]pollable") void drop_pollable(h);

/* ip-socket-address: u8 case, payload at 4 (ipv4: u16 port, 4 x u8; ipv6 is 28 bytes) */
typedef struct { uint8_t tag; uint8_t pad[3]; uint16_t port; uint8_t addr[4]; uint8_t rest[22]; } sockaddr_t;
typedef struct { uint8_t *data; i len; uint8_t has_addr; uint8_t pad[3]; sockaddr_t addr; } outgoing_t;  /* 44 bytes */
typedef struct { uint8_t *data; i len; sockaddr_t addr; } incoming_t;  /* 40 bytes */
typedef struct { uint8_t is_err, code; } unit_result;
typedef struct { uint8_t is_err; uint8_t pad[3]; union { uint8_t code; h handles[2]; sockaddr_t sa;
    struct { incoming_t *ptr; i len; } list; } u; } result4;
typedef struct { uint8_t is_err; uint8_t pad[7]; union { uint8_t code; uint64_t n; } u; } result8;
/* result<option<ip-address>, error-code>: everything 2-aligned */
typedef struct { uint8_t is_err; uint8_t pad; union { uint8_t code; struct { uint8_t some; uint8_t pad;
    uint8_t tag; uint8_t pad2; uint16_t v[8]; } ip; } u; } next_result;

_Static_assert(sizeof(outgoing_t) == 44, "outgoing-datagram layout");
_Static_assert(sizeof(incoming_t) == 40, "incoming-datagram layout");

static h bound_socket(h net) {
    result4 r;
    unit_result u;
    create_udp_socket(0, &r);
    if (r.is_err) { printf("create-udp-socket: %s\n", code(r.u.code)); exit(1); }
    h s = r.u.handles[0];
    udp_start_bind(s, net, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, &u);
    if (u.is_err) { printf("start-bind: %s\n", code(u.code)); exit(1); }
    udp_finish_bind(s, &u);
    return s;
}

static sockaddr_t local_of(h s) {
    result4 r;
    udp_local_address(s, &r);
    return r.u.sa;
}

/* Send `n` datagrams (after a check-send), the i-th to `to[i]` (or to the stream's peer). */
static int send_all(h out, int n, const char **texts, const sockaddr_t *to) {
    result8 r;
    udp_check_send(out, &r);
    if (r.is_err || r.u.n < (uint64_t)n) return printf("check-send: %s\n", r.is_err ? code(r.u.code) : "too few"), -1;
    outgoing_t d[4];
    memset(d, 0, sizeof d);
    for (int k = 0; k < n; k++) {
        d[k].data = (uint8_t *)texts[k];
        d[k].len = (i)strlen(texts[k]);
        if (to) { d[k].has_addr = 1; d[k].addr = to[k]; }
    }
    udp_send(out, d, n, &r);
    if (r.is_err) return printf("send: %s\n", code(r.u.code)), -1;
    return (int)r.u.n;
}

/* Receive `n` datagrams, blocking on the stream's pollable in between. */
static void receive_print(h in, int n, const char *who, const sockaddr_t *expect_from) {
    h p = incoming_subscribe(in);
    for (int tries = 0; n > 0 && tries < 100; tries++) {
        result4 r;
        udp_receive(in, n, &r);
        if (r.is_err) { printf("receive: %s\n", code(r.u.code)); break; }
        for (int k = 0; k < r.u.list.len; k++) {
            incoming_t *d = &r.u.list.ptr[k];
            printf("%s got \"%.*s\" from the expected sender: %s\n", who, d->len, (char *)d->data,
                   d->addr.port == expect_from->port && !memcmp(d->addr.addr, expect_from->addr, 4) ? "yes" : "no");
            free(d->data);
        }
        n -= r.u.list.len;
        free(r.u.list.ptr);
        if (n > 0) pollable_block(p);
    }
    drop_pollable(p);
}

#define ADDR_ARGS(sa) 0, (sa).port, (sa).addr[0], (sa).addr[1], (sa).addr[2], (sa).addr[3], 0, 0, 0, 0, 0, 0

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void lookup(h net, const char *name) {
    result4 r;
    resolve_addresses(net, name, (i)strlen(name), &r);
    if (r.is_err) { printf("resolve %s: %s\n", name, code(r.u.code)); return; }
    h stream = r.u.handles[0];
    h p = resolve_subscribe(stream);
    char *found[16];
    int n = 0;
    for (int tries = 0; tries < 100 && n < 16; tries++) {
        next_result nr;
        resolve_next(stream, &nr);
        if (nr.is_err && nr.u.code == WOULD_BLOCK) { pollable_block(p); continue; }
        if (nr.is_err) { printf("resolve %s: %s\n", name, code(nr.u.code)); break; }
        if (!nr.u.ip.some) break;
        char *text = malloc(48);
        if (nr.u.ip.tag == 0) {
            uint8_t *b = (uint8_t *)nr.u.ip.v;
            snprintf(text, 48, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]);
        } else {
            uint16_t *w = nr.u.ip.v;
            snprintf(text, 48, "%x:%x:%x:%x:%x:%x:%x:%x", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
        }
        found[n++] = text;
    }
    qsort(found, (size_t)n, sizeof *found, cmp_str);
    printf("resolve %s:", name);
    for (int k = 0; k < n; k++) printf(" %s", found[k]), free(found[k]);
    printf("\n");
    drop_pollable(p);
    drop_resolve(stream);
}

int main(void) {
    h net = instance_network();
    h a = bound_socket(net), b = bound_socket(net);
    sockaddr_t a_addr = local_of(a), b_addr = local_of(b);
    result4 r;

    /* a streams to anyone, b only to a */
    udp_stream(a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, &r);
    h a_in = r.u.handles[0], a_out = r.u.handles[1];
    udp_stream(b, 1, ADDR_ARGS(a_addr), &r);
    if (r.is_err) return printf("stream: %s\n", code(r.u.code)), 1;
    h b_in = r.u.handles[0], b_out = r.u.handles[1];
    udp_remote_address(b, &r);
    printf("b's remote is a: %s\n", !r.is_err && r.u.sa.port == a_addr.port ? "yes" : "no");
    udp_remote_address(a, &r);
    printf("a's remote: %s\n", r.is_err ? code(r.u.code) : "set?");

    const char *hello[] = {"ping", "pong?", ""};
    sockaddr_t to_b[] = {b_addr, b_addr, b_addr};
    printf("a sent %d\n", send_all(a_out, 3, hello, to_b));
    receive_print(b_in, 3, "b", &a_addr);
    const char *reply[] = {"pong"};
    printf("b sent %d\n", send_all(b_out, 1, reply, NULL));
    receive_print(a_in, 1, "a", &b_addr);

    /* b's stream is connected: a different destination is refused */
    sockaddr_t elsewhere[] = {b_addr};
    const char *stray[] = {"stray"};
    printf("b to someone else: ");
    fflush(stdout);
    if (send_all(b_out, 1, stray, elsewhere) >= 0) printf("sent?\n");
    result8 r8;
    udp_receive(a_in, 0, &r);
    printf("receive(0): %d datagrams\n", r.is_err ? -1 : r.u.list.len);
    udp_check_send(a_out, &r8);
    printf("check-send permits: %s\n", !r8.is_err && r8.u.n > 0 ? "some" : "none");

    drop_incoming(a_in); drop_outgoing(a_out); drop_incoming(b_in); drop_outgoing(b_out);
    drop_udp_socket(a); drop_udp_socket(b);

    lookup(net, "localhost");
    lookup(net, "127.0.0.1");
    lookup(net, "not a name");
    printf("done\n");
    return 0;
}
