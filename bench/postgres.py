#!/usr/bin/env python3
"""The benchmark's rows on PostgreSQL: one novakeys process on it, then two behind HAProxy.

Called by `bash bench/run.sh --postgres [--smoke]`. A private PostgreSQL cluster from Debian's
`postgresql` package (installed when missing) is made in a temp dir with the server's defaults
(fsync and synchronous commit on: what a team would run), on a free port; HAProxy from
Debian's `haproxy` balances round robin over the processes, per request. Each row is loaded
right after the bare actix baseline, as in bench.py, and reports where the CPU went: novakeys,
the PostgreSQL backends, HAProxy. There is no target: the figures say what to expect.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import signers  # noqa: E402

log = bench.log


def is_root():
    return os.geteuid() == 0


def apt_install(package, probe):
    if probe():
        return
    log(f"bench: installing Debian's {package}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", package], check=True, capture_output=True,
                   env=env)
    if not probe():
        raise SystemExit(f"bench: {package} installed, but not found")


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def as_server_user(argv):
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if is_root() else argv


class Cluster:
    """A private PostgreSQL server in its own temp dir (reachable by the postgres user)."""

    def __init__(self):
        apt_install("postgresql", pg_bin)
        self.bin = pg_bin()
        self.dir = tempfile.mkdtemp(prefix="novakeys-bench-pg-")
        os.chmod(self.dir, 0o755)
        self.data, self.sock = os.path.join(self.dir, "data"), os.path.join(self.dir, "sock")
        os.makedirs(self.sock)
        if is_root():
            subprocess.run(["chown", "-R", "postgres:postgres", self.dir], check=True)
        subprocess.run(as_server_user([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres",
                                       "-A", "trust", "-E", "UTF8"]),
                       check=True, capture_output=True)
        self.port = bench.free_port()
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c shared_buffers=128MB")
        subprocess.run(as_server_user([f"{self.bin}/pg_ctl", "-D", self.data, "-o", opts,
                                       "-l", os.path.join(self.dir, "server.log"),
                                       "-w", "start"]),
                       check=True, capture_output=True)
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def createdb(self, name):
        subprocess.run([f"{self.bin}/psql", "-X", "-q", "-h", self.sock, "-p", str(self.port),
                        "-U", "postgres", "-d", "postgres", "-c", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True)
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def pids(self):
        """The postmaster and its children (the backends serving novakeys' connections)."""
        out = [self.pid]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == self.pid:
                        out.append(int(stat.split("/")[2]))
            except (OSError, ValueError):
                pass
        return out

    def stop(self):
        subprocess.run(as_server_user([f"{self.bin}/pg_ctl", "-D", self.data, "stop", "-m",
                                       "fast", "-w"]), capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Balancer:
    """HAProxy in front of `backends` (one dict of ports per novakeys process): one frontend
    per API, round robin per request."""

    APIS = ("cport", "iport", "aport", "tport")

    def __init__(self, workdir, ports, backends):
        apt_install("haproxy", lambda: shutil.which("haproxy"))
        self.ports = ports
        cfg = ["global", "  maxconn 4096", "defaults", "  mode http",
               "  timeout connect 5s", "  timeout client 60s", "  timeout server 60s",
               # HAProxy's default keep-alive: each request is balanced on its own and idle
               # server connections are reused (`http-reuse safe`), so no request pays a new
               # TCP connection to novakeys.
               "  balance roundrobin"]
        for api in self.APIS:
            cfg += [f"frontend f_{api}", f"  bind 127.0.0.1:{self.ports[api]}",
                    f"  default_backend b_{api}", f"backend b_{api}"]
            cfg += [f"  server s{i} 127.0.0.1:{b[api]}" for i, b in enumerate(backends)]
        path = os.path.join(workdir, "haproxy.cfg")
        with open(path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.wait_200(self.ports["cport"], "/v2.1", time.perf_counter(), self.proc)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def ticks(pids):
    total = 0
    for p in pids:
        try:
            total += bench.cpu_ticks(p)
        except OSError:
            pass  # a backend that ended meanwhile
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--novakeys", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    a, _ = ap.parse_known_args()
    dur, conns, threads = (1, 2, 1) if a.smoke else (5, 32, 2)
    workdir = tempfile.mkdtemp(prefix="novakeys-bench-")
    results = {"mode": "smoke" if a.smoke else "full", "duration_s": dur, "connections": conns,
               "wrk_threads": threads, "setups": []}
    cleanup = []
    try:
        bport = bench.free_port()
        bproc = subprocess.Popen([a.baseline, f"127.0.0.1:{bport}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cleanup.append(lambda: (bproc.terminate(), bproc.wait()))
        bench.wait_200(bport, "/", time.perf_counter(), bproc)
        log("postgresql")
        cluster = Cluster()
        cleanup.append(cluster.stop)
        results["postgres"] = os.path.basename(os.path.dirname(cluster.bin))

        for setup, n in (("one process", 1), ("two behind HAProxy", 2)):
            log(setup)
            url = cluster.createdb(f"bench{n}")
            lb_ports = {api: bench.free_port() for api in Balancer.APIS} if n > 1 else None
            extra = ["--keygen-pool", "0"]
            if lb_ports:
                extra += ["--public-identity-url", f"http://127.0.0.1:{lb_ports['iport']}",
                          "--public-compute-url", f"http://127.0.0.1:{lb_ports['cport']}"]
            procs = []
            for i in range(n):
                s = bench.Server(a.novakeys, workdir, f"pg{n}-{i}", extra, db=url)
                cleanup.append(s.stop)
                procs.append(s)
            front = procs[0]
            ports = {api: getattr(front, api) for api in Balancer.APIS}
            lb = None
            if lb_ports:
                lb = Balancer(workdir, lb_ports,
                              [{api: getattr(p, api) for api in Balancer.APIS} for p in procs])
                cleanup.append(lb.stop)
                ports = lb.ports
            rows = setup_rows(a, workdir, front, ports, bport, dur, conns, threads, cluster,
                              procs, lb)
            results["setups"].append({"setup": setup, "processes": n, "rows": rows})
    finally:
        for c in reversed(cleanup):
            try:
                c()
            except Exception as e:  # noqa: BLE001 — tear down the rest regardless
                log(f"cleanup: {e}")
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"postgres{'-smoke' if a.smoke else ''}.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_report(results, a.out)


def setup_rows(a, workdir, srv, ports, bport, dur, conns, threads, cluster, procs, lb):
    """The rows against `ports` (one process's, or the balancer's)."""
    class At:  # what bench.token / cloud_user need: the ports to talk to
        pass
    at = At()
    for api, port in ports.items():
        setattr(at, api, port)
    demo, _ = bench.token(at, "demo", "demo", "demo")
    admin, _ = bench.token(at, "admin", "admin", "admin")
    for i in range(100):
        st, _, d = bench.request(at.cport, "POST", "/v2.1/os-keypairs",
                                 {"keypair": {"name": f"key-{i:03}",
                                              "public_key": bench.IMPORT_KEY}},
                                 {"X-Auth-Token": demo})
        assert st == 200, (st, d)
    ali_id, ali_secret = "LTAI5tBenchAlibaba000001", "BenchAlibabaSecretForNovakeys1"
    tc_id, tc_secret = "AKIDBenchTencent000000000000000000001", "BenchTencentSecretKeyNovakeys001"
    bench.cloud_user(at, admin, "ali-bench", "alibaba", ali_id, ali_secret)
    bench.cloud_user(at, admin, "tc-bench", "tencent", tc_id, tc_secret)

    groups = {"novakeys": [p.pid for p in procs], "postgres": None,
              "haproxy": [lb.proc.pid] if lb else []}
    rows = []

    def row(name, port, script, lines=None):
        b = bench.wrk(f"http://127.0.0.1:{bport}", bench.lua_get("/v2.1/os-keypairs/x", {}), dur,
                      conns, threads, workdir, "baseline", None)
        if lines:
            per_thread = int(b["rps"] * dur * lines[0] / threads) + 200
            fmt = bench.write_lines(workdir, name, threads, per_thread, lines[1])
            script = script(fmt)
        groups["postgres"] = cluster.pids()
        before = {g: ticks(p) for g, p in groups.items()}
        r = bench.wrk(f"http://127.0.0.1:{port}", script, dur, conns, threads, workdir, name)
        hz = os.sysconf("SC_CLK_TCK")
        r["cpu_us"] = {g: (ticks(p) - before[g]) * 1e6 / hz / max(r["requests"], 1)
                       for g, p in groups.items() if p}
        r["baseline_rps"] = b["rps"]
        log("    cpu µs/req: " + ", ".join(f"{g} {v:.0f}" for g, v in r["cpu_us"].items()))
        rows.append(r)

    row("show", at.cport, bench.lua_get("/v2.1/os-keypairs/key-050", {"X-Auth-Token": demo}))
    row("list100", at.cport, bench.lua_get("/v2.1/os-keypairs", {"X-Auth-Token": demo}))
    body = ('string.format(\'{"keypair": {"name": "imp-%s", "public_key": "'
            + bench.IMPORT_KEY + '"}}\', name)')
    row("import", at.cport, bench.lua_body("POST", '"/v2.1/os-keypairs"', body, {
        "X-Auth-Token": admin, "Content-Type": "application/json"}))
    tok_body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})
    row("token_issue", at.iport, bench.lua_body("POST", '"/v3/auth/tokens"', f"[[{tok_body}]]",
                                                {"Content-Type": "application/json"}))
    row("alibaba_describe", at.aport, lambda fmt: bench.lua_lines(fmt, {}),
        (1.2, lambda t, i: signers.alibaba_rpc_path({"Action": "DescribeKeyPairs"},
                                                    ali_id, ali_secret)))
    row("alibaba_import", at.aport, lambda fmt: bench.lua_lines(fmt, {}),
        (0.6, lambda t, i: signers.alibaba_rpc_path({
            "Action": "ImportKeyPair", "KeyPairName": f"imp-{t}-{i}",
            "PublicKeyBody": signers.random_rsa_public_key()}, ali_id, ali_secret)))
    # Tencent signs the Host as sent: the balancer's address when there is one.
    thost = f"127.0.0.1:{at.tport}"
    ts = int(time.time())
    h, b = signers.tencent_tc3(thost, "DescribeKeyPairs", "{}", ts, tc_id, tc_secret)
    static = {k: v for k, v in h.items() if k != "Authorization"}
    row("tencent_describe", at.tport,
        lambda fmt: bench.lua_lines(fmt, static, True) + bench.TENCENT_ERRORS_LUA,
        (0.0, lambda t, i: h["Authorization"] + "\t" + b))
    ts = int(time.time())
    istatic = dict(static, **{"X-TC-Action": "ImportKeyPair", "X-TC-Timestamp": str(ts)})

    def tc_import(t, i):
        hh, bb = signers.tencent_tc3(thost, "ImportKeyPair", json.dumps({
            "KeyName": f"imp_{t}_{i}", "ProjectId": 0,
            "PublicKey": signers.random_rsa_public_key()}), ts, tc_id, tc_secret)
        return hh["Authorization"] + "\t" + bb
    row("tencent_import", at.tport,
        lambda fmt: bench.lua_lines(fmt, istatic, True) + bench.TENCENT_ERRORS_LUA,
        (0.6, tc_import))
    return rows


def write_report(r, out):
    lines = [f"# novakeys benchmark on PostgreSQL ({r['mode']})", "",
             f"{time.strftime('%Y-%m-%d %H:%M:%S')} on {os.cpu_count()} CPUs, PostgreSQL "
             f"{r.get('postgres', '?')} (server defaults: fsync and synchronous commit on), "
             f"wrk -t{r['wrk_threads']} -c{r['connections']} -d{r['duration_s']}s per row, "
             "each right after a run of the bare actix baseline. CPU is per request, summed "
             "over the processes of each kind; novakeys, PostgreSQL, wrk and HAProxy share the "
             "same cores.", ""]
    for s in r["setups"]:
        lines += [f"## {s['setup']}", "",
                  "| scenario | req/s | ×baseline | p50 ms | p99 ms | non-2xx | socket errors "
                  "| CPU µs/req: novakeys | PostgreSQL | HAProxy |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in s["rows"]:
            cpu = row["cpu_us"]
            lines.append(
                f"| {row['name']} | {row['rps']:.0f} | {row['rps'] / row['baseline_rps']:.3f} | "
                f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['non2xx']} | "
                f"{row['sock_errors']} | {cpu['novakeys']:.0f} | {cpu['postgres']:.0f} | "
                f"{cpu['haproxy']:.0f} |" if "haproxy" in cpu else
                f"| {row['name']} | {row['rps']:.0f} | {row['rps'] / row['baseline_rps']:.3f} | "
                f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['non2xx']} | "
                f"{row['sock_errors']} | {cpu['novakeys']:.0f} | {cpu['postgres']:.0f} | – |")
        lines.append("")
    name = "postgres-smoke.md" if r["mode"] == "smoke" else "postgres.md"
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(lines))
    log(f"bench: wrote {os.path.join(out, name)}")
    bad = [(s["setup"], row["name"]) for s in r["setups"] for row in s["rows"]
           if row["non2xx"] or row["sock_errors"]]
    if bad:
        raise SystemExit(f"bench: error answers in {bad}")


if __name__ == "__main__":
    main()
