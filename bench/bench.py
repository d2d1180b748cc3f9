#!/usr/bin/env python3
"""The side-by-side benchmark of bullring against Bull Board and Node BullMQ (run it through
bench/run.sh, which installs and builds what it needs first).

1. Starts a private redis-server on a free loopback port (no persistence) and seeds it with
   bench/seed.js (real npm BullMQ 6: addBulk plus direct moves, see that file).
2. Dashboard: runs Bull Board (bench/bullboard.js), then `bullring serve` (release binary), each
   alone against that Redis, and for every scenario: a warm-up, one round of sequential requests
   between two `INFO all` snapshots (Redis commands and round trips per request, an idle window of
   the same length subtracted), then RUNS timed `wrk` runs (10 connections). Records requests/s,
   p50 / p99 (medians of the runs), the server's CPU time per request (utime + stime over the
   runs) and its peak RSS (VmHWM); plus bullring's /healthz, which touches no Redis, as the
   ceiling the machine's HTTP stack and wrk allow.
3. Runner: RUNNER_JOBS pre-added no-op jobs drained by `bullring run` (handler noop) and by a Node
   BullMQ Worker (bench/worker.js) at each concurrency, RUNS times each: jobs/s from the spread
   of finishedOn in the completed set (so start-up is not counted), peak RSS, the worker's CPU
   per job, and the share of a core Redis used meanwhile.
4. Prints one table with the ratios bullring / peer and the targets of the issue, and writes
   everything as JSON (OUT).

Environment: SCALE (fixture size factor, default 1), DURATION (seconds per wrk run, 10),
WARMUP (seconds, 3), RUNS (3), CONNECTIONS (10), RT_REQUESTS (sequential requests for the cost
count, 50), RUNNER_JOBS (20000 x SCALE, at least 1000), CONCURRENCIES ("1,10,100"),
OUT (bench/results/latest.json).
"""

import json
import resource
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import http.client
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "target", "release", "bullring")
PREFIX = "bench"
BASE = "/admin/queues"
QUEUES = [f"q{i:02d}" for i in range(10)] + ["big", "small"]
PER_PAGE = 10  # Bull Board's default page size; bullring is asked for the same
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env_float(name, default):
    return float(os.environ.get(name, default))


