#!/usr/bin/env bash
# The README's install, pipeline and tests on Linux aarch64, emulated: a Debian arm64 root under qemu-user.
#
#   sudo bash scripts/arm64.sh [REV]        # REV: a commit of this repo, default HEAD
#
# On a Debian/Ubuntu x86-64 host, as root. It
#   1. installs qemu-user-static and mmdebstrap (apt), and registers qemu for aarch64 binaries (binfmt_misc,
#      with the F flag, so the kernel runs them under qemu inside a chroot too);
#   2. makes a Debian bookworm arm64 root in $ARM64_ROOTFS with python3 (3.11), venv and git, once: a later
#      run reuses it;
#   3. clones this repo at REV into it, afresh, owned by an unprivileged user (pip as root warns);
#   4. runs there, under `nice`, the README's first command, the check, and the README's second command:
#        python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" && dvc repro
#        python scripts/check_repro.py --tolerance    # the committed (x86-64) metrics, within tolerance
#        . .venv/bin/activate && pytest
#   5. prints each step's time, also as a multiple of `python -c "import torch"` there (the unit for
#      timings on a shared machine), the check's and the tests' verdicts, and every line that warns.
# Committed changes only: the clone is of REV, not of the working tree. The venv is made afresh each run;
# pip's cache (in the root's home) is kept, so a second run downloads nothing. Emulated, the whole run takes
# hours on 2 cores (docs/reproducibility.md, "On ARM (emulated)").
#
# Environment: ARM64_ROOTFS (default /var/tmp/seqmem-arm64), ARM64_MIRROR (default deb.debian.org),
# ARM64_NICE (default 10), ARM64_LOGS (default $ARM64_ROOTFS.logs).
set -euo pipefail

