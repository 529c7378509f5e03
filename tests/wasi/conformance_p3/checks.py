"""WASI 0.3 conformance checks (after wasi-testsuite's wasm32-wasip3 tests: cli-env,
cli-exit, cli-stdio, clocks, random, filesystem-*), one line printed per check. Built with
componentize-py against the checked-in 0.3.0 WIT; run on our host and on `wasmtime run -Sp3`
with one preopen `fs-tests.dir` holding a.txt ("hello a"), b.txt ("b"), dir/ and the symlink
parent -> ..; the outputs must agree line for line."""

import contextlib

import wit_world
from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import (
    environment,
    insecure,
    insecure_seed,
    ip_name_lookup,
    monotonic_clock,
    preopens,
    random,
    stderr,
    stdout,
    system_clock,
    terminal_stdin,
    terminal_stdout,
)
from wit_world.imports import exit as wasi_exit
from wit_world.imports import wasi_sockets_types as net
from wit_world.imports.wasi_filesystem_types import (
    Advice,
    DescriptorFlags,
    NewTimestamp_NoChange,
    NewTimestamp_Now,
    NewTimestamp_Timestamp,
    OpenFlags,
    PathFlags,
)

OUT = []
NOF = PathFlags(0)
NO_OPEN = OpenFlags(0)
FOLLOW = PathFlags.SYMLINK_FOLLOW
R = DescriptorFlags.READ
W = DescriptorFlags.WRITE


def show(label, value=""):
    OUT.append(f"{label}: {value}".rstrip())


def cname(v):
    n = type(v).__name__
    for p in ("ErrorCode_", "DescriptorType_"):
        if n.startswith(p):
            return n[len(p):] + (f"({v.value!r})" if n.endswith("_Other") else "")
    return repr(v)


async def attempt(label, coro, fmt=repr):
    try:
        r = await coro
    except Err as e:
        show(label, "err " + cname(e.value))
        return None
    show(label, "ok" if r is None else f"ok {fmt(r)}")
    return r


async def send(start, data):
    writer, reader = wit_world.byte_stream()
    done = start(reader)
    with writer:
        await writer.write_all(data)
    return await done.read()


async def drain(pair):
    reader, done = pair
    out = b""
    with reader:
        while not reader.writer_dropped:
            out += await reader.read(65536)
    res = await done.read()
    return out, res


async def entries(d):
    stream, done = d.read_directory()
    names = []
    with stream:
        while not stream.writer_dropped:
            names += [(e.name, cname(e.type)) for e in await stream.read(16)]
    res = await done.read()
    return sorted(names), res


def outcome(res):
    """A future's `result<_, error-code>`."""
    return "ok" if type(res).__name__ == "Ok" else "err " + cname(res.value)


async def cli():
    show("args", environment.get_arguments()[1:])
    env = environment.get_environment()
    show("env", sorted(kv for kv in env if kv[0].startswith("T_")))
    show("initial cwd", environment.get_initial_cwd())
    show("terminal stdin", terminal_stdin.get_terminal_stdin() is not None)
    show("terminal stdout", terminal_stdout.get_terminal_stdout() is not None)
    res = await send(stderr.write_via_stream, b"to stderr\n")
    show("stderr write", outcome(res))


async def clocks():
    res = monotonic_clock.get_resolution()
    show("monotonic resolution", 0 < res <= 1_000_000_000)
    t0 = monotonic_clock.now()
    await monotonic_clock.wait_for(10_000_000)
    t1 = monotonic_clock.now()
    show("wait-for 10ms", t1 - t0 >= 10_000_000)
    await monotonic_clock.wait_until(t1 + 5_000_000)
    show("wait-until +5ms", monotonic_clock.now() >= t1 + 5_000_000)
    await monotonic_clock.wait_until(0)
    show("wait-until the past", "returns")
    await monotonic_clock.wait_for(0)
    show("wait-for 0", "returns")
    now = system_clock.now()
    show("system now", now.seconds > 1_577_836_800 and 0 <= now.nanoseconds < 1_000_000_000)
    show("system resolution", 0 < system_clock.get_resolution() <= 1_000_000_000)


