// Conditional compilation: which `#[cfg(...)]` predicates hold for a build.
//
// ferrograph keeps the items of every cfg branch (graph/extract.h stores each
// item's predicates as the text inside `#[cfg(...)]`). When a name is defined
// several times under different cfgs (`#[cfg(miri)] mod imp` next to
// `#[cfg(not(miri))] mod imp`), resolution picks the definition rustc would
// compile for one configuration, a CfgSet, by evaluating those predicates.
//
// CfgSet is the configuration: the names that are set (`unix`,
// `debug_assertions`) and the key/value pairs (`target_os = "linux"`,
// `feature = "std"`). A key may have several values (`target_has_atomic`,
// `feature`). As in rustc, an option that is not set is false; there is no
// "don't know" for options.
//
// EvaluateCfg parses the predicate grammar of the Rust reference:
//   pred  := option | all(list) | any(list) | not(pred ,?) | true | false
//   option := IDENT | IDENT = STRING
//   list  := (pred (, pred)* ,?)?
// with `all()` true and `any()` false. IDENT may be a raw identifier
// (`r#foo`, naming `foo`) and contain non-ASCII letters; STRING is a string
// literal ("..." with Rust escapes, or r"...", r#"..."#). Whitespace,
// newlines, `//` and (nested) `/* */` comments may appear between tokens, and
// one trailing comma after the whole predicate is accepted, as rustc does.
// Anything else is malformed and evaluates to kUnknown as a whole: a byte
// string or number as a value, a path (`a::b`), `cfg()`, several top-level
// predicates, `not()` or `not(a, b)`, a literal suffix, unbalanced
// parentheses, and predicates that only nightly rustc knows
// (`version("1.80")`, `accessible(..)`, `target(..)`): rustc rejects them on
// stable, so the caller decides what an unknown cfg means.
//
// Cost: a single pass over the text, no allocation unless a string value
// contains escapes; lookups are O(log n) in the set with no copies.
//
// Thread safety: a CfgSet is a value; const access from many threads is safe.
// EvaluateCfg is a pure function.
#ifndef FERROGRAPH_RESOLVE_CFG_H_
#define FERROGRAPH_RESOLVE_CFG_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

class CfgSet {
 public:
  CfgSet() = default;  // nothing set: every option is false

  // What rustc 1.95 sets for a `cargo build` of a library in the dev profile
  // on x86_64-unknown-linux-gnu (`rustc --print cfg` there): `unix`,
  // `debug_assertions`, panic="unwind", target_abi="", target_arch="x86_64",
  // target_endian="little", target_env="gnu", target_family="unix",
  // target_feature= "fxsr" "sse" "sse2", target_has_atomic= "8" "16" "32"
  // "64" "ptr", target_os="linux", target_pointer_width="64",
  // target_vendor="unknown". Not set: test, doc, doctest, miri, any feature,
  // and the unstable overflow_checks. Add features with AddFeature.
  static CfgSet HostDefault();

  // Reads the output of `rustc --print cfg`: one option a line, `name` or
  // `key="value"` (blank lines are skipped). A line that is not an option is
  // InvalidArgument("line N: ...").
  static Result<CfgSet> FromPrintCfg(std::string_view text);

  // Sets the option `name` (`unix`, `miri`, `test`).
  void Set(std::string_view name);
  // Adds `key = "value"`; a key keeps every value added.
  void SetKeyValue(std::string_view key, std::string_view value);
  // `feature = "name"`, as cargo passes each enabled feature.
  void AddFeature(std::string_view feature) { SetKeyValue("feature", feature); }
  // Removes the option or the pair; no effect when absent.
  void Unset(std::string_view name);
  void UnsetKeyValue(std::string_view key, std::string_view value);

  bool IsSet(std::string_view name) const;
  bool HasKeyValue(std::string_view key, std::string_view value) const;

  // The options as `rustc --print cfg` prints them, sorted, one a line, each
  // ending in '\n' (a `"` or `\` in a value is escaped with `\`).
  std::string ToString() const;

  bool operator==(const CfgSet& other) const = default;

 private:
  std::set<std::string, std::less<>> names_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> values_;
};

enum class CfgValue { kFalse, kTrue, kUnknown };

const char* CfgValueName(CfgValue value);  // "false", "true", "unknown"

// Evaluates one predicate (the text inside `#[cfg(...)]`, e.g.
// `all(unix, not(miri))`) under `set`. kUnknown when the text is malformed
// (see the grammar above); never fails otherwise.
CfgValue EvaluateCfg(std::string_view predicate, const CfgSet& set);

// Whether `predicate` can only hold with the option `option` set (`test`):
// false for every configuration without it, in Kleene's three-valued logic
// with every other option unknown: `test`, `all(test, unix)`,
// `any(test, all(test, x))` and `not(not(test))` require `test`;
// `any(test, x)`, `not(test)` and `unix` do not. False for malformed text.
// Used to tell test-only code (`#[cfg(test)] mod tests`) from the rest.
bool CfgRequires(std::string_view predicate, std::string_view option);

// Evaluates the conjunction of an item's predicates (every `#[cfg]` on it and
// those it inherits): kFalse when any is false, else kUnknown when any is
// unknown, else kTrue (also for none at all).
CfgValue EvaluateCfgs(const std::vector<std::string>& predicates, const CfgSet& set);

}  // namespace ferrograph

#endif  // FERROGRAPH_RESOLVE_CFG_H_
