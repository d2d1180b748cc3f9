#!/bin/sh
# `redis-server ARGS` as the official image runs it: protected mode off (the container's network
# is the boundary); the compose file's own arguments come first, as there.
set -e
if [ "$1" = "redis-server" ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
