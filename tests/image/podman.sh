# Sourced by tests/image/*.sh: podman as it works on a Debian machine with no Docker engine and
# no registry (CI's): rootful, vfs storage in its own directory (kept between runs: the cache of
# base images and build layers), runc (crun fails: "cgroups in hybrid mode not supported"),
# cgroupfs, lowered ulimits ("host" is refused), events to a file (no journald).
state=${BULLRING_IMAGE_STATE:-/var/lib/bullring-image}
runroot=/run/$(basename "$state")
mkdir -p "$state" "$runroot"
cat >"$state/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$state/storage"
runroot = "$runroot"
CONF
cat >"$state/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_STORAGE_CONF="$state/storage.conf" CONTAINERS_CONF="$state/containers.conf"
# HEALTHCHECK is an instruction of the Docker image format only; podman's default (OCI) drops it.
export BUILDAH_FORMAT=docker
