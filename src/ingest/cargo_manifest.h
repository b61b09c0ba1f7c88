// Cargo.toml reading: a TOML parser and the Cargo manifest fields ferrograph
// needs.
//
// ParseToml reads TOML 1.0 as found in real Cargo.toml files: tables, dotted
// keys, arrays of tables, inline tables, arrays (multi-line, trailing commas),
// basic and literal strings (single- and multi-line) with escapes, integers,
// floats, booleans, dates and times, comments. Two TOML 1.1 relaxations are
// accepted: newlines and a trailing comma inside inline tables, and the `\e`
// and `\xHH` escapes. Integers, floats, booleans and dates are validated and
// kept as their raw text. Redefinitions that TOML forbids (duplicate keys, a
// table defined twice, extending an inline table) are errors.
//
// ParseCargoManifest turns a document into a CargoManifest: [package],
// [lib], [[bin]], [[example]], [[test]], [[bench]], [workspace], [features]
// and every dependency table (normal, dev, build, and target-specific ones).
// ResolveFeatures then computes which features a build turns on (what cargo
// passes to rustc as `--cfg feature="..."`).
//
// Errors are InvalidArgument with "FILE:LINE: what", e.g.
// "Cargo.toml:3: expected `=`", where FILE is the name the caller passed.
//
// Pure functions over text: no file system access; thread-safe.
#ifndef FERROGRAPH_INGEST_CARGO_MANIFEST_H_
#define FERROGRAPH_INGEST_CARGO_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

// One TOML value. Tables keep their keys in document order.
struct TomlValue {
  enum class Type { kString, kInteger, kFloat, kBoolean, kDatetime, kArray, kTable };
  // How a table or array came to exist; TOML's redefinition rules depend on it.
  enum class Origin {
    kValue,          // written as a value: `k = [..]`, `k = {..}` (frozen), scalars
    kImplicit,       // a table created as the prefix of a [header]
    kHeader,         // a table defined by its own [header]
    kDotted,         // a table created by a dotted key `a.b = 1`
    kArrayOfTables,  // an array built by [[header]]s
  };

  Type type = Type::kTable;
  Origin origin = Origin::kValue;
  int line = 0;  // 1-based line where the value (or its table header) starts
  // kString: the decoded string. kInteger/kFloat/kBoolean/kDatetime: the raw
  // text as written ("1_000", "0x1F", "true", "1979-05-27T07:32:00Z").
  std::string text;
  std::vector<std::string> keys;  // kTable: keys, parallel to `items`
  std::vector<TomlValue> items;   // kTable: values; kArray: elements

  bool is_string() const { return type == Type::kString; }
  bool is_table() const { return type == Type::kTable; }
  bool is_array() const { return type == Type::kArray; }
  bool is_bool() const { return type == Type::kBoolean; }
  bool as_bool() const { return type == Type::kBoolean && text == "true"; }

  // Table lookup; nullptr when absent or when this is not a table.
  const TomlValue* Find(std::string_view key) const;
  TomlValue* Find(std::string_view key);
};

const char* TomlTypeName(TomlValue::Type type);  // "string", "table", ...

// Parses a whole TOML document into a table. `file_name` prefixes error
// messages ("Cargo.toml:3: expected `=`").
Result<TomlValue> ParseToml(std::string_view text, std::string_view file_name);

// [lib], [[bin]], [[example]], [[test]], [[bench]]: name and path as written
// (path relative to the manifest's directory).
struct CargoTargetSpec {
  std::optional<std::string> name;
  std::optional<std::string> path;
  int line = 0;
};

enum class DependencyKind { kNormal, kDev, kBuild };

struct CargoDependency {
  std::string key;      // as written in the table: "serde-json", or the rename
  std::string package;  // the package it names: `package = ".."`, else `key`
  DependencyKind kind = DependencyKind::kNormal;
  std::string target;      // "cfg(unix)" for [target.'cfg(unix)'.dependencies]; "" otherwise
  bool workspace = false;  // `workspace = true`: inherits from [workspace.dependencies]
  bool optional = false;
  std::optional<std::string> version;
  std::optional<std::string> path;
  int line = 0;
};

