#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the
# main job on a real crate: index Debian's regex crate, show its stats and a
# few queries. Idempotent: a second run re-indexes nothing that is unchanged.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"

crate=$(ls -d /usr/share/cargo/registry/regex-1.* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$crate" ]; then
  echo "demo: regex crate not found under /usr/share/cargo/registry (librust-regex-dev)" >&2
  exit 1
fi
db="$root/build/demo/regex.db"
fg="$root/build/ferrograph"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$fg" index "$crate" --db "$db"
step "$fg" stats --db "$db"
# Its public path (a `pub use` re-export) finds it too.
step "$fg" show regex::Regex --db "$db" --no-source
step "$fg" show regex::re_unicode::Regex::is_match --db "$db"
step "$fg" impls std::fmt::Display --db "$db"
step "$fg" impls regex::re_unicode::Regex --db "$db"
step "$fg" callers regex::re_unicode::Regex::is_match_at --depth 2 --db "$db"
step "$fg" callees regex::re_unicode::Regex::new --depth 2 --db "$db"
step "$fg" uses regex::re_unicode::Regex --db "$db"
step "$fg" path regex::re_unicode::Regex::new regex::exec::ExecBuilder::build --db "$db"
# Search by words and meaning, with the graph's help; each result says why.
step "$fg" search "escape all regular expression meta characters" -k 5 --db "$db"
# Among the implementors of a trait only.
step "$fg" search "next match in the text" --implements Iterator --kind method -k 5 --db "$db"
# The best context for a question within a token budget (exact cl100k_base
# counts), ending with an account of what went in and why.
step "$fg" context "how are regular expression meta characters escaped" --budget 600 --db "$db"
# Every index run that changed something is a version; queries take --as-of.
step "$fg" log --db "$db"
# An ambiguous name lists its candidates (and exits 1).
step "$fg" show Regex::is_match --db "$db" || true
export="$root/build/demo/regex.jsonl"
step "$fg" export --db "$db" -o "$export"
printf '%s lines written to %s; the first three:\n' "$(wc -l <"$export")" "$export"
head -n 3 "$export"
