#include "resolve/cfg.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ferrograph {
namespace {

using ::testing::HasSubstr;

// `rustc --print cfg` of rustc 1.95.0 on x86_64-unknown-linux-gnu, no flags.
constexpr std::string_view kRustcPrintCfg =
    "debug_assertions\n"
    "panic=\"unwind\"\n"
    "target_abi=\"\"\n"
    "target_arch=\"x86_64\"\n"
    "target_endian=\"little\"\n"
    "target_env=\"gnu\"\n"
    "target_family=\"unix\"\n"
    "target_feature=\"fxsr\"\n"
    "target_feature=\"sse\"\n"
    "target_feature=\"sse2\"\n"
    "target_has_atomic=\"16\"\n"
    "target_has_atomic=\"32\"\n"
    "target_has_atomic=\"64\"\n"
    "target_has_atomic=\"8\"\n"
    "target_has_atomic=\"ptr\"\n"
    "target_os=\"linux\"\n"
    "target_pointer_width=\"64\"\n"
    "target_vendor=\"unknown\"\n"
    "unix\n";

CfgValue Eval(std::string_view predicate) {
  static const CfgSet* host = [] {
    auto* set = new CfgSet(CfgSet::HostDefault());
    set->AddFeature("std");
    set->AddFeature("perf-literal");
    return set;
  }();
  return EvaluateCfg(predicate, *host);
}

constexpr CfgValue kT = CfgValue::kTrue;
constexpr CfgValue kF = CfgValue::kFalse;
constexpr CfgValue kU = CfgValue::kUnknown;

TEST(CfgSetTest, HostDefaultIsWhatRustcPrints) {
  Result<CfgSet> printed = CfgSet::FromPrintCfg(kRustcPrintCfg);
  ASSERT_TRUE(printed.ok()) << printed.status().ToString();
  EXPECT_EQ(CfgSet::HostDefault().ToString(), printed->ToString());
  EXPECT_TRUE(CfgSet::HostDefault() == *printed);
}

TEST(CfgSetTest, ToStringSortsAndEscapes) {
  CfgSet set;
  set.Set("unix");
  set.SetKeyValue("feature", "std");
  set.SetKeyValue("feature", "a\"b\\c");
  set.Set("debug_assertions");
  EXPECT_EQ(set.ToString(), "debug_assertions\nfeature=\"a\\\"b\\\\c\"\nfeature=\"std\"\nunix\n");
  Result<CfgSet> round_trip = CfgSet::FromPrintCfg(set.ToString());
  ASSERT_TRUE(round_trip.ok()) << round_trip.status().ToString();
  EXPECT_TRUE(*round_trip == set);
}

TEST(CfgSetTest, FromPrintCfgRejectsGarbage) {
  Result<CfgSet> r = CfgSet::FromPrintCfg("unix\n\nall(unix)\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 3"));
  EXPECT_FALSE(CfgSet::FromPrintCfg("feature=\n").ok());
  EXPECT_FALSE(CfgSet::FromPrintCfg("a b\n").ok());
  EXPECT_TRUE(CfgSet::FromPrintCfg("").ok());
  EXPECT_TRUE(CfgSet::FromPrintCfg("unix\r\nfeature = \"x\"\r\n").ok());
}

TEST(CfgSetTest, SetAndUnset) {
  CfgSet set;
  EXPECT_FALSE(set.IsSet("miri"));
  set.Set("miri");
  EXPECT_TRUE(set.IsSet("miri"));
  set.Unset("miri");
  set.Unset("never-set");
  EXPECT_FALSE(set.IsSet("miri"));
  set.AddFeature("std");
  EXPECT_TRUE(set.HasKeyValue("feature", "std"));
  EXPECT_FALSE(set.HasKeyValue("feature", "alloc"));
  EXPECT_FALSE(set.IsSet("feature"));  // a key is not a name
  set.UnsetKeyValue("feature", "std");
  EXPECT_FALSE(set.HasKeyValue("feature", "std"));
  EXPECT_TRUE(set == CfgSet());
}

