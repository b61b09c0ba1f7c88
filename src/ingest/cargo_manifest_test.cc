#include "ingest/cargo_manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "resolve/cfg.h"

namespace ferrograph {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TomlValue MustParse(std::string_view text) {
  Result<TomlValue> r = ParseToml(text, "Cargo.toml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : TomlValue{};
}

std::string ParseError(std::string_view text) {
  Result<TomlValue> r = ParseToml(text, "Cargo.toml");
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly:\n" << text;
  return r.ok() ? "" : r.status().message();
}

// Follows a path of table keys; nullptr when any step is missing.
const TomlValue* At(const TomlValue& root, std::initializer_list<std::string_view> keys) {
  const TomlValue* v = &root;
  for (std::string_view k : keys) {
    v = v->Find(k);
    if (v == nullptr) return nullptr;
  }
  return v;
}

std::string Str(const TomlValue& root, std::initializer_list<std::string_view> keys) {
  const TomlValue* v = At(root, keys);
  EXPECT_NE(v, nullptr);
  return v ? v->text : "<missing>";
}

TEST(CargoTomlTest, ParsesTablesAndKeysInOrder) {
  TomlValue doc = MustParse(
      "title = \"x\"\n"
      "[package]\n"
      "name = \"regex\"\n"
      "version = \"1.7.1\"\n"
      "\n"
      "[profile.release]\n"
      "debug = true\n");
  EXPECT_THAT(doc.keys, ElementsAre("title", "package", "profile"));
  EXPECT_EQ(Str(doc, {"package", "name"}), "regex");
  EXPECT_EQ(At(doc, {"package"})->line, 2);
  EXPECT_EQ(At(doc, {"package", "version"})->line, 4);
  const TomlValue* debug = At(doc, {"profile", "release", "debug"});
  ASSERT_NE(debug, nullptr);
  EXPECT_TRUE(debug->is_bool());
  EXPECT_TRUE(debug->as_bool());
}

TEST(CargoTomlTest, ParsesDottedAndQuotedKeys) {
  TomlValue doc = MustParse(
      "a.b.c = 1\n"
      "a . b . d = 2\n"
      "\"quoted.key\" = 3\n"
      "site.\"google.com\" = true\n"
      "'lit' = 4\n"
      "[target.'cfg(unix)'.dependencies]\n"
      "libc = \"0.2\"\n"
      "[target.\"x86_64-pc-windows-msvc\".dependencies]\n"
      "winapi = \"0.3\"\n");
  EXPECT_EQ(Str(doc, {"a", "b", "c"}), "1");
  EXPECT_EQ(Str(doc, {"a", "b", "d"}), "2");
  EXPECT_EQ(Str(doc, {"quoted.key"}), "3");
  EXPECT_EQ(Str(doc, {"site", "google.com"}), "true");
  EXPECT_EQ(Str(doc, {"lit"}), "4");
  EXPECT_EQ(Str(doc, {"target", "cfg(unix)", "dependencies", "libc"}), "0.2");
  EXPECT_EQ(Str(doc, {"target", "x86_64-pc-windows-msvc", "dependencies", "winapi"}), "0.3");
}

TEST(CargoTomlTest, ParsesArraysOfTables) {
  TomlValue doc = MustParse(
      "[[bin]]\n"
      "name = \"a\"\n"
      "[bin.extra]\n"
      "x = 1\n"
      "[[bin]]\n"
      "name = \"b\"\n"
      "[[bin.sub]]\n"
      "y = 2\n");
  const TomlValue* bins = At(doc, {"bin"});
  ASSERT_NE(bins, nullptr);
  ASSERT_TRUE(bins->is_array());
  ASSERT_EQ(bins->items.size(), 2u);
  EXPECT_EQ(Str(bins->items[0], {"name"}), "a");
  EXPECT_EQ(Str(bins->items[0], {"extra", "x"}), "1");
  EXPECT_EQ(Str(bins->items[1], {"name"}), "b");
  EXPECT_EQ(bins->items[1].line, 5);
  const TomlValue* sub = At(bins->items[1], {"sub"});
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(sub->items.size(), 1u);
  EXPECT_EQ(Str(sub->items[0], {"y"}), "2");
}

TEST(CargoTomlTest, ParsesInlineTables) {
  TomlValue doc = MustParse(
      "serde = { version = \"1.0\", features = [\"derive\"], optional = true }\n"
      "empty = {}\n"
      "nested = { a = { b = 1 }, c.d = 2 }\n"
      "multi = {\n"
      "  x = 1, # TOML 1.1 allows newlines\n"
      "  y = 2,\n"
      "}\n");
  EXPECT_EQ(Str(doc, {"serde", "version"}), "1.0");
  EXPECT_EQ(At(doc, {"serde", "features"})->items[0].text, "derive");
  EXPECT_TRUE(At(doc, {"serde", "optional"})->as_bool());
  EXPECT_TRUE(At(doc, {"empty"})->is_table());
  EXPECT_TRUE(At(doc, {"empty"})->keys.empty());
  EXPECT_EQ(Str(doc, {"nested", "a", "b"}), "1");
  EXPECT_EQ(Str(doc, {"nested", "c", "d"}), "2");
  EXPECT_EQ(Str(doc, {"multi", "y"}), "2");
}

TEST(CargoTomlTest, ParsesMultiLineArraysWithCommentsAndTrailingCommas) {
  TomlValue doc = MustParse(
      "members = [\n"
      "    \"crates/*\",  # all crates\n"
      "    # a comment line\n"
      "    'tools/cli',\n"
      "]\n"
      "nested = [[1, 2], [\"a\"], []]\n"
      "mixed = [1, \"two\", { three = 3 }]\n"
      "after = 1\n");
  const TomlValue* members = At(doc, {"members"});
  ASSERT_NE(members, nullptr);
  ASSERT_EQ(members->items.size(), 2u);
  EXPECT_EQ(members->items[0].text, "crates/*");
  EXPECT_EQ(members->items[1].text, "tools/cli");
  const TomlValue* nested = At(doc, {"nested"});
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(nested->items[0].items[1].text, "2");
  EXPECT_TRUE(nested->items[2].items.empty());
  EXPECT_EQ(At(doc, {"mixed"})->items[2].Find("three")->text, "3");
  EXPECT_EQ(At(doc, {"after"})->line, 8);
}

TEST(CargoTomlTest, DecodesBasicStringEscapes) {
  TomlValue doc = MustParse(R"(s = "tab\there \"q\" back\\slash \u00e9 \U0001F600 nl\n")"
                            "\n");
  EXPECT_EQ(Str(doc, {"s"}), "tab\there \"q\" back\\slash \xC3\xA9 \xF0\x9F\x98\x80 nl\n");
}

TEST(CargoTomlTest, KeepsLiteralStringsVerbatim) {
  TomlValue doc = MustParse("path = 'C:\\Users\\x'\nre = '<\\i\\c*\\s*>'\n");
  EXPECT_EQ(Str(doc, {"path"}), "C:\\Users\\x");
  EXPECT_EQ(Str(doc, {"re"}), "<\\i\\c*\\s*>");
}

TEST(CargoTomlTest, ParsesMultiLineBasicStrings) {
  TomlValue doc = MustParse(
      "description = \"\"\"\n"
      "An implementation of regular expressions.\n"
      "Second line.\n"
      "\"\"\"\n"
      "joined = \"\"\"\\\n"
      "    The quick \\\n"
      "    brown fox.\"\"\"\n"
      "quotes = \"\"\"a \"quoted\" word, two \"\" and end\"\"\"\"\"\n"
      "after = 1\n");
  EXPECT_EQ(Str(doc, {"description"}), "An implementation of regular expressions.\nSecond line.\n");
  EXPECT_EQ(Str(doc, {"joined"}), "The quick brown fox.");
  EXPECT_EQ(Str(doc, {"quotes"}), "a \"quoted\" word, two \"\" and end\"\"");
  EXPECT_EQ(At(doc, {"after"})->line, 9);
}

TEST(CargoTomlTest, ParsesMultiLineLiteralStrings) {
  TomlValue doc = MustParse(
      "regex = '''\n"
      "I [dw]on't need \\d{2} apples'''\n"
      "lines = '''\n"
      "first\n"
      "  second\n"
      "'''\n");
  EXPECT_EQ(Str(doc, {"regex"}), "I [dw]on't need \\d{2} apples");
  EXPECT_EQ(Str(doc, {"lines"}), "first\n  second\n");
}

TEST(CargoTomlTest, KeepsNumbersBooleansAndDatesAsRawText) {
  TomlValue doc = MustParse(
      "i = 1_000\n"
      "neg = -17\n"
      "hex = 0xDEAD_beef\n"
      "oct = 0o755\n"
      "bin = 0b1101\n"
      "f = -0.5e+3\n"
      "g = 6.626e-34\n"
      "inf = inf\n"
      "nan = -nan\n"
      "t = true\n"
      "odt = 1979-05-27T07:32:00Z\n"
      "ldt = 1979-05-27 07:32:00.999\n"
      "off = 1979-05-27T00:32:00-07:00\n"
      "ld = 1979-05-27\n"
      "lt = 07:32:00\n");
  struct Case {
    const char* key;
    TomlValue::Type type;
    const char* text;
  };
  const Case cases[] = {
      {"i", TomlValue::Type::kInteger, "1_000"},
      {"neg", TomlValue::Type::kInteger, "-17"},
      {"hex", TomlValue::Type::kInteger, "0xDEAD_beef"},
      {"oct", TomlValue::Type::kInteger, "0o755"},
      {"bin", TomlValue::Type::kInteger, "0b1101"},
      {"f", TomlValue::Type::kFloat, "-0.5e+3"},
      {"g", TomlValue::Type::kFloat, "6.626e-34"},
      {"inf", TomlValue::Type::kFloat, "inf"},
      {"nan", TomlValue::Type::kFloat, "-nan"},
      {"t", TomlValue::Type::kBoolean, "true"},
      {"odt", TomlValue::Type::kDatetime, "1979-05-27T07:32:00Z"},
      {"ldt", TomlValue::Type::kDatetime, "1979-05-27 07:32:00.999"},
      {"off", TomlValue::Type::kDatetime, "1979-05-27T00:32:00-07:00"},
      {"ld", TomlValue::Type::kDatetime, "1979-05-27"},
      {"lt", TomlValue::Type::kDatetime, "07:32:00"},
  };
  for (const Case& c : cases) {
    const TomlValue* v = doc.Find(c.key);
    ASSERT_NE(v, nullptr) << c.key;
    EXPECT_EQ(v->type, c.type) << c.key;
    EXPECT_EQ(v->text, c.text) << c.key;
  }
}

TEST(CargoTomlTest, HandlesCommentsCrlfAndBom) {
  TomlValue doc = MustParse(
      "\xEF\xBB\xBF# leading comment\r\n"
      "[package] # trailing\r\n"
      "name = \"x\" # trailing\r\n"
      "  # indented comment\r\n"
      "hash = \"a # not a comment\"\r\n");
  EXPECT_EQ(Str(doc, {"package", "name"}), "x");
  EXPECT_EQ(Str(doc, {"package", "hash"}), "a # not a comment");
  EXPECT_EQ(At(doc, {"package", "hash"})->line, 5);
}

TEST(CargoTomlTest, ReportsMissingEqualsWithLine) {
  EXPECT_EQ(ParseError("[package]\nname = \"x\"\nversion \"1.0\"\n"), "Cargo.toml:3: expected `=`");
}

TEST(CargoTomlTest, ReportsSyntaxErrorsWithLines) {
  EXPECT_EQ(ParseError("a = \"unterminated\nb = 1\n"), "Cargo.toml:1: unterminated string");
  EXPECT_EQ(ParseError("x = 1\ns = \"\"\"never closed\n\n"),
            "Cargo.toml:2: unterminated multi-line string");
  EXPECT_EQ(ParseError("a = 1\na = 2\n"), "Cargo.toml:2: duplicate key `a`");
  EXPECT_EQ(ParseError("[a]\nx = 1\n[b]\n[a]\n"), "Cargo.toml:4: table `a` is defined twice");
  EXPECT_EQ(ParseError("name = regex\n"),
            "Cargo.toml:1: invalid value `regex` (strings must be quoted)");
  EXPECT_EQ(ParseError("a = 1 b = 2\n"), "Cargo.toml:1: expected a newline, found `b`");
  EXPECT_EQ(ParseError("a =\n"), "Cargo.toml:1: expected a value, found end of line");
  EXPECT_EQ(ParseError("[package\nname = \"x\"\n"),
            "Cargo.toml:1: expected `]` to close the table header, found end of line");
  EXPECT_EQ(ParseError("[[bin]\n"),
            "Cargo.toml:1: expected `]]` to close the table header, found end of line");
  EXPECT_EQ(ParseError("s = \"bad \\q escape\"\n"), "Cargo.toml:1: invalid escape sequence `\\q`");
  EXPECT_EQ(ParseError("\n\nv = [1, 2\nw = 3\n"),
            "Cargo.toml:4: expected `,` or `]` in array, found `w`");
  EXPECT_EQ(ParseError("t = { a = 1 b = 2 }\n"),
            "Cargo.toml:1: expected `,` or `}` in inline table, found `b`");
  EXPECT_EQ(ParseError("n = 01\n"), "Cargo.toml:1: invalid value `01`");
  EXPECT_EQ(ParseError("n = 1__0\n"), "Cargo.toml:1: invalid value `1__0`");
  EXPECT_EQ(ParseError("= 1\n"), "Cargo.toml:1: expected a key, found `=`");
  EXPECT_EQ(ParseError("s = \"\\u00\"\n"), "Cargo.toml:1: expected 4 hex digits in `\\u` escape");
}

TEST(CargoTomlTest, EnforcesTomlRedefinitionRules) {
  // An inline table is complete.
  EXPECT_THAT(ParseError("dep = { version = \"1\" }\n[dep.features]\n"),
              HasSubstr("Cargo.toml:2: cannot define a table inside"));
  EXPECT_EQ(ParseError("dep = { version = \"1\" }\ndep.optional = true\n"),
            "Cargo.toml:2: cannot add keys to `dep`: it is already defined elsewhere");
  // A table made by dotted keys cannot be reopened by a header...
  EXPECT_EQ(ParseError("[fruit]\napple.color = \"red\"\n[fruit.apple]\n"),
            "Cargo.toml:3: table `fruit.apple` is defined twice");
  // ...but sub-tables may be added beneath it.
  TomlValue ok =
      MustParse("[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true\n");
  EXPECT_EQ(Str(ok, {"fruit", "apple", "texture", "smooth"}), "true");
  // A header-defined table cannot be extended by dotted keys elsewhere.
  EXPECT_EQ(ParseError("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n"),
            "Cargo.toml:4: cannot add keys to `b`: it is already defined elsewhere");
  // An implicit table can be defined later, once.
  TomlValue later = MustParse("[x.y]\na = 1\n[x]\nb = 2\n");
  EXPECT_EQ(Str(later, {"x", "b"}), "2");
  // [[x]] cannot append to a static array.
  EXPECT_EQ(ParseError("bin = []\n[[bin]]\n"),
            "Cargo.toml:2: `bin` is already defined and is not an array of tables");
}

TEST(CargoManifestTest, ReadsPackageTargetsAndDependencies) {
  Result<CargoManifest> r = ParseCargoManifest(
      R"([package]
name = "my-app"
version = "0.1.0"
edition = "2021"
autobins = false
autoexamples = false

[lib]
name = "my_lib"
path = "src/my_lib.rs"

[[bin]]
name = "my-tool"
path = "src/tool.rs"

[[bin]]
name = "other"

[[example]]
name = "demo"

[dependencies]
serde = "1.0"
json = { package = "serde_json", version = "1" }
local = { path = "../local" }
opt = { version = "2", optional = true }
shared.workspace = true

[dev-dependencies]
pretty_assertions = "1"

[build-dependencies]
cc = "1.0"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[target.'cfg(windows)'.dev-dependencies]
winapi = { version = "0.3", package = "winapi" }
)",
      "Cargo.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CargoManifest& m = *r;
  ASSERT_TRUE(m.package.has_value());
  EXPECT_EQ(m.package->name, "my-app");
  EXPECT_EQ(m.package->version, "0.1.0");
  EXPECT_EQ(m.package->edition, "2021");
  EXPECT_EQ(m.package->autobins, false);
  EXPECT_EQ(m.package->autoexamples, false);
  EXPECT_FALSE(m.package->autolib.has_value());
  ASSERT_TRUE(m.lib.has_value());
  EXPECT_EQ(m.lib->name, "my_lib");
  EXPECT_EQ(m.lib->path, "src/my_lib.rs");
  ASSERT_EQ(m.bins.size(), 2u);
  EXPECT_EQ(m.bins[0].name, "my-tool");
  EXPECT_EQ(m.bins[0].path, "src/tool.rs");
  EXPECT_EQ(m.bins[1].name, "other");
  EXPECT_FALSE(m.bins[1].path.has_value());
  EXPECT_EQ(m.bins[1].line, 16);
  ASSERT_EQ(m.examples.size(), 1u);
  EXPECT_FALSE(m.workspace.has_value());

  ASSERT_EQ(m.dependencies.size(), 9u);
  auto dep = [&](std::string_view key) -> const CargoDependency& {
    for (const auto& d : m.dependencies) {
      if (d.key == key) return d;
    }
    ADD_FAILURE() << "no dependency " << key;
    return m.dependencies[0];
  };
  EXPECT_EQ(dep("serde").package, "serde");
  EXPECT_EQ(dep("serde").version, "1.0");
  EXPECT_EQ(dep("json").package, "serde_json");
  EXPECT_EQ(dep("local").path, "../local");
  EXPECT_TRUE(dep("opt").optional);
  EXPECT_TRUE(dep("shared").workspace);
  EXPECT_EQ(dep("shared").line, 27);
  EXPECT_EQ(dep("pretty_assertions").kind, DependencyKind::kDev);
  EXPECT_EQ(dep("cc").kind, DependencyKind::kBuild);
  EXPECT_EQ(dep("libc").target, "cfg(unix)");
  EXPECT_EQ(dep("libc").kind, DependencyKind::kNormal);
  EXPECT_EQ(dep("winapi").target, "cfg(windows)");
  EXPECT_EQ(dep("winapi").kind, DependencyKind::kDev);
}

TEST(CargoManifestTest, ReadsWorkspaceAndInheritance) {
  Result<CargoManifest> r = ParseCargoManifest(
      R"([workspace]
members = ["crates/*", "tools/cli"]
exclude = ["crates/old"]
default-members = ["tools/cli"]

[workspace.package]
version = "0.3.0"
edition = "2021"

[workspace.dependencies]
json = { package = "serde_json", version = "1" }
regex = "1"
)",
      "Cargo.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->workspace.has_value());
  EXPECT_FALSE(r->package.has_value());
  const CargoWorkspaceSpec& ws = *r->workspace;
  EXPECT_THAT(ws.members, ElementsAre("crates/*", "tools/cli"));
  EXPECT_THAT(ws.exclude, ElementsAre("crates/old"));
  EXPECT_THAT(ws.default_members, ElementsAre("tools/cli"));
  EXPECT_EQ(ws.package_version, "0.3.0");
  EXPECT_EQ(ws.package_edition, "2021");
  ASSERT_EQ(ws.dependencies.size(), 2u);
  EXPECT_EQ(ws.dependencies[0].package, "serde_json");

  Result<CargoManifest> member = ParseCargoManifest(
      "[package]\nname = \"m\"\nversion.workspace = true\nedition = { workspace = true }\n",
      "crates/m/Cargo.toml");
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_TRUE(member->package->version_from_workspace);
  EXPECT_FALSE(member->package->version.has_value());
  EXPECT_TRUE(member->package->edition_from_workspace);
}

TEST(CargoManifestTest, AcceptsLegacySpellings) {
  Result<CargoManifest> r = ParseCargoManifest(
      "[project]\nname = \"old\"\nversion = \"0.0.1\"\n"
      "[dev_dependencies]\nquickcheck = \"0.1\"\n"
      "[build_dependencies]\ngcc = \"0.3\"\n",
      "Cargo.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->package->name, "old");
  ASSERT_EQ(r->dependencies.size(), 2u);
  EXPECT_EQ(r->dependencies[0].kind, DependencyKind::kDev);
  EXPECT_EQ(r->dependencies[1].kind, DependencyKind::kBuild);
}

TEST(CargoManifestTest, ReportsTypeErrorsWithLines) {
  auto error = [](std::string_view text) {
    Result<CargoManifest> r = ParseCargoManifest(text, "crates/x/Cargo.toml");
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  };
  EXPECT_EQ(error("[package]\nname = 1\n"),
            "crates/x/Cargo.toml:2: `package.name` must be a string, found integer");
  EXPECT_EQ(error("\n[package]\nversion = \"1\"\n"),
            "crates/x/Cargo.toml:2: missing `package.name`");
  EXPECT_EQ(error("[package]\nname = \"x\"\nautobins = \"no\"\n"),
            "crates/x/Cargo.toml:3: `package.autobins` must be a boolean, found string");
  EXPECT_EQ(error("[package]\nname = \"x\"\n[dependencies]\nfoo = 1\n"),
            "crates/x/Cargo.toml:4: `dependencies.foo` must be a version string or a table, "
            "found integer");
  EXPECT_EQ(error("bin = \"x\"\n"),
            "crates/x/Cargo.toml:1: `bin` must be an array of tables, "
            "found string");
  EXPECT_EQ(error("[workspace]\nmembers = [\"a\", 2]\n"),
            "crates/x/Cargo.toml:2: `workspace.members` must be an array of strings, found "
            "integer");
  EXPECT_EQ(error("[package]\nname = \"x\"\nversion \"1\"\n"),
            "crates/x/Cargo.toml:3: expected `=`");
}

// Every Cargo.toml that Debian ships under /usr/share/cargo/registry is real
// and must parse.
TEST(CargoManifestTest, ParsesEveryRegistryManifest) {
  namespace fs = std::filesystem;
  const fs::path registry = "/usr/share/cargo/registry";
  std::error_code ec;
  if (!fs::is_directory(registry, ec)) GTEST_SKIP() << "no " << registry;
  int parsed = 0;
  for (auto it = fs::recursive_directory_iterator(registry, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name != "Cargo.toml" && name != "Cargo.toml.orig") continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Result<CargoManifest> m = ParseCargoManifest(text.str(), it->path().string());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (m.ok()) {
      EXPECT_TRUE(m->package.has_value() || m->workspace.has_value()) << it->path();
      if (m->package) {
        EXPECT_FALSE(m->package->name.empty()) << it->path();
      }
    }
    ++parsed;
  }
  EXPECT_GE(parsed, 100);
}

// ---------------------------------------------------------------------------
// [features] and ResolveFeatures.

CargoManifest MustParseManifest(std::string_view text) {
  Result<CargoManifest> r = ParseCargoManifest(text, "Cargo.toml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CargoManifest{};
}

// A manifest shipped under /usr/share/cargo/registry; nullopt when absent.
std::optional<CargoManifest> RegistryManifest(std::string_view crate) {
  std::string path = "/usr/share/cargo/registry/" + std::string(crate) + "/Cargo.toml";
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  Result<CargoManifest> m = ParseCargoManifest(text.str(), path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return std::nullopt;
  return *m;
}

TEST(CargoFeaturesTest, ParsesFeaturesInOrder) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n"
      "[features]\n"
      "default = [\"std\", \"dep:memchr\"]\n"
      "std = []\n"
      "serde = [\n  \"dep:serde\",\n  \"memchr?/std\",\n]\n");
  ASSERT_EQ(m.features.size(), 3u);
  EXPECT_EQ(m.features[0].name, "default");
  EXPECT_THAT(m.features[0].enables, ElementsAre("std", "dep:memchr"));
  EXPECT_EQ(m.features[0].line, 4);
  EXPECT_EQ(m.features[1].name, "std");
  EXPECT_TRUE(m.features[1].enables.empty());
  EXPECT_EQ(m.features[2].name, "serde");
  EXPECT_THAT(m.features[2].enables, ElementsAre("dep:serde", "memchr?/std"));
  EXPECT_EQ(m.features[2].line, 6);

  CargoManifest dotted = MustParseManifest("features.std = [\"alloc\"]\nfeatures.alloc = []\n");
  ASSERT_EQ(dotted.features.size(), 2u);
  EXPECT_EQ(dotted.features[0].name, "std");
  EXPECT_THAT(dotted.features[0].enables, ElementsAre("alloc"));
}

TEST(CargoFeaturesTest, ReportsFeatureTypeErrors) {
  auto error = [](std::string_view text) {
    Result<CargoManifest> r = ParseCargoManifest(text, "Cargo.toml");
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  };
  EXPECT_EQ(error("features = 1\n"), "Cargo.toml:1: `features` must be a table, found integer");
  EXPECT_EQ(error("[features]\nstd = \"alloc\"\n"),
            "Cargo.toml:2: `features.std` must be an array of strings, found string");
  EXPECT_EQ(error("[features]\nstd = [\"alloc\", 1]\n"),
            "Cargo.toml:2: `features.std` must be an array of strings, found integer");
}

TEST(CargoFeaturesTest, NoFeaturesTableEnablesNothing) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n[dependencies]\nlog = { version = \"0.4\", optional = true }\n");
  CargoFeatureSet set = ResolveFeatures(m);
  EXPECT_TRUE(set.features.empty());
  EXPECT_TRUE(set.optional_dependencies.empty());
  EXPECT_TRUE(set.unknown.empty());
  // The implicit feature of the optional dependency can be asked for.
  CargoFeatureRequest request;
  request.features = {"log"};
  set = ResolveFeatures(m, request);
  EXPECT_THAT(set.features, ElementsAre("log"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("log"));
}

TEST(CargoFeaturesTest, DefaultEnablesTransitively) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n"
      "[features]\n"
      "default = [\"std\"]\n"
      "std = [\"alloc\"]\n"
      "alloc = [\"race\"]\n"
      "race = []\n"
      "unstable = []\n");
  EXPECT_THAT(ResolveFeatures(m).features, ElementsAre("alloc", "default", "race", "std"));

