#!/usr/bin/env python3
"""Drives novakeys and the baseline server with wrk; see bench/README.md.

Called by bench/run.sh (which builds the binaries and installs wrk):
    bench.py --novakeys BIN --baseline BIN --out DIR [--smoke] [--scale] [--duration S]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import signers

HERE = os.path.dirname(os.path.abspath(__file__))
IMPORT_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq"
              " bench@novakeys")

REPORT_LUA = r"""
function done(summary, latency, requests)
  local f = io.open(os.getenv("WRK_REPORT"), "w")
  local e = summary.errors
  -- Errors some APIs answer inside a 200 (Tencent), counted by the row's response().
  local inside = 0
  if response then
    for _, t in ipairs(threads) do inside = inside + (t:get("bad") or 0) end
  end
  f:write(string.format("%d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.status + inside, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
  f:close()
end
"""

# Per-thread counters: setup() numbers the threads, request() makes unique names.
THREADS_LUA = r"""
local nthreads = 0
threads = {}
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end
"""


def lua_lines(lines_fmt, headers, tab_auth=False):
    """Requests read from one file per wrk thread (`lines_fmt` % tid), one line each: a
    pre-signed `POST` path (Alibaba), or `Authorization<TAB>body` (Tencent, `tab_auth`)."""
    h = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    per_request = """
  local tab = string.find(l, "\t", 1, true)
  hdrs["Authorization"] = string.sub(l, 1, tab - 1)
  return wrk.format("POST", "/", hdrs, string.sub(l, tab + 1))""" if tab_auth else """
  return wrk.format("POST", l, hdrs, "")"""
    return f"""
local hdrs = {{ {h} }}
local lines = {{}}
local i = 0
function init(args)
  local f = assert(io.open(string.format("{lines_fmt}", tid), "r"))
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
end
function request()
  i = i + 1
  local l = lines[(i - 1) % #lines + 1]{per_request}
end
"""


# Tencent answers its errors inside an HTTP 200.
TENCENT_ERRORS_LUA = r"""
bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"Error"', 1, true) then bad = bad + 1 end
end
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def wait_idle(pid, quiet=1.0, timeout=120):
    """Waits until the process has used no CPU for `quiet` seconds (e.g. key pool full)."""
    end = time.time() + timeout
    last = cpu_ticks(pid)
    still = time.time()
    while time.time() < end:
        time.sleep(0.25)
        now = cpu_ticks(pid)
        if now != last:
            last, still = now, time.time()
        elif time.time() - still >= quiet:
            return True
    return False


class Server:
    """A novakeys serve process on free loopback ports with a fresh database."""

    def __init__(self, binary, workdir, name, extra=(), db=None):
        self.db = db or os.path.join(workdir, f"{name}.db")
        self.cport, self.iport = free_port(), free_port()
        self.aport, self.tport, self.wport, self.uport = (free_port() for _ in range(4))
        self.out = open(os.path.join(workdir, f"{name}.log"), "w")
        args = [binary, "serve", "--db", self.db,
                "--compute-bind", f"127.0.0.1:{self.cport}",
                "--identity-bind", f"127.0.0.1:{self.iport}",
                # Every front on, as the cold start and RSS targets are read with them.
                "--alibaba-bind", f"127.0.0.1:{self.aport}",
                "--tencent-bind", f"127.0.0.1:{self.tport}",
                "--twcc-bind", f"127.0.0.1:{self.wport}",
                "--console-bind", f"127.0.0.1:{self.uport}",
                "--quota-key-pairs", "-1", "--alibaba-keypair-quota", "-1", *extra]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT)
        self.cold_start_ms = wait_200(self.cport, "/v2.1", self.t0, self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def wait_200(port, path, t0, proc, timeout=30):
    """Polls until GET path answers 200; milliseconds since t0."""
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return (time.perf_counter() - t0) * 1000
        except OSError:
            time.sleep(0.0005)
    raise SystemExit(f"no 200 from {path} within {timeout}s")


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Content-Type": "application/json", **(headers or {})}
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def token(server, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    status, headers, data = request(server.iport, "POST", "/v3/auth/tokens", body)
    if status != 201:
        raise SystemExit(f"token for {user}: {status} {data[:200]!r}")
    tok = {k.lower(): v for k, v in headers.items()}["x-subject-token"]
    user_id = json.loads(data)["token"]["user"]["id"]
    return tok, user_id


def cloud_user(srv, admin, name, cloud, access, secret, keypairs=100):
    """A member of project demo with `keypairs` key pairs (imported through Nova) and a
    `cloud` access key (a Keystone credential), made as a user of the real cloud would."""
    def call(method, path, body=None, port=None, tok=admin, want=(200, 201, 204)):
        st, _, d = request(port or srv.iport, method, path, body, {"X-Auth-Token": tok})
        if st not in want:
            raise SystemExit(f"{method} {path}: {st} {d[:200]!r}")
        return json.loads(d) if d else None
    pid = call("GET", "/v3/projects?name=demo")["projects"][0]["id"]
    rid = call("GET", "/v3/roles?name=member")["roles"][0]["id"]
    uid = call("POST", "/v3/users", {"user": {"name": name, "password": name,
                                              "domain_id": "default"}})["user"]["id"]
    call("PUT", f"/v3/projects/{pid}/users/{uid}/roles/{rid}")
    call("POST", "/v3/credentials", {"credential": {
        "type": cloud, "user_id": uid, "project_id": pid,
        "blob": json.dumps({"access": access, "secret": secret})}})
    tok, _ = token(srv, name, name, "demo")
    for i in range(keypairs):
        call("POST", "/v2.1/os-keypairs", {"keypair": {"name": f"key-{i:03}",
             "public_key": signers.random_rsa_public_key()}}, port=srv.cport, tok=tok)


def write_lines(workdir, name, threads, per_thread, line):
    """`per_thread` request lines for each wrk thread (`line(tid, i)`); the files' pattern."""
    for t in range(threads):
        with open(os.path.join(workdir, f"{name}-{t}.lines"), "w") as f:
            for i in range(per_thread):
                f.write(line(t, i) + "\n")
    return os.path.join(workdir, f"{name}-%d.lines")


def console_session(srv, user, password):
    """Logs in to the console as its log-in form does; the session cookie."""
    origin = f"http://127.0.0.1:{srv.uport}"
    c = http.client.HTTPConnection("127.0.0.1", srv.uport, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    page = r.read().decode()
    login = next(v.split(";")[0] for k, v in r.getheaders()
                 if k.lower() == "set-cookie" and v.startswith("nk_login="))
    form = page.split('action="/login"', 1)[1]  # (the language form comes first)
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": user, "password": password,
                                   "domain": "Default"})
    c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded",
                                       "Cookie": login, "Origin": origin})
    r = c.getresponse()
    r.read()
    c.close()
    session = [v.split(";")[0] for k, v in r.getheaders()
               if k.lower() == "set-cookie" and v.startswith("nk_session=")]
    if r.status != 303 or not session:
        raise SystemExit(f"console log-in: {r.status}")
    return session[0]


# A page row counts anything but a 200 (a redirect to the log-in page included) as an error.
STATUS_200_LUA = r"""
bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
"""


def wrk(url, script, duration, conns, threads, workdir, name, pid=None):
    path = os.path.join(workdir, f"{name}.lua")
    with open(path, "w") as f:
        f.write(THREADS_LUA + script + REPORT_LUA)
    report = os.path.join(workdir, f"{name}.out")
    env = dict(os.environ, WRK_REPORT=report)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s",
           "--timeout", "30s", "-s", path, url]
    ticks = cpu_ticks(pid) if pid else 0
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    ticks = cpu_ticks(pid) - ticks if pid else 0
    if p.returncode != 0:
        raise SystemExit(f"wrk failed for {name}: {p.stderr}")
    with open(report) as f:
        req, dur_us, e_status, e_sock, p50, p99, mean = map(int, f.read().split())
    r = {"name": name, "requests": req, "rps": req / (dur_us / 1e6),
         "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "mean_ms": mean / 1000,
         "non2xx": e_status, "sock_errors": e_sock,
         # server CPU time per request (user+sys): steadier than req/s on a shared machine
         "cpu_us": ticks * 1e6 / os.sysconf("SC_CLK_TCK") / max(req, 1) if pid else None}
    cpu = f"  cpu {r['cpu_us']:.0f} us/req" if pid else ""
    log(f"  {name:<22} {r['rps']:>9.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms{cpu}"
        f"  non-2xx {e_status}  socket errors {e_sock}")
    return r


