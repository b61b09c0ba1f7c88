// Workspace discovery: from a path on disk to the crates to index.
//
// - A directory with a Cargo.toml holding [workspace]: its members (globs
//   expanded, `exclude` honoured) and, if it also has [package], itself.
// - A directory with a Cargo.toml holding only [package]: that package.
// - A directory without a Cargo.toml at its top: every package found beneath
//   it (symlinked directories followed, loops detected, target/, hidden
//   directories and .gitignore'd paths skipped); a package found inside a
//   workspace found this way is indexed once.
// - A directory without any Cargo.toml anywhere: one crate named after the
//   directory (`-` → `_`), kind kPlainDirectory.
// - A single .rs file: one crate named after the file stem.
//
// For each package: crate name = package name with `-` → `_` (or [lib] name),
// targets: lib (src/lib.rs or [lib] path), bins (src/main.rs, src/bin/*.rs,
// src/bin/*/main.rs, [[bin]] entries), examples (examples/*.rs, [[example]]),
// and the package's dependencies (key → package name, for renamed packages).
//
// Failures: a missing path is an error; a broken Cargo.toml is a warning naming
// the file and line, and that package is skipped, the rest goes on.
//
// Thread-compatible; uses the real file system.
#ifndef FERROGRAPH_INGEST_WORKSPACE_H_
#define FERROGRAPH_INGEST_WORKSPACE_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

enum class TargetKind { kLib, kBin, kExample, kPlainDirectory };

struct Target {
  TargetKind kind = TargetKind::kLib;
  std::string crate_name;  // "regex" (lib), "regex_cli" (bin named regex-cli)
  std::string root_file;   // absolute, lexically normalized path of the crate root
};

struct Package {
  std::string name;          // as in Cargo.toml: "regex-syntax"
  std::string manifest_dir;  // absolute, normalized
  std::string version;
  std::string edition = "2015";  // as in Cargo.toml (inherited too); 2015 when absent
  std::vector<Target> targets;
  // Dependency key as seen by the code ("serde_json", or the rename) →
  // package name ("serde_json"), from [dependencies], [dev-dependencies],
  // [build-dependencies] and target-specific tables.
  std::map<std::string, std::string> dependencies;
  // Keys of `dependencies` the library is not built with: those only
  // [dev-dependencies] declare (tests, benches and examples use them), and
  // optional ones the default features leave off.
  std::set<std::string> inactive;
  // The features a plain `cargo build` enables (its `feature = "..."` cfgs),
  // sorted: `default` and what it turns on, transitively.
  std::vector<std::string> features;
  // Custom cfgs its build script (build.rs) can set: `rustc-cfg=NAME`
  // printed, autocfg's emit("NAME"), emit_sysroot_crate/has_type/
  // rustc_version. Modelled as set, as on a current toolchain; sorted.
  std::vector<std::string> build_cfgs;
};

// The custom cfg names a build script's source can emit (see
// Package::build_cfgs), found by scanning its text; sorted, unique.
std::vector<std::string> BuildScriptCfgs(std::string_view build_rs);

struct Workspace {
  std::string root;  // absolute, normalized: the directory indexed
  std::vector<Package> packages;
  std::vector<std::string> warnings;  // "crates/x/Cargo.toml:3: expected `=`"
};

struct DiscoverOptions {
  bool include_examples = true;  // index examples/ targets
  bool follow_symlinks = true;   // follow symlinked directories (loops detected)
};

// Finds the packages and targets under `path`. Fails when `path` does not
// exist or cannot be read.
Result<Workspace> DiscoverWorkspace(const std::string& path, const DiscoverOptions& options = {});

// Every .rs file beneath the directory `dir`, or `dir` alone when it is a
// regular file: absolute, lexically normalized (symlinks kept as written),
// sorted. The walk is the one discovery uses: target/ directories (at any
// depth) and hidden entries (name starting with `.`) are skipped, and so is
// whatever the .gitignore files ignore, those in `dir` and beneath it and,
// inside a git repository, those above `dir` up to the repository's top.
// Symlinked directories and files are followed; a directory reached by two
// paths is walked once, through the first in name order. A symlink leading
// back into a directory being walked adds "PATH: symlink loop, not followed
// again" to `warnings`, a directory that cannot be read (or a `dir` that does
// not exist) adds "PATH: cannot read directory: REASON", and the walk goes
// on. `warnings` may be null. Iterative: deep trees do not grow the stack.
std::vector<std::string> ListRustFiles(const std::string& dir, std::vector<std::string>* warnings);

// Where `mod name;` lives, by rustc's rules:
//   `parent_file` is the file holding the declaration; `parent_is_mod_rs`
//   is true for crate roots, mod.rs files, and files loaded via #[path]
//   (rustc treats those like mod.rs); `enclosing` lists the inline modules
//   around the declaration (name, optional #[path]). Without #[path], the
//   candidates are DIR/name.rs and DIR/name/mod.rs, where DIR is the parent
//   file's directory (mod-rs) or parent dir / file stem (non-mod-rs), plus the
//   inline modules as directories. With #[path], the path is relative to the
//   directory rustc specifies for that case.
// Returns the candidate files in order of preference; the caller takes the
// first that exists. Paths are absolute and lexically normalized.
struct ModuleFileCandidates {
  std::vector<std::string> candidates;
  bool from_path_attr = false;  // the result is loaded "like mod.rs"
};
ModuleFileCandidates ModuleFileFor(
    const std::string& parent_file, bool parent_is_mod_rs,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& enclosing,
    const std::string& name, const std::optional<std::string>& path_attr);

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_WORKSPACE_H_