TEST(CfgTest, HostOptions) {
  EXPECT_EQ(Eval("unix"), kT);
  EXPECT_EQ(Eval("windows"), kF);
  EXPECT_EQ(Eval("debug_assertions"), kT);
  EXPECT_EQ(Eval("test"), kF);
  EXPECT_EQ(Eval("doc"), kF);
  EXPECT_EQ(Eval("doctest"), kF);
  EXPECT_EQ(Eval("miri"), kF);
  EXPECT_EQ(Eval("target_os = \"linux\""), kT);
  EXPECT_EQ(Eval("target_os = \"macos\""), kF);
  EXPECT_EQ(Eval("target_family = \"unix\""), kT);
  EXPECT_EQ(Eval("target_arch = \"x86_64\""), kT);
  EXPECT_EQ(Eval("target_arch = \"aarch64\""), kF);
  EXPECT_EQ(Eval("target_pointer_width = \"64\""), kT);
  EXPECT_EQ(Eval("target_pointer_width = \"32\""), kF);
  EXPECT_EQ(Eval("target_endian = \"little\""), kT);
  EXPECT_EQ(Eval("target_env = \"gnu\""), kT);
  EXPECT_EQ(Eval("target_env = \"musl\""), kF);
  EXPECT_EQ(Eval("target_vendor = \"unknown\""), kT);
  EXPECT_EQ(Eval("target_abi = \"\""), kT);
  EXPECT_EQ(Eval("panic = \"unwind\""), kT);
  EXPECT_EQ(Eval("panic = \"abort\""), kF);
  EXPECT_EQ(Eval("target_has_atomic = \"ptr\""), kT);
  EXPECT_EQ(Eval("target_has_atomic = \"128\""), kF);
  EXPECT_EQ(Eval("target_feature = \"sse2\""), kT);
  EXPECT_EQ(Eval("target_feature = \"avx2\""), kF);
  EXPECT_EQ(Eval("overflow_checks"), kF);
}

TEST(CfgTest, UnknownOptionsAreFalse) {
  EXPECT_EQ(Eval("foo"), kF);
  EXPECT_EQ(Eval("foo = \"bar\""), kF);
  EXPECT_EQ(Eval("unix = \"x\""), kF);  // a name is not a key
  EXPECT_EQ(Eval("target_os"), kF);     // nor a key a name
  EXPECT_EQ(Eval("feature = \"alloc\""), kF);
  EXPECT_EQ(Eval("all"), kF);  // a plain name here
  EXPECT_EQ(Eval("not(foo)"), kT);
}

TEST(CfgTest, Features) {
  EXPECT_EQ(Eval("feature = \"std\""), kT);
  EXPECT_EQ(Eval("feature = \"perf-literal\""), kT);
  EXPECT_EQ(Eval("not(feature = \"perf-literal\")"), kF);
  EXPECT_EQ(Eval("feature=\"std\""), kT);
  EXPECT_EQ(Eval("feature = \"STD\""), kF);  // case-sensitive
  EXPECT_EQ(Eval("Feature = \"std\""), kF);
}

TEST(CfgTest, Combinators) {
  EXPECT_EQ(Eval("all()"), kT);
  EXPECT_EQ(Eval("any()"), kF);
  EXPECT_EQ(Eval("all(unix)"), kT);
  EXPECT_EQ(Eval("all(unix, windows)"), kF);
  EXPECT_EQ(Eval("any(unix, windows)"), kT);
  EXPECT_EQ(Eval("any(windows, target_os = \"macos\")"), kF);
  EXPECT_EQ(Eval("not(unix)"), kF);
  EXPECT_EQ(Eval("not(not(unix))"), kT);
  EXPECT_EQ(Eval("all(unix, not(miri))"), kT);
  EXPECT_EQ(Eval("any(target_os = \"linux\", target_os = \"android\")"), kT);
  EXPECT_EQ(Eval("all(any(), unix)"), kF);
  EXPECT_EQ(Eval("any(all(), windows)"), kT);
  EXPECT_EQ(Eval("true"), kT);
  EXPECT_EQ(Eval("false"), kF);
  EXPECT_EQ(Eval("not(false)"), kT);
  EXPECT_EQ(Eval("all(true, not(true))"), kF);
}

// Predicates from the crates the resolver must get right.
TEST(CfgTest, RealCratePredicates) {
  // memchr 2.5: only the not(miri) branches compile on a normal build; the
  // build script's memchr_runtime_simd is not set here.
  EXPECT_EQ(Eval("miri"), kF);
  EXPECT_EQ(Eval("all(target_arch = \"x86_64\", memchr_runtime_simd, not(miri))"), kF);
  EXPECT_EQ(Eval("all(\n        not(memchr_libc),\n        not(all(target_arch = \"x86_64\", "
                 "memchr_runtime_simd)),\n        not(miri),\n    )"),
            kT);
  // regex 1.7: `mod imp` under perf-literal.
  EXPECT_EQ(Eval("feature = \"perf-literal\""), kT);
  // once_cell 1.17: std without parking_lot picks imp_std.rs.
  EXPECT_EQ(Eval("all(feature = \"critical-section\", not(feature = \"std\"))"), kF);
  EXPECT_EQ(Eval("all(feature = \"std\", feature = \"parking_lot\")"), kF);
  EXPECT_EQ(Eval("all(feature = \"std\", not(feature = \"parking_lot\"))"), kT);
  EXPECT_EQ(Eval("any(feature = \"std\", feature = \"critical-section\")"), kT);
  // cfg_if! else-branches as graph/extract.cc writes them.
  EXPECT_EQ(Eval("not(any(miri, windows))"), kT);
}

