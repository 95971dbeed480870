#!/usr/bin/env bash
# Builds the job images offline (no registry, no Dockerfile base image): each image is a root filesystem assembled
# from files of this host and loaded with `docker import`.
#
#   images/build.sh            build what is missing or out of date
#   images/build.sh --force    rebuild everything
#   images/build.sh --check    also run the smoke matrix (--network host|none x root|65534) on every image
#   images/build.sh --optional without a Docker engine, say so and exit 0 (jobs will be simulated)
#   images/build.sh IMAGE...   only these (e.g. htcemu/registry:2)
#
# An image is skipped when it exists with the label org.htcemu.build-hash equal to the hash of its inputs (this
# script, the host files copied into it and their metadata, the overlay's content), so a rerun only costs a few
# `docker image inspect` calls. Images:
#   htcemu/shell:1  busybox (Debian's busybox-static) with all its applets in /bin
#   htcemu/node:20  the host's node binary and the libraries it links, busybox for a shell, images/node/overlay/
#                   (committed: the tutorial's workload in /opt/workload; generated here, not committed: htcctl,
#                   the in-job storage tool, bundled from apps/htcctl into /usr/local/bin/htcctl)
#   htcemu/registry:2  Debian's docker-registry (distribution 2.8) as /bin/registry and the libraries it links:
#                   the emulator runs the project registries in a container of it where it cannot run the binary
#                   itself; skipped, with a note, where the binary is missing
# The htcctl bundle needs the workspace's dependencies (`pnpm install`) and a node on PATH.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
force=0 check=0 optional=0
only=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --check) check=1 ;;
    --optional) optional=1 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    htcemu/shell:1 | htcemu/node:20 | htcemu/registry:2) only+=("$arg") ;;
    *) echo "usage: $0 [--force] [--check] [--optional] [htcemu/shell:1 | htcemu/node:20 | htcemu/registry:2 ...]" >&2; exit 2 ;;
  esac
done
wanted() { [ "${#only[@]}" -eq 0 ] || [[ " ${only[*]} " == *" $1 "* ]]; }

BUSYBOX=${BUSYBOX:-/bin/busybox}
NODE=${NODE:-/usr/bin/node}
REGISTRY=${REGISTRY:-/usr/bin/docker-registry}
NODE_OVERLAY="$here/node/overlay"
LABEL=org.htcemu.build-hash

say() { echo "images: $*"; }
die() { echo "images: $*" >&2; exit 1; }

if [ "$optional" = 1 ] && ! { command -v docker >/dev/null 2>&1 && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }; then
  say "no Docker engine answers: no images to build (jobs will be simulated)"
  exit 0
fi
command -v docker >/dev/null 2>&1 || die "docker CLI not found (run scripts/docker/ensure-engine.sh)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers (run scripts/docker/ensure-engine.sh)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: install Debian's busybox-static (scripts/docker/ensure-engine.sh does)"
"$BUSYBOX" --list >/dev/null 2>&1 || die "$BUSYBOX has no applet list (need a static busybox with --list)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/htcemu-images.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# --- inputs and their hash --------------------------------------------------------------------------------------
# Host files are identified by path, size and mtime rather than content: hashing the 100 MB node binary would cost
# a third of a second on every run, and a package upgrade changes both anyway.
host_meta() { stat -L -c '%n %s %Y %a' "$@"; }

# Libraries a binary needs, by absolute path, as the dynamic loader resolves them on this host (ldd lists the
# transitive closure and the loader itself; linux-vdso has no path and is skipped; a static binary has none).
libs_of() { { ldd "$1" 2>/dev/null || true; } | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) { print $i; break } }' | sort -u; }

# The overlay is the project's own content: hash names, types, modes, link targets and bytes.
overlay_manifest() {
  [ -d "$NODE_OVERLAY" ] || return 0
  (
    cd "$NODE_OVERLAY"
    find . -mindepth 1 ! -name .gitkeep -printf '%p %y %m %l\n' | LC_ALL=C sort
    find . -type f ! -name .gitkeep -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  )
}

