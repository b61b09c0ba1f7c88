#include "ingest/source_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace ferrograph {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  fs::path p = fs::path(testing::TempDir()) / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

TEST(SourceFileTest, ReadsValidUtf8) {
  std::string p = WriteTemp("ok.rs", "fn main() { println!(\"héllo ✓ 😀\"); }\n");
  auto r = ReadSourceFile(p, "ok.rs", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(*r, HasSubstr("héllo"));
}

TEST(SourceFileTest, RejectsInvalidUtf8WithLineAndOffset) {
  std::string p = WriteTemp("bad.rs", "fn a() {}\nfn b() { \"\xff\xfe\" }\n");
  auto r = ReadSourceFile(p, "src/bad.rs", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("src/bad.rs:2"));
  EXPECT_THAT(r.status().message(), HasSubstr("not valid UTF-8"));
}

TEST(SourceFileTest, RejectsBinary) {
  std::string p = WriteTemp("bin.rs", std::string("\x7f"
                                                  "ELF\0\0\0",
                                                  7));
  auto r = ReadSourceFile(p, "bin.rs", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("binary"));
}

TEST(SourceFileTest, RejectsFilesOverTheLimit) {
  std::string p = WriteTemp("big.rs", std::string(5000, 'a'));
  auto r = ReadSourceFile(p, "big.rs", 4096);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("over the limit"));
}

TEST(SourceFileTest, ReportsUnreadableAndMissingFiles) {
  auto missing = ReadSourceFile("/nonexistent/x.rs", "x.rs", 1 << 20);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
  EXPECT_THAT(missing.status().message(), HasSubstr("x.rs: cannot read"));
  if (geteuid() != 0) {  // root reads anything
    std::string p = WriteTemp("noperm.rs", "fn a() {}");
    chmod(p.c_str(), 0);
    EXPECT_FALSE(ReadSourceFile(p, "noperm.rs", 1 << 20).ok());
  }
}

}  // namespace
}  // namespace ferrograph
