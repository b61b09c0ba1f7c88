// Golden corpus: tests/golden/<name>.rs in, tests/golden/<name>.expected out.
//
// Each .expected file is a text dump of ExtractFile: one line per item
// (index, ^parent index, kind, rel_path, lines, visibility, cfgs, derives,
// attrs, in_macro, docs, the first 8 hex digits of the content hash), an
// indented signature line, then one line per ModDecl and per diagnostic, then
// the references: one line per UseImport, TypeRef and CallRef.
// The hash digits pin ContentHash stability: stored hashes must not change
// when the extractor is rebuilt.
//
// FERROGRAPH_UPDATE_GOLDEN=1 rewrites the .expected files from the current
// output; review the diff by hand before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "graph/extract.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

std::string Quote(std::string_view s, size_t max) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : s) {
    if (n++ >= max) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string List(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "; " : "") + v[i];
  return out + "]";
}

std::string JoinPath(const PathSegments& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) out += (i ? "::" : "") + path[i];
  return out;
}

std::string Dump(const FileExtraction& fx) {
  std::string out;
  if (!fx.module_docs.empty()) out += "module_docs " + Quote(fx.module_docs, 60) + "\n";
  for (const std::string& a : fx.module_attrs) out += "module_attr " + a + "\n";
  for (size_t i = 0; i < fx.items.size(); ++i) {
    const ExtractedItem& it = fx.items[i];
    out += std::to_string(i) + " ^" + std::to_string(it.parent) + " " +
           std::string(KindName(it.kind)) + " " + it.rel_path + " L" +
           std::to_string(it.span.start_line) + "-" + std::to_string(it.span.end_line) + " " +
           std::string(VisibilityName(it.visibility));
    if (!it.cfgs.empty()) out += " cfg=" + List(it.cfgs);
    if (!it.derives.empty()) out += " derive=" + List(it.derives);
    if (!it.attrs.empty()) out += " attrs=" + List(it.attrs);
    if (!it.in_macro.empty()) out += " macro=" + it.in_macro;
    if (!it.docs.empty()) out += " docs=" + Quote(it.docs, 60);
    out += " hash=" + it.content_hash.str().substr(0, 8);
    out += "\n    sig: " + it.signature + "\n";
  }
  for (const ModDecl& m : fx.mods) {
    out += "moddecl " + m.name + " item=" + std::to_string(m.item);
    if (m.path_attr) out += " path=" + Quote(*m.path_attr, 200);
    if (!m.enclosing.empty()) {
      out += " enclosing=";
      for (size_t i = 0; i < m.enclosing.size(); ++i) {
        out += (i ? "/" : "") + m.enclosing[i].name;
        if (m.enclosing[i].path_attr) out += "(path=" + *m.enclosing[i].path_attr + ")";
      }
    }
    out += "\n";
  }
  for (const Diagnostic& d : fx.diagnostics) {
    out +=
        "diag " + std::to_string(d.line) + ":" + std::to_string(d.column) + " " + d.message + "\n";
  }
  for (const UseImport& u : fx.imports) {
    out += "import ^" + std::to_string(u.item) + " " + JoinPath(u.path);
    if (!u.alias.empty()) out += " as " + u.alias;
    if (u.glob) out += " glob";
    if (u.extern_crate) out += " extern_crate";
    out += " " + std::string(VisibilityName(u.visibility)) + " L" + std::to_string(u.line) + "\n";
  }
  for (const TypeRef& r : fx.type_refs) {
    out += "typeref ^" + std::to_string(r.item) + " " + std::string(TypeRefRoleName(r.role)) + " " +
           JoinPath(r.path);
    if (!r.bounded_param.empty()) out += " param=" + r.bounded_param;
    out += " L" + std::to_string(r.line) + "\n";
  }
  for (const CallRef& c : fx.calls) {
    out += "call ^" + std::to_string(c.item) + " " + std::string(CallKindName(c.kind)) + " " +
           JoinPath(c.path);
    if (!c.receiver.empty()) out += " recv=" + c.receiver;
    if (!c.receiver_type.empty()) out += ":" + JoinPath(c.receiver_type);
    if (!c.receiver_call.empty()) out += " recv=" + JoinPath(c.receiver_call) + "()";
    for (const ReceiverStep& st : c.receiver_steps) {
      out += st.kind == ReceiverStep::kField ? "." : st.kind == ReceiverStep::kMethod ? ".m:" : "!";
      out += st.name;
    }
    out += " L" + std::to_string(c.line) + "\n";
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path GoldenDir() {
  const char* env = std::getenv("FERROGRAPH_SOURCE_DIR");
  fs::path root = env && *env ? fs::path(env) : fs::path(FERROGRAPH_SOURCE_DIR);
  return root / "tests" / "golden";
}

TEST(GoldenTest, ExtractionMatchesExpectedDumps) {
  const fs::path dir = GoldenDir();
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".rs") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_GE(inputs.size(), 5u);

  const char* update_env = std::getenv("FERROGRAPH_UPDATE_GOLDEN");
  const bool update = update_env && std::string(update_env) == "1";
  RustParser parser;
  for (const fs::path& input : inputs) {
    SCOPED_TRACE(input.filename().string());
    std::string source = ReadFile(input);
    std::string actual = Dump(ParseAndExtract(source, parser));
    fs::path expected_path = input;
    expected_path.replace_extension(".expected");
    if (update) {
      std::ofstream(expected_path, std::ios::binary) << actual;
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path))
        << expected_path << " missing; run with FERROGRAPH_UPDATE_GOLDEN=1";
    EXPECT_EQ(ReadFile(expected_path), actual)
        << "golden mismatch for " << input << "; if intended, run with "
        << "FERROGRAPH_UPDATE_GOLDEN=1 and review the diff";
  }
}

