#!/usr/bin/env bash
# Try the README's two commands with one Python, as a new user would: a fresh clone, a fresh venv,
# packages from PyPI only, empty caches. Then `git status` must be clean and check_repro.py must pass, and
# so must `git status` after `dvc repro --force` reruns every stage with this Python.
#
#   scripts/try_python.sh PYTHON [WORKDIR]
#   scripts/try_python.sh "$(pyenv root)/versions/3.13.0/bin/python3.13" /work/py-scratch/try-3.13
#
# PYTHON is the interpreter to try; a `python3` that runs it goes first on PATH, so the README's
# `python3 -m venv .venv` is that Python. WORKDIR (default: a new folder under ${TMPDIR:-/tmp}) must not
# exist; it gets the clone (WORKDIR/seqmem, of this repo's committed HEAD), the caches (WORKDIR/cache)
# and a log per step (WORKDIR/logs). The venv and the caches (5.3 GB and ~3 GB with PyPI's CUDA torch on Linux)
# are deleted at the end unless KEEP=1. Prints each step's time, also as a multiple of
# `python -c "import torch"` in the same venv, since a busy machine slows every step alike.
# Exit status: 0 where every step passed.
set -euo pipefail

PY=${1:?usage: scripts/try_python.sh PYTHON [WORKDIR]}
PY=$(command -v "$PY")  # an absolute path: the wrapper below must not depend on PATH
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
VERSION=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/seqmem-try-$VERSION.XXXX")}
if [[ $# -ge 2 ]]; then
  [[ ! -e $WORK ]] || { echo "try_python.sh: $WORK exists; name a new folder" >&2; exit 2; }
  mkdir -p "$WORK"
fi
WORK=$(cd "$WORK" && pwd)
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/cache"
free_gb=$(df -Pk "$WORK" | awk 'NR == 2 { print int($4 / 1048576) }')
(( free_gb >= 12 )) || { echo "try_python.sh: $free_gb GB free under $WORK; the venv and caches take ~8 GB" >&2; exit 2; }

# `python3` (and `python`) on PATH run PYTHON: a script that execs it, so sys.executable is PYTHON's real path
for name in python3 python; do printf '#!/bin/sh\nexec "%s" "$@"\n' "$PY" > "$WORK/bin/$name"; chmod +x "$WORK/bin/$name"; done
export PATH="$WORK/bin:$PATH"
# what a new user has: PyPI only (no pip.conf, no local wheels), empty caches for pip, numba kernels and DVC
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_NO_INDEX VIRTUAL_ENV
export PIP_CONFIG_FILE=/dev/null XDG_CACHE_HOME="$WORK/cache" DVC_NO_ANALYTICS=1

now() { date +%s.%N; }
declare -a NAMES=() SECS=() RESULTS=()
failed=0
# step NAME COMMAND: run COMMAND (eval'd in this shell, so `. .venv/bin/activate` lasts), log its output, time it
step() {
  local name=$1 cmd=$2 t0 rc=0
  echo "== $name: $cmd"
  t0=$(now)
  eval "$cmd" > "$WORK/logs/$name.log" 2>&1 || rc=$?
  NAMES+=("$name"); SECS+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"); RESULTS+=("$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")")
  tail -n 3 "$WORK/logs/$name.log" | sed 's/^/   | /'
  [[ $rc == 0 ]] || failed=1
  return "$rc"
}
# clean NAME: `git status --porcelain` must print nothing
# shellcheck disable=SC2016  # the command is eval'd by step, so $out must not expand here
clean() { step "$1" 'out=$(git status --porcelain); echo "${out:-clean}"; [[ -z $out ]]' || true; }

echo "python: $PY ($VERSION), python3 on PATH: $(command -v python3) -> $(python3 -c 'import sys; print(sys.executable)')"
echo "machine: $(nproc) cores, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
git clone --quiet "$ROOT" "$WORK/seqmem"
cd "$WORK/seqmem"
echo "clone: $WORK/seqmem at $(git log --oneline -1)"

# the README's two commands, verbatim: the first two bash blocks under '## Two commands' (tests/test_docs.py)
# shellcheck disable=SC2016  # the backticks are Python's regex for a Markdown code fence
mapfile -t CMDS < <(python3 -c 'import re, sys
s = open("README.md").read().split("## Two commands", 1)[1]
print(*[b.strip() for b in re.findall(r"```bash\n(.*?)```", s, re.S)[:2]], sep="\n")')
INSTALL=${CMDS[0]} TEST=${CMDS[1]}
[[ $INSTALL == *" && dvc repro" ]] || { echo "try_python.sh: the install command no longer ends in dvc repro: $INSTALL" >&2; exit 2; }

# the install command runs as two timed steps: everything before `&& dvc repro`, then dvc repro
step install "${INSTALL% && dvc repro}" || { echo "install failed: see $WORK/logs/install.log" >&2; exit 1; }
for i in 1 2 3; do step "import_torch_$i" 'python -c "import torch"'; done
step dvc_repro "dvc repro" || true
clean git_status_after_repro
step pytest "$TEST" || true
clean git_status_after_pytest
step check_repro "python scripts/check_repro.py" || true
clean git_status_after_check_repro
# a fresh clone reruns only the stages whose outputs git does not hold (the rest match dvc.lock already);
# --force reruns every stage with this Python: a clean status then means no artifact's bytes changed
step dvc_repro_force "dvc repro --force" || true
clean git_status_after_force
venv_size=$(du -sh .venv | cut -f1)

# the median of the three imports is the unit: the first one also reads the files from disk
unit=$(printf '%s\n' "${SECS[1]}" "${SECS[2]}" "${SECS[3]}" | sort -n | sed -n 2p)
echo
echo "Python $VERSION, $(git log --oneline -1 | cut -c1-7), venv $venv_size, load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E '^check_repro: (bit for bit|within tolerance|OK|FAIL)' "$WORK/logs/check_repro.log" | cut -c1-160 || true
echo "pytest: $(grep -E '(passed|failed|error)' "$WORK/logs/pytest.log" | tail -n 1)"
printf '%-26s %9s %10s  %s\n' step seconds "x import" result
for i in "${!NAMES[@]}"; do
  printf '%-26s %9.1f %10.1f  %s\n' "${NAMES[$i]}" "${SECS[$i]}" "$(awk -v a="${SECS[$i]}" -v u="$unit" 'BEGIN { print a / u }')" "${RESULTS[$i]}"
done
echo "import torch (median of 3): ${unit} s; logs: $WORK/logs"

cd "$WORK"
[[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK/seqmem/.venv" "$WORK/cache"
exit "$failed"