struct CargoPackageSpec {
  std::string name;
  std::optional<std::string> version;   // absent when missing or inherited
  bool version_from_workspace = false;  // `version.workspace = true`
  std::optional<std::string> edition;   // absent when missing or inherited
  bool edition_from_workspace = false;
  std::optional<std::string> workspace;  // `package.workspace = "../.."`
  // Target auto-discovery switches; absent means "not written".
  std::optional<bool> autolib, autobins, autoexamples, autotests, autobenches;
  int line = 0;  // the [package] header
};

struct CargoWorkspaceSpec {
  std::vector<std::string> members;
  std::vector<std::string> exclude;
  std::vector<std::string> default_members;
  std::optional<std::string> package_version;  // [workspace.package] version
  std::optional<std::string> package_edition;  // [workspace.package] edition
  std::vector<CargoDependency> dependencies;   // [workspace.dependencies]
  int line = 0;
};

// One [features] entry, e.g.
//   perf-literal = ["aho-corasick", "dep:memchr", "regex-syntax/std", "serde?/rc"]
struct CargoFeature {
  std::string name;
  std::vector<std::string> enables;  // the entries, as written
  int line = 0;
};

struct CargoManifest {
  std::optional<CargoPackageSpec> package;  // [package] (or legacy [project])
  std::optional<CargoTargetSpec> lib;
  std::vector<CargoTargetSpec> bins, examples, tests, benches;
  std::optional<CargoWorkspaceSpec> workspace;
  // [dependencies], [dev-dependencies], [build-dependencies] (also the legacy
  // dev_dependencies / build_dependencies spellings) and their
  // [target.<spec>.*] forms, in that order.
  std::vector<CargoDependency> dependencies;
  std::vector<CargoFeature> features;  // [features], in document order
};

// The features a build asks for, as on cargo's command line. The default
// value is a plain `cargo build`.
struct CargoFeatureRequest {
  bool default_features = true;  // false: --no-default-features
  bool all_features = false;     // --all-features
  // --features: feature names, optional dependency names, `dep:x`, `x/feat`.
  std::vector<std::string> features;
};

// The outcome of ResolveFeatures. No list has duplicates.
struct CargoFeatureSet {
  // The enabled features of the package, sorted: each is one
  // `feature = "name"` cfg.
  // Includes `default` when it is enabled, and the implicit feature of every
  // enabled optional dependency that has one.
  std::vector<std::string> features;
  // The optional dependencies turned on, sorted, by dependency key (the name
  // the code uses, as in CargoDependency::key).
  std::vector<std::string> optional_dependencies;
  // Entries that name nothing in the manifest (cargo rejects them): a feature
  // that does not exist, `dep:x` with no optional dependency x, `x/feat` with
  // no dependency x. They enable nothing. In the order met.
  std::vector<std::string> unknown;
};

// Computes the features `request` enables, following cargo's rules:
// - `default` is enabled unless default_features is false (nothing when the
//   package has no `default` feature); all_features enables every feature,
//   explicit and implicit.
// - Enabling a feature enables its entries transitively: a name enables that
//   feature; `dep:x` enables the optional dependency x only; `x/feat`
//   enables dependency x when it is optional (and its implicit feature, if
//   any); `x?/feat` enables nothing here.
// - An optional dependency x (normal or build, any target) has an implicit
//   feature `x`, unless some [features] entry says `dep:x` or a feature is
//   explicitly named x. Enabling the feature enables the dependency.
// Workspace-wide unification (another package enabling features of this one)
// is the caller's business. Pure; never fails.
CargoFeatureSet ResolveFeatures(const CargoManifest& manifest,
                                const CargoFeatureRequest& request = {});

// Parses Cargo.toml text. Fails on TOML syntax errors and on fields of the
// wrong type (a non-string package name, a [[bin]] that is not a table, ...);
// unknown fields are ignored.
Result<CargoManifest> ParseCargoManifest(std::string_view text, std::string_view file_name);

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_CARGO_MANIFEST_H_