TEST(CfgTest, AcceptsWhitespaceCommentsAndTrailingCommas) {
  EXPECT_EQ(Eval("  all ( unix ,\n\tnot ( miri ) , ) "), kT);
  EXPECT_EQ(Eval("all(unix,)"), kT);
  EXPECT_EQ(Eval("any(windows,)"), kF);
  EXPECT_EQ(Eval("unix,"), kT);  // rustc accepts `#[cfg(unix,)]`
  EXPECT_EQ(Eval("not(miri,)"), kT);
  EXPECT_EQ(Eval("all(unix /* why */, not(miri))"), kT);
  EXPECT_EQ(Eval("all(unix /* nested /* comment */ */, not(miri))"), kT);
  EXPECT_EQ(Eval("all(unix, // line comment\n not(miri))"), kT);
  EXPECT_EQ(Eval("\r\nunix\r\n"), kT);
}

TEST(CfgTest, StringLiterals) {
  EXPECT_EQ(Eval("feature = r\"std\""), kT);
  EXPECT_EQ(Eval("feature = r#\"std\"#"), kT);
  EXPECT_EQ(Eval("feature = r##\"std\"##"), kT);
  EXPECT_EQ(Eval("feature = r#\"st\"d\"#"), kF);  // value `st"d`
  EXPECT_EQ(Eval("feature = \"s\\x74d\""), kT);
  EXPECT_EQ(Eval("feature = \"\\u{73}td\""), kT);
  EXPECT_EQ(Eval("feature = \"\\u{7_3}td\""), kT);
  EXPECT_EQ(Eval("feature = \"st\\\n    d\""), kT);  // line continuation
  EXPECT_EQ(Eval("feature = \"perf\\u{2d}literal\""), kT);
  EXPECT_EQ(Eval("feature = \"std \""), kF);

  CfgSet set;
  set.AddFeature("a\"b");
  set.AddFeature("x\\y");
  set.AddFeature("caf\xC3\xA9");
  EXPECT_EQ(EvaluateCfg("feature = \"a\\\"b\"", set), kT);
  EXPECT_EQ(EvaluateCfg("feature = r#\"a\"b\"#", set), kT);
  EXPECT_EQ(EvaluateCfg("feature = \"x\\\\y\"", set), kT);
  EXPECT_EQ(EvaluateCfg("feature = \"caf\\u{e9}\"", set), kT);
  EXPECT_EQ(EvaluateCfg("feature = \"caf\xC3\xA9\"", set), kT);
}

TEST(CfgTest, Identifiers) {
  CfgSet set;
  set.Set("true");
  set.Set("caf\xC3\xA9");
  set.Set("_private");
  set.Set("x1");
  EXPECT_EQ(EvaluateCfg("r#true", set), kT);  // a raw identifier names an option
  EXPECT_EQ(EvaluateCfg("r#x1", set), kT);
  EXPECT_EQ(EvaluateCfg("caf\xC3\xA9", set), kT);
  EXPECT_EQ(EvaluateCfg("_private", set), kT);
  EXPECT_EQ(EvaluateCfg("x1", set), kT);
  EXPECT_EQ(EvaluateCfg("r#type", set), kF);  // fine, and unset
  EXPECT_EQ(EvaluateCfg("false", set), kF);   // the literal, not the option
}

// Everything rustc 1.95 rejects in `#[cfg(...)]` (checked with rustc).
TEST(CfgTest, MalformedIsUnknown) {
  for (std::string_view bad : {
           "",
           "   ",
           "all(,)",
           "any(unix,,)",
           "all(unix windows)",
           "a::b",
           "::unix",
           "feature = b\"x\"",
           "feature = c\"x\"",
           "feature = 1",
           "feature = std",
           "feature =",
           "unix = \"x\"suffix",
           "feature = r#\"x\"#suffix",
           "_",
           "self",
           "crate",
           "fn",
           "Self",
           "target(os = \"linux\")",
           "version(\"1.80\")",
           "accessible(::std::mem)",
           "not(a, b)",
           "not()",
           "all(unix",
           "all(unix))",
           "unix)",
           "(unix)",
           "unix, windows",
           "unix,,",
           "feature = \"std",
           "feature = \"\\q\"",
           "feature = \"\\x80\"",
           "feature = \"\\u{D800}\"",
           "feature = \"\\u{110000}\"",
           "feature = \"\\u{}\"",
           "feature = \"\\u{1234567}\"",
           "feature = \"\\",
           "feature = r#\"std\"",
           "feature = r#x",
           "all(unix /* unterminated",
           "1unix",
           "unix = = \"x\"",
           "#unix",
           "r#all(unix)",
           "all[unix]",
       }) {
    EXPECT_EQ(Eval(bad), kU) << "`" << bad << "`";
  }
}