def lua_get(path, headers):
    h = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    return f"""
local hdrs = {{ {h} }}
function request() return wrk.format("GET", "{path}", hdrs) end
"""


def lua_body(method, path_fmt, body_fmt, headers, names_fmt='string.format("%d-%d", tid, n)'):
    """A request per call with a unique `name` (tid-n); path_fmt/body_fmt are Lua
    string.format patterns taking that name."""
    h = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    return f"""
local hdrs = {{ {h} }}
local n = 0
function request()
  local name = {names_fmt}
  n = n + 1
  local body = {body_fmt}
  return wrk.format("{method}", {path_fmt}, hdrs, body)
end
"""


def disk_sync_us(workdir, rounds):
    """What one `--durability full` commit waits for at least: ~11 WAL frames (44 KB, the size
    of a grouped import commit here) written after the last and made durable with fdatasync,
    in the bench's work directory. The CPU-bound baseline never waits for the disk, so the
    import_full ratio moves with this figure (the shared host's disk load)."""
    path = os.path.join(workdir, "disk-probe")
    chunk = os.urandom(11 * 4096)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    try:
        times = []
        for i in range(rounds):
            os.pwrite(fd, chunk, i * len(chunk))
            t = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    return {"rounds": rounds, "p50_us": times[len(times) // 2],
            "p99_us": times[min(len(times) - 1, len(times) * 99 // 100)]}


def openssl_genrsa_ms(n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["openssl", "genrsa", "-out", "/dev/null", "2048"],
                       check=True, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.mean(times), statistics.median(times)


def timed_generates(port, tok, n, prefix, conc=1):
    """n generate requests at 2.1 with `conc` parallel connections; per-request ms."""
    import threading
    lat = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps({"keypair": {"name": f"{prefix}-{i}"}})
            t = time.perf_counter()
            c.request("POST", "/v2.1/os-keypairs", body=body,
                      headers={"Content-Type": "application/json", "X-Auth-Token": tok})
            r = c.getresponse()
            r.read()
            ms = (time.perf_counter() - t) * 1000
            if r.status != 200:
                raise SystemExit(f"generate: {r.status}")
            with lock:
                lat.append(ms)
        c.close()

    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(lat)


def reset_round_trips(srv, rounds):
    """POST /_novakeys/reset after adding 10 key pairs, `rounds` times, on one keep-alive
    connection; milliseconds per reset (the whole HTTP round trip)."""
    c = http.client.HTTPConnection("127.0.0.1", srv.cport, timeout=60)
    tok, _ = token(srv, "demo", "demo", "demo")
    times = []
    for r in range(rounds):
        for i in range(10):
            body = json.dumps({"keypair": {"name": f"r{r}-{i}", "public_key": IMPORT_KEY}})
            c.request("POST", "/v2.1/os-keypairs", body,
                      {"X-Auth-Token": tok, "Content-Type": "application/json"})
            resp = c.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
        t = time.perf_counter()
        c.request("POST", "/_novakeys/reset", headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        resp.read()
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 204, resp.status
    c.close()
    times.sort()
    return {"rounds": rounds, "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
            "min_ms": times[0]}


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--novakeys", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--signatures", required=True, help="the bench_signatures example")
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--duration", type=int, default=None, help="seconds per row (wrk takes whole seconds)")
    ap.add_argument("--mixed", type=int, default=None,
                    help="seconds of mixed load before the RSS figure; the load goes on as long again "
                         "to see whether RSS still grows")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    smoke = a.smoke
    dur = a.duration or (1 if smoke else 5)
    mixed_s = a.mixed or (2 if smoke else 60)
    conns, threads = (2, 1) if smoke else (32, 2)
    keygen_n = 2 if smoke else 20
    pool_size = 4 if smoke else 16
    workdir = tempfile.mkdtemp(prefix="novakeys-bench-")
    os.makedirs(a.out, exist_ok=True)
    results = {"mode": "smoke" if smoke else "full", "duration_s": dur, "connections": conns,
               "wrk_threads": threads, "rows": []}
    servers = []
    bproc = None
    try:
        # Ceiling: the bare actix handler. It stays up (idle) for the whole run and is loaded
        # again right before every throughput row: on a shared machine req/s drifts by ±20 %
        # within minutes, so each row's ratio is to the baseline measured next to it.
        log("baseline")
        bport = free_port()
        bproc = subprocess.Popen([a.baseline, f"127.0.0.1:{bport}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_200(bport, "/", time.perf_counter(), bproc)
        baseline_runs = []

        def baseline_now():
            r = wrk(f"http://127.0.0.1:{bport}", lua_get("/v2.1/os-keypairs/x", {}), dur,
                    conns, threads, workdir, "baseline", bproc.pid)
            baseline_runs.append(r)
            return r

        def row(*args, **kw):
            """A throughput row, with the baseline measured just before it."""
            b = baseline_now()
            r = wrk(*args, **kw)
            r["baseline"] = {k: b[k] for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
            return r

        base = baseline_now()

        # Cold start: exec → first 200 on /v2.1, fresh database each time (median of 3).
        log("cold start")
        colds = []
        for i in range(1 if smoke else 3):
            s = Server(a.novakeys, workdir, f"cold{i}")
            colds.append(s.cold_start_ms)
            s.stop()
        results["cold_start_ms"] = statistics.median(colds)
        log(f"  cold start {results['cold_start_ms']:.1f} ms ({', '.join(f'{c:.1f}' for c in colds)})")

        # The server under test: 100 key pairs for demo (list/show), a big seeded user whose
        # key pairs the delete run removes (admin, user_id at 2.10).
        log("setup")
        del_n = 50000 if smoke else 400000
        subprocess.run([a.novakeys, "seed", "--db", os.path.join(workdir, "main.db"),
                        "--users", "1", "--keypairs-per-user", str(del_n),
                        "--user-prefix", "del-user-"], check=True, capture_output=True)
        # 1000 users with 100 key pairs each: listing them in turn never hits the rendered-body
        # cache (4 MB, ~230 lists), so list100_uncached measures the SQLite + render path.
        list_users = 50 if smoke else 1000
        subprocess.run([a.novakeys, "seed", "--db", os.path.join(workdir, "main.db"),
                        "--users", str(list_users), "--keypairs-per-user", "100",
                        "--user-prefix", "list-user-"], check=True, capture_output=True)
        srv = Server(a.novakeys, workdir, "main", ["--keygen-pool", str(pool_size)],
                     db=os.path.join(workdir, "main.db"))
        servers.append(srv)
        results["cold_start_seeded_ms"] = srv.cold_start_ms
        demo, demo_id = token(srv, "demo", "demo", "demo")
        admin, _ = token(srv, "admin", "admin", "admin")
        for i in range(100):
            st, _, d = request(srv.cport, "POST", "/v2.1/os-keypairs",
                               {"keypair": {"name": f"key-{i:03}", "public_key": IMPORT_KEY}},
                               {"X-Auth-Token": demo})
            assert st == 200, (st, d)
        wait_idle(srv.pid)  # pool full, nothing running
        results["idle_rss_kb"] = rss_kb(srv.pid)
        log(f"  idle RSS {results['idle_rss_kb'] / 1024:.1f} MB")

        url = f"http://127.0.0.1:{srv.cport}"
        iurl = f"http://127.0.0.1:{srv.iport}"
        rows = results["rows"]
        rows.append(base)
        rows.append(row(url, lua_get("/v2.1/os-keypairs/key-050", {"X-Auth-Token": demo}),
                        dur, conns, threads, workdir, "show", srv.pid))
        rows.append(row(url, lua_get("/v2.1/os-keypairs", {"X-Auth-Token": demo}),
                        dur, conns, threads, workdir, "list100", srv.pid))
        # What the request log (on by default, a line per call to stderr) costs: the show row
        # again against a server that logs warnings only.
        quiet = Server(a.novakeys, workdir, "quiet", ["--keygen-pool", "0", "--log-level", "warn"])
        servers.append(quiet)
        qdemo, _ = token(quiet, "demo", "demo", "demo")
        st, _, d = request(quiet.cport, "POST", "/v2.1/os-keypairs",
                           {"keypair": {"name": "key-050", "public_key": IMPORT_KEY}},
                           {"X-Auth-Token": qdemo})
        assert st == 200, (st, d)
        rows.append(row(f"http://127.0.0.1:{quiet.cport}",
                        lua_get("/v2.1/os-keypairs/key-050", {"X-Auth-Token": qdemo}),
                        dur, conns, threads, workdir, "show_log_off", quiet.pid))
        quiet.stop()
        servers.remove(quiet)
        rows.append(row(url, lua_body(
            "GET", f'string.format("/v2.1/os-keypairs?user_id=list-user-%d", (n * {threads} + tid) % {list_users})',
            "nil", {"X-Auth-Token": admin, "OpenStack-API-Version": "compute 2.10"}),
            dur, conns, threads, workdir, "list100_uncached", srv.pid))
        body = ('string.format(\'{"keypair": {"name": "imp-%s", "public_key": "'
                + IMPORT_KEY + '"}}\', name)')
        rows.append(row(url, lua_body("POST", '"/v2.1/os-keypairs"', body,
                                      {"X-Auth-Token": admin,
                                       "Content-Type": "application/json"}),
                        dur, conns, threads, workdir, "import", srv.pid))
        # The same import against a server with --durability full (every commit fsynced).
        full = Server(a.novakeys, workdir, "full", ["--keygen-pool", "0", "--durability", "full"])
        servers.append(full)
        fadmin, _ = token(full, "admin", "admin", "admin")
        results["disk_sync"] = disk_sync_us(workdir, 20 if smoke else 200)
        log(f"  disk probe: fdatasync p50 {results['disk_sync']['p50_us']:.0f} us, "
            f"p99 {results['disk_sync']['p99_us']:.0f} us")
        rows.append(row(f"http://127.0.0.1:{full.cport}",
                        lua_body("POST", '"/v2.1/os-keypairs"', body,
                                 {"X-Auth-Token": fadmin, "Content-Type": "application/json"}),
                        dur, conns, threads, workdir, "import_full", full.pid))
        full.stop()
        servers.remove(full)
        width = len(str(del_n - 1))
        rows.append(row(url, lua_body(
            "DELETE", f'string.format("/v2.1/os-keypairs/key-%0{width}d?user_id=del-user-0", name)',
            "nil", {"X-Auth-Token": admin, "OpenStack-API-Version": "compute 2.10"},
            names_fmt=f"tid + n * {threads}"), dur, conns, threads, workdir, "delete", srv.pid))
        tok_body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})
        rows.append(row(iurl, lua_body("POST", '"/v3/auth/tokens"', f"[[{tok_body}]]",
                                       {"Content-Type": "application/json"}),
                        dur, conns, threads, workdir, "token_issue", srv.pid))

        # The cloud fronts: signed requests, pre-signed in Python (wrk cannot sign), for users
        # with 100 key pairs each. A row gets as many lines as the baseline could serve in its
        # time (`cap` × its rate) so no signed request is sent twice.
        log("cloud fronts")
        ali_id, ali_secret = "LTAI5tBenchAlibaba000001", "BenchAlibabaSecretForNovakeys1"
        tc_id, tc_secret = "AKIDBenchTencent000000000000000000001", "BenchTencentSecretKeyNovakeys001"
        cloud_user(srv, admin, "ali-bench", "alibaba", ali_id, ali_secret)
        cloud_user(srv, admin, "tc-bench", "tencent", tc_id, tc_secret)
        aurl = f"http://127.0.0.1:{srv.aport}"
        turl = f"http://127.0.0.1:{srv.tport}"
        thost = f"127.0.0.1:{srv.tport}"

        def signed_row(url, name, cap, line, headers, tab_auth=False, extra_lua=""):
            b = baseline_now()
            per_thread = int(b["rps"] * dur * cap / threads) + 200
            fmt = write_lines(workdir, name, threads, per_thread, line)
            r = wrk(url, lua_lines(fmt, headers, tab_auth) + extra_lua, dur, conns, threads,
                    workdir, name, srv.pid)
            r["baseline"] = {k: b[k] for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
            return r

        rows.append(signed_row(aurl, "alibaba_describe", 1.2, lambda t, i: signers.alibaba_rpc_path(
            {"Action": "DescribeKeyPairs"}, ali_id, ali_secret), {}))
        rows.append(signed_row(aurl, "alibaba_import", 0.6, lambda t, i: signers.alibaba_rpc_path(
            {"Action": "ImportKeyPair", "KeyPairName": f"imp-{t}-{i}",
             "PublicKeyBody": signers.random_rsa_public_key()}, ali_id, ali_secret), {}))
        # TC3 has no nonce: one signed describe serves the whole row.
        ts = int(time.time())
        tc_describe, body = signers.tencent_tc3(thost, "DescribeKeyPairs", "{}", ts, tc_id, tc_secret)
        tc_static = {k: v for k, v in tc_describe.items() if k != "Authorization"}
        rows.append(signed_row(turl, "tencent_describe", 0.0, lambda t, i: (
            tc_describe["Authorization"] + "\t" + body), tc_static, True, TENCENT_ERRORS_LUA))

        def tc_import(t, i):
            h, b = signers.tencent_tc3(thost, "ImportKeyPair", json.dumps({
                "KeyName": f"imp_{t}_{i}", "ProjectId": 0,
                "PublicKey": signers.random_rsa_public_key()}), ts, tc_id, tc_secret)
            return h["Authorization"] + "\t" + b
        ts = int(time.time())
        tc_static["X-TC-Action"], tc_static["X-TC-Timestamp"] = "ImportKeyPair", str(ts)
        rows.append(signed_row(turl, "tencent_import", 0.6, tc_import, tc_static, True,
                               TENCENT_ERRORS_LUA))
        sig = subprocess.run([a.signatures, "2000" if smoke else "50000"], check=True,
                             capture_output=True, text=True)
        results["signatures"] = json.loads(sig.stdout)
        log(f"  signature checks (µs/request): {results['signatures']}")

        # The console: each page with 1,000 key pairs, one connection, so the round trip is
        # the server's time plus loopback.
        log("console")
        # The rows above left admin with ~100,000 imported key pairs: a server of its own, so
        # the pages are read with exactly 1,000 (every front on, as everywhere).
        csrv = Server(a.novakeys, workdir, "console")
        servers.append(csrv)
        console_admin, _ = token(csrv, "admin", "admin", "admin")
        for i in range(1000):
            st, _, d = request(csrv.cport, "POST", "/v2.1/os-keypairs",
                               {"keypair": {"name": f"page-{i:04}", "public_key": IMPORT_KEY}},
                               {"X-Auth-Token": console_admin})
            assert st == 200, (st, d)
        cookie = console_session(csrv, "admin", "admin")
        curl = f"http://127.0.0.1:{csrv.uport}"
        results["console"] = []
        for page in ["/keypairs", "/keypairs?sort=name&page=10", "/keypairs?q=page-05",
                     "/keypair/page-0500", "/keypairs/new", "/keypairs/import", "/activity"]:
            st, _, d = request(csrv.uport, "GET", page, headers={"Cookie": cookie})
            if st != 200:
                raise SystemExit(f"console {page}: {st}")
            r = wrk(curl, lua_get(page, {"Cookie": cookie}) + STATUS_200_LUA,
                    1 if smoke else 3, 1, 1, workdir, "console", csrv.pid)
            r["page"] = page
            results["console"].append(r)
        csrv.stop()
        servers.remove(csrv)
        bproc.terminate()
        bproc.wait()
        results["baseline_runs"] = [b["rps"] for b in baseline_runs]

        # Key generation: openssl vs novakeys' own (pool off), the pool burst, the sustained rate.
        log("key generation")
        o_mean, o_med = openssl_genrsa_ms(keygen_n)
        nopool = Server(a.novakeys, workdir, "nopool", ["--keygen-pool", "0"])
        servers.append(nopool)
        np_tok, _ = token(nopool, "admin", "admin", "admin")
        own = timed_generates(nopool.cport, np_tok, keygen_n, "own")
        nopool.stop()
        servers.remove(nopool)
        results["keygen"] = {"openssl_mean_ms": o_mean, "openssl_median_ms": o_med,
                             "novakeys_mean_ms": statistics.mean(own),
                             "novakeys_median_ms": statistics.median(own), "samples": keygen_n}
        log(f"  openssl genrsa 2048: mean {o_mean:.1f} ms median {o_med:.1f} ms; "
            f"novakeys inline: mean {statistics.mean(own):.1f} ms median {statistics.median(own):.1f} ms")
        wait_idle(srv.pid)
        burst = timed_generates(srv.cport, admin, pool_size, "burst", conc=4)
        results["burst"] = {"size": pool_size, "p50_ms": pct(burst, 50),
                            "max_ms": burst[-1]}
        log(f"  burst of {pool_size}: p50 {pct(burst, 50):.2f} ms max {burst[-1]:.2f} ms")
        gen = wrk(url, lua_body("POST", '"/v2.1/os-keypairs"',
                                'string.format(\'{"keypair": {"name": "gen-%s"}}\', name)',
                                {"X-Auth-Token": admin, "Content-Type": "application/json"}),
                  max(dur, 2 if smoke else 10), 2, 1, workdir, "generate", srv.pid)
        rows.append(gen)
        wait_idle(srv.pid)

        # Reset: a small store (the fixtures plus 10 key pairs each round), one client, round
        # trip as the client sees it (HTTP included).
        log("reset")
        rs = Server(a.novakeys, workdir, "reset", ["--keygen-pool", "0"])
        servers.append(rs)
        results["reset"] = reset_round_trips(rs, 20 if smoke else 200)
        rs.stop()
        servers.remove(rs)
        log(f"  reset p50 {results['reset']['p50_ms']:.3f} ms, p99 {results['reset']['p99_ms']:.3f} ms")

        # Mixed load; RSS sampled from /proc.
        log(f"mixed load {2 * mixed_s:.0f} s (RSS after {mixed_s:.0f} s, then whether it still grows)")
        mixed_lua = f"""
local hdrs = {{ ["X-Auth-Token"] = "{demo}", ["Content-Type"] = "application/json" }}
local n = 0
function request()
  n = n + 1
  local k = n % 10
  if k == 5 then
    return wrk.format("POST", "/v2.1/os-keypairs", hdrs,
      string.format('{{"keypair": {{"name": "mix-%d-%d", "public_key": "{IMPORT_KEY}"}}}}', tid, n))
  elseif k == 9 and n > 420 then
    -- the import from 404 requests ago: long done even with every connection busy
    return wrk.format("DELETE", string.format("/v2.1/os-keypairs/mix-%d-%d", tid, n - 404), hdrs)
  elseif k % 2 == 0 then
    return wrk.format("GET", "/v2.1/os-keypairs/key-" .. string.format("%03d", n % 100), hdrs)
  else
    return wrk.format("GET", "/v2.1/os-keypairs", hdrs)
  end
end
"""
        samples = []
        path = os.path.join(workdir, "mixed.lua")
        with open(path, "w") as f:
            f.write(THREADS_LUA + mixed_lua + REPORT_LUA)
        report = os.path.join(workdir, "mixed.out")
        wp = subprocess.Popen(["wrk", "-t", str(threads), "-c", str(conns), "-d",
                               f"{2 * mixed_s}s", "--timeout", "30s", "-s", path, url],
                              env=dict(os.environ, WRK_REPORT=report),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while wp.poll() is None:
            time.sleep(min(5, max(0.25, mixed_s / 12)))
            samples.append((round(time.time() - t0, 1), rss_kb(srv.pid)))
        with open(report) as f:
            req, dur_us, e_status, e_sock, p50, p99, mean = map(int, f.read().split())
        results["mixed"] = {"seconds": mixed_s, "rps": req / (dur_us / 1e6), "non2xx": e_status,
                            "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
                            "rss_samples_kb": samples,
                            "rss_end_kb": rss_kb(srv.pid)}
        log(f"  mixed {req / (dur_us / 1e6):.0f} req/s non-2xx {e_status}; RSS "
            + " ".join(f"{t:.0f}s:{kb / 1024:.1f}" for t, kb in samples))

        if a.scale:
            results["scale"] = scale(a, workdir)
    finally:
        if bproc is not None and bproc.poll() is None:
            bproc.terminate()
            bproc.wait()
        for s in servers:
            s.stop()
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"work directory kept: {workdir}")

    write_report(results, a.out)
    if smoke:
        # The smoke run checks the scripts themselves: every request must have been right.
        bad = [r["name"] for r in results["rows"] + results["console"]
               if r["non2xx"] or r["sock_errors"]]
        if bad:
            raise SystemExit(f"smoke: error answers in {', '.join(bad)}")


def scale(a, workdir):
    """1,000,000 key pairs (10,000 users × 100) plus 300 users with 1,000 each (listed in
    turn, so no page comes from the rendered-body cache)."""
    log("scale: seeding 10000 users x 100 key pairs")
    db = os.path.join(workdir, "scale.db")
    t = time.time()
    p = subprocess.run([a.novakeys, "seed", "--db", db, "--users", "10000",
                        "--keypairs-per-user", "100"], check=True, capture_output=True, text=True)
    log("  " + p.stdout.strip())
    seed_s = time.time() - t
    p2 = subprocess.run([a.novakeys, "seed", "--db", db, "--users", "300", "--keypairs-per-user",
                         "1000", "--user-prefix", "big-user-"], check=True, capture_output=True,
                        text=True)
    size = os.path.getsize(db)
    srv = Server(a.novakeys, workdir, "scale", ["--keygen-pool", "0"], db=db)
    try:
        admin, _ = token(srv, "admin", "admin", "admin")
        url = f"http://127.0.0.1:{srv.cport}"
        h = {"X-Auth-Token": admin, "OpenStack-API-Version": "compute 2.35"}
        show_lua = f"""
local hdrs = {{ ["X-Auth-Token"] = "{admin}", ["OpenStack-API-Version"] = "compute 2.10" }}
local n = 0
function request()
  n = n + 1
  local u = (n * 7919 + tid * 104729) % 10000
  return wrk.format("GET", string.format("/v2.1/os-keypairs/key-%02d?user_id=seed-user-%d", n % 100, u), hdrs)
end
"""
        show = wrk(url, show_lua, 10, 32, 2, workdir, "scale_show")
        show1 = wrk(url, show_lua, 5, 1, 1, workdir, "scale_show_c1")
        page_lua = lua_body(
            "GET", 'string.format("/v2.1/os-keypairs?user_id=big-user-%d&limit=1000", (n * 7 + tid) % 300)',
            "nil", h)
        page = wrk(url, page_lua, 10, 4, 1, workdir, "scale_list1000")
        page1 = wrk(url, page_lua, 5, 1, 1, workdir, "scale_list1000_c1")
        st, _, d = request(srv.cport, "GET", "/v2.1/os-keypairs?user_id=big-user-0&limit=1000",
                           headers=h)
        items = len(json.loads(d)["keypairs"])
    finally:
        srv.stop()
    return {"keypairs": 1_300_000, "seed_seconds": seed_s, "seed_output": p.stdout.strip(),
            "db_bytes": size, "bytes_per_keypair": size / 1_300_000, "show": show, "show_c1": show1,
            "list1000": page, "list1000_c1": page1, "page_items": items}


def write_report(r, out):
    rows = r["rows"]
    base = rows[0]
    targets = {"show": 0.5, "list100": 0.25, "import": 0.2, "import_full": 0.2,
               "alibaba_describe": 0.4, "alibaba_import": 0.2,
               "tencent_describe": 0.4, "tencent_import": 0.2}
    lines = [f"# novakeys benchmark ({r['mode']})", "",
             f"{time.strftime('%Y-%m-%d %H:%M:%S')} on {os.cpu_count()} CPUs; wrk "
             f"-t{r['wrk_threads']} -c{r['connections']} -d{r['duration_s']}s per row "
             f"(generate: -t1 -c2). Ratios are to the bare actix baseline, loaded for the same time "
             f"right before each row (the `baseline` line is the first of those runs; all of them: "
             f"{', '.join(f'{x:.0f}' for x in r.get('baseline_runs', [base['rps']]))} req/s).", "",
             "| scenario | req/s | ×baseline | p50 ms | p99 ms | p50 ×baseline | p99 ×baseline | server CPU µs/req | CPU ×baseline | non-2xx | target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        b = row.get("baseline", base)
        ratio = row["rps"] / b["rps"]
        t = targets.get(row["name"])
        # A row with any error answer misses its target, whatever its rate.
        clean = row["non2xx"] == 0
        target = f"≥ {t} × {'✅' if ratio >= t and clean else '❌'}" if t else ""
        if row["name"] == "token_issue":
            target = f"≥ 2000/s {'✅' if row['rps'] >= 2000 and clean else '❌'}"
        lines.append(
            f"| {row['name']} | {row['rps']:.0f} | {ratio:.3f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['p50_ms'] / max(b['p50_ms'], 1e-3):.1f} | "
            f"{row['p99_ms'] / max(b['p99_ms'], 1e-3):.1f} | {row['cpu_us']:.0f} | "
            f"{row['cpu_us'] / max(b['cpu_us'], 1e-3):.1f} | {row['non2xx']} | {target} |")
    k = r["keygen"]
    kr = k["novakeys_mean_ms"] / k["openssl_mean_ms"]
    b = r["burst"]
    m = r["mixed"]
    samples = m["rss_samples_kb"]
    # RSS "after" the mixed load is the sample at its `seconds` mark; "growing" is judged on the
    # same load after that mark (caches and the allocator fill up during the first minute), as
    # the median of its second half against the median of its first: one 5-s sample is noisy
    # by about a megabyte either way.
    at = max((x for x in samples if x[0] <= m["seconds"] + 0.5), default=(0, m["rss_end_kb"]))[1]
    later = [kb for t, kb in samples if t > m["seconds"] + 0.5] or [m["rss_end_kb"]]
    n = len(later) // 2
    growth = statistics.median(later[n:]) - statistics.median(later[:n] or later)
    lines += ["",
              "| measure | value | target |", "|---|---:|---|",
              f"| keygen per key, novakeys inline (mean of {k['samples']}) | {k['novakeys_mean_ms']:.1f} ms "
              f"(median {k['novakeys_median_ms']:.1f}) | |",
              f"| keygen per key, `openssl genrsa 2048` (mean of {k['samples']}) | {k['openssl_mean_ms']:.1f} ms "
              f"(median {k['openssl_median_ms']:.1f}) | |",
              f"| keygen ratio novakeys/openssl | {kr:.2f} | ≤ 1.5 {'✅' if kr <= 1.5 else '❌'} |",
              f"| generate burst of {b['size']} (pool size), p50 | {b['p50_ms']:.2f} ms (max {b['max_ms']:.1f}) "
              f"| ≤ 5 ms {'✅' if b['p50_ms'] <= 5 else '❌'} |",
              f"| generate sustained (pool drained) | {rows[-1]['rps']:.1f} keys/s | |",
              f"| `POST /_novakeys/reset` round trip, small store ({r['reset']['rounds']} rounds, 10 key pairs each) "
              f"| p50 {r['reset']['p50_ms']:.3f} ms, p99 {r['reset']['p99_ms']:.3f} ms "
              f"| < 1 ms {'✅' if r['reset']['p50_ms'] < 1 else '❌'} |",
              f"| disk: 44 KB appended + fdatasync in the work dir, right before import_full "
              f"({r['disk_sync']['rounds']} rounds; a `full` commit waits at least this) "
              f"| p50 {r['disk_sync']['p50_us']:.0f} µs, p99 {r['disk_sync']['p99_us']:.0f} µs | |",
              f"| cold start, fresh DB (exec → first 200 on /v2.1) | {r['cold_start_ms']:.1f} ms "
              f"| ≤ 50 ms {'✅' if r['cold_start_ms'] <= 50 else '❌'} |",
              f"| cold start, seeded DB | {r['cold_start_seeded_ms']:.1f} ms | |",
              f"| idle RSS (pool full) | {r['idle_rss_kb'] / 1024:.1f} MB "
              f"| ≤ 20 MB {'✅' if r['idle_rss_kb'] <= 20 * 1024 else '❌'} |",
              f"| mixed load {2 * m['seconds']:.0f} s | {m['rps']:.0f} req/s, p50 {m['p50_ms']:.2f} ms, "
              f"p99 {m['p99_ms']:.2f} ms, non-2xx {m['non2xx']} | |",
              f"| RSS after {m['seconds']:.0f} s of mixed load | {at / 1024:.1f} MB | ≤ 64 MB "
              f"{'✅' if at <= 64 * 1024 else '❌'} |",
              f"| RSS growth over the next {m['seconds']:.0f} s of the same load (median of the last "
              f"half minus median of the first) | {growth / 1024:+.1f} MB (max "
              f"{max(kb for _, kb in samples) / 1024:.1f} MB, at the end {m['rss_end_kb'] / 1024:.1f} MB) "
              f"| not growing (≤ 1 MB) {'✅' if growth <= 1024 else '❌'} |",
              "", "RSS samples (s: MB): "
              + ", ".join(f"{t:.0f}: {kb / 1024:.1f}" for t, kb in samples)]
    sig = r["signatures"]
    lines += ["", f"Signature checks alone (`examples/bench_signatures`, best of 5 × {sig['samples']}, "
              f"an ImportKeyPair-sized request, parameters to constant-time compare): Alibaba RPC "
              f"HMAC-SHA1 {sig['alibaba_rpc_us']:.1f} µs, Alibaba ACS3 HMAC-SHA256 "
              f"{sig['alibaba_acs3_us']:.1f} µs, Tencent TC3-HMAC-SHA256 {sig['tencent_tc3_us']:.1f} µs "
              "per request.", "",
              "Web console pages, 1,000 key pairs, one connection (round trip: server time plus "
              "loopback), target < 50 ms:", "",
              "| page | p50 ms | p99 ms | non-200 | target |", "|---|---:|---:|---:|---|"]
    for c in r["console"]:
        ok = c["p99_ms"] < 50 and c["non2xx"] == 0
        lines.append(f"| `{c['page']}` | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['non2xx']} "
                     f"| < 50 ms {'✅' if ok else '❌'} |")
    if "scale" in r:
        s = r["scale"]
        lines += ["", "## Scale (1,300,000 key pairs: 10,000 users × 100, 300 users × 1,000)", "",
                  f"- seed: {s['seed_output']}",
                  f"- DB {s['db_bytes'] / 1e6:.0f} MB = {s['bytes_per_keypair']:.0f} bytes per key pair",
                  f"- show (random users, -c32, saturated): {s['show']['rps']:.0f} req/s, p50 "
                  f"{s['show']['p50_ms']:.2f} ms, p99 {s['show']['p99_ms']:.2f} ms, non-2xx {s['show']['non2xx']}",
                  f"- show (random users, -c1): {s['show_c1']['rps']:.0f} req/s, p50 "
                  f"{s['show_c1']['p50_ms']:.2f} ms, p99 {s['show_c1']['p99_ms']:.2f} ms "
                  f"(target p99 < 2 ms {'✅' if s['show_c1']['p99_ms'] < 2 else '❌'}), non-2xx {s['show_c1']['non2xx']}",
                  f"- list page of {s['page_items']} (-c4): {s['list1000']['rps']:.0f} req/s, p50 "
                  f"{s['list1000']['p50_ms']:.2f} ms, p99 {s['list1000']['p99_ms']:.2f} ms",
                  f"- list page of {s['page_items']} (-c1): p50 {s['list1000_c1']['p50_ms']:.2f} ms, "
                  f"p99 {s['list1000_c1']['p99_ms']:.2f} ms (target < 20 ms "
                  f"{'✅' if s['list1000_c1']['p99_ms'] < 20 else '❌'})"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump(r, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