def rand():
    a, b = random.get_random_bytes(64), random.get_random_bytes(64)
    show("random bytes", (len(a), a != b, len(random.get_random_bytes(0))))
    show("random u64 differ", random.get_random_u64() != random.get_random_u64())
    show("insecure bytes", len(insecure.get_insecure_random_bytes(100)))
    seed = insecure_seed.get_insecure_seed()
    show("insecure seed", (type(seed).__name__, len(seed), seed == insecure_seed.get_insecure_seed()))
    big = random.get_random_bytes(1 << 20)
    show("random 1 MiB", len(big))


async def files(d):
    def open_(p, of=NO_OPEN, fl=R, pf=NOF):
        return d.open_at(pf, p, of, fl)

    # flags and type
    await attempt("preopen flags", d.get_flags())
    await attempt("preopen type", d.get_type(), cname)
    dd = await attempt("open . no flags", open_(".", fl=DescriptorFlags(0)), lambda _: "")
    if dd:
        await attempt("open . no flags: flags", dd.get_flags())
    await attempt("open . write", open_(".", fl=W), lambda _: "")
    dm = await attempt("open . mutate", open_(".", fl=DescriptorFlags.MUTATE_DIRECTORY), lambda _: "")
    if dm:
        await attempt("open . mutate: flags", dm.get_flags())
    for label, of, fl in (("create+excl r|w", OpenFlags.CREATE | OpenFlags.EXCLUSIVE, R | W),
                          ("create+excl none", OpenFlags.CREATE | OpenFlags.EXCLUSIVE, DescriptorFlags(0)),
                          ("create+excl r", OpenFlags.CREATE | OpenFlags.EXCLUSIVE, R),
                          ("create+excl w", OpenFlags.CREATE | OpenFlags.EXCLUSIVE, W)):
        c = await attempt(label, open_("c.cleanup", of, fl), lambda _: "")
        if c:
            await attempt("  its flags", c.get_flags())
            await attempt("  its type", c.get_type(), cname)
        await attempt("  rm", d.unlink_file_at("c.cleanup"))
    for label, of, fl in (("excl alone", OpenFlags.EXCLUSIVE, DescriptorFlags(0)),
                          ("no flags", OpenFlags(0), DescriptorFlags(0)), ("write only", OpenFlags(0), W)):
        a = await attempt(f"a.txt {label}", open_("a.txt", of, fl), lambda _: "")
        if a:
            await attempt("  its flags", a.get_flags())
    # open errors
    await d.symlink_at("..", "parent.cleanup")
    for p, pf in (("", NOF), ("..", NOF), ("parent.cleanup", FOLLOW), ("parent.cleanup", NOF),
                  ("/", NOF), ("/etc/passwd", NOF), ("z.txt", NOF), ("a.txt/", NOF),
                  ("dir/../..", NOF), ("dir/..", NOF)):
        await attempt(f"open {p!r} {'follow' if pf else 'nofollow'}", open_(p, pf=pf), lambda _: "")
    await attempt("open dir O_DIRECTORY|create", open_("dir", OpenFlags.DIRECTORY | OpenFlags.CREATE), lambda _: "")
    await attempt("open a.txt O_DIRECTORY", open_("a.txt", OpenFlags.DIRECTORY), lambda _: "")
    await attempt("open dir truncate", open_("dir", OpenFlags.TRUNCATE, W), lambda _: "")
    # stat
    a = await open_("a.txt")
    st = await a.stat()
    show("stat a.txt", (cname(st.type), st.link_count, st.size, st.data_modification_timestamp is not None))
    await attempt("file stat-at z.txt", a.stat_at(NOF, "z.txt"), lambda _: "")
    await attempt("file stat-at .", a.stat_at(NOF, "."), lambda _: "")
    for p, pf in (("", NOF), ("..", NOF), ("parent.cleanup", FOLLOW), ("parent.cleanup/fs-tests.dir", FOLLOW),
                  ("/etc/passwd", NOF), ("z.txt", NOF), ("parent.cleanup", NOF), ("dir/", NOF)):
        await attempt(f"stat-at {p!r}", d.stat_at(pf, p), lambda s: cname(s.type))
    show("stat-at . == stat", (await d.stat_at(NOF, ".")).type == (await d.stat()).type)
    def t(s, n=0):
        return NewTimestamp_Timestamp(system_clock.Instant(s, n))

    for p, pf in (("z.txt", NOF), ("", FOLLOW), ("/", NOF), ("..", NOF), ("parent.cleanup", FOLLOW),
                  ("../foo", NOF), ("parent.cleanup/foo", NOF)):
        await attempt(f"set-times-at {p!r}", d.set_times_at(pf, p, t(42), t(69)))
    await attempt("set-times-at a.txt", d.set_times_at(NOF, "a.txt", t(42, 5), t(69, 7)))
    st = await a.stat()
    show("  times", (st.data_access_timestamp.seconds, st.data_access_timestamp.nanoseconds,
                     st.data_modification_timestamp.seconds, st.data_modification_timestamp.nanoseconds))
    await attempt("set-times no-change/now", d.set_times_at(NOF, "a.txt", NewTimestamp_NoChange(), NewTimestamp_Now()))
    st = await a.stat()
    show("  atime kept, mtime now", (st.data_access_timestamp.seconds,
                                     st.data_modification_timestamp.seconds > 1_577_836_800))
    await attempt("set-times on a read-only fd", a.set_times(t(1), t(2)))
    await attempt("set-times bad nanoseconds", d.set_times_at(NOF, "a.txt", t(1, 1_000_000_000), NewTimestamp_NoChange()))
    # mkdir / rmdir / unlink
    for p in ("", ".", "..", "parent.cleanup/foo", "/", "../fs-tests.dir/q.cleanup", "a.txt", "q.cleanup"):
        await attempt(f"mkdir {p!r}", d.create_directory_at(p))
    for p in ("../fs-tests.dir/q.cleanup", "parent.cleanup/fs-tests.dir/q.cleanup",
              "q.cleanup/../../fs-tests.dir/q.cleanup", "q.cleanup", "", ".", "..", "/", "a.txt",
              "z.txt", "parent.cleanup", "parent.cleanup/fs-tests.dir"):
        await attempt(f"rmdir {p!r}", d.remove_directory_at(p))
    await attempt("mkdir q.cleanup/", d.create_directory_at("q.cleanup/"))
    await attempt("rmdir q.cleanup/", d.remove_directory_at("q.cleanup/"))
    with contextlib.suppress(Err):  # not printed: gone already where "q.cleanup/" went
        await d.remove_directory_at("q.cleanup")
    await d.symlink_at(".", "dot.cleanup")
    await attempt("rmdir dot (a link to .)", d.remove_directory_at("dot.cleanup"))
    await attempt("rmdir dot/", d.remove_directory_at("dot.cleanup/"))
    await d.unlink_file_at("dot.cleanup")
    for p in ("", ".", "..", "../fs-tests.dir", "/", "/etc/passwd", "z.txt", "parent.cleanup/z.txt", "dir", "dir/"):
        await attempt(f"unlink {p!r}", d.unlink_file_at(p))
    await d.create_directory_at("child.cleanup")
    await d.create_directory_at("sibling.cleanup")
    child = await open_("child.cleanup", OpenFlags.DIRECTORY, DescriptorFlags.MUTATE_DIRECTORY)
    await attempt("child flags", child.get_flags())
    for label, coro in (("child mkdir z", child.create_directory_at("z.cleanup")),
                        ("child rmdir z", child.remove_directory_at("z.cleanup")),
                        ("child mkdir ../z", child.create_directory_at("../z.cleanup")),
                        ("child rmdir ../sibling", child.remove_directory_at("../sibling.cleanup")),
                        ("child mkdir ../sibling/z", child.create_directory_at("../sibling.cleanup/z"))):
        await attempt(label, coro)
    ro_child = await open_("child.cleanup", OpenFlags.DIRECTORY, R)
    await attempt("read-only child mkdir", ro_child.create_directory_at("z"))
    await attempt("read-only child open create", ro_child.open_at(NOF, "n", OpenFlags.CREATE, W), lambda _: "")
    await attempt("  rm what it made", d.unlink_file_at("child.cleanup/n"))
    await attempt("  rmdir what it made", d.remove_directory_at("child.cleanup/z"))
    await d.remove_directory_at("child.cleanup")
    await d.remove_directory_at("sibling.cleanup")
    # symbolic links
    for p in ("", ".", "a.txt", "z.txt", "./../", "..", "/", "parent.cleanup"):
        await attempt(f"readlink {p!r}", d.readlink_at(p))
    await attempt("file readlink .", a.readlink_at("."))
    await d.symlink_at("parent.cleanup", "parent-link")
    await attempt("open parent-link nofollow", open_("parent-link"), lambda _: "")
    await attempt("open parent-link follow", open_("parent-link", pf=FOLLOW), lambda _: "")
    await attempt("symlink under parent-link", d.symlink_at("a.txt", "parent-link/a.txt"))
    await d.unlink_file_at("parent-link")
    await d.symlink_at("self", "self")
    await attempt("open self follow", open_("self", pf=FOLLOW), lambda _: "")
    await attempt("stat self follow", d.stat_at(FOLLOW, "self"), lambda s: "")
    await d.unlink_file_at("self")
    await attempt("symlink to ''", d.symlink_at("whatever", ""))
    await attempt("symlink ''", d.symlink_at("", "whatever"))
    await attempt("symlink absolute", d.symlink_at("/etc", "abs"))
    await attempt("symlink onto a.txt", d.symlink_at("x", "a.txt"))
    # hard links, rename
    await attempt("link a.txt h", d.link_at(NOF, "a.txt", d, "h.cleanup"))
    await attempt("  nlink", d.stat_at(NOF, "a.txt"), lambda s: s.link_count)
    await attempt("link follow", d.link_at(FOLLOW, "a.txt", d, "h2.cleanup"))
    await attempt("link onto existing", d.link_at(NOF, "a.txt", d, "b.txt"))
    await attempt("link dir", d.link_at(NOF, "dir", d, "d2"))
    await attempt("link to ../x", d.link_at(NOF, "a.txt", d, "../x"))
    await attempt("link from parent.cleanup/...", d.link_at(NOF, "parent.cleanup/fs-tests.dir/a.txt", d, "x"))
    await attempt("rename h -> dir/h", d.rename_at("h.cleanup", d, "dir/h.cleanup"))
    await attempt("rename dir/h -> ../h", d.rename_at("dir/h.cleanup", d, "../h.cleanup"))
    await attempt("rename dir -> a.txt", d.rename_at("dir", d, "a.txt"))
    await attempt("rename a.txt -> dir", d.rename_at("a.txt", d, "dir"))
    await attempt("rename . -> x", d.rename_at(".", d, "x"))
    await attempt("rename '' -> x", d.rename_at("", d, "x"))
    await attempt("rename missing", d.rename_at("z.txt", d, "y"))
    await attempt("unlink dir/h", d.unlink_file_at("dir/h.cleanup"))
    # same object, metadata hash
    a2 = await open_("a.txt")
    b = await open_("b.txt")
    show("is-same-object a a2", await a.is_same_object(a2))
    show("is-same-object a b", await a.is_same_object(b))
    h1, h2, hb = await a.metadata_hash(), await a2.metadata_hash(), await b.metadata_hash()
    show("metadata-hash same/different", (h1 == h2, h1 != hb))
    ha = await d.metadata_hash_at(NOF, "a.txt")
    show("metadata-hash-at == hash", ha == h1)
    await attempt("metadata-hash-at ..", d.metadata_hash_at(NOF, ".."), lambda _: "")
    # data: io, set-size, advise
    f = await open_("io.cleanup", OpenFlags.CREATE | OpenFlags.EXCLUSIVE, R | W)
    res = await send(lambda r: f.write_via_stream(r, 0), b"0123456789")
    show("write-via-stream", outcome(res))
    res = await send(lambda r: f.write_via_stream(r, 20), b"X")
    show("write-via-stream at 20", outcome(res))
    data, res = await drain(f.read_via_stream(0))
    show("read-via-stream", (data, outcome(res)))
    data, res = await drain(f.read_via_stream(100))
    show("read-via-stream past end", (data, outcome(res)))
    res = await send(f.append_via_stream, b"END")
    show("append-via-stream", outcome(res))
    await attempt("size", f.stat(), lambda s: s.size)
    await attempt("set-size 5", f.set_size(5))
    data, _ = await drain(f.read_via_stream(0))
    show("  now", data)
    await attempt("set-size 8", f.set_size(8))
    data, _ = await drain(f.read_via_stream(0))
    show("  now", data)
    await attempt("set-size on read-only", a.set_size(0))
    await attempt("set-size on dir", d.set_size(0))
    for adv in (Advice.NORMAL, Advice.SEQUENTIAL, Advice.RANDOM, Advice.WILL_NEED, Advice.DONT_NEED, Advice.NO_REUSE):
        await attempt(f"advise {adv.name}", f.advise(0, 100, adv))
    await attempt("advise on dir", d.advise(0, 1, Advice.NORMAL))
    await attempt("sync", f.sync())
    await attempt("sync-data", f.sync_data())
    res = await send(lambda r: a.write_via_stream(r, 0), b"nope")
    show("write to read-only", outcome(res))
    data, res = await drain(d.read_via_stream(0))
    show("read a directory", (data, outcome(res)))
    wo = await open_("io.cleanup", fl=W)
    data, res = await drain(wo.read_via_stream(0))
    show("read write-only", (data, outcome(res)))
    await d.unlink_file_at("io.cleanup")
    # read-directory
    show("entries", await entries(d))
    sub = await open_("dir", OpenFlags.DIRECTORY)
    show("entries of dir", await entries(sub))
    stream, done = a.read_directory()
    with stream:
        while not stream.writer_dropped:
            await stream.read(16)
    show("read-directory of a file", outcome(await done.read()))
    await d.unlink_file_at("parent.cleanup")


