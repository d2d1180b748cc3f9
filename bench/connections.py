#!/usr/bin/env python3
"""The overview of several Redis connections (issue "Every environment in one dashboard"): three
private redis-servers, each with QUEUES BullMQ queues (default 1,000), and one `bullring serve`
(release binary) showing them as the connections `default`, `b` and `c`.

Each queue holds what a BullMQ producer leaves behind: a `meta` hash (with a BullMQ version), an
`id` counter and REQUESTS waiting jobs' hashes in `wait` (3 by default), written with
`redis-cli --pipe`. Measures, once discovery has found every queue: `GET {base}/api/queues` (every
connection's queues, read in parallel), `GET {base}/` (the page: the default connection's 1,000
rows and the table of connections), `GET {base}/api/queues?connection=b` (one connection) and
`GET {base}/api/connections`: the median and p90 of REQUESTS sequential requests after a warm-up,
and the read events each Redis served per request (`total_reads_processed` over the requests,
an idle window of the same length subtracted: a pipeline of 1,000 queues' commands arrives in
several 16 KiB reads, so this is not the round-trip count, which tests/it/connections.rs checks
with bullring's own counter). Prints a Markdown table.

Run it with bench/connections.sh (which builds the release binary first).
Environment: QUEUES (1000), REQUESTS (30), BIN (target/release/bullring).
"""

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

QUEUES = int(os.environ.get("QUEUES", "1000"))
REQUESTS = int(os.environ.get("REQUESTS", "30"))
BIN = os.environ.get("BIN", "target/release/bullring")
BASE = "/admin/queues"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True)
    return out.stdout


def reads(port):
    for line in cli(port, "INFO", "stats").splitlines():
        if line.startswith("total_reads_processed:"):
            return int(line.split(":")[1])
    raise RuntimeError("no total_reads_processed")


def seed(port):
    now = int(time.time() * 1000)
    lines = []
    for q in range(QUEUES):
        key = f"bull:q{q:04d}"
        lines.append(f"HSET {key}:meta opts.maxLenEvents 10000 version bullmq:6.7.0")
        lines.append(f"SET {key}:id 3")
        for j in (1, 2, 3):
            lines.append(f"HSET {key}:{j} name job data {{}} opts {{}} timestamp {now} delay 0 priority 0")
            lines.append(f"LPUSH {key}:wait {j}")
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input="\n".join(lines) + "\n",
                   capture_output=True, text=True, check=True)


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    took = (time.perf_counter() - started) * 1000
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
    return took, body


def main():
    procs = []
    try:
        ports = [free_port() for _ in range(3)]
        for port in ports:
            procs.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no", "--loglevel", "warning"],
                                          stdout=subprocess.DEVNULL))
        for port in ports:
            deadline = time.time() + 15
            while True:
                try:
                    if cli(port, "PING").strip() == "PONG":
                        break
                except subprocess.CalledProcessError:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
        for port in ports:
            seed(port)
        http_port = free_port()
        config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        config.write(f'redis_url = "redis://127.0.0.1:{ports[0]}"\nlisten = "127.0.0.1:{http_port}"\n'
                     f'base_path = "{BASE}"\nlive_interval_ms = 0\n')
        for name, port in (("b", ports[1]), ("c", ports[2])):
            config.write(f'[[connections]]\nname = "{name}"\nredis_url = "redis://127.0.0.1:{port}"\n')
        config.close()
        server = subprocess.Popen([BIN, "serve", "--config", config.name],
                                  env={**os.environ, "RUST_LOG": "warn"})
        procs.append(server)
        deadline = time.time() + 60
        while True:
            try:
                _, body = get(http_port, f"{BASE}/api/queues")
                if body.count(b'"name":"q') == 3 * QUEUES:
                    break
            except (OSError, RuntimeError):
                pass
            if time.time() > deadline:
                raise RuntimeError("discovery did not find every queue in time")
            time.sleep(0.2)
        rows = []
        for label, path in (
            (f"JSON, 3 connections x {QUEUES} queues", f"{BASE}/api/queues"),
            (f"page, 3 connections ({QUEUES} rows + connections table)", f"{BASE}/"),
            (f"JSON, 1 connection (?connection=b), {QUEUES} queues", f"{BASE}/api/queues?connection=b"),
            ("GET /api/connections (PING + INFO each)", f"{BASE}/api/connections"),
        ):
            for _ in range(5):
                get(http_port, path)
            idle_before = [reads(p) for p in ports]
            started = time.perf_counter()
            times = [get(http_port, path)[0] for _ in range(REQUESTS)]
            elapsed = time.perf_counter() - started
            busy = [reads(p) for p in ports]
            time.sleep(elapsed)
            idle_after = [reads(p) for p in ports]
            trips = []
            for before, during, after in zip(idle_before, busy, idle_after):
                idle = after - during
                trips.append(max(0, (during - before - idle)) / REQUESTS)
            times.sort()
            p90 = times[int(len(times) * 0.9) - 1]
            rows.append((label, statistics.median(times), p90, trips))
        print(f"| request | median | p90 | Redis read events per request (default, b, c) |")
        print("|---|---|---|---|")
        for label, median, p90, trips in rows:
            per = ", ".join(f"{t:.1f}" for t in trips)
            print(f"| {label} | {median:.1f} ms | {p90:.1f} ms | {per} |")
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
