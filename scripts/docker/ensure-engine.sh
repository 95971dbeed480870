#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker version`, and that the helper packages the project uses next to it
# are installed: docker-registry (the project registries), busybox-static (the job images), awscli and
# python3-boto3 (S3 clients the tests use). Idempotent, and quick when everything is there (one `docker version`
# and one dpkg query):
#  - an engine already answers (Docker Desktop, a system dockerd, DOCKER_HOST, a previous run): only the missing
#    helper packages are installed (Linux as root with apt-get); elsewhere the script says what is missing, and
#    what the emulator does without it, and carries on;
#  - otherwise, on Linux as root with apt-get (Debian/Ubuntu): install the engine and the helper packages, then
#    start dockerd in the background with no bridge and no iptables (the emulator only ever talks to loopback; job
#    containers use --network host or --network none);
#  - otherwise: explain what to install or start, and fail.
# Environment: DOCKERD_LOG (default /var/log/htcemu-dockerd.log), DOCKERD_PIDFILE (default /var/run/docker.pid),
# ENGINE_TIMEOUT seconds to wait for the engine (default 30).
# With --optional, a machine where no engine can be had is not an error: the message is printed and the script
# exits 0 (the emulator then simulates jobs).
set -euo pipefail

optional=0
[ "${1:-}" = "--optional" ] && optional=1

log=${DOCKERD_LOG:-/var/log/htcemu-dockerd.log}
pidfile=${DOCKERD_PIDFILE:-/var/run/docker.pid}
timeout=${ENGINE_TIMEOUT:-30}
engine_packages=(docker.io containerd runc)
helper_packages=(busybox-static docker-registry awscli python3-boto3)

say() { echo "ensure-engine: $*"; }
die() {
  echo "ensure-engine: $*" >&2
  if [ "$optional" = 1 ]; then echo "ensure-engine: continuing without Docker (jobs will be simulated)" >&2; exit 0; fi
  exit 1
}

# `docker version` exits non-zero when the CLI works but no server answers; the format keeps it to one line.
engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
can_apt() { [ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }

# --- packages ---------------------------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive

# The packages of "$@" that dpkg does not list as installed (one query for all of them).
missing_packages() {
  local p status
  declare -A installed=()
  while IFS=' ' read -r p status; do
    [ "$status" = "installed" ] && installed[$p]=1
  done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null || true)
  for p in "$@"; do [ -n "${installed[$p]:-}" ] || echo "$p"; done
}

apt_update() {
  say "apt-get update"
  # Some configured sources may be unreachable (only Debian's mirrors are, here); apt then exits non-zero although
  # the Debian lists were refreshed, so carry on and let the install decide.
  apt-get update -qq >/dev/null || say "apt-get update reported errors (continuing)"
}
# Quiet, but errors still reach stderr (debconf's note about apt-utils is noise, dropped).
apt_install() {
  apt-get install -y -qq --no-install-recommends "$@" 2> >(grep -v 'delaying package configuration' >&2) >/dev/null
}

# Installs the packages of "$@" that are missing; returns non-zero when apt-get could not.
install_missing() {
  local missing p policy
  mapfile -t missing < <(missing_packages "$@")
  [ "${#missing[@]}" -gt 0 ] || return 0
  # Refresh the package lists only when they cannot name a candidate for every missing package.
  for p in "${missing[@]}"; do
    # (Captured first: `grep -q` exiting early would make apt-cache die of SIGPIPE and fail the pipeline.)
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    if ! grep -q 'Candidate: [^(]' <<<"$policy"; then apt_update; break; fi
  done
  say "installing ${missing[*]}"
  # A stale list can point at files the mirror no longer has: refresh once and retry.
  if ! apt_install "${missing[@]}"; then
    apt_update
    apt_install "${missing[@]}" || { echo "ensure-engine: apt-get install ${missing[*]} failed" >&2; return 1; }
  fi
}

