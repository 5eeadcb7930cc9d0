#!/usr/bin/env python3
"""run.py: the benchmark of `make bench`. Runs the servers under tcpserver on
loopback, drives them with ustbench, and writes a Markdown report.

Server CPU is read from tcpserver's /proc stat (its own time plus its reaped
children's, which include every process of every session: the sink backend
reaps its children before it exits), once tcpserver has no child left.

usage: run.py --report FILE --tools DIR --backend NAME=BINDIR... [--quick]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
HOST = "127.0.0.1"
TOOLS = None  # the directory of ustbench and sink-smtpd (--tools)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def cpu_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime stime cutime cstime are fields 14-17 (1-based) of the whole line
    return sum(int(x) for x in fields[11:15]) / TICK


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def descendants(pid):
    out, todo = [], children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


def wait_idle(pid, limit=30.0):
    """Waits until tcpserver has reaped every session (its CPU is then final)."""
    end = time.monotonic() + limit
    while children(pid):
        if time.monotonic() > end:
            raise RuntimeError(f"sessions of server {pid} still running after {limit}s")
        time.sleep(0.01)


class Server:
    """tcpserver on a free loopback port running argv; Nagle left on (tcpserver's default)."""

    def __init__(self, argv, env=None, name=""):
        self.name = name
        self.err = tempfile.TemporaryFile()
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l0", "-c", "400", HOST, "0"] + argv,
                                     stdout=subprocess.PIPE, stderr=self.err, env=e, stdin=subprocess.DEVNULL)
        self.port = int(self.proc.stdout.readline())

    def cpu(self):
        wait_idle(self.proc.pid)
        return cpu_of(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.err.seek(0)
        errors = [l for l in self.err.read().decode(errors="replace").splitlines()
                  if "fatal" in l or "warning" in l]
        if errors:
            log(f"{self.name}: server log has {len(errors)} warnings/fatals, e.g. {errors[0]}")


def ustbench(tools, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    out = subprocess.run([os.path.join(tools, "ustbench")] + [str(a) for a in args],
                         check=True, capture_output=True, text=True, env=e).stdout
    return dict(l.split("=", 1) for l in out.split())


def med(values):
    return statistics.median(values), min(values), max(values)


def fmt(values, digits=1):
    m, lo, hi = med(values)
    return f"{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def measure_sessions(srv, tools, n, conc, runs, mode="starttls"):
    rates, cpus = [], []
    for _ in range(runs):
        c0 = srv.cpu()
        r = ustbench(tools, "sessions", HOST, srv.port, n, conc, mode)
        cpus.append((srv.cpu() - c0) * 1000 / n)
        rates.append(float(r["per_second"]))
    return rates, cpus


def measure_bulk(srv, tools, size, mode, runs):
    """Returns MB/s, server CPU s/GB and the client's own CPU s/GB, one of each per run."""
    rates, cpus, client = [], [], []
    for _ in range(runs):
        c0 = srv.cpu()
        r = ustbench(tools, "bulk", HOST, srv.port, size, mode)
        gb = int(r["bytes"]) / 1e9
        cpus.append((srv.cpu() - c0) / gb)
        client.append(float(r["client_cpu_seconds"]) / gb)
        rates.append(float(r["mb_per_second"]))
    return rates, cpus, client


# How each measured STARTTLS path is run, and how many programs a session starts.
PATHS = {
    "starttls": "`ucspitlsd smtpd-starttls` (STARTTLS, direct handoff)",
    "starttls -C": "`smtpd-starttls -C` (STARTTLS, its own controller, direct handoff)",
    "starttls -d": "`ucspitlsd smtpd-starttls -d` (STARTTLS, proxy stays in the path)",
}


def programs(label):
    """Programs a session of this path starts: the engine, the backend, the proxy, and ucspitlsd unless -C."""
    return 3 if "-C" in label else 4


def ceiling(m):
    """The rate all cores could carry at the median server + client CPU per GB (MB/s)."""
    return os.cpu_count() * 1000 / (med(m[1])[0] + med(m[2])[0])


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return None


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "X"


def exe(pid):
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return "?"


def measure_idle(srv, tools, n):
    p = subprocess.Popen([os.path.join(tools, "ustbench"), "idle", HOST, str(srv.port), str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("idle sessions did not open")
    procs = [q for q in descendants(srv.proc.pid) if state(q) not in ("Z", "X")]
    total, ours, names = 0, 0, {}
    for q in procs:
        k = pss_kb(q) or 0
        name = exe(q)
        names[name] = names.get(name, 0) + 1
        total += k
        if name != "sink-smtpd":
            ours += k
    p.stdin.close()
    p.wait()
    srv.cpu()
    return {"processes": len(procs) / n, "pss_total": total / n, "pss_ours": ours / n,
            "ours": (len(procs) - names.get("sink-smtpd", 0)) / n, "names": names}


def machine_limits(tools, runs, quick):
    res = {}
    speeds = []
    for _ in range(runs):
        out = subprocess.run(["openssl", "speed", "-elapsed", "-seconds", "1" if quick else "2", "-bytes", "16384",
                              "-evp", "aes-128-gcm"], capture_output=True, text=True, check=True).stdout
        row = [l for l in out.splitlines() if l.lower().startswith("aes-128-gcm")][-1]
        speeds.append(float(row.split()[-1].rstrip("k")) * 1000 / 1e6)
    res["aes"] = speeds
    size = 1 << 30 if quick else 4 << 30
    res["pipe"] = [float(ustbench(tools, "pipe", size)["mb_per_second"]) for _ in range(runs)]
    # the size the engine gives its application pipe in a bulk transfer
    res["pipe256"] = [float(ustbench(tools, "pipe", size, 256 << 10)["mb_per_second"]) for _ in range(runs)]
    res["tcp"] = [float(ustbench(tools, "tcp", size)["mb_per_second"]) for _ in range(runs)]
    # what a program costs before it does anything: a session runs four (ucspitlsd,
    # the proxy, the backend, the engine); sink-smtpd is static and ends at EOF on stdin
    ex = [ustbench(tools, "exec", 200 if quick else 500, os.path.join(tools, "sink-smtpd")) for _ in range(runs)]
    res["exec"] = [float(e["ms_per_exec"]) + float(e["ms_per_fork_parent"]) for e in ex]
    return res



def free_port():
    """A loopback port free now (for stunnel's client side, which cannot say which port 0 got)."""
    import socket
    with socket.socket() as so:
        so.bind((HOST, 0))
        return so.getsockname()[1]


def client_session(bindir, port, cafile, size):
    """One session through our client path: tcpclient, ucspitlsc -k localhost,
    smtpc-starttls, and ustbench prog as its program. Returns ustbench's figures
    and the CPU of every process of the client side (os.wait4: ustbench reaps
    the proxy and the engine before it exits)."""
    b = lambda prog: os.path.join(bindir, prog)
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(["tcpclient", "-RHl0", HOST, str(port), "env", f"CAFILE={cafile}",
                          b("ucspitlsc"), "-k", "localhost", "--", b("smtpc-starttls"), "--",
                          os.path.join(TOOLS, "ustbench"), "prog", str(size)],
                         stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    log_text = err.read().decode(errors="replace")
    if p.returncode:
        raise RuntimeError(f"client session failed ({p.returncode}): {log_text.strip()}")
    r = dict(l.split("=", 1) for l in out.split())
    r["cpu"] = ru.ru_utime + ru.ru_stime
    r["cipher"] = next((l.split("session ended: tls ", 1)[1].split(" (")[0] for l in log_text.splitlines()
                        if l.startswith("smtpc-starttls: info:") and "session ended: tls " in l), "?")
    return r


def measure_client(bindir, port, cafile, size, n, runs):
    """Our client path: bulk MB/s, client-side CPU s/GB (all of it, and the
    proxy + engine alone), sequential sessions/s and client-side CPU ms/session."""
    rates, cpus, path_cpus, srates, scpus = [], [], [], [], []
    proxy_cpus, engine_cpus = [], []
    cipher = "?"
    for _ in range(runs):
        r = client_session(bindir, port, cafile, size)
        gb = int(r["bytes"]) / 1e9
        rates.append(float(r["mb_per_second"]))
        cpus.append(r["cpu"] / gb)
        path_cpus.append(float(r["children_cpu_seconds"]) / gb)
        proxy_cpus.append(float(r.get("cpu_smtpc-starttls", "nan")) / gb)
        engine_cpus.append(float(r.get("cpu_tlsc-io", "nan")) / gb)
        cipher = r["cipher"]
        t0, c = time.monotonic(), 0.0
        for _ in range(n):
            c += client_session(bindir, port, cafile, 0)["cpu"]
        srates.append(n / (time.monotonic() - t0))
        scpus.append(c * 1000 / n)
    return {"bulk": rates, "cpu": cpus, "path_cpu": path_cpus, "seq": srates, "seq_cpu": scpus, "cipher": cipher,
            "split": (proxy_cpus, engine_cpus)}


def ustbench_cpu(*args):
    """ustbench's figures and its CPU time, its workers' included."""
    p = subprocess.Popen([os.path.join(TOOLS, "ustbench")] + [str(a) for a in args],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"ustbench {args} failed ({p.returncode})")
    return dict(l.split("=", 1) for l in out.split()), ru.ru_utime + ru.ru_stime


def measure_stunnel_client(d, port, cafile, size, n, runs):
    """stunnel4 as the client's TLS (protocol = smtp: it does the STARTTLS),
    ustbench speaking plain SMTP to it: the same figures as measure_client."""
    conf = os.path.join(d, "stunnel-client.conf")
    local = free_port()
    with open(conf, "w") as f:
        f.write(f"foreground = yes\nsyslog = no\ndebug = 6\npid =\n[smtp]\nclient = yes\n"
                f"accept = {HOST}:{local}\nconnect = {HOST}:{port}\nprotocol = smtp\n"
                f"CAfile = {cafile}\nverifyChain = yes\ncheckHost = localhost\n")
    err = tempfile.TemporaryFile()
    st = subprocess.Popen(["stunnel4", conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    end = time.monotonic() + 10
    while True:  # its readiness: the port accepts
        import socket
        try:
            socket.create_connection((HOST, local), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > end or st.poll() is not None:
                raise RuntimeError("stunnel4 (client) did not start")
            time.sleep(0.05)
    rates, cpus, path_cpus, srates, scpus = [], [], [], [], []
    try:
        for _ in range(runs):
            c0 = cpu_of(st.pid)
            r, own = ustbench_cpu("bulk", HOST, local, size, "plain")
            path = cpu_of(st.pid) - c0
            gb = int(r["bytes"]) / 1e9
            rates.append(float(r["mb_per_second"]))
            cpus.append((own + path) / gb)
            path_cpus.append(path / gb)
            c0 = cpu_of(st.pid)
            r, own = ustbench_cpu("sessions", HOST, local, n, 1, "plain")
            srates.append(float(r["per_second"]))
            scpus.append((own + cpu_of(st.pid) - c0) * 1000 / n)
    finally:
        st.terminate()
        st.wait()
    err.seek(0)
    cipher = next((l.split("ciphersuite: ", 1)[1].split(" (")[0] for l in err.read().decode(errors="replace").splitlines()
                   if "ciphersuite: " in l), "?")
    return {"bulk": rates, "cpu": cpus, "path_cpu": path_cpus, "seq": srates, "seq_cpu": scpus, "cipher": cipher}


def stunnel_conf(d, cert, key, sink):
    path = os.path.join(d, "stunnel.conf")
    with open(path, "w") as f:
        f.write(f"foreground = yes\nsyslog = no\ndebug = 3\n"
                f"cert = {cert}\nkey = {key}\n"
                f"exec = {sink}\nexecArgs = sink-smtpd\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--backend", action="append", default=[], help="NAME=BINDIR")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--configure", default="", help="how the measured builds were configured (for the report)")
    a = ap.parse_args()
    runs = 3 if a.quick else 5
    bulk_size = 256 << 20
    n_seq, n_conc = (100, 200) if a.quick else (300, 600)
    n_client = 50 if a.quick else 100  # sequential client sessions per run (each runs five programs)
    idle_n = 50
    t_start = time.monotonic()
    tools = os.path.abspath(a.tools)
    global TOOLS
    TOOLS = tools
    sink = os.path.join(tools, "sink-smtpd")
    d = tempfile.mkdtemp(prefix="ustbench.")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    tlsenv = {"CERTFILE": cert, "KEYFILE": key}

    log("machine limits")
    lim = machine_limits(tools, runs, a.quick)
    aes, pipe, tcp = (med(lim[k])[0] for k in ("aes", "pipe", "tcp"))

    results = {}
    log("plain tcpserver")
    srv = Server([sink], name="plain")
    plain = measure_bulk(srv, tools, bulk_size, "plain", runs)
    srv.stop()
    stunnel = None
    if shutil.which("stunnel4"):
        log("stunnel4")
        srv = Server(["stunnel4", stunnel_conf(d, cert, key, sink)], name="stunnel")
        stunnel = measure_bulk(srv, tools, bulk_size, "tls", runs)
        srv.stop()

    for spec in a.backend:
        name, bindir = spec.split("=", 1)
        b = lambda prog: os.path.join(bindir, prog)
        r = results[name] = {}
        variants = [("starttls", [b("ucspitlsd"), b("smtpd-starttls")])]
        usage = subprocess.run([b("smtpd-starttls"), "-h"], capture_output=True, text=True).stderr
        if "-C" in usage:
            # the proxy as its own controller: no ucspitlsd
            variants.append(("starttls -C", [b("smtpd-starttls"), "-C"]))
        if "-d" in usage:
            # the proxy kept in the data path (no direct handoff), for comparison
            variants.append(("starttls -d", [b("ucspitlsd"), b("smtpd-starttls"), "-d"]))
        for label, argv in variants:
            log(f"{name}: {label}")
            srv = Server(argv + [sink], env=tlsenv, name=f"{name} {label}")
            r[label] = {
                "seq": measure_sessions(srv, tools, n_seq, 1, runs),
                "c2": measure_sessions(srv, tools, n_conc, 2, runs),
                "c8": measure_sessions(srv, tools, n_conc, 8, runs),
                "bulk": measure_bulk(srv, tools, bulk_size, "starttls", runs),
                "idle": measure_idle(srv, tools, idle_n),
            }
            srv.stop()
        # resumption across engine processes (SESSIONCACHE), where the backend has it
        cache = os.path.join(d, f"{name}.sessions")
        cachenv = dict(tlsenv, SESSIONCACHE=cache)
        if subprocess.run([b("ucspitlsd"), "true"], env=dict(os.environ, **cachenv), capture_output=True).returncode == 0:
            log(f"{name}: resumed sessions")
            srv = Server([b("ucspitlsd"), b("smtpd-starttls"), sink], env=cachenv, name=f"{name} resume")
            r["resume"] = {
                "full": measure_sessions(srv, tools, n_seq, 1, runs, "starttls12"),
                "resumed": measure_sessions(srv, tools, n_seq, 1, runs, "starttls12-resume"),
            }
            srv.stop()
        # the engine's cost before any handshake: exec, TLS library start, the
        # certificate and key read and parsed; its network (stdin) ends at once
        ex = [ustbench(tools, "exec", 100 if a.quick else 300, b("tlsd-io"), "0", "1", env=tlsenv) for _ in range(runs)]
        r["engine_start"] = [float(e["ms_per_exec"]) + float(e["ms_per_fork_parent"]) for e in ex]
        log(f"{name}: tlsd")
        srv = Server([b("tlsd"), sink], env=tlsenv, name=f"{name} tlsd")
        r["tlsd"] = measure_bulk(srv, tools, bulk_size, "tls", runs)
        srv.stop()
    # the client proxies: smtpc-starttls under ucspitlsc, against one server
    # for all (the first backend's ucspitlsd smtpd-starttls), and stunnel4's
    # client side (protocol = smtp) against the same server
    clients, stunnel_client = {}, None
    first_name, first_bin = a.backend[0].split("=", 1)
    client_server = f"{first_name} `ucspitlsd smtpd-starttls`"
    srv = Server([os.path.join(first_bin, "ucspitlsd"), os.path.join(first_bin, "smtpd-starttls"), sink], env=tlsenv, name="client server")
    for spec in a.backend:
        name, bindir = spec.split("=", 1)
        if not os.path.exists(os.path.join(bindir, "smtpc-starttls")):
            continue
        log(f"{name}: client proxy smtpc-starttls")
        clients[name] = measure_client(bindir, srv.port, cert, bulk_size, n_client, runs)
    if shutil.which("stunnel4"):
        log("stunnel4: client side")
        stunnel_client = measure_stunnel_client(d, srv.port, cert, bulk_size, n_client, runs)
    srv.stop()
    shutil.rmtree(d)
    elapsed = time.monotonic() - t_start

    with open(a.report, "w") as f:
        w = lambda s="": f.write(s + "\n")
        w("# ucspi-starttls benchmark report")
        w()
        w(f"Generated {time.strftime('%Y-%m-%d %H:%M:%S')} on {os.uname().nodename} "
          f"({os.cpu_count()} CPUs, {os.uname().release}), in {elapsed:.0f} s. "
          f"Figures are medians of {runs} runs with (min–max). MB = 10^6 bytes.")
        w()
        w("Setup: client (`ustbench`, OpenSSL, AES-128-GCM pinned, full handshake every session, "
          "TCP_NODELAY on its side) and server on 127.0.0.1; server `tcpserver -1 -R -H -l0 -c 400` "
          "(no DNS/ident lookups; Nagle left on, as tcpserver's default); backend `sink-smtpd` "
          "(a static SMTP sink on pipes that never offers STARTTLS, so the proxies use the direct handoff); "
          f"certificate ECDSA P-256; our programs built with `configure {a.configure}`. "
          "Server CPU = user+system time of tcpserver and every process of the sessions.")
        w()
        w("## Machine limits (same run)")
        w()
        w("| probe | MB/s |")
        w("|---|---|")
        w(f"| `openssl speed -evp aes-128-gcm -bytes 16384` (one core) | {fmt(lim['aes'])} |")
        w(f"| pipe, 64 KiB writes, two processes | {fmt(lim['pipe'])} |")
        w(f"| pipe grown to 256 KiB (as the engine's in a bulk transfer), 64 KiB writes | {fmt(lim['pipe256'])} |")
        w(f"| loopback TCP, 64 KiB writes, two processes | {fmt(lim['tcp'])} |")
        w()
        w(f"fork + exec + exit of a static program that does nothing (`sink-smtpd` at EOF): "
          f"{fmt(lim['exec'], 2)} ms of CPU. A STARTTLS session runs four programs "
          f"(ucspitlsd, the proxy, the backend, the engine), three with `smtpd-starttls -C`: about "
          f"{4 * med(lim['exec'])[0]:.1f} ms (or {3 * med(lim['exec'])[0]:.1f} ms) of each session's server CPU is this, before any work.")
        w()
        w(f"## Bulk: one {bulk_size >> 20} MiB message through SMTP DATA")
        w()
        w("| path | MB/s | server CPU s/GB | client CPU s/GB | 2-core ceiling MB/s | vs AES-GCM | vs stunnel |")
        w("|---|---|---|---|---|---|---|")
        st = med(stunnel[0])[0] if stunnel else None

        def bulkrow(label, m):
            rate = med(m[0])[0]
            vs = f"{rate / st:.2f}×" if st else "n/a"
            w(f"| {label} | {fmt(m[0])} | {fmt(m[1], 2)} | {fmt(m[2], 2)} | {ceiling(m):.0f} | {100 * rate / aes:.0f}% | {vs} |")

        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls")]:
                bulkrow(f"{name}: {PATHS[label]}", r[label]["bulk"])
            bulkrow(f"{name}: `tlsd` (immediate TLS)", r["tlsd"])
        if stunnel:
            bulkrow("stunnel4 (inetd mode under tcpserver, immediate TLS)", stunnel)
        bulkrow("plain tcpserver, no TLS", plain)
        w()
        w("Client and server share the machine's cores: no path can move more than "
          f"{os.cpu_count()} cores ÷ (server + client CPU per GB), the \"2-core ceiling\" (medians). "
          "The client's CPU (OpenSSL AES-128-GCM encryption, TCP sends and, on loopback, the kernel's "
          "receive processing of what it sends) alone caps a TLS path at 1 ÷ its CPU per GB, on a core of its own.")
        w()
        w("## STARTTLS SMTP sessions (greeting, EHLO, STARTTLS, handshake, EHLO, QUIT)")
        w()
        w("Fixed costs, before any byte of the session: `ustbench exec N tlsd-io 0 1` with the "
          "session's CERTFILE and KEYFILE and a network that ends at once (exec, TLS library start, "
          "certificate and key read and parsed, no handshake); the other programs cost what a "
          "static program that does nothing costs (above).")
        w()
        w("| backend, path | engine start, ms CPU | + the other program starts, ms CPU | session CPU left for the handshake, the SMTP dialogue and the kernel's TCP work |")
        w("|---|---|---|---|")
        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls") and "-d" not in k]:
                fixed = med(r["engine_start"])[0] + (programs(label) - 1) * med(lim["exec"])[0]
                w(f"| {name}, {label} | {fmt(r['engine_start'], 2)} | {fixed:.2f} | {med(r[label]['seq'][1])[0] - fixed:.2f} |")
        w()
        w("| backend, path | concurrency | sessions/s | server CPU ms/session |")
        w("|---|---|---|---|")
        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls")]:
                for key, conc in (("seq", 1), ("c2", 2), ("c8", 8)):
                    rates, cpus = r[label][key]
                    w(f"| {name}, {label} | {conc} | {fmt(rates)} | {fmt(cpus, 2)} |")
        w()
        w("## Resumed STARTTLS sessions (TLS 1.2, `SESSIONCACHE`)")
        w()
        w("`ucspitlsd smtpd-starttls` with `SESSIONCACHE` set, one client at a time, the client at TLS 1.2 "
          "(what BearSSL resumes): every session a full handshake, then every session offering "
          "the previous one's id (`ustbench` fails unless the server resumed each). \"Beyond the starts\" is "
          "the server CPU less the engine start and the other three program starts (above).")
        w()
        w("| backend | handshake | sessions/s | server CPU ms/session | beyond the starts, ms |")
        w("|---|---|---|---|---|")
        for name, r in results.items():
            if "resume" not in r:
                w(f"| {name} | resumed | n/a: this backend cannot resume across processes (doc/guarantees.md) | | |")
                continue
            fixed = med(r["engine_start"])[0] + 3 * med(lim["exec"])[0]
            for key in ("full", "resumed"):
                rates, cpus = r["resume"][key]
                w(f"| {name} | {key} | {fmt(rates)} | {fmt(cpus, 2)} | {med(cpus)[0] - fixed:.2f} |")
        w()
        w(f"## Idle established STARTTLS sessions ({idle_n} sessions, after EHLO over TLS)")
        w()
        w("| backend, path | processes/session (ours) | PSS kB/session (ours) | processes/session (all) | PSS kB/session (all) |")
        w("|---|---|---|---|---|")
        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls")]:
                i = r[label]["idle"]
                w(f"| {name}, {label} | {i['ours']:.2f} | {i['pss_ours']:.0f} | {i['processes']:.2f} | {i['pss_total']:.0f} |")
        w()
        w("\"ours\" excludes the sink backend; \"all\" counts every live process of the session.")
        w()
        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls")]:
                seen = ", ".join(f"{k} ×{v}" for k, v in sorted(r[label]["idle"]["names"].items()))
                w(f"- {name}, {label}: {seen}")
        w()
        w("## Client proxies: `tcpclient ... ucspitlsc -k localhost -- smtpc-starttls -- prog`")
        w()
        w(f"The program is `ustbench prog` (plain SMTP on descriptors 6 and 7), the server {client_server} "
          "for every row (its CPU is not counted here). stunnel4's client side (`protocol = smtp`, "
          "`checkHost = localhost`) is driven by `ustbench` in plain SMTP against the same server. "
          "Client-side CPU counts every process of the client: the SMTP program, the proxy, the engine "
          "and each session's program starts; \"TLS path\" leaves out the SMTP program (ours: the proxy "
          "and the engine, as `ustbench prog` reaps them; stunnel: its own process).")
        w()
        w("| client path | cipher | bulk MB/s | client-side CPU s/GB | TLS path CPU s/GB | sequential sessions/s | client-side CPU ms/session | vs stunnel (bulk) |")
        w("|---|---|---|---|---|---|---|---|")
        sc = med(stunnel_client["bulk"])[0] if stunnel_client else None

        def clientrow(label, m):
            vs = f"{med(m['bulk'])[0] / sc:.2f}×" if sc else "n/a"
            split = f" ({med(m['split'][0])[0]:.2f} proxy + {med(m['split'][1])[0]:.2f} engine)" if "split" in m else ""
            w(f"| {label} | {m['cipher']} | {fmt(m['bulk'])} | {fmt(m['cpu'], 2)} | {fmt(m['path_cpu'], 2)}{split} | "
              f"{fmt(m['seq'])} | {fmt(m['seq_cpu'], 2)} | {vs} |")

        for name, m in clients.items():
            clientrow(f"{name}: `ucspitlsc smtpc-starttls`", m)
        if stunnel_client:
            clientrow("stunnel4 client (`protocol = smtp`, a daemon: no program start per session)", stunnel_client)
        w()
        w(f"Bulk is one {bulk_size >> 20} MiB message through DATA; sessions are {n_client} sequential "
          "greeting, EHLO, STARTTLS, handshake, EHLO, QUIT. Our client proxy stays in the data path "
          "(it filters the server's replies): a message crosses two pipes before the TLS engine, where "
          "stunnel's crosses one loopback socket.")
        w()
        w("## Targets (issues #7 and #18), as ratios of this run")
        w()
        w("The paths with the direct handoff (`-d` is there for comparison).")
        w()
        w("| target | figure | met |")
        w("|---|---|---|")
        for name, r in results.items():
            for label in [k for k in r if k.startswith("starttls") and "-d" not in k]:
                rate, cpu = med(r[label]["bulk"][0])[0], med(r[label]["bulk"][1])[0]
                ccpu = med(r[label]["bulk"][2])[0]
                w(f"| {name} {label}: bulk ≥ 30% of AES-GCM | {100 * rate / aes:.0f}% "
                  f"(the client alone caps it at {100 * 1000 / ccpu / aes:.0f}%, "
                  f"client and server on {os.cpu_count()} cores at {100 * ceiling(r[label]['bulk']) / aes:.0f}%) | "
                  f"{'yes' if rate >= 0.3 * aes else 'no'} |")
                if st:
                    w(f"| {name} {label}: bulk ≥ 1.5× stunnel | {rate / st:.2f}× | {'yes' if rate >= 1.5 * st else 'no'} |")
                w(f"| {name} {label}: server CPU ≤ 1.2 s/GB | {cpu:.2f} | {'yes' if cpu <= 1.2 else 'no'} |")
                seq = med(r[label]["seq"][0])[0]
                w(f"| {name} {label}: sequential sessions ≥ 150/s | {seq:.0f}/s | {'yes' if seq >= 150 else 'no'} |")
                cms = med(r[label]["seq"][1])[0]
                lim_ms = 3 if name == "bearssl" else 5
                fixed = med(r["engine_start"])[0] + (programs(label) - 1) * med(lim["exec"])[0]
                w(f"| {name} {label}: server CPU ≤ {lim_ms} ms/session | {cms:.2f} ms "
                  f"({fixed:.2f} ms of it fixed: {programs(label)} program starts and the engine's TLS start) | {'yes' if cms <= lim_ms else 'no'} |")
                i = r[label]["idle"]
                lim_kb = 220 if name == "bearssl" else 900
                w(f"| {name} {label}: ≤ 2 processes/idle session (all) | {i['processes']:.2f} | {'yes' if i['processes'] <= 2 else 'no'} |")
                w(f"| {name} {label}: ≤ {lim_kb} kB PSS/idle session (all) | {i['pss_total']:.0f} kB | {'yes' if i['pss_total'] <= lim_kb else 'no'} |")
        for name, r in results.items():
            if "resume" not in r:
                w(f"| {name}: a resumed session's CPU beyond the starts ≤ ½ a full one's | n/a (no resumption in this backend) | no |")
                continue
            fixed = med(r["engine_start"])[0] + 3 * med(lim["exec"])[0]
            full, res = med(r["resume"]["full"][1])[0] - fixed, med(r["resume"]["resumed"][1])[0] - fixed
            ratio = res / full if full > 0 else float("nan")
            w(f"| {name}: a resumed session's CPU beyond the starts ≤ ½ a full one's (TLS 1.2) | "
              f"{res:.2f} / {full:.2f} ms = {ratio:.2f} | {'yes' if ratio <= 0.5 else 'no'} |")
        w()
        w("## Commands")
        w()
        w("```")
        w(f"openssl speed -elapsed -seconds {1 if a.quick else 2} -bytes 16384 -evp aes-128-gcm")
        w("ustbench pipe BYTES [262144]; ustbench tcp BYTES; ustbench exec N sink-smtpd")
        w("ustbench exec N tlsd-io 0 1   # CERTFILE, KEYFILE set; stdin /dev/null")
        w("tcpserver -1 -R -H -l0 -c 400 127.0.0.1 0 ucspitlsd smtpd-starttls [-d] sink-smtpd   # CERTFILE, KEYFILE set")
        w("tcpserver -1 -R -H -l0 -c 400 127.0.0.1 0 smtpd-starttls -C sink-smtpd   # CERTFILE, KEYFILE set")
        w("tcpserver -1 -R -H -l0 -c 400 127.0.0.1 0 tlsd sink-smtpd")
        w("tcpserver -1 -R -H -l0 -c 400 127.0.0.1 0 stunnel4 stunnel.conf   # inetd mode, exec = sink-smtpd")
        w("tcpserver -1 -R -H -l0 -c 400 127.0.0.1 0 sink-smtpd")
        w(f"ustbench sessions 127.0.0.1 PORT {n_seq} 1 starttls; ustbench sessions 127.0.0.1 PORT {n_conc} 2|8 starttls")
        w(f"ustbench sessions 127.0.0.1 PORT {n_seq} 1 starttls12|starttls12-resume   # SESSIONCACHE set")
        w(f"ustbench bulk 127.0.0.1 PORT {bulk_size} starttls|tls|plain")
        w(f"ustbench idle 127.0.0.1 PORT {idle_n}   # then /proc/PID/smaps_rollup of every session process")
        w("tcpclient -RHl0 127.0.0.1 PORT env CAFILE=cert.pem ucspitlsc -k localhost -- smtpc-starttls -- ustbench prog BYTES|0")
        w("stunnel4 client.conf   # client = yes, protocol = smtp, checkHost = localhost; then ustbench bulk|sessions ... plain")
        w("```")
    log(f"report written to {a.report} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
