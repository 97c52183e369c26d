#!/usr/bin/env bash
# Builds a free-threaded CPython 3.13 (./configure --disable-gil) for the tests of the
# free-threaded comparison, from Debian trixie's source package (PyPI and python.org
# are out of reach; Debian's mirrors are not). Cached in .cache/python-ft (git-ignored):
# the first build takes ~6 min on 2 cores, later runs reuse it. Prints the interpreter path.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.cache/python-ft"
py="$root/install/bin/python3.13t"
if [ -x "$py" ] && "$py" -c 'import sys; assert not sys._is_gil_enabled()' 2>/dev/null; then
  echo "$py"; exit 0
fi
mkdir -p "$root"
log="$root/build.log"
{
  # A private apt configuration: trixie's deb-src entry, without touching the system's.
  apt_dir="$root/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/sources.list.d" "$apt_dir/cache/archives/partial"
  echo 'deb-src http://deb.debian.org/debian trixie main' > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Get::List-Cleanup=0)
  if ! command -v dpkg-source >/dev/null || ! command -v gcc >/dev/null; then
    apt-get install -y --no-install-recommends dpkg-dev build-essential libssl-dev zlib1g-dev libffi-dev
  fi
  apt-get "${apt_opts[@]}" update
  rm -rf "$root/src" && mkdir -p "$root/src"
  (cd "$root/src" && apt-get "${apt_opts[@]}" source --download-only python3.13 && dpkg-source -x --no-check python3.13_*.dsc python3.13)
  cd "$root/src/python3.13"
  ./configure --disable-gil --prefix="$root/install" --without-ensurepip --disable-test-modules
  make -j"$(nproc)"
  make install
} >"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
"$py" -c 'import sys; assert not sys._is_gil_enabled()'
echo "$py"