TEST(CfgTest, DeepNestingIsUnknownNotACrash) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "not(";
  deep += "unix";
  for (int i = 0; i < 100000; ++i) deep += ")";
  EXPECT_EQ(Eval(deep), kU);
  std::string shallow = "not(not(not(unix)))";
  EXPECT_EQ(Eval(shallow), kF);
  std::string comment_bomb(100000, '/');
  EXPECT_EQ(Eval(comment_bomb), kU);  // one long line comment, then nothing
}

TEST(CfgTest, EvaluateCfgsIsAConjunction) {
  CfgSet set = CfgSet::HostDefault();
  EXPECT_EQ(EvaluateCfgs({}, set), kT);
  EXPECT_EQ(EvaluateCfgs({"unix", "not(miri)"}, set), kT);
  EXPECT_EQ(EvaluateCfgs({"unix", "miri"}, set), kF);
  EXPECT_EQ(EvaluateCfgs({"unix", "version(\"1\")"}, set), kU);
  EXPECT_EQ(EvaluateCfgs({"version(\"1\")", "windows"}, set), kF);  // false wins
}

TEST(CfgTest, RequiresAnOption) {
  for (const char* p :
       {"test", "all(test, unix)", "all(unix, all(test))", "any(test, all(test, x))",
        "not(not(test))", "all(not(any(not(test), miri)))", "false", "any(test, false)",
        " test , "}) {
    EXPECT_TRUE(CfgRequires(p, "test")) << p;
  }
  for (const char* p :
       {"any(test, x)", "not(test)", "unix", "all()", "true", "feature = \"test\"", "tests",
        "r#test2", "all(unix, not(test))", "any(test, not(test))", "test(", "a::test", ""}) {
    EXPECT_FALSE(CfgRequires(p, "test")) << p;
  }
  EXPECT_TRUE(CfgRequires("r#test", "test"));
  EXPECT_TRUE(CfgRequires("all(miri, unix)", "miri"));
}

TEST(CfgTest, ValueNames) {
  EXPECT_STREQ(CfgValueName(kT), "true");
  EXPECT_STREQ(CfgValueName(kF), "false");
  EXPECT_STREQ(CfgValueName(kU), "unknown");
}

// Proper prefixes of valid predicates: never crash, and a prefix that leaves a
// parenthesis or string open is unknown. Random byte edits never crash.
TEST(CfgTest, TruncationsAndMutationsNeverCrash) {
  const std::vector<std::string> valid = {
      "all(unix, not(miri))",
      "any(target_os = \"linux\", target_os = \"android\")",
      "all(\n  feature = \"std\",\n  not(feature = r#\"parking_lot\"#),\n)",
      "not(any(all(target_arch = \"x86_64\", memchr_runtime_simd), miri))",
      "feature = \"caf\\u{e9}\\x41\\\"\"",
      "all(unix /* c */, // d\n any())",
  };
  for (const std::string& text : valid) {
    ASSERT_NE(Eval(text), kU) << text;
    for (size_t n = 0; n < text.size(); ++n) {
      std::string_view prefix = std::string_view(text).substr(0, n);
      CfgValue v = Eval(prefix);
      int open = 0;
      bool in_string = false;
      for (size_t i = 0; i < prefix.size(); ++i) {
        char c = prefix[i];
        if (in_string) {
          if (c == '\\') {
            ++i;
          } else if (c == '"') {
            in_string = false;
          }
        } else if (c == '"') {
          in_string = true;
        } else if (c == '(') {
          ++open;
        } else if (c == ')') {
          --open;
        }
      }
      if (open != 0 || in_string) {
        EXPECT_EQ(v, kU) << "`" << prefix << "`";
      }
    }
  }
  std::mt19937 rng(12345);
  const std::string alphabet = "(),=\"#r/*\\ \nanyltou_{}x0\xC3";
  for (int round = 0; round < 20000; ++round) {
    std::string text = valid[rng() % valid.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1); break;
        default: text.insert(text.begin() + at, alphabet[rng() % alphabet.size()]); break;
      }
    }
    CfgValue v = Eval(text);
    EXPECT_TRUE(v == kT || v == kF || v == kU);
  }
}

}  // namespace
}  // namespace ferrograph