  CargoFeatureRequest none;
  none.default_features = false;
  EXPECT_TRUE(ResolveFeatures(m, none).features.empty());

  CargoFeatureRequest alloc_only;
  alloc_only.default_features = false;
  alloc_only.features = {"alloc"};
  EXPECT_THAT(ResolveFeatures(m, alloc_only).features, ElementsAre("alloc", "race"));

  CargoFeatureRequest all;
  all.all_features = true;
  all.default_features = false;
  EXPECT_THAT(ResolveFeatures(m, all).features,
              ElementsAre("alloc", "default", "race", "std", "unstable"));
}

TEST(CargoFeaturesTest, OptionalDependenciesAndImplicitFeatures) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n"
      "[dependencies]\n"
      "plain = { version = \"1\", optional = true }\n"   // implicit feature `plain`
      "hidden = { version = \"1\", optional = true }\n"  // `dep:hidden` below: no feature
      "via-slash = { version = \"1\", optional = true }\n"
      "weak = { version = \"1\", optional = true }\n"
      "required = \"1\"\n"
      "renamed = { package = \"real-name\", version = \"1\", optional = true }\n"
      "[build-dependencies]\n"
      "cc = { version = \"1\", optional = true }\n"
      "[target.'cfg(unix)'.dependencies]\n"
      "libc = { version = \"0.2\", optional = true }\n"
      "[dev-dependencies]\n"  // cargo rejects optional dev-dependencies; no feature
      "quickcheck = { version = \"1\", optional = true }\n"
      "[features]\n"
      "default = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n"
      "a = [\"plain\"]\n"
      "b = [\"dep:hidden\"]\n"
      "c = [\"via-slash/std\"]\n"
      "d = [\"weak?/std\", \"required/std\"]\n"
      "e = [\"renamed\"]\n"
      "never = [\"libc\", \"cc\"]\n");
  CargoFeatureSet set = ResolveFeatures(m);
  EXPECT_THAT(set.features,
              ElementsAre("a", "b", "c", "d", "default", "e", "plain", "renamed", "via-slash"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("hidden", "plain", "renamed", "via-slash"));
  EXPECT_TRUE(set.unknown.empty()) << ::testing::PrintToString(set.unknown);

  CargoFeatureRequest all;
  all.all_features = true;
  set = ResolveFeatures(m, all);
  EXPECT_THAT(set.features, ElementsAre("a", "b", "c", "cc", "d", "default", "e", "libc", "never",
                                        "plain", "renamed", "via-slash", "weak"));
  EXPECT_THAT(set.optional_dependencies,
              ElementsAre("cc", "hidden", "libc", "plain", "renamed", "via-slash", "weak"));

  // `dep:hidden` removed the implicit feature: asking for it is unknown.
  CargoFeatureRequest ask;
  ask.default_features = false;
  ask.features = {"hidden"};
  set = ResolveFeatures(m, ask);
  EXPECT_TRUE(set.features.empty());
  EXPECT_TRUE(set.optional_dependencies.empty());
  EXPECT_THAT(set.unknown, ElementsAre("hidden"));
}