SCALE = env_float("SCALE", 1)
DURATION = int(env_float("DURATION", 10))
WARMUP = int(env_float("WARMUP", 3))
RUNS = int(env_float("RUNS", 3))
CONNECTIONS = int(env_float("CONNECTIONS", 10))
RT_REQUESTS = int(env_float("RT_REQUESTS", 50))
RUNNER_JOBS = int(os.environ.get("RUNNER_JOBS", max(1000, round(20000 * SCALE))))
CONCURRENCIES = [int(c) for c in os.environ.get("CONCURRENCIES", "1,10,100").split(",")]
OUT = os.environ.get("OUT", os.path.join(HERE, "results", "latest.json"))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Redis:
    """A minimal RESP client: enough for INFO, ZCARD, ZRANGE and PING on one connection."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def call(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = str(a).encode()
            out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
        self.sock.sendall(b"".join(out))
        return self._reply()

    def stats(self):
        """Total commands (from commandstats), read events and used memory."""
        info = self.call("INFO", "all")
        calls, reads = 0, 0
        per_command = {}
        for line in info.splitlines():
            if line.startswith("cmdstat_"):
                name, fields = line[len("cmdstat_"):].split(":", 1)
                n = int(dict(f.split("=") for f in fields.split(","))["calls"])
                per_command[name] = n
                calls += n
            elif line.startswith("total_reads_processed:"):
                reads = int(line.split(":")[1])
        return {"calls": calls, "reads": reads, "per_command": per_command}


class Proc:
    """A child process whose peak RSS and CPU time we read from /proc."""

    def __init__(self, name, argv, env=None, ready=None):
        self.name = name
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.log = open(self.log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE if ready else self.log,
                                  stderr=self.log, env=env, cwd=ROOT)
        if ready:
            line = self.p.stdout.readline().decode().strip()
            if line != ready:
                raise RuntimeError(f"{name} did not start (said {line!r}); see {self.log_path}")

    def hwm_kb(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    def cpu_s(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def http_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def check_response(server, scenario, port, path):
    """One request before the load, so a wrong path fails loudly instead of measuring a 404."""
    status, body = http_get(port, path)
    if status != 200:
        raise RuntimeError(f"{server} {scenario}: GET {path} answered {status}: {body[:300]!r}")
    expect = scenario_expectation(scenario)
    if expect and expect.encode() not in body:
        raise RuntimeError(f"{server} {scenario}: GET {path} does not contain {expect!r}")
    return len(body)


def scenario_expectation(scenario):
    return JOB_ID_TEXT if scenario == "job" else None


def cost_per_request(redis, port, path):
    """Redis commands and round trips (read events) of one request, from INFO snapshots around
    RT_REQUESTS sequential requests on one keep-alive connection, minus an idle window."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    conn.getresponse().read()
    a = redis.stats()
    start = time.monotonic()
    for _ in range(RT_REQUESTS):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path} answered {r.status}")
    elapsed = time.monotonic() - start
    b = redis.stats()
    time.sleep(max(elapsed, 0.2))
    c = redis.stats()
    conn.close()
    busy_calls, idle_calls = b["calls"] - a["calls"], c["calls"] - b["calls"]
    busy_reads, idle_reads = b["reads"] - a["reads"], c["reads"] - b["reads"]
    commands = {}
    for name, n in b["per_command"].items():
        d = n - a["per_command"].get(name, 0) - (c["per_command"].get(name, 0) - n)
        if d > 0:
            commands[name] = round(d / RT_REQUESTS, 2)
    return {
        "commands": round((busy_calls - idle_calls) / RT_REQUESTS, 2),
        "round_trips": round((busy_reads - idle_reads) / RT_REQUESTS, 2),
        "by_command": commands,
    }


