#include "ingest/workspace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

fs::path FixtureDir(const std::string& name) {
  return fs::path(FERROGRAPH_SOURCE_DIR) / "tests" / "fixtures" / "workspaces" / name;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempTree {
 public:
  TempTree() {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() /
            ("ferrograph_ws_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }

  void Write(const std::string& rel, const std::string& content) const {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  // A package `name` at `rel` with an empty src/lib.rs.
  void Package(const std::string& rel, const std::string& name) const {
    Write(rel + "/Cargo.toml", "[package]\nname = \"" + name + "\"\nversion = \"0.1.0\"\n");
    Write(rel + "/src/lib.rs", "");
  }
  void Symlink(const std::string& target, const std::string& rel_link) const {
    fs::create_directory_symlink(target, root_ / rel_link);
  }

 private:
  fs::path root_;
};

std::vector<std::string> PackageNames(const Workspace& ws) {
  std::vector<std::string> names;
  for (const Package& p : ws.packages) names.push_back(p.name);
  return names;
}

const Package* FindPackage(const Workspace& ws, const std::string& name) {
  for (const Package& p : ws.packages) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// "kind crate_name relative/root" for compact comparisons.
std::vector<std::string> TargetSummary(const Package& p) {
  std::vector<std::string> out;
  for (const Target& t : p.targets) {
    const char* kind = t.kind == TargetKind::kLib       ? "lib"
                       : t.kind == TargetKind::kBin     ? "bin"
                       : t.kind == TargetKind::kExample ? "example"
                                                        : "plain";
    out.push_back(std::string(kind) + " " + t.crate_name + " " +
                  fs::path(t.root_file).lexically_relative(p.manifest_dir).string());
  }
  return out;
}

// What the library is built with: default features, the optional
// dependencies they turn on, build-script cfgs; dev-dependencies and
// optional dependencies left off are inactive.
TEST(WorkspaceTest, RecordsTheDefaultBuildOfAPackage) {
  TempTree t;
  t.Write("Cargo.toml",
          "[package]\nname = \"p\"\nversion = \"0.1.0\"\n"
          "[features]\ndefault = [\"fast\"]\nfast = [\"dep:simd\"]\nslow = [\"extra\"]\n"
          "[dependencies]\nsimd = { version = \"1\", optional = true }\n"
          "extra = { version = \"1\", optional = true }\nplain = \"1\"\n"
          "[dev-dependencies]\ntester = \"1\"\nplain = \"1\"\n");
  t.Write("src/lib.rs", "");
  t.Write("build.rs", "fn main() { println!(\"cargo:rustc-cfg=has_simd\"); }\n");
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->packages.size(), 1u);
  const Package& p = ws->packages[0];
  EXPECT_THAT(p.features, ElementsAre("default", "fast"));
  EXPECT_THAT(p.build_cfgs, ElementsAre("has_simd"));
  EXPECT_EQ(p.inactive, (std::set<std::string>{"extra", "tester"}));
  EXPECT_EQ(p.dependencies.count("simd"), 1u);
}

TEST(WorkspaceTest, ExpandsGlobbedMembersHonouringExclude) {
  fs::path root = FixtureDir("globbed");
  Result<Workspace> ws = DiscoverWorkspace(root.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->root, root.lexically_normal().string());
  // crates/* (sorted, without crates/excluded and the manifest-less
  // crates/notapkg), tools/cli, then helper: a path dependency inside the
  // workspace is a member too.
  EXPECT_THAT(PackageNames(*ws), ElementsAre("my-app", "ws-core", "ws-cli", "helper"));
  EXPECT_THAT(ws->warnings, IsEmpty());
  for (const Package& p : ws->packages) {
    EXPECT_TRUE(fs::path(p.manifest_dir).is_absolute()) << p.manifest_dir;
    EXPECT_EQ(fs::path(p.manifest_dir), fs::path(p.manifest_dir).lexically_normal());
  }
  EXPECT_EQ(FindPackage(*ws, "my-app")->manifest_dir, (root / "crates" / "app").string());
}

TEST(WorkspaceTest, InheritsVersionAndResolvesRenamedDependencies) {
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("globbed").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  const Package* core = FindPackage(*ws, "ws-core");
  ASSERT_NE(core, nullptr);
  EXPECT_EQ(core->version, "0.3.0");
  EXPECT_THAT(
      core->dependencies,
      UnorderedElementsAre(Pair("serde", "serde"), Pair("json", "serde_json"), Pair("rx", "regex"),
                           Pair("helper", "helper"), Pair("libc", "libc"),
                           Pair("pretty_assertions", "pretty-assertions"), Pair("cc", "cc")));
  EXPECT_THAT(FindPackage(*ws, "my-app")->dependencies,
              UnorderedElementsAre(Pair("ws_core", "ws-core")));
}

TEST(WorkspaceTest, UsesExplicitLibPath) {
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("globbed").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  const Package* core = FindPackage(*ws, "ws-core");
  ASSERT_NE(core, nullptr);
  EXPECT_THAT(TargetSummary(*core), ElementsAre("lib ws_core lib/core.rs"));
  EXPECT_EQ(core->targets[0].root_file,
            (FixtureDir("globbed") / "crates/core/lib/core.rs").lexically_normal().string());
}

TEST(WorkspaceTest, FindsLibBinsAndExamples) {
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("globbed").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  const Package* app = FindPackage(*ws, "my-app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->version, "1.2.3");
  EXPECT_THAT(
      TargetSummary(*app),
      ElementsAre("lib my_app src/lib.rs",                  //
                  "bin extra_tool tools/extra.rs",          // [[bin]]
                  "bin my_app src/main.rs",                 // inferred
                  "bin helper_bin src/bin/helper-bin.rs",   //
                  "bin multi src/bin/multi/main.rs",        //
                  "example custom examples/custom/run.rs",  // [[example]]
                  "example complex examples/complex/main.rs", "example demo examples/demo.rs"));
}

TEST(WorkspaceTest, HonoursAutobinsAndAutoexamplesFalse) {
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("globbed").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  const Package* cli = FindPackage(*ws, "ws-cli");
  ASSERT_NE(cli, nullptr);
  EXPECT_THAT(TargetSummary(*cli), ElementsAre("bin cli_main src/main.rs"));
}

TEST(WorkspaceTest, CanLeaveOutExamples) {
  DiscoverOptions options;
  options.include_examples = false;
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("globbed").string(), options);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  for (const Package& p : ws->packages) {
    for (const Target& t : p.targets) EXPECT_NE(t.kind, TargetKind::kExample) << t.root_file;
  }
}

TEST(WorkspaceTest, MemberDirectoryAloneIsOnePackageWithInheritance) {
  Result<Workspace> ws = DiscoverWorkspace((FixtureDir("globbed") / "crates/core").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_THAT(PackageNames(*ws), ElementsAre("ws-core"));
  EXPECT_EQ(ws->packages[0].version, "0.3.0");  // found the workspace above
  EXPECT_EQ(ws->packages[0].dependencies.at("json"), "serde_json");
}

TEST(WorkspaceTest, CargoTomlPathMeansItsDirectory) {
  Result<Workspace> ws =
      DiscoverWorkspace((FixtureDir("globbed") / "tools/cli/Cargo.toml").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("ws-cli"));
}

TEST(WorkspaceTest, DirectoryOfPackagesWithoutWorkspace) {
  fs::path root = FixtureDir("multi");
  Result<Workspace> ws = DiscoverWorkspace(root.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  // group/ws is a workspace whose member the walk also reaches: indexed once.
  EXPECT_THAT(PackageNames(*ws), ElementsAre("alpha", "beta-tool", "member", "legacy"));
  // The broken manifest is a warning naming file and line; the rest goes on.
  EXPECT_THAT(ws->warnings, ElementsAre("broken/Cargo.toml:3: expected `=`"));
  EXPECT_THAT(TargetSummary(*FindPackage(*ws, "alpha")), ElementsAre("lib alpha src/lib.rs"));
  EXPECT_THAT(TargetSummary(*FindPackage(*ws, "beta-tool")),
              ElementsAre("bin beta_tool src/main.rs"));
  EXPECT_EQ(FindPackage(*ws, "member")->manifest_dir, (root / "group/ws/member").string());
}

TEST(WorkspaceTest, Edition2015DeclaredBinsTurnOffDiscovery) {
  Result<Workspace> ws = DiscoverWorkspace((FixtureDir("multi") / "legacy").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->packages.size(), 1u);
  // [[bin]] name = "legacy" without a path finds src/main.rs; src/bin/other.rs
  // is not discovered because the package is 2015 edition and declares bins.
  EXPECT_THAT(TargetSummary(ws->packages[0]), ElementsAre("bin legacy src/main.rs"));
}

TEST(WorkspaceTest, BrokenRootManifestWarnsAndWalksBeneath) {
  Result<Workspace> ws = DiscoverWorkspace(FixtureDir("bad_root").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("sub"));
  ASSERT_EQ(ws->warnings.size(), 1u);
  EXPECT_THAT(ws->warnings[0], HasSubstr("Cargo.toml:3: expected `]`"));
}

TEST(WorkspaceTest, PlainDirectoryIsOneCrate) {
  fs::path root = FixtureDir("plain-dir");
  Result<Workspace> ws = DiscoverWorkspace(root.string() + "/");
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->root, root.lexically_normal().string());
  ASSERT_EQ(ws->packages.size(), 1u);
  const Package& p = ws->packages[0];
  EXPECT_EQ(p.name, "plain-dir");
  ASSERT_EQ(p.targets.size(), 1u);
  EXPECT_EQ(p.targets[0].kind, TargetKind::kPlainDirectory);
  EXPECT_EQ(p.targets[0].crate_name, "plain_dir");
  EXPECT_EQ(p.targets[0].root_file, root.lexically_normal().string());
}

TEST(WorkspaceTest, SingleFileIsOneCrate) {
  fs::path file = FixtureDir("single") / "hello-world.rs";
  Result<Workspace> ws = DiscoverWorkspace(file.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->packages.size(), 1u);
  const Package& p = ws->packages[0];
  ASSERT_EQ(p.targets.size(), 1u);
  EXPECT_EQ(p.targets[0].kind, TargetKind::kPlainDirectory);
  EXPECT_EQ(p.targets[0].crate_name, "hello_world");
  EXPECT_EQ(p.targets[0].root_file, file.lexically_normal().string());
  EXPECT_EQ(p.manifest_dir, FixtureDir("single").lexically_normal().string());
}

TEST(WorkspaceTest, RelativePathsBecomeAbsolute) {
  fs::path saved = fs::current_path();
  fs::current_path(FixtureDir("multi"));
  Result<Workspace> ws = DiscoverWorkspace("./alpha/../alpha");
  fs::current_path(saved);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->root, (FixtureDir("multi") / "alpha").string());
  ASSERT_EQ(ws->packages.size(), 1u);
  EXPECT_EQ(ws->packages[0].targets[0].root_file,
            (FixtureDir("multi") / "alpha/src/lib.rs").string());
}

TEST(WorkspaceTest, MissingPathIsAnError) {
  Result<Workspace> ws = DiscoverWorkspace("/nonexistent/ferrograph/path");
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ws.status().message(), HasSubstr("/nonexistent/ferrograph/path"));
  EXPECT_EQ(DiscoverWorkspace("").status().code(), StatusCode::kInvalidArgument);
}

TEST(WorkspaceTest, OtherFilesAreRejected) {
  TempTree tree;
  tree.Write("notes.txt", "hi");
  Result<Workspace> ws = DiscoverWorkspace((tree.root() / "notes.txt").string());
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().code(), StatusCode::kInvalidArgument);
}

TEST(WorkspaceTest, SkipsTargetHiddenAndGitignoredDirectories) {
  TempTree t;
  t.Write(".gitignore",
          "# comment\n"
          "/ignored-top/\n"
          "*.skip\n"
          "build-*/\n"
          "!build-keep/\n"
          "\n");
  t.Package("pkg-a", "a");
  t.Package("ignored-top", "ignored-top");
  t.Package("nested/ignored-top", "nested-top");  // `/ignored-top/` is anchored
  t.Package("x.skip", "x-skip");
  t.Package("build-1", "build-1");
  t.Package("build-keep", "build-keep");  // re-included by `!`
  t.Package(".hidden", "hidden");
  t.Package("target", "target-pkg");
  t.Package("deep/target", "deep-target-pkg");
  t.Write("nested/.gitignore",
          "deep/\n"
          "/only-here\n"
          "**/generated\n");
  t.Package("nested/deep", "nested-deep");
  t.Package("nested/only-here", "nested-only-here");
  t.Package("nested/sub/only-here", "nested-sub-only-here");  // anchored to nested/
  t.Package("nested/sub/a/generated", "generated");
  t.Package("other/deep", "other-deep");  // nested/.gitignore applies only beneath nested/
  t.Package("other/generated", "other-generated");
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws),
              UnorderedElementsAre("a", "nested-top", "build-keep", "nested-sub-only-here",
                                   "other-deep", "other-generated"));
  EXPECT_THAT(ws->warnings, IsEmpty());
}