TEST(CargoFeaturesTest, SlashEnablesOnlyTheDependencyUnderDepSyntax) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n"
      "[dependencies]\n"
      "serde = { version = \"1\", optional = true }\n"
      "[features]\n"
      "default = [\"derive\"]\n"
      "derive = [\"serde/derive\"]\n"
      "serde = [\"dep:serde\", \"serde/std\"]\n");  // an explicit feature named like the dep
  CargoFeatureSet set = ResolveFeatures(m);
  EXPECT_THAT(set.features, ElementsAre("default", "derive"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("serde"));
}

TEST(CargoFeaturesTest, UnknownEntriesAndCycles) {
  CargoManifest m = MustParseManifest(
      "[package]\nname = \"x\"\n"
      "[dependencies]\n"
      "required = \"1\"\n"
      "[features]\n"
      "default = [\"a\", \"typo\", \"dep:nope\", \"nope/x\", \"nope?/x\", \"required\", "
      "\"dep:required\"]\n"
      "a = [\"b\", \"typo\"]\n"
      "b = [\"a\"]\n");
  CargoFeatureSet set = ResolveFeatures(m);
  EXPECT_THAT(set.features, ElementsAre("a", "b", "default"));
  EXPECT_TRUE(set.optional_dependencies.empty());
  EXPECT_THAT(set.unknown, ::testing::UnorderedElementsAre("typo", "dep:nope", "nope/x", "nope?/x",
                                                           "required", "dep:required"));
}