# Where this script cannot install packages: say which helpers are missing and what works without them.
explain_missing_helpers() {
  local missing=() sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo "
  if [ "$(uname -s)" = Linux ] && command -v dpkg-query >/dev/null 2>&1; then
    mapfile -t missing < <(missing_packages "${helper_packages[@]}")
    [ "${#missing[@]}" -gt 0 ] || return 0
    say "missing helper packages: ${missing[*]}; install them with: ${sudo}apt-get install --no-install-recommends ${missing[*]}"
  else
    command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || missing+=("docker-registry")
    command -v aws >/dev/null 2>&1 || missing+=("aws (the AWS CLI)")
    python3 -c 'import boto3' >/dev/null 2>&1 || missing+=("boto3 (python3)")
    [ "$(uname -s)" != Linux ] || [ -x /bin/busybox ] || missing+=("busybox (static)")
    [ "${#missing[@]}" -gt 0 ] || return 0
    say "not here: ${missing[*]} (this script installs them only on Debian/Ubuntu as root)"
  fi
  if [[ " ${missing[*]} " == *" docker-registry"* ]]; then
    say "without docker-registry the emulator runs the project registries as a container (htcemu/registry:2 from images/build.sh, else registry:2)"
  fi
  return 0
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  say "engine already answers (server $(docker version --format '{{.Server.Version}}'), ${DOCKER_HOST:-default context})"
  if can_apt; then
    install_missing "${helper_packages[@]}" || say "continuing without them (the engine answers; what needs them will say so)"
  else
    explain_missing_helpers
  fi
  exit 0
fi

case "$(uname -s)" in
  Linux) ;;
  Darwin) die "no Docker engine answers. Install and start Docker Desktop (https://docs.docker.com/desktop/), then rerun." ;;
  *) die "no Docker engine answers. Install and start Docker Desktop (or another engine reachable through DOCKER_HOST), then rerun." ;;
esac
if [ -n "${DOCKER_HOST:-}" ]; then
  die "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there; start that engine or unset DOCKER_HOST."
fi
if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
  die "an engine's socket /var/run/docker.sock exists but this user cannot use it: run as root, or add the user to
  the docker group (sudo usermod -aG docker \"\$USER\", then log in again)."
fi
if ! can_apt; then
  die "no Docker engine answers and this script can only set one up as root on Debian/Ubuntu (apt-get).
  Install Docker Engine (https://docs.docker.com/engine/install/, or: sudo apt-get install docker.io) and start it
  (sudo systemctl start docker, or: sudo dockerd --bridge=none --iptables=false &), make sure your user may use it (docker group),
  then rerun. On macOS/Windows, install and start Docker Desktop."
fi

install_missing "${engine_packages[@]}" "${helper_packages[@]}" || die "could not install the engine's packages"
command -v dockerd >/dev/null 2>&1 || die "dockerd not found after installing docker.io"

# --- dockerd ----------------------------------------------------------------------------------------------------
# A dockerd from an earlier run may still be starting; only start another one when none is alive.
running_pid=""
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then running_pid=$(cat "$pidfile"); fi
if [ -n "$running_pid" ]; then
  say "dockerd already running (pid $running_pid); waiting for it to answer"
else
  mkdir -p "$(dirname "$log")"
  say "starting dockerd (log $log, pidfile $pidfile)"
  # setsid + nohup: its own session, so it outlives this script and the terminal. No bridge, no iptables, no NAT:
  # nothing is created on the host's network.
  setsid nohup dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false --pidfile "$pidfile" \
    >>"$log" 2>&1 </dev/null &
fi

# Counted in 0.2 s steps: bash's SECONDS ticks on whole seconds and could cut the wait short by almost one.
tries=$((timeout * 5))
until engine_answers; do
  tries=$((tries - 1))
  if [ "$tries" -le 0 ]; then
    echo "ensure-engine: dockerd did not answer within ${timeout}s; last lines of $log:" >&2
    tail -n 30 "$log" >&2 || true
    exit 1
  fi
  sleep 0.2
done
say "engine answers (server $(docker version --format '{{.Server.Version}}'))"
