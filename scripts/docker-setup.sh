#!/usr/bin/env bash
# Prepares a Debian or Ubuntu machine (as root) for the image tests, as CI does (.ci/run): each step is skipped
# when it is done already, so it can be run again at will.
# - installs what is missing of docker.io (the engine and CLI), debootstrap (the tests' stand-in bases),
#   qemu-user-static (arm64 binaries under emulation), gcc-aarch64-linux-gnu (the arm64 test's native program) and
#   docker-registry (the registry on loopback the publish step is tested against);
# - starts a Docker engine when none answers (no bridge, no iptables: builds and containers use host networking);
# - registers qemu-aarch64 with binfmt_misc's F flag (the interpreter opened at registration), so arm64 binaries
#   also run inside containers, where /usr/bin/qemu-aarch64-static is not.
set -euo pipefail

BINFMT_DIR=${BINFMT_DIR:-/proc/sys/fs/binfmt_misc} # a test points it at a folder of its own

missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

engine() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! engine; then
  log=/var/log/dockerd-setup.log
  echo "starting a Docker engine: dockerd --bridge=none --iptables=false (log: $log)"
  nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    engine && break
    sleep 1
  done
  engine || { tail -20 "$log" >&2; echo "the Docker engine did not answer within 60 s" >&2; exit 1; }
fi
docker version --format 'Docker engine {{.Server.Version}} answers'

qemu=$(command -v qemu-aarch64-static)
entry=$BINFMT_DIR/qemu-aarch64
registered() { [ -f "$entry" ] && grep -qx "interpreter $qemu" "$entry" && grep -q '^flags: .*F' "$entry"; }
if registered; then
  echo "qemu-aarch64 is registered with the F flag"
  exit 0
fi
mountpoint -q "$BINFMT_DIR" || mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
# An entry without F (or for another interpreter) goes first; the kernel refuses a second one of the same name.
if [ -f "$entry" ]; then echo -1 >"$entry"; fi
# qemu's own aarch64 ELF magic and mask (qemu-binfmt-conf.sh); the kernel reads the \x escapes itself.
magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
# Another registration may land between the removal and ours (binfmt-support, systemd-binfmt): that is fine when
# it carries the F flag too.
printf '%s\n' ":qemu-aarch64:M::$magic:$mask:$qemu:OCF" >"$BINFMT_DIR/register" 2>/dev/null || true
registered || { echo "qemu-aarch64 could not be registered with the F flag in $BINFMT_DIR" >&2; exit 1; }
echo "qemu-aarch64 registered with the F flag"