def now_(label, fn, fmt=repr):
    """A synchronous call: its value, or the error case's name."""
    try:
        r = fn()
    except Err as e:
        show(label, "err " + cname(e.value))
        return None
    show(label, "ok" if r is None else f"ok {fmt(r)}")
    return r


V4, V6 = net.IpAddressFamily.IPV4, net.IpAddressFamily.IPV6


def v4(a, port=0):
    return net.IpSocketAddress_Ipv4(net.Ipv4SocketAddress(port, a))


def v6(a, port=0):
    return net.IpSocketAddress_Ipv6(net.Ipv6SocketAddress(port, 0, a, 0))


def port_of(addr):
    return addr.value.port


async def sockets():
    """After wasi-testsuite's sockets-tcp-bind/-connect/-listen/-properties, sockets-udp-*,
    sockets-echo: no port numbers printed (they differ per run)."""
    tcp = net.TcpSocket.create
    s = tcp(V4)
    now_("tcp local address unbound", s.get_local_address)
    now_("tcp bind v6 address on v4", lambda: s.bind(v6((0, 0, 0, 0, 0, 0, 0, 1))))
    for label, a in (("multicast", (224, 0, 0, 1)), ("broadcast", (255, 255, 255, 255))):
        now_(f"tcp bind {label}", lambda a=a: tcp(V4).bind(v4(a)))
    now_("tcp v6 bind v4-mapped", lambda: tcp(V6).bind(v6((0, 0, 0, 0, 0, 0xFFFF, 0x7F00, 1))))
    now_("tcp bind 127.0.0.1:0", lambda: s.bind(v4((127, 0, 0, 1))))
    local = s.get_local_address()
    show("  bound", (local.value.address, port_of(local) != 0, cname(s.get_address_family())))
    now_("tcp bind again", lambda: s.bind(v4((127, 0, 0, 1))))
    now_("tcp remote address unconnected", s.get_remote_address)
    now_("tcp is listening", s.get_is_listening)
    incoming = now_("tcp listen", s.listen, lambda _: "")
    now_("tcp is listening", s.get_is_listening)
    now_("tcp listen again", s.listen, lambda _: "")
    now_("tcp backlog 10", lambda: s.set_listen_backlog_size(10))
    c = tcp(V4)
    await attempt("tcp connect to 0.0.0.0", c.connect(v4((0, 0, 0, 0), port_of(local))))
    await attempt("tcp connect to port 0", tcp(V4).connect(v4((127, 0, 0, 1), 0)))
    await attempt("tcp connect v6 addr on v4", tcp(V4).connect(v6((0, 0, 0, 0, 0, 0, 0, 1), 1)))
    await attempt("tcp connect", c.connect(local))
    await attempt("tcp connect again", c.connect(local))
    accepted = None
    if incoming is not None:
        got = await incoming.read(1)
        show("tcp accepted", len(got))
        accepted = got[0] if got else None
    if accepted is not None:
        show("  addresses agree", (port_of(accepted.get_remote_address()) == port_of(c.get_local_address()),
                                   port_of(c.get_remote_address()) == port_of(local)))
        res = await send(c.send, b"hello over tcp")
        show("tcp send", outcome(res))
        data, res = await drain(accepted.receive())
        show("tcp receive", (data, outcome(res)))
        now_("tcp receive twice", accepted.receive, lambda _: "")
    dead = tcp(V4)
    dead.bind(v4((127, 0, 0, 1)))
    dead_addr = dead.get_local_address()
    dead.__exit__(None, None, None)
    await attempt("tcp connect refused", tcp(V4).connect(dead_addr))
    p = tcp(V4)
    now_("keep-alive set", lambda: p.set_keep_alive_enabled(True))
    now_("keep-alive get", p.get_keep_alive_enabled)
    now_("keep-alive idle 0", lambda: p.set_keep_alive_idle_time(0))
    now_("keep-alive idle 1s", lambda: p.set_keep_alive_idle_time(1_000_000_000))
    now_("keep-alive count 0", lambda: p.set_keep_alive_count(0))
    now_("hop limit 0", lambda: p.set_hop_limit(0))
    now_("hop limit 42", lambda: p.set_hop_limit(42))
    now_("  hop limit", p.get_hop_limit)
    now_("receive buffer 0", lambda: p.set_receive_buffer_size(0))
    now_("backlog 0 unbound", lambda: p.set_listen_backlog_size(0))
    # UDP
    u1, u2 = net.UdpSocket.create(V4), net.UdpSocket.create(V4)
    now_("udp local address unbound", u1.get_local_address)
    now_("udp bind multicast", lambda: net.UdpSocket.create(V4).bind(v4((224, 0, 0, 1))))
    now_("udp bind", lambda: u1.bind(v4((127, 0, 0, 1))))
    now_("udp bind u2", lambda: u2.bind(v4((127, 0, 0, 1))))
    a1, a2 = u1.get_local_address(), u2.get_local_address()
    now_("udp remote address unconnected", u1.get_remote_address)
    await attempt("udp send no address", u1.send(b"x", None))
    await attempt("udp send to port 0", u1.send(b"x", v4((127, 0, 0, 1), 0)))
    sent = await attempt("udp send", u1.send(b"datagram one", a2)) is None
    if sent:  # (a receive with nothing sent would wait for ever)
        await attempt("udp receive", u2.receive(), lambda r: (r[0], port_of(r[1]) == port_of(a1)))
    now_("udp connect", lambda: u1.connect(a2))
    try:
        u1.get_remote_address()
    except Err:
        sent = False  # not connected: what follows would wait for ever
    await attempt("udp send connected elsewhere", u1.send(b"x", a1))
    if sent and await attempt("udp send connected", u1.send(b"two", None)) is None:
        await attempt("udp receive 2", u2.receive(), lambda r: r[0])
    now_("udp disconnect", u1.disconnect)
    now_("udp disconnect again", u1.disconnect)
    now_("udp hop limit 0", lambda: u1.set_unicast_hop_limit(0))
    # name lookup
    await attempt("lookup 127.0.0.1", ip_name_lookup.resolve_addresses("127.0.0.1"),
                  lambda r: [x.value for x in r])
    await attempt("lookup localhost has 127.0.0.1",
                  ip_name_lookup.resolve_addresses("localhost"),
                  lambda r: any(x.value == (127, 0, 0, 1) for x in r))
    await attempt("lookup ''", ip_name_lookup.resolve_addresses(""), lambda r: r)
    await attempt("lookup [::1]", ip_name_lookup.resolve_addresses("[::1]"), lambda r: r)


async def section(label, coro):
    """A section that raises prints where it stopped (and the run goes on)."""
    try:
        await coro
    except Exception as e:
        import traceback
        show(f"{label} raised", "".join(traceback.format_exception_only(type(e), e)).strip())


async def _rand():
    rand()


class Run(exports.Run):
    async def run(self) -> None:
        await section("cli", cli())
        await section("clocks", clocks())
        await section("random", _rand())
        await section("sockets", sockets())
        dirs = preopens.get_directories()
        show("preopens", [p for _, p in dirs])
        for d, p in dirs:
            if p == "fs-tests.dir":
                await section("files", files(d))
        await send(stdout.write_via_stream, ("\n".join(OUT) + "\n").encode())
        code = int(dict(environment.get_environment()).get("T_EXIT", "0"))
        if code:
            wasi_exit.exit_with_code(code)