def wrk(port, path, seconds):
    url = f"http://127.0.0.1:{port}{path}"
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
         "-s", os.path.join(HERE, "wrk-report.lua"), url],
        check=True, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    errors = sum(r["errors"].values())
    if errors:
        raise RuntimeError(f"wrk {url}: {r['errors']} errors in {r['requests']} requests")
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def busy_s():
    """CPU seconds all processes of the machine have used (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / CLK_TCK


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(server, proc, port, redis, scenario, path):
    size = check_response(server, scenario, port, path)
    wrk(port, path, WARMUP)
    cost = cost_per_request(redis, port, path)
    cpu0, redis0, wrk0, busy0 = proc.cpu_s(), REDIS_PROC.cpu_s(), children_cpu_s(), busy_s()
    runs = [wrk(port, path, DURATION) for _ in range(RUNS)]
    cpu, redis_cpu = proc.cpu_s() - cpu0, REDIS_PROC.cpu_s() - redis0
    wrk_cpu, busy = children_cpu_s() - wrk0, busy_s() - busy0
    requests = sum(r["requests"] for r in runs)
    # What the rest of the machine (other users' builds and tests) used meanwhile, in cores.
    others = max(0.0, busy - cpu - redis_cpu - wrk_cpu) / (RUNS * DURATION)
    row = {
        "server": server,
        "scenario": scenario,
        "path": path,
        "response_bytes": size,
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "rps_runs": [round(r["rps"], 1) for r in runs],
        "p50_ms": round(statistics.median(r["p50_us"] for r in runs) / 1000, 3),
        "p99_ms": round(statistics.median(r["p99_us"] for r in runs) / 1000, 3),
        "cpu_ms_per_request": round(cpu * 1000 / requests, 4),
        "cpu_percent": round(cpu * 100 / (RUNS * DURATION), 1),
        "redis_cpu_ms_per_request": round(redis_cpu * 1000 / requests, 4),
        "wrk_cpu_percent": round(wrk_cpu * 100 / (RUNS * DURATION), 1),
        "other_processes_cores": round(others, 2),
        "peak_rss_mb": round(proc.hwm_kb() / 1024, 1),
        **cost,
    }
    log(f"  {server:9} {scenario:14} {row['rps']:9.1f} req/s  p50 {row['p50_ms']:7.2f} ms  "
        f"p99 {row['p99_ms']:7.2f} ms  {row['round_trips']:5.1f} round trips  "
        f"{row['commands']:6.1f} commands  {row['cpu_ms_per_request']:.3f} ms CPU/req  "
        f"RSS {row['peak_rss_mb']} MB; Redis {row['redis_cpu_ms_per_request']:.3f} ms CPU/req; "
        f"others {row['other_processes_cores']} cores")
    return row


def dashboard(redis_port, redis, job_id):
    redis_url = f"redis://127.0.0.1:{redis_port}"
    rows = []

    port = free_port()
    log("Bull Board: starting")
    proc = Proc("bullboard", ["node", os.path.join(HERE, "bullboard.js"), "--redis", redis_url,
                              "--prefix", PREFIX, "--queues", ",".join(QUEUES), "--port", str(port)],
                env={**os.environ, "NODE_ENV": "production"}, ready="listening")
    try:
        api = f"{BASE}/api/queues"
        for scenario, queue, state in [("q00 failed", "q00", "failed"),
                                       ("big completed", "big", "completed"),
                                       ("small completed", "small", "completed")]:
            rows.append(measure("bullboard", proc, port, redis, scenario,
                                f"{api}?activeQueue={queue}&status={state}&page=1"))
        rows.append(measure("bullboard", proc, port, redis, "job", f"{api}/q00/{job_id}"))
    finally:
        proc.stop()

    port = free_port()
    log("bullring: starting")
    proc = Proc("bullring", [BIN, "serve", "--redis-url", redis_url, "--prefix", PREFIX,
                             "--queue", ",".join(QUEUES), "--discovery", "false",
                             "--listen", f"127.0.0.1:{port}"],
                env={**os.environ, "RUST_LOG": "warn"})
    try:
        wait_until("bullring", lambda: try_get(port, f"{BASE}/healthz"), timeout=30)
        for scenario, queue, state in [("q00 failed", "q00", "failed"),
                                       ("big completed", "big", "completed"),
                                       ("small completed", "small", "completed")]:
            query = f"state={state}&page=1&per_page={PER_PAGE}"
            rows.append(measure("bullring-html", proc, port, redis, scenario,
                                f"{BASE}/queues/{queue}?{query}"))
            rows.append(measure("bullring-api", proc, port, redis, scenario,
                                f"{BASE}/api/queues/{queue}/jobs?{query}"))
        rows.append(measure("bullring-html", proc, port, redis, "job",
                            f"{BASE}/queues/q00/jobs/{job_id}"))
        rows.append(measure("bullring-api", proc, port, redis, "job",
                            f"{BASE}/api/queues/q00/jobs/{job_id}"))
        rows.append(measure("bullring-api", proc, port, redis, "overview", f"{BASE}/api/queues"))
        # No Redis at all: what this machine's HTTP stack and wrk reach, the ceiling of any view.
        rows.append(measure("bullring-api", proc, port, redis, "floor", f"{BASE}/healthz"))
    finally:
        proc.stop()
    return rows


def try_get(port, path):
    try:
        return http_get(port, path)[0] == 200
    except OSError:
        return False


def drain(kind, redis_port, redis, concurrency, run):
    """Add RUNNER_JOBS no-op jobs to a fresh queue, start the worker, wait until all completed."""
    redis_url = f"redis://127.0.0.1:{redis_port}"
    queue = f"run-{kind}-c{concurrency}-r{run}"
    subprocess.run(["node", os.path.join(HERE, "worker.js"), "add", "--redis", redis_url,
                    "--prefix", PREFIX, "--queue", queue, "--count", str(RUNNER_JOBS)], check=True)
    if kind == "bullring":
        config = os.path.join(WORK, f"{queue}.toml")
        with open(config, "w") as f:
            f.write(f'redis_url = "{redis_url}"\nprefixes = ["{PREFIX}"]\ndiscovery = false\n\n'
                    f'[[queues]]\nname = "{queue}"\n\n[[workers]]\nqueue = "{queue}"\n'
                    f'concurrency = {concurrency}\nhandler = {{ type = "noop" }}\n')
        proc = Proc(f"run-{queue}", [BIN, "run", "--config", config],
                    env={**os.environ, "RUST_LOG": "warn"})
    else:
        proc = Proc(f"run-{queue}", ["node", os.path.join(HERE, "worker.js"), "work", "--redis",
                                     redis_url, "--prefix", PREFIX, "--queue", queue,
                                     "--concurrency", str(concurrency)], ready="ready")
    completed = f"{PREFIX}:{queue}:completed"
    redis0, t0 = REDIS_PROC.cpu_s(), time.monotonic()
    try:
        wait_until(f"{kind} to drain {queue}",
                   lambda: redis.call("ZCARD", completed) >= RUNNER_JOBS
                   or proc.p.poll() is not None, timeout=600, interval=0.02)
        if proc.p.poll() is not None:
            raise RuntimeError(f"{kind} worker exited; see {proc.log_path}")
        rss = proc.hwm_kb() / 1024
        worker_cpu = proc.cpu_s()
        redis_cpu, wall = REDIS_PROC.cpu_s() - redis0, time.monotonic() - t0
    finally:
        proc.stop()
    failed = redis.call("ZCARD", f"{PREFIX}:{queue}:failed")
    if failed:
        raise RuntimeError(f"{kind}: {failed} jobs failed in {queue}")
    first = float(redis.call("ZRANGE", completed, 0, 0, "WITHSCORES")[1])
    last = float(redis.call("ZRANGE", completed, -1, -1, "WITHSCORES")[1])
    rate = (RUNNER_JOBS - 1) * 1000 / max(last - first, 1)
    redis.call("DEL", completed)  # keep Redis small; the job hashes stay
    # The worker's CPU per job (start-up included) and how busy Redis was while it drained.
    return rate, rss, worker_cpu * 1e6 / RUNNER_JOBS, redis_cpu / wall


def runner(redis_port, redis):
    rows = []
    for concurrency in CONCURRENCIES:
        # The runs of the two alternate, so a burst of load elsewhere hits both alike.
        measured = {"node": ([], [], [], []), "bullring": ([], [], [], [])}
        for run in range(1, RUNS + 1):
            for kind in ["node", "bullring"]:
                for into, value in zip(measured[kind],
                                       drain(kind, redis_port, redis, concurrency, run)):
                    into.append(value)
        for kind, (rates, rss, cpu, redis_busy) in measured.items():
            row = {"runner": kind, "concurrency": concurrency, "jobs": RUNNER_JOBS,
                   "jobs_per_s": round(statistics.median(rates)),
                   "jobs_per_s_runs": [round(r) for r in rates],
                   "peak_rss_mb": round(statistics.median(rss), 1),
                   "peak_rss_mb_runs": [round(m, 1) for m in rss],
                   "worker_cpu_us_per_job": round(statistics.median(cpu), 1),
                   "redis_busy": round(statistics.median(redis_busy), 2),
                   "redis_busy_runs": [round(b, 2) for b in redis_busy],
                   "load_1min_after": float(open("/proc/loadavg").read().split()[0])}
            log(f"  {kind:8} concurrency {concurrency:3}: {row['jobs_per_s']:7} jobs/s "
                f"(runs {row['jobs_per_s_runs']}), peak RSS {row['peak_rss_mb']} MB, "
                f"{row['worker_cpu_us_per_job']} us CPU/job, Redis busy {row['redis_busy']}")
            rows.append(row)
    return rows


def ratio(a, b):
    return round(a / b, 3) if b else None


def summarize(dash, run_rows):
    """The rows of the table: bullring / peer ratios and whether each target is met."""
    by = {(r["server"], r["scenario"]): r for r in dash}
    out = []
    for scenario in ["q00 failed", "big completed", "small completed", "job"]:
        peer = by[("bullboard", scenario)]
        for server in ["bullring-html", "bullring-api"]:
            r = by[(server, scenario)]
            out.append({
                "what": f"{scenario} ({server.split('-')[1]})",
                "rps": ratio(r["rps"], peer["rps"]), "rps_target": ">= 10",
                "rps_ok": r["rps"] >= 10 * peer["rps"],
                "p99": ratio(r["p99_ms"], peer["p99_ms"]), "p99_target": "<= 0.1",
                "p99_ok": r["p99_ms"] <= 0.1 * peer["p99_ms"],
                "round_trips": r["round_trips"], "round_trips_target": "<= 2",
                "round_trips_ok": r["round_trips"] <= 2.05,
                "rss": ratio(r["peak_rss_mb"], peer["peak_rss_mb"]), "rss_target": "<= 0.2",
                "rss_ok": r["peak_rss_mb"] <= 0.2 * peer["peak_rss_mb"],
            })
    growth = {}
    for server in ["bullring-html", "bullring-api", "bullboard"]:
        big, small = by[(server, "big completed")], by[(server, "small completed")]
        growth[server] = {"rps_big_over_small": ratio(big["rps"], small["rps"]),
                          "p50_big_over_small": ratio(big["p50_ms"], small["p50_ms"]),
                          "p99_big_over_small": ratio(big["p99_ms"], small["p99_ms"])}
        if server != "bullboard":
            # Throughput and median latency; p99 is printed too but is too noisy on a shared
            # machine to be the test.
            growth[server]["ok"] = (big["rps"] >= small["rps"] / 1.2
                                    and big["p50_ms"] <= 1.2 * small["p50_ms"])
    runner_ratios = []
    for c in CONCURRENCIES:
        node = next(r for r in run_rows if r["runner"] == "node" and r["concurrency"] == c)
        ours = next(r for r in run_rows if r["runner"] == "bullring" and r["concurrency"] == c)
        runner_ratios.append({
            "concurrency": c,
            "jobs_per_s": ratio(ours["jobs_per_s"], node["jobs_per_s"]),
            "jobs_per_s_ok": ours["jobs_per_s"] >= 1.5 * node["jobs_per_s"],
            "rss": ratio(ours["peak_rss_mb"], node["peak_rss_mb"]),
            "rss_ok": ours["peak_rss_mb"] <= 0.25 * node["peak_rss_mb"],
        })
    return out, growth, runner_ratios


def ok(flag):
    return "yes" if flag else "NO"


def print_tables(dash, run_rows, ratios, growth, runner_ratios):
    print()
    print(f"Dashboard (medians of {RUNS} wrk runs of {DURATION} s, {CONNECTIONS} connections, "
          f"page size {PER_PAGE})")
    print(f"{'server':14} {'scenario':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'RTs':>5} {'cmds':>6} {'CPU ms/req':>10} {'Redis ms/req':>12} {'RSS MB':>7} "
          f"{'others':>6}")
    for r in dash:
        print(f"{r['server']:14} {r['scenario']:16} {r['rps']:9.1f} {r['p50_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {r['round_trips']:5.1f} {r['commands']:6.1f} "
              f"{r['cpu_ms_per_request']:10.3f} {r['redis_cpu_ms_per_request']:12.3f} "
              f"{r['peak_rss_mb']:7.1f} {r['other_processes_cores']:6.2f}")
    print()
    print("Ratios bullring / Bull Board (target met?)")
    print(f"{'view':32} {'req/s (>=10)':>14} {'p99 (<=0.1)':>13} {'RTs (<=2)':>10} "
          f"{'RSS (<=0.2)':>12}")
    for r in ratios:
        print(f"{r['what']:32} {r['rps']:>9.1f} {ok(r['rps_ok']):>4} {r['p99']:>8.3f} "
              f"{ok(r['p99_ok']):>4} {r['round_trips']:>5.1f} {ok(r['round_trips_ok']):>4} "
              f"{r['rss']:>7.3f} {ok(r['rss_ok']):>4}")
    print()
    print("1,000,000-job queue / 10,000-job queue (bullring target: req/s and p50 within 20 %)")
    for server, g in growth.items():
        flag = f"  {ok(g['ok'])}" if "ok" in g else ""
        print(f"  {server:14} req/s x{g['rps_big_over_small']}, p50 x{g['p50_big_over_small']}, "
              f"p99 x{g['p99_big_over_small']}{flag}")
    print()
    print(f"Runner: {RUNNER_JOBS} no-op jobs, medians of {RUNS} runs")
    print(f"{'concurrency':>11} {'node jobs/s':>12} {'bullring jobs/s':>16} {'ratio (>=1.5)':>14} "
          f"{'node RSS':>9} {'bullring RSS':>13} {'ratio (<=0.25)':>15}")
    for rr in runner_ratios:
        c = rr["concurrency"]
        node = next(r for r in run_rows if r["runner"] == "node" and r["concurrency"] == c)
        ours = next(r for r in run_rows if r["runner"] == "bullring" and r["concurrency"] == c)
        print(f"{c:>11} {node['jobs_per_s']:>12} {ours['jobs_per_s']:>16} "
              f"{rr['jobs_per_s']:>9.2f} {ok(rr['jobs_per_s_ok']):>4} "
              f"{node['peak_rss_mb']:>9.1f} {ours['peak_rss_mb']:>13.1f} "
              f"{rr['rss']:>10.3f} {ok(rr['rss_ok']):>4}")


def markdown(result):
    """The README's tables, from a result written by this script."""
    dash = {(r["server"], r["scenario"]): r for r in result["dashboard"]}
    names = {"bullboard": "Bull Board API", "bullring-html": "bullring page",
             "bullring-api": "bullring JSON"}
    views = {"q00 failed": "q00 failed jobs, page 1",
             "big completed": "1,000,000-job queue, completed, page 1",
             "small completed": "10,000-job queue, completed, page 1",
             "job": "one failed job", "overview": "all queues with counts",
             "floor": "/healthz (no Redis: the ceiling)"}
    out = ["| view | server | req/s | p50 ms | p99 ms | Redis round trips (commands) | "
           "server CPU ms / req | peak RSS MB | req/s vs Bull Board | p99 vs Bull Board |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    order = [(server, scenario) for scenario in views
             for server in ["bullboard", "bullring-html", "bullring-api"]
             if (server, scenario) in dash]
    for server, scenario in order:
        r = dash[(server, scenario)]
        peer = dash.get(("bullboard", scenario))
        vs = ("", "") if server == "bullboard" or not peer else (
            f"{r['rps'] / peer['rps']:.1f}x", f"{r['p99_ms'] / peer['p99_ms']:.2f}x")
        out.append(f"| {views[scenario]} | {names[server]} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                   f"{r['p99_ms']:.2f} | {r['round_trips']:.1f} ({r['commands']:.0f}) | "
                   f"{r['cpu_ms_per_request']:.3f} | {r['peak_rss_mb']:.1f} | {vs[0]} | {vs[1]} |")
    out += ["", "| concurrency | Node BullMQ jobs/s | bullring run jobs/s | ratio | "
            "Node peak RSS MB | bullring peak RSS MB | ratio | worker CPU µs / job (Node, bullring) "
            "| Redis busy (Node, bullring) |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rr in result["ratios"]["runner"]:
        c = rr["concurrency"]
        node = next(r for r in result["runner"] if r["runner"] == "node" and r["concurrency"] == c)
        ours = next(r for r in result["runner"]
                    if r["runner"] == "bullring" and r["concurrency"] == c)
        out.append(f"| {c} | {node['jobs_per_s']:,} | {ours['jobs_per_s']:,} | "
                   f"{rr['jobs_per_s']:.2f}x | {node['peak_rss_mb']:.1f} | "
                   f"{ours['peak_rss_mb']:.1f} | {rr['rss']:.2f}x | "
                   f"{node.get('worker_cpu_us_per_job', 0):.0f}, "
                   f"{ours.get('worker_cpu_us_per_job', 0):.0f} | "
                   f"{node.get('redis_busy', 0):.0%}, {ours.get('redis_busy', 0):.0%} |")
    return "\n".join(out) + "\n"


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "cores": os.cpu_count(), "cpu": model, "kernel": platform.release(),
        "load_at_start": load, "node": version(["node", "--version"]),
        "redis": version(["redis-server", "--version"]),
        "wrk": version(["sh", "-c", "wrk --version 2>&1 | head -1"]),
        "bullring": version([BIN, "--version"]),
    }


