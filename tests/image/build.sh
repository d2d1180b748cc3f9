#!/usr/bin/env bash
# The container image built from the real Dockerfile and run for real, with podman, on a machine
# with no Docker engine and no registry (CI's): the base images are made here (bases.sh), then
#   1. podman build of the Dockerfile as it is; what the image adds on top of its base;
#   2. one container against a redis-server on this machine's loopback (host network):
#      `serve` answers with the seeded queues, `bullring healthcheck` and the image's HEALTHCHECK
#      pass, the process runs as uid 10001, SIGTERM (podman stop) ends it with status 0;
#      `run` with deploy/bullring.toml starts its workers, upserts its scheduler and completes a
#      job through its webhook (answered by tests/image/webhook.py), and stops with status 0;
#   3. docker-compose.yml under podman-compose: the dashboard and the runner reach Redis by its
#      service name, the runner completes a job added through the dashboard's container.
# Every check fails the script with a message; containers, networks, volumes and the redis-server
# it started are removed on exit. Usage (as root): bash tests/image/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

say() { printf 'image: %s\n' "$*" >&2; }
die() { printf '\nimage: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in podman runc debootstrap podman-compose redis-server redis-cli curl python3 rustc; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see README, Docker)"
done
[ "$(id -u)" = 0 ] || die "run as root (rootful podman, debootstrap, chroot)"

source tests/image/podman.sh
bash tests/image/bases.sh

image=bullring:latest        # the name docker-compose.yml gives the image it builds
tag=bullring-ci-$$
tmp=$(mktemp -d)
redis_pid='' webhook_pid='' compose_file=''
cleanup() {
  status=$?
  set +e
  if [ "$status" != 0 ]; then
    for c in $(podman ps -a --format '{{.Names}}' | grep "^$tag[-_]"); do
      printf '\n--- podman logs %s (last 40 lines)\n' "$c" >&2
      podman logs --tail 40 "$c" >&2
    done
    [ -s "$tmp/podman.log" ] && { printf '\n--- podman stderr\n' >&2; tail -n 20 "$tmp/podman.log" >&2; }
    [ -s "$tmp/webhook.log" ] && { printf '\n--- webhook.py\n' >&2; tail -n 20 "$tmp/webhook.log" >&2; }
  fi
  [ -n "$compose_file" ] && podman-compose -p "$tag" -f "$compose_file" down -v >/dev/null 2>&1
  podman ps -a --format '{{.Names}}' | grep "^$tag[-_]" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
  podman volume ls --format '{{.Name}}' | grep "^$tag[-_]" | xargs -r podman volume rm -f >/dev/null 2>&1
  podman network ls --format '{{.Name}}' | grep "^$tag[-_]" | xargs -r podman network rm -f >/dev/null 2>&1
  [ -n "$webhook_pid" ] && kill "$webhook_pid" 2>/dev/null
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

# `wait_for SECONDS WHAT COMMAND...`: run COMMAND every 0.2 s until it succeeds; fail after
# SECONDS, saying WHAT was awaited.
wait_for() {
  local limit=$1 what=$2
  local deadline=$((SECONDS + limit))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "waited $limit s for: $what"
    sleep 0.2
  done
}
# A container's log without the terminal colours bullring's log lines carry.
logs_of() { podman logs "$1" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; }
export -f logs_of
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }

# `stopped NAME SECONDS`: podman stop (SIGTERM, then SIGKILL after SECONDS); the container must
# have ended by itself, with status 0, before the SIGKILL.
stopped() {
  local start=$SECONDS code
  podman stop --time "$2" "$1" >/dev/null 2>>"$tmp/podman.log"
  code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
  [ "$code" = 0 ] || die "$1 exited with status $code after SIGTERM (137: killed after $2 s)"
  say "$1: SIGTERM -> exit status 0 in $((SECONDS - start)) s"
}

# --- 1. build --------------------------------------------------------------------------------
say "podman build -t $image . (log: $state/build.log)"
# With vfs every layer is a full copy of the file system (about 1.7 GB a layer in the build
# stage), so the layers a new build no longer uses are removed after it (podman image prune);
# the build stage is tagged first, so that its layers, the dependency layer among them, stay
# for the next build's cache.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%T)" "$line"; done; }
start=$SECONDS
: >"$state/build.log"
for target in "--target build -t bullring-build:cache" "-t $image"; do
  set +e
  # shellcheck disable=SC2086 # two words each: the target and the tag
  podman build --pull=never --network host $target . 2>&1 | stamp >>"$state/build.log"
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || { tail -n 40 "$state/build.log" >&2; die "podman build $target of the Dockerfile"; }
done
build_secs=$((SECONDS - start))
podman image prune -f >/dev/null
cached=$(grep -c -- '--> Using cache' "$state/build.log" || true)
base=$(awk 'toupper($1) == "FROM" && $2 ~ /^debian:/ { print $2 }' Dockerfile | tail -n 1)
image_bytes=$(podman image inspect --format '{{.Size}}' "$image")
base_bytes=$(podman image inspect --format '{{.Size}}' "$base")
added=$((image_bytes - base_bytes))
say "built in ${build_secs} s ($cached steps from the cache); $(mb "$added") on top of $base ($(mb "$image_bytes") in all)"
[ "$added" -lt 25000000 ] || die "the image adds $(mb "$added") to $base (target: under 25 MB)"
podman image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q '"bullring","healthcheck"' \
  || die "the image has no HEALTHCHECK running bullring healthcheck (built without --format docker?)"

# --- 2. one container, host network, against a redis-server here ----------------------------
redis_port=$(free_port)
[ "$redis_port" != 6379 ] || redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1 &
redis_pid=$!
rcli() { redis-cli -p "$redis_port" "$@"; }
wait_for 10 "redis-server on port $redis_port" bash -c "redis-cli -p $redis_port ping | grep -q PONG"
redis_url=redis://127.0.0.1:$redis_port

# `bullring add` from the image itself seeds two queues. Every command but `serve` is given a
# loopback listen address: bullring checks it for every command, and refuses the image's
# 0.0.0.0:3000 without an auth mode (as docker-compose.yml's runner does).
loopback=BULLRING_LISTEN=127.0.0.1:3000
in_image() {
  podman run --rm --network host --no-healthcheck -e REDIS_URL="$redis_url" -e "$loopback" \
    "$image" "$@" 2>>"$tmp/podman.log"
}
email_job=$(in_image add emails welcome --data '{"to":"ada@example.com"}')
in_image add reports monthly --delay 3600000 --data '{"month":"2026-11"}' >/dev/null
say "seeded emails (job $email_job) and reports (delayed) in redis-server :$redis_port"

web_port=$(free_port)
web=http://127.0.0.1:$web_port/admin/queues
podman run -d --name "$tag-serve" --network host -e REDIS_URL="$redis_url" \
  -e BULLRING_LISTEN="0.0.0.0:$web_port" -e BULLRING_ALLOW_ANONYMOUS=true "$image" \
  >/dev/null 2>>"$tmp/podman.log"
wait_for 30 "$web/healthz from the container" curl -fsS "$web/healthz"
wait_for 30 "the overview listing the seeded queues" \
  bash -c "curl -fsS '$web/' | grep -q emails && curl -fsS '$web/' | grep -q reports"
curl -fsS "$web/readyz" | grep -q '"redis":"up"' || die "$web/readyz does not report Redis up"
say "serve: $web/healthz and /readyz (Redis up) answer; the overview lists emails and reports"
podman exec "$tag-serve" bullring healthcheck >"$tmp/hc.log" 2>&1 \
  || { cat "$tmp/hc.log" >&2; die "bullring healthcheck inside the container"; }
say "serve: bullring healthcheck inside: $(head -n 1 "$tmp/hc.log")"
podman healthcheck run "$tag-serve" >"$tmp/hc.log" 2>&1 \
  || { cat "$tmp/hc.log" >&2; die "podman healthcheck run (the image's HEALTHCHECK)"; }
health=$(podman inspect --format '{{.State.Health.Status}}' "$tag-serve")
[ "$health" = healthy ] || die "HEALTHCHECK status is '$health', not healthy"
say "serve: the image's HEALTHCHECK reports $health"
pid=$(podman inspect --format '{{.State.Pid}}' "$tag-serve")
ids=$(awk '$1 == "Uid:" || $1 == "Gid:" { printf "%s %s ", $1, $2 }' "/proc/$pid/status")
[ "$ids" = "Uid: 10001 Gid: 10001 " ] || die "the dashboard process runs as $ids, not 10001:10001"
say "serve: the process runs as uid 10001, gid 10001"
stopped "$tag-serve" 15

# The runner with the example config as it is: its webhooks go to http://app:8080, here the
# receiver on a loopback address of its own (127.18.0.1) named app in the container.
python3 tests/image/webhook.py 127.18.0.1 8080 >"$tmp/webhook.log" 2>&1 &
webhook_pid=$!
wait_for 10 "webhook.py listening on 127.18.0.1:8080" grep -q listening "$tmp/webhook.log"
podman run -d --name "$tag-run" --network host --no-healthcheck --add-host app:127.18.0.1 \
  -e REDIS_URL="$redis_url" -e "$loopback" \
  -v "$repo/deploy/bullring.toml:/etc/bullring/bullring.toml:ro" \
  "$image" run --config /etc/bullring/bullring.toml >/dev/null 2>>"$tmp/podman.log"
wait_for 30 "'runner started' with 2 workers in the runner's log" \
  bash -c "logs_of $tag-run | grep 'runner started' | grep -q 'workers=2'"
wait_for 30 "the emails job $email_job completed through the webhook" \
  bash -c "redis-cli -p $redis_port hget bull:emails:$email_job returnvalue | grep -q handled"
grep -q "job $email_job welcome" "$tmp/webhook.log" || die "webhook.py did not see job $email_job"
rcli zscore bull:reports:repeat nightly-report | grep -q '[0-9]' \
  || die "the runner did not upsert the nightly-report scheduler"
say "run: 2 workers; emails job $email_job completed via http://app:8080/jobs/emails; nightly-report scheduled"
stopped "$tag-run" 40

# --- 3. docker-compose.yml under podman-compose ---------------------------------------------
# The compose file as it is, but for: absolute paths (it is read from a temporary copy), the
# dashboard's host port (a free one, not 3000) and one more service, the webhook receiver "app".
compose_port=$(free_port)
compose_file=$tmp/docker-compose.yml
/usr/bin/python3 - "$repo" "$compose_port" "$compose_file" <<'PY'
import sys, yaml
repo, port, out = sys.argv[1:]
compose = yaml.safe_load(open(f"{repo}/docker-compose.yml"))
for service in compose["services"].values():
    if service.get("build") == ".":
        service["build"] = repo
    service["volumes"] = [v.replace("./", f"{repo}/", 1) if v.startswith("./") else v
                          for v in service.get("volumes", [])]
    service["ports"] = [p.replace(":3000:", f":{port}:") for p in service.get("ports", [])]
compose["services"]["app"] = {"image": "localhost/bullring-ci-app:latest"}
yaml.safe_dump(compose, open(out, "w"), sort_keys=False)
PY
say "podman-compose up (project $tag, dashboard on 127.0.0.1:$compose_port)"
podman-compose -p "$tag" -f "$compose_file" up -d >"$tmp/compose.log" 2>&1 \
  || { tail -n 40 "$tmp/compose.log" >&2; die "podman-compose up"; }
ctr() { podman ps -a --format '{{.Names}}' | grep -E "^${tag}[_-]$1[_-]1$" || die "no $1 container"; }
redis_ctr=$(ctr redis) dashboard_ctr=$(ctr dashboard) runner_ctr=$(ctr runner) app_ctr=$(ctr app)
web=http://127.0.0.1:$compose_port/admin/queues
wait_for 60 "the compose dashboard's healthz on the published port" curl -fsS "$web/healthz"
wait_for 30 "the compose dashboard's readyz: Redis up at redis:6379" \
  bash -c "curl -fsS '$web/readyz' | grep -q '\"redis\":\"up\"'"
wait_for 30 "the compose runner's 'runner started'" \
  bash -c "logs_of $runner_ctr | grep -q 'runner started'"
job=$(podman exec "$dashboard_ctr" bullring add emails welcome --data '{"to":"grace@example.com"}') \
  || die "bullring add in the dashboard's container (REDIS_URL=redis://redis:6379)"
wait_for 30 "the compose runner completing emails job $job through http://app:8080" \
  bash -c "podman exec $redis_ctr redis-cli hget bull:emails:$job returnvalue | grep -q handled"
wait_for 30 "the compose dashboard listing emails" bash -c "curl -fsS '$web/' | grep -q emails"
podman exec "$redis_ctr" sh -c 'ls /data' | grep -q appendonly || die "no AOF in the redis volume"
say "compose: dashboard and runner reach redis:6379 by name; job $job completed; AOF in /data"
stopped "$runner_ctr" 40
stopped "$dashboard_ctr" 15
say "all image checks passed (build ${build_secs} s, $(mb "$added") on top of $base)"
