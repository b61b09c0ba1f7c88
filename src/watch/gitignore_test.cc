#include "watch/gitignore.h"

#include <gtest/gtest.h>

namespace ferrograph {
namespace {

using Verdict = GitignoreFile::Verdict;

// ------------------------------------------------------------------ globbing

TEST(GitignoreGlobTest, StarAndQuestionStayInOneComponent) {
  EXPECT_TRUE(GitignoreGlobMatch("*.rs", "lib.rs"));
  EXPECT_TRUE(GitignoreGlobMatch("*.rs", ".rs"));
  EXPECT_FALSE(GitignoreGlobMatch("*.rs", "src/lib.rs"));
  EXPECT_TRUE(GitignoreGlobMatch("src/*.rs", "src/lib.rs"));
  EXPECT_FALSE(GitignoreGlobMatch("src/*.rs", "src/a/lib.rs"));
  EXPECT_TRUE(GitignoreGlobMatch("l?b.rs", "lib.rs"));
  EXPECT_FALSE(GitignoreGlobMatch("a?b", "a/b"));
  EXPECT_TRUE(GitignoreGlobMatch("*", "anything"));
  EXPECT_FALSE(GitignoreGlobMatch("*", "a/b"));
  EXPECT_TRUE(GitignoreGlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GitignoreGlobMatch("a*b*c", "axxbyy"));
}

TEST(GitignoreGlobTest, CharacterClasses) {
  EXPECT_TRUE(GitignoreGlobMatch("[abc].rs", "b.rs"));
  EXPECT_FALSE(GitignoreGlobMatch("[abc].rs", "d.rs"));
  EXPECT_TRUE(GitignoreGlobMatch("file[0-9]", "file7"));
  EXPECT_FALSE(GitignoreGlobMatch("file[0-9]", "filex"));
  EXPECT_TRUE(GitignoreGlobMatch("[!a]x", "bx"));
  EXPECT_FALSE(GitignoreGlobMatch("[!a]x", "ax"));
  EXPECT_TRUE(GitignoreGlobMatch("[^a]x", "bx"));
  EXPECT_TRUE(GitignoreGlobMatch("[]]", "]"));
  EXPECT_TRUE(GitignoreGlobMatch("[[:digit:]]*", "9lives"));
  EXPECT_FALSE(GitignoreGlobMatch("[[:digit:]]*", "lives"));
  EXPECT_FALSE(GitignoreGlobMatch("a[/]b", "a/b"));  // never matches the separator
  // An unclosed `[` is a literal.
  EXPECT_TRUE(GitignoreGlobMatch("a[b", "a[b"));
}

TEST(GitignoreGlobTest, BackslashEscapes) {
  EXPECT_TRUE(GitignoreGlobMatch("\\*.rs", "*.rs"));
  EXPECT_FALSE(GitignoreGlobMatch("\\*.rs", "a.rs"));
  EXPECT_TRUE(GitignoreGlobMatch("\\#notes", "#notes"));
  EXPECT_TRUE(GitignoreGlobMatch("\\!keep", "!keep"));
}

TEST(GitignoreGlobTest, DoubleStar) {
  EXPECT_TRUE(GitignoreGlobMatch("**/foo", "foo"));
  EXPECT_TRUE(GitignoreGlobMatch("**/foo", "a/b/foo"));
  EXPECT_FALSE(GitignoreGlobMatch("**/foo", "a/b/foox"));
  EXPECT_TRUE(GitignoreGlobMatch("a/**/b", "a/b"));
  EXPECT_TRUE(GitignoreGlobMatch("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(GitignoreGlobMatch("a/**/b", "a/x/y/c"));
  EXPECT_TRUE(GitignoreGlobMatch("abc/**", "abc/x"));
  EXPECT_TRUE(GitignoreGlobMatch("abc/**", "abc/x/y.rs"));
  EXPECT_FALSE(GitignoreGlobMatch("abc/**", "abc"));
  EXPECT_TRUE(GitignoreGlobMatch("**", "a/b/c"));
  // Not a whole component: like `*`.
  EXPECT_TRUE(GitignoreGlobMatch("a**b", "axxb"));
  EXPECT_FALSE(GitignoreGlobMatch("a**b", "a/b"));
}

// ------------------------------------------------------------------ one file

TEST(GitignoreFileTest, SkipsBlankLinesAndComments) {
  GitignoreFile f = GitignoreFile::Parse("\n# a comment\n   \n\\#literal\n*.o\n");
  EXPECT_EQ(f.rule_count(), 2u);
  EXPECT_EQ(f.Match("#literal", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("# a comment", false), Verdict::kNoMatch);
  EXPECT_EQ(f.Match("x.o", false), Verdict::kIgnored);
}

TEST(GitignoreFileTest, TrailingSpacesDroppedUnlessEscaped) {
  GitignoreFile f = GitignoreFile::Parse("a.rs   \nb\\ \r\n");
  EXPECT_EQ(f.Match("a.rs", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("b ", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("b", false), Verdict::kNoMatch);
}

TEST(GitignoreFileTest, UnanchoredPatternMatchesAtAnyDepth) {
  GitignoreFile f = GitignoreFile::Parse("*.gen.rs\nbuild\n");
  EXPECT_EQ(f.Match("x.gen.rs", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("a/b/x.gen.rs", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("a/build", true), Verdict::kIgnored);
  EXPECT_EQ(f.Match("a/build", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("a/builder", true), Verdict::kNoMatch);
}

TEST(GitignoreFileTest, SlashAnchorsToTheFilesDirectory) {
  GitignoreFile f = GitignoreFile::Parse("/root_only.rs\ndoc/frotz\n");
  EXPECT_EQ(f.Match("root_only.rs", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("sub/root_only.rs", false), Verdict::kNoMatch);
  EXPECT_EQ(f.Match("doc/frotz", true), Verdict::kIgnored);
  EXPECT_EQ(f.Match("a/doc/frotz", true), Verdict::kNoMatch);
}

TEST(GitignoreFileTest, TrailingSlashMatchesDirectoriesOnly) {
  GitignoreFile f = GitignoreFile::Parse("generated/\n");
  EXPECT_EQ(f.Match("generated", true), Verdict::kIgnored);
  EXPECT_EQ(f.Match("src/generated", true), Verdict::kIgnored);
  EXPECT_EQ(f.Match("generated", false), Verdict::kNoMatch);
}

TEST(GitignoreFileTest, LastMatchingPatternWinsAndNegationReincludes) {
  GitignoreFile f = GitignoreFile::Parse("*.rs\n!keep.rs\n");
  EXPECT_EQ(f.Match("a.rs", false), Verdict::kIgnored);
  EXPECT_EQ(f.Match("keep.rs", false), Verdict::kIncluded);
  GitignoreFile g = GitignoreFile::Parse("!keep.rs\n*.rs\n");
  EXPECT_EQ(g.Match("keep.rs", false), Verdict::kIgnored);
  GitignoreFile h = GitignoreFile::Parse("\\!bang\n");
  EXPECT_EQ(h.Match("!bang", false), Verdict::kIgnored);
}

TEST(GitignoreFileTest, DegenerateLinesAreSkipped) {
  GitignoreFile f = GitignoreFile::Parse("!\n/\n!/\n");
  EXPECT_EQ(f.rule_count(), 0u);
}

// ------------------------------------------------------------------ the tree

TEST(GitignoreMatcherTest, EverythingInsideAnIgnoredDirectoryIsIgnored) {
  GitignoreMatcher m;
  m.SetFile("", "generated/\n!generated/keep.rs\n");
  EXPECT_TRUE(m.IsIgnored("generated", true));
  EXPECT_TRUE(m.IsIgnored("generated/a.rs", false));
  // git never looks inside an excluded directory: the negation cannot apply.
  EXPECT_TRUE(m.IsIgnored("generated/keep.rs", false));
  EXPECT_TRUE(m.IsIgnored("generated/deep/er/x.rs", false));
  EXPECT_FALSE(m.IsIgnored("src/lib.rs", false));
  // The entry check trusts its caller that the parent is not ignored.
  EXPECT_FALSE(m.IsIgnoredEntry("generated/a.rs", false));
}

TEST(GitignoreMatcherTest, DirectoryContentsPatternAllowsReinclusion) {
  GitignoreMatcher m;
  m.SetFile("", "generated/*\n!generated/keep.rs\n");
  EXPECT_FALSE(m.IsIgnored("generated", true));
  EXPECT_TRUE(m.IsIgnored("generated/a.rs", false));
  EXPECT_FALSE(m.IsIgnored("generated/keep.rs", false));
}

TEST(GitignoreMatcherTest, NestedFilesAreRelativeToTheirDirectoryAndOverrideOuterOnes) {
  GitignoreMatcher m;
  m.SetFile("", "*.gen.rs\n");
  m.SetFile("crates/a", "/local.rs\n!special.gen.rs\n");
  EXPECT_TRUE(m.IsIgnored("crates/a/local.rs", false));
  EXPECT_FALSE(m.IsIgnored("local.rs", false));
  EXPECT_FALSE(m.IsIgnored("crates/a/sub/local.rs", false));  // anchored to crates/a
  EXPECT_FALSE(m.IsIgnored("crates/b/local.rs", false));
  EXPECT_TRUE(m.IsIgnored("crates/a/x.gen.rs", false));
  EXPECT_FALSE(m.IsIgnored("crates/a/special.gen.rs", false));
  EXPECT_TRUE(m.IsIgnored("crates/b/special.gen.rs", false));
}

TEST(GitignoreMatcherTest, FilesCanBeReplacedAndRemoved) {
  GitignoreMatcher m;
  m.SetFile("a", "x.rs\n");
  m.SetFile("a/b", "y.rs\n");
  m.SetFile("ab", "z.rs\n");
  EXPECT_TRUE(m.IsIgnored("a/x.rs", false));
  m.SetFile("a", "other.rs\n");
  EXPECT_FALSE(m.IsIgnored("a/x.rs", false));
  m.RemoveUnder("a");
  EXPECT_FALSE(m.IsIgnored("a/other.rs", false));
  EXPECT_FALSE(m.IsIgnored("a/b/y.rs", false));
  EXPECT_TRUE(m.IsIgnored("ab/z.rs", false));  // a sibling with a common prefix stays
  m.RemoveFile("ab");
  EXPECT_FALSE(m.IsIgnored("ab/z.rs", false));
  EXPECT_EQ(m.file_count(), 0u);
}

TEST(GitignoreMatcherTest, OuterFilesSeeTheRootFromAbove) {
  GitignoreMatcher m;
  // The repository's top holds the root at crates/foo.
  m.AddOuterFile("crates/foo", "/crates/foo/gen/\n*.bak.rs\n/top.rs\n");
  EXPECT_TRUE(m.IsIgnored("gen/x.rs", false));
  EXPECT_TRUE(m.IsIgnored("src/old.bak.rs", false));
  EXPECT_FALSE(m.IsIgnored("top.rs", false));  // anchored at the top, not at the root
  // Files inside the root override outer ones.
  m.SetFile("", "!keep.bak.rs\n");
  EXPECT_FALSE(m.IsIgnored("keep.bak.rs", false));
}

}  // namespace
}  // namespace ferrograph