def main():
    global WORK, JOB_ID_TEXT
    WORK = os.environ.get("BENCH_WORK") or os.path.join(ROOT, "target", "bench")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    info = machine()
    started = time.time()
    log(f"machine: {info['cores']} cores, {info['cpu']}, load {' '.join(info['load_at_start'])}; "
        f"SCALE={SCALE} DURATION={DURATION}s RUNS={RUNS} RUNNER_JOBS={RUNNER_JOBS}")

    redis_port = free_port()
    global REDIS_PROC
    REDIS_PROC = redis_proc = Proc("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--loglevel", "warning"])
    try:
        wait_until("redis-server", lambda: try_ping(redis_port), timeout=15)
        redis = Redis(redis_port)
        log("seeding (bench/seed.js) ...")
        seeded = subprocess.run(["node", os.path.join(HERE, "seed.js"), "--redis",
                                 f"redis://127.0.0.1:{redis_port}", "--prefix", PREFIX,
                                 "--scale", str(SCALE)],
                                check=True, capture_output=True, text=True)
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        log(f"seeded in {seed['seconds']:.1f} s; Redis uses "
            f"{redis.call('INFO', 'memory').split('used_memory_human:')[1].split()[0]}")
        job_id = redis.call("ZREVRANGE", f"{PREFIX}:q00:failed", 0, 0)[0]
        JOB_ID_TEXT = "ECONNREFUSED"
        log("dashboard ...")
        dash = dashboard(redis_port, redis, job_id)
        log("runner ...")
        run_rows = runner(redis_port, redis)
    finally:
        redis_proc.stop()

    ratios, growth, runner_ratios = summarize(dash, run_rows)
    with open("/proc/loadavg") as f:
        info["load_at_end"] = f.read().split()[:3]
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started),
        "machine": info,
        "settings": {"scale": SCALE, "duration_s": DURATION, "warmup_s": WARMUP, "runs": RUNS,
                     "connections": CONNECTIONS, "page_size": PER_PAGE,
                     "rt_requests": RT_REQUESTS, "runner_jobs": RUNNER_JOBS,
                     "concurrencies": CONCURRENCIES},
        "fixture": seed,
        "dashboard": dash,
        "runner": run_rows,
        "ratios": {"dashboard": ratios, "queue_size": growth, "runner": runner_ratios},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    with open(os.path.splitext(OUT)[0] + ".md", "w") as f:
        f.write(markdown(result))
    print_tables(dash, run_rows, ratios, growth, runner_ratios)
    print(f"\nJSON: {OUT} (README tables: {os.path.splitext(OUT)[0]}.md); machine load at start {' '.join(info['load_at_start'])}, "
          f"at end {' '.join(info['load_at_end'])}")


def try_ping(port):
    try:
        return Redis(port).call("PING") == "PONG"
    except OSError:
        return False


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
        with open(sys.argv[2]) as f:
            print(markdown(json.load(f)), end="")
    else:
        main()