// Real code from Debian's crate registry: every file extracts without a
// crash, and well-known items are where they should be.
TEST(GoldenTest, RegexCrateSmoke) {
  const fs::path crate = "/usr/share/cargo/registry/regex-1.7.1";
  if (!fs::is_directory(crate)) GTEST_SKIP() << crate << " not installed";
  RustParser parser;
  size_t files = 0, items = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& entry : fs::recursive_directory_iterator(crate)) {
    if (entry.path().extension() != ".rs") continue;
    std::string source = ReadFile(entry.path());
    FileExtraction fx = ParseAndExtract(source, parser);
    ++files;
    items += fx.items.size();
    for (size_t i = 0; i < fx.items.size(); ++i) {
      ASSERT_LT(fx.items[i].parent, static_cast<int>(i)) << entry.path();
    }
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(files, 50u);
  EXPECT_GT(items, 1500u);
  RecordProperty("files", static_cast<int>(files));
  RecordProperty("items", static_cast<int>(items));
  std::printf("regex-1.7.1: %zu files, %zu items in %.3f s (parse + extract)\n", files, items,
              elapsed);

  auto expect_item = [&](const char* file, const char* rel_path, NodeKind kind) {
    std::string source = ReadFile(crate / file);
    FileExtraction fx = ParseAndExtract(source, parser);
    auto it = std::find_if(fx.items.begin(), fx.items.end(), [&](const ExtractedItem& item) {
      return item.rel_path == rel_path && item.kind == kind;
    });
    EXPECT_NE(it, fx.items.end()) << rel_path << " in " << file;
    if (it != fx.items.end()) {
      EXPECT_EQ(it->visibility, Visibility::kPublic) << rel_path;
    }
    EXPECT_TRUE(fx.diagnostics.empty()) << file;
  };
  expect_item("src/re_unicode.rs", "Regex", NodeKind::kStruct);
  expect_item("src/re_unicode.rs", "Regex::is_match", NodeKind::kMethod);
  expect_item("src/re_unicode.rs", "Regex::new", NodeKind::kFunction);
  expect_item("src/re_unicode.rs", "Captures", NodeKind::kStruct);
  expect_item("src/re_bytes.rs", "Regex", NodeKind::kStruct);
  expect_item("src/error.rs", "Error", NodeKind::kEnum);
  expect_item("src/lib.rs",
              "use crate::re_unicode::{escape, CaptureLocations, CaptureMatches, CaptureNames, "
              "Captures, Locations, Match, Matches, NoExpand, Regex, Replacer, ReplacerRef, "
              "Split, SplitN, SubCaptureMatches}",
              NodeKind::kUse);
}

}  // namespace
}  // namespace ferrograph