// Default feature sets of real crates, checked by hand against their
// Cargo.toml files.
TEST(CargoFeaturesTest, RegistryCratesDefaultFeatures) {
  std::optional<CargoManifest> regex = RegistryManifest("regex-1.7.1");
  if (!regex) GTEST_SKIP() << "regex-1.7.1 is not in /usr/share/cargo/registry";
  CargoFeatureSet set = ResolveFeatures(*regex);
  EXPECT_THAT(set.features,
              ElementsAre("aho-corasick", "default", "memchr", "perf", "perf-cache", "perf-dfa",
                          "perf-inline", "perf-literal", "std", "unicode", "unicode-age",
                          "unicode-bool", "unicode-case", "unicode-gencat", "unicode-perl",
                          "unicode-script", "unicode-segment"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("aho-corasick", "memchr"));
  EXPECT_TRUE(set.unknown.empty()) << ::testing::PrintToString(set.unknown);

  CargoFeatureRequest no_default;
  no_default.default_features = false;
  no_default.features = {"std"};
  EXPECT_THAT(ResolveFeatures(*regex, no_default).features, ElementsAre("std"));

  std::optional<CargoManifest> once_cell = RegistryManifest("once_cell-1.17.0");
  ASSERT_TRUE(once_cell.has_value());
  set = ResolveFeatures(*once_cell);
  EXPECT_THAT(set.features, ElementsAre("alloc", "default", "race", "std"));
  EXPECT_TRUE(set.optional_dependencies.empty());
  CargoFeatureRequest parking_lot;
  parking_lot.features = {"parking_lot"};
  set = ResolveFeatures(*once_cell, parking_lot);
  EXPECT_THAT(set.features,
              ElementsAre("alloc", "default", "parking_lot", "parking_lot_core", "race", "std"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("parking_lot_core"));

  std::optional<CargoManifest> memchr = RegistryManifest("memchr-2.5.0");
  ASSERT_TRUE(memchr.has_value());
  set = ResolveFeatures(*memchr);
  EXPECT_THAT(set.features, ElementsAre("default", "std"));
  EXPECT_TRUE(set.optional_dependencies.empty());
  CargoFeatureRequest std_dep;
  std_dep.features = {"rustc-dep-of-std"};
  set = ResolveFeatures(*memchr, std_dep);
  EXPECT_THAT(set.features,
              ElementsAre("compiler_builtins", "core", "default", "rustc-dep-of-std", "std"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("compiler_builtins", "core"));

  std::optional<CargoManifest> serde = RegistryManifest("serde-1.0.152");
  ASSERT_TRUE(serde.has_value());
  set = ResolveFeatures(*serde);
  EXPECT_THAT(set.features, ElementsAre("default", "std"));
  CargoFeatureRequest derive;
  derive.features = {"derive"};
  set = ResolveFeatures(*serde, derive);
  EXPECT_THAT(set.features, ElementsAre("default", "derive", "serde_derive", "std"));
  EXPECT_THAT(set.optional_dependencies, ElementsAre("serde_derive"));
}

// The whole path: a manifest's default features decide which `mod imp` of
// once_cell and regex compiles.
TEST(CargoFeaturesTest, DrivesCfgEvaluation) {
  std::optional<CargoManifest> once_cell = RegistryManifest("once_cell-1.17.0");
  if (!once_cell) GTEST_SKIP() << "once_cell-1.17.0 is not in /usr/share/cargo/registry";
  CfgSet cfg = CfgSet::HostDefault();
  for (const std::string& f : ResolveFeatures(*once_cell).features) cfg.AddFeature(f);
  EXPECT_EQ(EvaluateCfg("all(feature = \"critical-section\", not(feature = \"std\"))", cfg),
            CfgValue::kFalse);
  EXPECT_EQ(EvaluateCfg("all(feature = \"std\", feature = \"parking_lot\")", cfg),
            CfgValue::kFalse);
  EXPECT_EQ(EvaluateCfg("all(feature = \"std\", not(feature = \"parking_lot\"))", cfg),
            CfgValue::kTrue);

  std::optional<CargoManifest> regex = RegistryManifest("regex-1.7.1");
  ASSERT_TRUE(regex.has_value());
  CfgSet regex_cfg = CfgSet::HostDefault();
  for (const std::string& f : ResolveFeatures(*regex).features) regex_cfg.AddFeature(f);
  EXPECT_EQ(EvaluateCfg("feature = \"perf-literal\"", regex_cfg), CfgValue::kTrue);
  EXPECT_EQ(EvaluateCfg("not(feature = \"perf-literal\")", regex_cfg), CfgValue::kFalse);
  EXPECT_EQ(EvaluateCfg("feature = \"pattern\"", regex_cfg), CfgValue::kFalse);
}

// Every registry manifest resolves its default features without naming
// anything its manifest lacks.
TEST(CargoFeaturesTest, RegistryDefaultsNameNothingUnknown) {
  namespace fs = std::filesystem;
  const fs::path registry = "/usr/share/cargo/registry";
  std::error_code ec;
  if (!fs::is_directory(registry, ec)) GTEST_SKIP() << "no " << registry;
  int with_features = 0;
  for (const fs::directory_entry& dir : fs::directory_iterator(registry, ec)) {
    fs::path path = dir.path() / "Cargo.toml";
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    Result<CargoManifest> m = ParseCargoManifest(text.str(), path.string());
    if (!m.ok() || !m->package) continue;
    if (!m->features.empty()) ++with_features;
    CargoFeatureRequest all;
    all.all_features = true;
    CargoFeatureSet set = ResolveFeatures(*m, all);
    EXPECT_TRUE(set.unknown.empty()) << path << ": " << ::testing::PrintToString(set.unknown);
  }
  EXPECT_GE(with_features, 20);
}

}  // namespace
}  // namespace ferrograph