TEST(WorkspaceTest, GitignorePatternForms) {
  TempTree t;
  t.Write(".gitignore",
          "a?c\n"
          "[xy]z\n"
          "lit\\*\n"
          "docs/**/gen\n"
          "vendor/**\n"
          "  \n");
  t.Package("abc", "abc");
  t.Package("abcd", "abcd");
  t.Package("xz", "xz");
  t.Package("wz", "wz");
  t.Package("lit*", "lit-star");
  t.Package("litx", "litx");
  t.Package("docs/gen", "docs-gen");
  t.Package("docs/a/b/gen", "docs-deep-gen");
  t.Package("docs/keep", "docs-keep");
  t.Package("vendor/pkg", "vendored");
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), UnorderedElementsAre("abcd", "wz", "litx", "docs-keep"));
}

TEST(WorkspaceTest, GitignoreAboveTheRootAppliesInsideARepository) {
  TempTree t;
  fs::create_directories(t.root() / ".git");
  t.Write(".gitignore", "skipped/\n");
  t.Package("proj/kept", "kept");
  t.Package("proj/skipped", "skipped");
  Result<Workspace> ws = DiscoverWorkspace((t.root() / "proj").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("kept"));
}

TEST(WorkspaceTest, SurvivesSymlinkLoops) {
  TempTree t;
  t.Package("a", "a");
  t.Symlink("..", "a/loop");    // a/loop → the root
  t.Symlink("../a", "a/self");  // a/self → a
  fs::create_directories(t.root() / "b");
  t.Symlink("../b", "b/again");  // b/again → b
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("a"));

  DiscoverOptions no_links;
  no_links.follow_symlinks = false;
  ws = DiscoverWorkspace(t.root().string(), no_links);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("a"));
}

