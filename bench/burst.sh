#!/bin/sh
# Connection burst: starts `novakeys serve` (in-memory store), opens N connections to the
# compute listener at once (10,000 by default), sends a `GET /healthcheck` on each and closes
# it once answered, and prints the server's RSS before, at the end of the burst,
# and after it has been idle for a few seconds.
#
#   bench/burst.sh [CONNECTIONS] [BINARY] [extra serve flags...]
#       defaults: 10000, target/debug/novakeys (built if missing)
set -eu
cd "$(dirname "$0")/.."
n=${1:-10000}
bin=${2:-target/debug/novakeys}
[ $# -ge 2 ] && shift 2 || shift $#
[ -x "$bin" ] || cargo build --quiet
# The client needs a descriptor per connection too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out=$(mktemp)
"$bin" serve --db :memory: --auth noauth --compute-bind 127.0.0.1:0 --identity-bind 127.0.0.1:0 \
    --alibaba-bind off --tencent-bind off --twcc-bind off --console-bind off "$@" >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q 'compute listening' "$out" && break; sleep 0.1; done
addr=$(sed -n 's|^novakeys: compute listening on http://||p' "$out")
python3 - "$pid" "$addr" "$n" <<'PY'
import asyncio, sys, time
pid, addr, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = addr.rsplit(":", 1)

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

async def one(sem_open, results):
    for attempt in range(20):
        try:
            r, w = await asyncio.open_connection(host, int(port))
            break
        except OSError:
            await asyncio.sleep(0.05 * (attempt + 1))
    else:
        results.append("connect")
        return None
    w.write(f"GET /healthcheck HTTP/1.1\r\nHost: {addr}\r\n\r\n".encode())
    await w.drain()
    try:
        line = await asyncio.wait_for(r.readline(), 120)
    except Exception as e:
        line = repr(e).encode()
    results.append(line.split(b" ")[1:2] == [b"200"] and "ok" or line[:40])
    w.close()
    return None

async def main():
    before = rss()
    done = asyncio.Event()
    results = []
    t0 = time.time()
    tasks = [asyncio.create_task(one(done, results)) for _ in range(n)]
    peak = before
    while len(results) < n:
        await asyncio.sleep(0.05)
        peak = max(peak, rss())
    took = time.time() - t0
    await asyncio.gather(*tasks)
    ok = sum(1 for x in results if x == "ok")
    await asyncio.sleep(1)
    after1 = rss()
    await asyncio.sleep(4)
    after5 = rss()
    print(f"burst: {n} connections, {ok} answered 200 in {took:.1f} s")
    print(f"burst: RSS before {before:.1f} MB, highest during the burst {peak:.1f} MB, "
          f"1 s after {after1:.1f} MB, 5 s after {after5:.1f} MB")
    bad = [x for x in results if x != "ok"][:5]
    if bad:
        print("burst: not answered 200:", bad)

asyncio.run(main())
PY