certs_manifest() { [ -d /etc/ssl/certs ] && find -L /etc/ssl/certs -type f -printf '%p %s %T@\n' | LC_ALL=C sort; true; }

hash_of() { sha256sum | cut -c1-64; }
script_hash=$(sha256sum <"$0" | cut -c1-64)

# --- rootfs helpers ---------------------------------------------------------------------------------------------
add_busybox() { # root: /bin/busybox plus one symlink per applet, so every applet is a command on PATH
  local root=$1 applet
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
}

add_libs() { # root lib...: same absolute paths as on the host (e.g. /lib64/ld-linux-x86-64.so.2, the interpreter
  # named in the ELF header), as real files in real directories, whatever the host's merged-/usr symlinks look like.
  local root=$1 lib
  shift
  for lib in "$@"; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

add_base() { # root: users, name service config, writable /tmp
  local root=$1
  mkdir -p "$root/etc" "$root/root" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  # nobody's home is /tmp (not Debian's /nonexistent) so tools that keep caches under $HOME work in jobs run as
  # 65534; Docker sets HOME from this file.
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/tmp:/bin/sh' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nobody:x:65534:' >"$root/etc/group"
  # Without this file glibc asks DNS before /etc/hosts, which is slow or fails for "localhost" under --network none.
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
}

import_rootfs() { # root image hash change...: tar the rootfs as root-owned files and load it
  local root=$1 image=$2 hash=$3 old
  shift 3
  local changes=(--change "LABEL $LABEL=$hash")
  local c
  for c in "$@"; do changes+=(--change "$c"); done
  old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  # Fixed owner and mtime, sorted entries: the same inputs give the same layer.
  tar -C "$root" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf - . \
    | docker import "${changes[@]}" - "$image" >/dev/null
  # The previous build is now untagged; drop it unless a container still uses it.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
}

up_to_date() { # image hash
  [ "$force" = 0 ] && [ "$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true)" = "$2" ]
}

built=()
build_image() { # image hash builder-function
  local image=$1 hash=$2 fn=$3 start
  if up_to_date "$image" "$hash"; then
    say "$image up to date"
    return
  fi
  start=$(date +%s.%N)
  local root="$stage/${image//[\/:]/_}"
  mkdir -p "$root"
  "$fn" "$root" "$hash"
  rm -rf "$root"
  built+=("$image")
  say "$image built in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s ($(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
}

# --- htcemu/shell:1 ---------------------------------------------------------------------------------------------
shell_hash=$({ echo "$script_hash"; host_meta "$BUSYBOX"; } | hash_of)
build_shell() {
  local root=$1 hash=$2
  add_base "$root"
  add_busybox "$root"
  import_rootfs "$root" htcemu/shell:1 "$hash" 'ENV PATH=/bin' 'WORKDIR /' 'CMD ["sh"]'
}

# --- htcemu/node:20 ---------------------------------------------------------------------------------------------
# htcctl is generated into the overlay before it is hashed, so a change to its sources (or to its pinned
# dependencies) changes the bundle's bytes and rebuilds the image; unchanged sources give the same bytes.
prepare_node() {
  repo=$(cd "$here/.." && pwd)
  [ -d "$repo/apps/htcctl/node_modules" ] || die "apps/htcctl/node_modules is missing: run \`pnpm install\` at the repository's root first"
  bundler_node=$(command -v node || echo "$NODE")
  "$bundler_node" "$repo/apps/htcctl/scripts/bundle.mjs" "$NODE_OVERLAY/usr/local/bin/htcctl" || die "bundling htcctl (apps/htcctl) failed"

  # Hook for later steps: whatever lies under images/node/overlay/ (except .gitkeep) is copied over the root
  # filesystem last, keeping modes; e.g. overlay/usr/local/bin/<tool> becomes a command in the image.
  mapfile -t libs < <(libs_of "$NODE")
  [ "${#libs[@]}" -gt 0 ] || die "ldd found no libraries for $NODE"
  node_hash=$({
    echo "$script_hash"
    host_meta "$BUSYBOX" "$NODE" "${libs[@]}"
    certs_manifest
    overlay_manifest
  } | hash_of)
}
build_node() {
  local root=$1 hash=$2
  add_base "$root"
  add_busybox "$root"
  mkdir -p "$root/usr/bin" "$root/usr/local/bin"
  cp "$NODE" "$root/usr/bin/node"
  # Scripts start with `#!/usr/bin/env node` (htcctl does): env is busybox's applet at its usual path.
  ln -s /bin/busybox "$root/usr/bin/env"
  add_libs "$root" "${libs[@]}"
  if [ -d /etc/ssl/certs ]; then
    mkdir -p "$root/etc/ssl"
    cp -rL /etc/ssl/certs "$root/etc/ssl/certs"
  fi
  if [ -d "$NODE_OVERLAY" ]; then
    cp -a "$NODE_OVERLAY/." "$root/"
    rm -f "$root/.gitkeep"
  fi
  import_rootfs "$root" htcemu/node:20 "$hash" 'ENV PATH=/usr/local/bin:/usr/bin:/bin' 'WORKDIR /' 'CMD ["node"]'
}

# --- htcemu/registry:2 ------------------------------------------------------------------------------------------
# Only the registry and its libraries: no shell. It runs as any user (the emulator passes its own uid) and keeps
# everything under the folder the emulator mounts; the configuration is the emulator's.
build_registry() {
  local root=$1 hash=$2
  add_base "$root"
  mkdir -p "$root/bin"
  cp "$REGISTRY" "$root/bin/registry"
  add_libs "$root" "${registry_libs[@]}"
  import_rootfs "$root" htcemu/registry:2 "$hash" 'WORKDIR /' 'ENTRYPOINT ["/bin/registry"]' 'CMD ["serve", "/htcemu-registry/config.yml"]'
}

if wanted htcemu/shell:1; then build_image htcemu/shell:1 "$shell_hash" build_shell; fi
if wanted htcemu/node:20; then
  prepare_node
  build_image htcemu/node:20 "$node_hash" build_node
fi
if wanted htcemu/registry:2; then
  if [ -x "$REGISTRY" ]; then
    mapfile -t registry_libs < <(libs_of "$REGISTRY")
    registry_hash=$({ echo "$script_hash"; host_meta "$REGISTRY" ${registry_libs[@]+"${registry_libs[@]}"}; } | hash_of)
    build_image htcemu/registry:2 "$registry_hash" build_registry
  else
    say "htcemu/registry:2 skipped: $REGISTRY not found (Debian's docker-registry; scripts/docker/ensure-engine.sh installs it). Without it the emulator runs the registry from registry:2"
  fi
fi

# --- smoke tests ------------------------------------------------------------------------------------------------
# After a (re)build, one quick run per image; with --check, every image across networks and users.
smoke() { # image network user
  local image=$1 net=$2 user=$3 out
  case "$image" in
    htcemu/node:*) out=$(docker run --rm --network "$net" --user "$user" "$image" \
      sh -c 'node -e "console.log(process.version)" && htcctl --version && echo ok > /tmp/x && cat /tmp/x' 2>&1) || true ;;
    htcemu/registry:*) out=$(docker run --rm --network "$net" --user "$user" "$image" --version 2>&1 && echo ok) || true ;;
    *) out=$(docker run --rm --network "$net" --user "$user" "$image" \
      sh -c 'seq 3 | awk "{s+=\$1} END {print s}" && echo ok > /tmp/x && cat /tmp/x' 2>&1) || true ;;
  esac
  case "$out" in
    *ok) ;;
    *) die "smoke test failed: $image --network $net --user $user: $out" ;;
  esac
}
if [ "$check" = 1 ]; then
  for image in htcemu/shell:1 htcemu/node:20 htcemu/registry:2; do
    wanted "$image" && docker image inspect "$image" >/dev/null 2>&1 || continue
    for net in none host; do for user in 0:0 65534:65534; do smoke "$image" "$net" "$user"; done; done
  done
  say "smoke matrix passed (network none/host x user 0/65534)"
else
  for image in ${built[@]+"${built[@]}"}; do smoke "$image" none 65534:65534; done
fi