TEST(WorkspaceTest, KeepsSymlinkedPathsAsTheUserSeesThem) {
  TempTree t;
  t.Package("real/pkg", "pkg");
  t.Symlink("real", "alias");  // "alias" sorts before "real": reached through the link first
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_THAT(PackageNames(*ws), ElementsAre("pkg"));  // once, not twice
  EXPECT_EQ(ws->packages[0].manifest_dir, (t.root() / "alias/pkg").string());

  DiscoverOptions no_links;
  no_links.follow_symlinks = false;
  ws = DiscoverWorkspace(t.root().string(), no_links);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_THAT(PackageNames(*ws), ElementsAre("pkg"));
  EXPECT_EQ(ws->packages[0].manifest_dir, (t.root() / "real/pkg").string());
}

TEST(WorkspaceTest, WarnsAboutMissingMembersAndTargets) {
  TempTree t;
  t.Write("Cargo.toml",
          "[workspace]\n"
          "members = [\"gone\", \"p\"]\n");
  t.Write("p/Cargo.toml",
          "[package]\nname = \"p\"\nedition = \"2021\"\n"
          "[[bin]]\nname = \"nowhere\"\n"
          "[lib]\npath = \"src/missing.rs\"\n");
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("p"));
  EXPECT_THAT(ws->warnings, ElementsAre("Cargo.toml:1: workspace member `gone` has no Cargo.toml",
                                        "p/Cargo.toml:6: cannot find the source of the lib target: "
                                        "p/src/missing.rs",
                                        "p/Cargo.toml:4: cannot find the source of bin `nowhere`"));
}