REPO=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
ROOTFS=${ARM64_ROOTFS:-/var/tmp/seqmem-arm64}
MIRROR=${ARM64_MIRROR:-http://deb.debian.org/debian}
NICE=${ARM64_NICE:-10}
LOGS=${ARM64_LOGS:-$ROOTFS.logs}
USER_ID=1000  # the unprivileged user who owns the clone and runs everything inside the root
HOME_IN=/home/student
CLONE_IN=$HOME_IN/seqmem

[[ $(id -u) == 0 ]] || { echo "arm64.sh: run as root (apt-get, binfmt_misc, chroot)" >&2; exit 2; }
[[ $(uname -m) == x86_64 ]] || { echo "arm64.sh: this host is $(uname -m), not x86_64" >&2; exit 2; }
mkdir -p "$LOGS"
declare -A SECONDS_OF  # step -> wall seconds
timed() {  # timed NAME CMD...: run CMD, keep its wall time under NAME, return its status
  local name=$1 t0=$SECONDS rc=0
  shift
  "$@" || rc=$?
  SECONDS_OF[$name]=$((SECONDS - t0))
  return "$rc"
}

# -- 1. qemu for aarch64 binaries ---------------------------------------------------------------------
host_tools() {
  if ! command -v qemu-aarch64-static >/dev/null || ! command -v mmdebstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static mmdebstrap >/dev/null
  fi
  # a container may lack binfmt_misc's mount; the kernel needs it to hand aarch64 binaries to qemu
  [[ -e /proc/sys/fs/binfmt_misc/status ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    # Debian's own entry (ELF magic, interpreter, flags incl. F): what installing the package does on a full system
    local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    [[ -f $conf ]] || { echo "arm64.sh: $conf missing: is qemu-user-static installed?" >&2; exit 1; }
    # flags F (open the interpreter now, so it works inside the chroot) and O, C dropped: C needs setuid
    sed 's/:[A-Z]*$/:FP/' "$conf" >/proc/sys/fs/binfmt_misc/register
  fi
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || {
    echo "arm64.sh: qemu-aarch64 is registered without the F flag, so it can't run inside a chroot:" \
         "$(grep flags /proc/sys/fs/binfmt_misc/qemu-aarch64)" >&2; exit 1; }
}

# -- 2. the arm64 root, once ------------------------------------------------------------------------------
make_rootfs() {
  if [[ -f $ROOTFS/etc/debian_version ]]; then
    echo "arm64.sh: reusing $ROOTFS"
  else
    # built beside, then renamed: an interrupted build is never mistaken for a finished root
    rm -rf "$ROOTFS.part"
    nice -n "$NICE" mmdebstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,git,ca-certificates \
      bookworm "$ROOTFS.part" "$MIRROR" >"$LOGS/mmdebstrap.log" 2>&1
    mv "$ROOTFS.part" "$ROOTFS"
  fi
  grep -q "^student:" "$ROOTFS/etc/passwd" ||
    chroot "$ROOTFS" useradd --uid "$USER_ID" --create-home --home-dir "$HOME_IN" student
  # the CAs this host added to Debian's (a TLS-inspecting proxy's, say), so pip inside reaches PyPI as pip here does
  local ca=/usr/local/share/ca-certificates
  if [[ -d $ca ]] && ! diff -qr "$ca" "$ROOTFS$ca" >/dev/null 2>&1; then
    rm -rf "${ROOTFS:?}$ca" && cp -r "$ca" "$ROOTFS$ca"
    chroot "$ROOTFS" update-ca-certificates >"$LOGS/ca.log" 2>&1
  fi
}

# -- 3. this repo at REV, afresh ---------------------------------------------------------------------------
clone() {
  rm -rf "$ROOTFS$CLONE_IN"
  git clone -q --no-hardlinks "$REPO" "$ROOTFS$CLONE_IN"
  git -C "$ROOTFS$CLONE_IN" checkout -q --detach "$REV"
  chown -R "$USER_ID:$USER_ID" "$ROOTFS$CLONE_IN"
}

# -- 4. run as the user inside the root -------------------------------------------------------------------
# The CPU the guest sees: qemu's Neoverse-N1 model (Arm's server core of AWS Graviton2: NEON, no SVE, like
# Apple's M-series), and the same CPU in /proc/cpuinfo and /sys/devices/system/cpu. qemu 7.2 (bookworm)
# passes the host's x86 files through, and torch's oneDNN (xbyak_aarch64) segfaults in `import torch` on
# the x86 sysfs tree: a real aarch64 kernel shows these files instead.
QEMU_CPU_MODEL=neoverse-n1
MIDR=0x00000000413fd0c1  # Arm (0x41), variant 3, part 0xd0c (Neoverse-N1), revision 1
FEATURES="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs"
fake_cpu() {  # fake_cpu ROOT: an aarch64 kernel's view of this host's CPU count, mounted over the x86 one
  local root=$1 n i sys
  n=$(nproc)
  for ((i = 0; i < n; i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 50.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' "$i" "$FEATURES"
    printf 'CPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n'
  done >"$LOGS/cpuinfo"
  mount --bind "$LOGS/cpuinfo" "$root/proc/cpuinfo"
  sys=$root/sys/devices/system/cpu
  mount -t tmpfs -o size=1m seqmem-arm64-cpu "$sys"
  for f in possible present online; do echo "0-$((n - 1))" >"$sys/$f"; done
  for ((i = 0; i < n; i++)); do
    mkdir -p "$sys/cpu$i/regs/identification"
    echo "$MIDR" >"$sys/cpu$i/regs/identification/midr_el1"
    echo 0x0000000000000000 >"$sys/cpu$i/regs/identification/revidr_el1"
  done
}

# A private mount namespace (unshare -m): what is mounted for the chroot vanishes with it, however the
# run ends. Only DNS comes from the host (resolv.conf).
in_namespace() {  # in_namespace 'shell command': the mounts, then the command in the clone as the user
  set -e
  mount -t proc proc "$ROOTFS/proc"
  mount --rbind /dev "$ROOTFS/dev"
  mount -t sysfs sysfs "$ROOTFS/sys"
  fake_cpu "$ROOTFS"
  QEMU_CPU=$QEMU_CPU_MODEL exec nice -n "$NICE" chroot --userspec="$USER_ID:$USER_ID" "$ROOTFS" \
    /usr/bin/env -i HOME="$HOME_IN" USER=student LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
    QEMU_CPU="$QEMU_CPU_MODEL" DVC_NO_ANALYTICS=1 \
    GIT_AUTHOR_NAME=arm64 GIT_AUTHOR_EMAIL=arm64@example.invalid \
    GIT_COMMITTER_NAME=arm64 GIT_COMMITTER_EMAIL=arm64@example.invalid \
    bash -c "cd $CLONE_IN && $1"
}

inside() {  # inside LOGNAME 'shell command': in_namespace, output to the screen and to $LOGS/LOGNAME.log
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  export ROOTFS HOME_IN CLONE_IN NICE USER_ID LOGS QEMU_CPU_MODEL MIDR FEATURES
  unshare --mount --fork bash -c "$(declare -f fake_cpu in_namespace); in_namespace \"\$1\"" _ "$2" 2>&1 |
    tee "$LOGS/$1.log"
  return "${PIPESTATUS[0]}"
}

# sourced (`. scripts/arm64.sh` to call `inside` by hand): the functions only
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0
REV=$(git -C "$REPO" rev-parse --verify "${1:-HEAD}^{commit}")

timed setup host_tools
timed rootfs make_rootfs
clone
echo "arm64.sh: $(inside arch 'uname -m; python3 --version') at $(git -C "$REPO" log -1 --format='%h %s' "$REV")"

status=0
timed install inside install 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"' || status=1
if ((status == 0)); then
  # the unit of time on a shared machine: a warm `import torch` (the second of two), in the same run
  inside import_torch '. .venv/bin/activate && TIMEFORMAT=%R && time python -c "import torch" && time python -c "import torch"' || true
  IMPORT_TORCH=$(tail -1 "$LOGS/import_torch.log")
  timed dvc_repro inside dvc_repro '. .venv/bin/activate && dvc repro' || status=1
fi
if ((status == 0)); then
  # the check first, so that its verdict stands whatever the tests do; it has nothing left to run
  timed check_repro inside check_repro '. .venv/bin/activate && python scripts/check_repro.py --tolerance' || status=1
  timed pytest inside pytest '. .venv/bin/activate && pytest -rs' || status=1
fi

echo
echo "arm64.sh: times under qemu-aarch64 ($QEMU_CPU_MODEL) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)," \
  "nice $NICE; import torch there: ${IMPORT_TORCH:-?} s"
for step in setup rootfs install dvc_repro check_repro pytest; do
  [[ -n ${SECONDS_OF[$step]:-} ]] || continue
  printf '  %-12s %6d s' "$step" "${SECONDS_OF[$step]}"
  [[ -n ${IMPORT_TORCH:-} ]] && awk -v s="${SECONDS_OF[$step]}" -v t="$IMPORT_TORCH" 'BEGIN { printf "  %6.0fx import torch", s / t }'
  echo
done
echo "arm64.sh: results"
tail -n1 "$LOGS/check_repro.log" "$LOGS/pytest.log" 2>/dev/null | sed 's/^/  /'
echo "arm64.sh: lines that warn (logs in $LOGS):"
grep -iHn -E 'warn|deprecat' "$LOGS"/{install,dvc_repro,check_repro,pytest}.log 2>/dev/null | sed 's/^/  /' || echo "  none"
echo "arm64.sh: $( ((status == 0)) && echo OK || echo FAILED)"
exit "$status"