TEST(WorkspaceTest, WorkspaceRootPackageIsAMember) {
  TempTree t;
  t.Write("Cargo.toml",
          "[package]\nname = \"root-pkg\"\nversion = \"1.0.0\"\n"
          "[workspace]\nmembers = [\"crates/**\"]\n");
  t.Write("src/lib.rs", "");
  t.Package("crates/one", "one");
  t.Package("crates/group/two", "two");
  Result<Workspace> ws = DiscoverWorkspace(t.root().string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_THAT(PackageNames(*ws), ElementsAre("root-pkg", "two", "one"));
  EXPECT_THAT(ws->warnings, IsEmpty());
}

TEST(WorkspaceTest, DiscoversRegexFromTheRegistry) {
  const fs::path regex = "/usr/share/cargo/registry/regex-1.7.1";
  if (!fs::is_directory(regex)) GTEST_SKIP() << "no " << regex;
  Result<Workspace> ws = DiscoverWorkspace(regex.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(ws->packages.size(), 1u);
  const Package& p = ws->packages[0];
  EXPECT_EQ(p.name, "regex");
  EXPECT_EQ(p.version, "1.7.1");
  ASSERT_FALSE(p.targets.empty());
  EXPECT_EQ(p.targets[0].kind, TargetKind::kLib);
  EXPECT_EQ(p.targets[0].crate_name, "regex");
  EXPECT_EQ(p.targets[0].root_file, (regex / "src/lib.rs").string());
  EXPECT_EQ(p.dependencies.at("regex_syntax"), "regex-syntax");
}

TEST(WorkspaceTest, DiscoversTheWholeRegistry) {
  const fs::path registry = "/usr/share/cargo/registry";
  if (!fs::is_directory(registry)) GTEST_SKIP() << "no " << registry;
  Result<Workspace> ws = DiscoverWorkspace(registry.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_GT(ws->packages.size(), 100u);
  std::set<std::string> dirs;
  for (const Package& p : ws->packages) {
    EXPECT_TRUE(dirs.insert(p.manifest_dir).second) << "twice: " << p.manifest_dir;
    for (const Target& t : p.targets) {
      EXPECT_TRUE(fs::path(t.root_file).is_absolute());
      EXPECT_TRUE(fs::exists(t.root_file)) << t.root_file;
    }
  }
  for (const std::string& w : ws->warnings) {
    EXPECT_THAT(w, ::testing::Not(HasSubstr("expected"))) << "a manifest failed to parse";
  }
  ASSERT_NE(FindPackage(*ws, "regex"), nullptr);
}

// --- ListRustFiles: the .rs files of a directory -------------------------

// `rels` beneath `root`, as ListRustFiles spells them.
std::vector<std::string> Under(const fs::path& root, const std::vector<std::string>& rels) {
  std::vector<std::string> out;
  for (const std::string& rel : rels) out.push_back((root / rel).string());
  return out;
}

TEST(WorkspaceListRustFilesTest, RespectsNestedGitignoresAndNegation) {
  TempTree t;
  t.Write(".gitignore",
          "*.gen.rs\n"
          "!keep.gen.rs\n"
          "ignored/\n");
  t.Write("src/lib.rs", "");
  t.Write("src/a.gen.rs", "");     // ignored by the top file
  t.Write("src/keep.gen.rs", "");  // re-included by `!`
  t.Write("ignored/x.rs", "");
  t.Write("src/nested/.gitignore",
          "private.rs\n"
          "!b.gen.rs\n");
  t.Write("src/nested/private.rs", "");  // ignored by the nested file
  t.Write("src/nested/b.gen.rs", "");    // the nested file's `!` wins over the outer rule
  t.Write("src/nested/c.rs", "");
  t.Write("other/private.rs", "");  // the nested file applies only beneath its directory
  std::vector<std::string> warnings;
  EXPECT_THAT(ListRustFiles(t.root().string(), &warnings),
              ElementsAreArray(Under(t.root(), {"other/private.rs", "src/keep.gen.rs", "src/lib.rs",
                                                "src/nested/b.gen.rs", "src/nested/c.rs"})));
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(WorkspaceListRustFilesTest, AppliesGitignoresAboveTheDirectoryOnlyInsideARepository) {
  TempTree repo;
  fs::create_directories(repo.root() / ".git");
  repo.Write(".gitignore", "gen.rs\n");
  repo.Write("proj/lib.rs", "");
  repo.Write("proj/gen.rs", "");
  EXPECT_THAT(ListRustFiles((repo.root() / "proj").string(), nullptr),
              ElementsAre((repo.root() / "proj/lib.rs").string()));

  TempTree plain;  // no .git: the .gitignore above is not in force
  plain.Write(".gitignore", "gen.rs\n");
  plain.Write("proj/lib.rs", "");
  plain.Write("proj/gen.rs", "");
  EXPECT_THAT(ListRustFiles((plain.root() / "proj").string(), nullptr),
              ElementsAreArray(Under(plain.root(), {"proj/gen.rs", "proj/lib.rs"})));
}

TEST(WorkspaceListRustFilesTest, SkipsTargetAndHiddenDirectoriesAndFiles) {
  TempTree t;
  t.Write("src/lib.rs", "");
  t.Write("src/target.rs", "");  // only directories named target are skipped
  t.Write("src/notes.txt", "");
  t.Write("src/.hidden.rs", "");
  t.Write(".hidden/a.rs", "");
  t.Write("target/debug/build/out.rs", "");
  t.Write("crates/x/target/b.rs", "");
  t.Write("crates/x/src/lib.rs", "");
  std::vector<std::string> warnings;
  EXPECT_THAT(
      ListRustFiles(t.root().string(), &warnings),
      ElementsAreArray(Under(t.root(), {"crates/x/src/lib.rs", "src/lib.rs", "src/target.rs"})));
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(WorkspaceListRustFilesTest, FollowsSymlinkedDirectoriesOnce) {
  TempTree outside;
  outside.Write("shared/util.rs", "");
  TempTree t;
  t.Write("real/a.rs", "");
  t.Symlink((outside.root() / "shared").string(), "linked");  // leads out of the tree
  t.Symlink("real", "alias");  // "alias" sorts before "real": its path is the one kept
  std::vector<std::string> warnings;
  EXPECT_THAT(ListRustFiles(t.root().string(), &warnings),
              ElementsAreArray(Under(t.root(), {"alias/a.rs", "linked/util.rs"})));
  EXPECT_THAT(warnings, IsEmpty());  // reached twice is not a loop
}

TEST(WorkspaceListRustFilesTest, ReportsSymlinkLoopsAndGoesOn) {
  TempTree t;
  t.Write("a/lib.rs", "");
  t.Symlink("..", "a/loop");    // a/loop → the root
  t.Symlink("../a", "a/self");  // a/self → a
  t.Write("b/main.rs", "");
  t.Symlink("../b", "b/again");  // b/again → b
  std::vector<std::string> warnings;
  EXPECT_THAT(ListRustFiles(t.root().string(), &warnings),
              ElementsAreArray(Under(t.root(), {"a/lib.rs", "b/main.rs"})));
  EXPECT_THAT(warnings,
              ElementsAre((t.root() / "a/loop").string() + ": symlink loop, not followed again",
                          (t.root() / "a/self").string() + ": symlink loop, not followed again",
                          (t.root() / "b/again").string() + ": symlink loop, not followed again"));
  // Without a place for warnings the loops are still not followed.
  EXPECT_THAT(ListRustFiles(t.root().string(), nullptr),
              ElementsAreArray(Under(t.root(), {"a/lib.rs", "b/main.rs"})));
}

TEST(WorkspaceListRustFilesTest, ReturnsAFilePathAloneNormalized) {
  TempTree t;
  t.Write(".gitignore", "*.rs\n");  // a file named explicitly is not filtered
  t.Write("src/lib.rs", "");
  t.Write("src/other.rs", "");
  std::vector<std::string> warnings;
  EXPECT_THAT(ListRustFiles((t.root() / "src/../src/./lib.rs").string(), &warnings),
              ElementsAre((t.root() / "src/lib.rs").string()));
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(WorkspaceListRustFilesTest, ReturnsSortedAbsoluteNormalizedPaths) {
  TempTree t;
  for (const char* rel : {"z.rs", "b/c.rs", "a.rs", "B.rs", "b.rs", "a/b/c.rs", "a-b/x.rs"}) {
    t.Write(rel, "");
  }
  std::vector<std::string> files =
      ListRustFiles((t.root() / "a" / ".." / "." / "").string(), nullptr);
  EXPECT_THAT(files, ElementsAreArray(Under(t.root(), {"B.rs", "a-b/x.rs", "a.rs", "a/b/c.rs",
                                                       "b.rs", "b/c.rs", "z.rs"})));
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  for (const std::string& f : files) EXPECT_TRUE(fs::path(f).is_absolute()) << f;
}

TEST(WorkspaceListRustFilesTest, WarnsAboutAMissingDirectory) {
  TempTree t;
  std::vector<std::string> warnings;
  EXPECT_THAT(ListRustFiles((t.root() / "absent").string(), &warnings), IsEmpty());
  EXPECT_THAT(warnings, ElementsAre((t.root() / "absent").string() +
                                    ": cannot read directory: No such file or directory"));
}

TEST(WorkspaceListRustFilesTest, WarnsAboutAnUnreadableDirectoryAndGoesOn) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  TempTree t;
  t.Write("locked/a.rs", "");
  t.Write("open/b.rs", "");
  fs::permissions(t.root() / "locked", fs::perms::none);
  std::vector<std::string> warnings;
  std::vector<std::string> files = ListRustFiles(t.root().string(), &warnings);
  fs::permissions(t.root() / "locked", fs::perms::owner_all);
  EXPECT_THAT(files, ElementsAre((t.root() / "open/b.rs").string()));
  EXPECT_THAT(warnings, ElementsAre(::testing::StartsWith((t.root() / "locked").string() +
                                                          ": cannot read directory: ")));
}

// --- ModuleFileFor: rustc's module source file rules ----------------------

using Enclosing = std::vector<std::pair<std::string, std::optional<std::string>>>;

std::vector<std::string> Candidates(const std::string& parent, bool mod_rs,
                                    const Enclosing& enclosing, const std::string& name,
                                    const std::optional<std::string>& path_attr = std::nullopt) {
  return ModuleFileFor(parent, mod_rs, enclosing, name, path_attr).candidates;
}

TEST(WorkspaceModuleFileTest, CrateRootLooksBesideItself) {
  EXPECT_THAT(Candidates("/p/src/lib.rs", true, {}, "foo"),
              ElementsAre("/p/src/foo.rs", "/p/src/foo/mod.rs"));
  EXPECT_THAT(Candidates("/p/src/main.rs", true, {}, "foo"),
              ElementsAre("/p/src/foo.rs", "/p/src/foo/mod.rs"));
  EXPECT_THAT(Candidates("/p/src/bin/tool.rs", true, {}, "cli"),
              ElementsAre("/p/src/bin/cli.rs", "/p/src/bin/cli/mod.rs"));
}

TEST(WorkspaceModuleFileTest, ModRsLooksBesideItself) {
  EXPECT_THAT(Candidates("/p/src/a/mod.rs", true, {}, "b"),
              ElementsAre("/p/src/a/b.rs", "/p/src/a/b/mod.rs"));
}

TEST(WorkspaceModuleFileTest, NonModRsLooksInDirectoryNamedAfterItself) {
  EXPECT_THAT(Candidates("/p/src/a.rs", false, {}, "b"),
              ElementsAre("/p/src/a/b.rs", "/p/src/a/b/mod.rs"));
  EXPECT_THAT(Candidates("/p/src/a/b.rs", false, {}, "c"),
              ElementsAre("/p/src/a/b/c.rs", "/p/src/a/b/c/mod.rs"));
  ModuleFileCandidates r = ModuleFileFor("/p/src/a.rs", false, {}, "b", std::nullopt);
  EXPECT_FALSE(r.from_path_attr);
}

TEST(WorkspaceModuleFileTest, PathAttributeIsRelativeToTheFilesDirectory) {
  // Reference: src/a/b.rs: #[path = "foo.rs"] mod c; → src/a/foo.rs.
  ModuleFileCandidates r = ModuleFileFor("/p/src/a/b.rs", false, {}, "c", "foo.rs");
  EXPECT_THAT(r.candidates, ElementsAre("/p/src/a/foo.rs"));
  EXPECT_TRUE(r.from_path_attr);
  // src/a/mod.rs: #[path = "foo.rs"] mod c; → src/a/foo.rs.
  EXPECT_THAT(Candidates("/p/src/a/mod.rs", true, {}, "c", "foo.rs"),
              ElementsAre("/p/src/a/foo.rs"));
  EXPECT_THAT(Candidates("/p/src/a/mod.rs", true, {}, "c", "../shared/x.rs"),
              ElementsAre("/p/src/shared/x.rs"));
  EXPECT_THAT(Candidates("/p/src/lib.rs", true, {}, "c", "/abs/x.rs"), ElementsAre("/abs/x.rs"));
}

TEST(WorkspaceModuleFileTest, PathAttributeInsideInlineModule) {
  // Reference: src/a/b.rs: mod inline { #[path = "other.rs"] mod inner; }
  //            → src/a/b/inline/other.rs
  EXPECT_THAT(Candidates("/p/src/a/b.rs", false, {{"inline", std::nullopt}}, "inner", "other.rs"),
              ElementsAre("/p/src/a/b/inline/other.rs"));
  // src/a/mod.rs: the same → src/a/inline/other.rs
  EXPECT_THAT(Candidates("/p/src/a/mod.rs", true, {{"inline", std::nullopt}}, "inner", "other.rs"),
              ElementsAre("/p/src/a/inline/other.rs"));
}

TEST(WorkspaceModuleFileTest, InlineModulesAreDirectories) {
  // lib.rs: mod a { mod b; } → src/a/b.rs
  EXPECT_THAT(Candidates("/p/src/lib.rs", true, {{"a", std::nullopt}}, "b"),
              ElementsAre("/p/src/a/b.rs", "/p/src/a/b/mod.rs"));
  // x.rs: mod a { mod b { mod c; } } → src/x/a/b/c.rs
  EXPECT_THAT(Candidates("/p/src/x.rs", false, {{"a", std::nullopt}, {"b", std::nullopt}}, "c"),
              ElementsAre("/p/src/x/a/b/c.rs", "/p/src/x/a/b/c/mod.rs"));
}

TEST(WorkspaceModuleFileTest, InlineModuleWithPathAttributeNamesADirectory) {
  // Reference: #[path = "thread_files"] mod thread { #[path = "tls.rs"] mod local_data; }
  // → thread_files/tls.rs beside the source file.
  EXPECT_THAT(
      Candidates("/p/src/lib.rs", true, {{"thread", "thread_files"}}, "local_data", "tls.rs"),
      ElementsAre("/p/src/thread_files/tls.rs"));
  EXPECT_THAT(
      Candidates("/p/src/lib.rs", true, {{"thread", "thread_files"}}, "local_data"),
      ElementsAre("/p/src/thread_files/local_data.rs", "/p/src/thread_files/local_data/mod.rs"));
  // In a non-mod-rs file, rustc resolves the inline #[path] from the file's
  // directory, dropping the file's own name component.
  EXPECT_THAT(Candidates("/p/src/a/b.rs", false, {{"x", "p"}}, "y"),
              ElementsAre("/p/src/a/p/y.rs", "/p/src/a/p/y/mod.rs"));
  // Modules inside it continue from that directory.
  EXPECT_THAT(Candidates("/p/src/a/b.rs", false, {{"x", "p"}, {"z", std::nullopt}}, "y"),
              ElementsAre("/p/src/a/p/z/y.rs", "/p/src/a/p/z/y/mod.rs"));
}

TEST(WorkspaceModuleFileTest, FilesLoadedByPathAreLikeModRs) {
  // src/lib.rs: #[path = "other/weird.rs"] mod w;  then in weird.rs: mod c;
  EXPECT_THAT(Candidates("/p/src/other/weird.rs", true, {}, "c"),
              ElementsAre("/p/src/other/c.rs", "/p/src/other/c/mod.rs"));
}

TEST(WorkspaceModuleFileTest, RawIdentifiersDropTheirPrefix) {
  EXPECT_THAT(Candidates("/p/src/lib.rs", true, {{"r#type", std::nullopt}}, "r#match"),
              ElementsAre("/p/src/type/match.rs", "/p/src/type/match/mod.rs"));
}

TEST(WorkspaceModuleFileTest, PathsAreNormalized) {
  EXPECT_THAT(Candidates("/p/./src/../src/lib.rs", true, {}, "foo"),
              ElementsAre("/p/src/foo.rs", "/p/src/foo/mod.rs"));
}

TEST(BuildScriptCfgsTest, FindsTheCfgsABuildScriptCanEmit) {
  EXPECT_THAT(BuildScriptCfgs(R"(
fn main() {
    println!("cargo:rustc-cfg=memchr_runtime_simd");
    println!("cargo:rustc-cfg={}", name);  // not a literal: skipped
    let ac = autocfg::new();
    ac.emit_sysroot_crate("std");
    ac.emit_has_type("i128");
    ac.emit_rustc_version(1, 36);
    autocfg::emit("has_foo");
}
)"),
              ::testing::ElementsAre("has_foo", "has_i128", "has_std", "memchr_runtime_simd",
                                     "rustc_1_36"));
  EXPECT_TRUE(BuildScriptCfgs("fn main() {}").empty());
}

}  // namespace
}  // namespace ferrograph
