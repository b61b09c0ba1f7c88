#include "watch/watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ferrograph {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

// Generous: the tests wait for what they expect, they never time it.
constexpr auto kPatience = std::chrono::seconds(30);

// A fresh directory under the test's TMPDIR, removed afterwards; `root` is
// watched, `outside` is a sibling for moves in and out.
class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    std::string templ = base + "/ferrograph_watch_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    top_ = templ;
    root_ = top_ / "root";
    outside_ = top_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(top_, ec);
  }

  fs::path At(const std::string& rel) const { return root_ / rel; }

  void WritePath(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }
  void Write(const std::string& rel, const std::string& text = "fn f() {}\n") {
    WritePath(At(rel), text);
  }
  // Written outside, renamed in: one event.
  void WriteAtOnce(const std::string& rel, const std::string& text) {
    WritePath(outside_ / "staging", text);
    fs::rename(outside_ / "staging", At(rel));
  }

  void StartWatching(WatchOptions options = {}) {
    Result<std::unique_ptr<Watcher>> w = Watcher::Start(root_.string(), options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    watcher_ = std::move(w).value();
  }

  // What batches said, merged.
  struct Seen {
    std::set<std::string> paths;
    std::vector<std::vector<std::string>> batches;
    bool rescan = false;
    std::vector<std::string> warnings;
  };

  // Collects batches until every path of `expected` (not empty) was
  // reported, or, with `rescan_counts`, a batch had `rescan`; fails after
  // kPatience.
  Seen WaitFor(const std::set<std::string>& expected, bool rescan_counts = false) {
    Seen seen;
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < give_up) {
      bool done = !expected.empty() && std::includes(seen.paths.begin(), seen.paths.end(),
                                                     expected.begin(), expected.end());
      if (done || (rescan_counts && seen.rescan)) return seen;
      Result<WatchBatch> batch = watcher_->Next(milliseconds(200));
      if (!batch.ok()) {
        ADD_FAILURE() << batch.status().ToString();
        return seen;
      }
      if (batch->empty()) continue;
      seen.paths.insert(batch->paths.begin(), batch->paths.end());
      seen.batches.push_back(batch->paths);
      seen.rescan |= batch->rescan;
      for (auto& w : batch->warnings) seen.warnings.push_back(w);
      EXPECT_FALSE(batch->stopped);
    }
    ADD_FAILURE() << "gave up waiting; seen " << ::testing::PrintToString(seen.paths)
                  << " expected " << ::testing::PrintToString(expected);
    return seen;
  }

  // Writes `sentinel` and waits for it: every change made before is then in
  // the returned batches (the watcher sees events in order).
  Seen Settle(const std::string& sentinel = "zz_sentinel.rs") {
    Write(sentinel, "// " + std::to_string(++sentinel_count_) + "\n");
    return WaitFor({sentinel});
  }

  fs::path top_, root_, outside_;
  std::unique_ptr<Watcher> watcher_;
  int sentinel_count_ = 0;
};

// ------------------------------------------------------------------ basics

TEST_F(WatcherTest, ReportsCreatedFile) {
  StartWatching();
  Write("src/lib.rs");
  Write("Cargo.toml", "[package]\nname = \"x\"\n");
  Seen seen = WaitFor({"Cargo.toml", "src/lib.rs"});
  EXPECT_FALSE(seen.rescan);
}

TEST_F(WatcherTest, ReportsModifiedFile) {
  Write("src/lib.rs", "fn a() {}\n");
  StartWatching();
  {
    std::ofstream out(At("src/lib.rs"), std::ios::app);
    out << "fn b() {}\n";
  }
  WaitFor({"src/lib.rs"});
}

TEST_F(WatcherTest, ReportsDeletedFile) {
  Write("src/gone.rs");
  StartWatching();
  fs::remove(At("src/gone.rs"));
  WaitFor({"src/gone.rs"});
}

TEST_F(WatcherTest, ReportsOnlyRustFilesAndManifests) {
  Write("src/keep.txt");  // a directory that exists at start
  StartWatching();
  Write("src/notes.txt");
  Write("src/data.json");
  Write("src/main.rs");
  Write("README.md");
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"src/main.rs", "zz_sentinel.rs"}));
}

TEST_F(WatcherTest, RenameWithinDirectoryReportsBothNames) {
  Write("src/old.rs");
  StartWatching();
  fs::rename(At("src/old.rs"), At("src/new.rs"));
  WaitFor({"src/old.rs", "src/new.rs"});
}

TEST_F(WatcherTest, RenameAcrossDirectoriesReportsBothNames) {
  Write("a/x.rs");
  Write("b/keep.txt");
  StartWatching();
  fs::rename(At("a/x.rs"), At("b/y.rs"));
  WaitFor({"a/x.rs", "b/y.rs"});
}

TEST_F(WatcherTest, RenameOfOtherFileOntoRustNameReportsTheTarget) {
  Write("src/x.rs", "fn old() {}\n");
  StartWatching();
  Write("src/x.txt", "fn new() {}\n");
  fs::rename(At("src/x.txt"), At("src/x.rs"));
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"src/x.rs", "zz_sentinel.rs"}));
}

// ------------------------------------------------------------------ directories

TEST_F(WatcherTest, NewNestedDirectoryWithFileWrittenAtOnce) {
  StartWatching();
  fs::create_directories(At("a/b/c"));
  Write("a/b/c/x.rs");  // likely before the watcher has watched a/b/c
  WaitFor({"a/b/c/x.rs"});
  // And a/b/c is watched from now on.
  Write("a/b/c/y.rs");
  WaitFor({"a/b/c/y.rs"});
}

TEST_F(WatcherTest, DirectoryMovedInIsScannedAndWatched) {
  WritePath(outside_ / "pkg/src/lib.rs", "fn a() {}\n");
  WritePath(outside_ / "pkg/src/deep/mod.rs", "fn b() {}\n");
  WritePath(outside_ / "pkg/Cargo.toml", "[package]\n");
  WritePath(outside_ / "pkg/notes.txt", "not reported\n");
  StartWatching();
  fs::rename(outside_ / "pkg", At("pkg"));
  Seen seen = WaitFor({"pkg/Cargo.toml", "pkg/src/deep/mod.rs", "pkg/src/lib.rs"});
  EXPECT_EQ(seen.paths.count("pkg/notes.txt"), 0u);
  EXPECT_FALSE(seen.rescan);
  Write("pkg/src/deep/new.rs");
  WaitFor({"pkg/src/deep/new.rs"});
}

TEST_F(WatcherTest, DirectoryMovedOutSetsRescanAndIsNoLongerWatched) {
  Write("pkg/src/lib.rs");
  StartWatching();
  fs::rename(At("pkg"), outside_ / "pkg");
  Seen seen = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  WritePath(outside_ / "pkg/src/later.rs", "fn later() {}\n");
  Seen after = Settle();
  EXPECT_EQ(after.paths, (std::set<std::string>{"zz_sentinel.rs"}));
  EXPECT_EQ(watcher_->stats().watched_dirs, 1u);  // the root alone
}

TEST_F(WatcherTest, DirectoryRenamedWithinTreeReportsOldAndNewPaths) {
  Write("old/lib.rs");
  Write("old/sub/mod.rs");
  StartWatching();
  fs::rename(At("old"), At("new"));
  Seen seen = WaitFor({"old/lib.rs", "old/sub/mod.rs", "new/lib.rs", "new/sub/mod.rs"});
  EXPECT_FALSE(seen.rescan);
  // The watches followed the rename.
  Write("new/sub/more.rs");
  Seen more = WaitFor({"new/sub/more.rs"});
  EXPECT_EQ(more.paths.count("old/sub/more.rs"), 0u);
}

TEST_F(WatcherTest, DeletedDirectoryReportsItsFilesAndDropsItsWatches) {
  Write("a/x.rs");
  Write("a/b/y.rs");
  StartWatching();
  EXPECT_EQ(watcher_->stats().watched_dirs, 3u);
  fs::remove_all(At("a"));
  Seen seen = WaitFor({"a/x.rs", "a/b/y.rs"});
  EXPECT_FALSE(seen.rescan);
  Settle();
  EXPECT_EQ(watcher_->stats().watched_dirs, 1u);
}

TEST_F(WatcherTest, SymlinkLoopsAreNotFollowed) {
  Write("a/x.rs");
  fs::create_directory_symlink("..", At("a/up"));    // back to the root
  fs::create_directory_symlink("a", At("b_alias"));  // a second path to a
  fs::create_directory_symlink(outside_, At("linked"));
  WritePath(outside_ / "ext.rs", "fn e() {}\n");
  StartWatching();
  // root, a, linked: nothing twice.
  EXPECT_EQ(watcher_->stats().watched_dirs, 3u);
  Write("a/y.rs");
  WritePath(outside_ / "ext2.rs", "fn e2() {}\n");
  Seen seen = WaitFor({"a/y.rs", "linked/ext2.rs"});
  for (const auto& p : seen.paths) EXPECT_THAT(p, Not(HasSubstr("up/"))) << p;
  EXPECT_EQ(seen.paths.count("b_alias/y.rs"), 0u);
}

TEST_F(WatcherTest, RemovedSymlinkHandsItsDirectoryBackToTheRealPath) {
  Write("z/x.rs");
  fs::create_directory_symlink("z", At("a_link"));  // first in name order: watched through it
  StartWatching();
  Write("z/y.rs");
  WaitFor({"a_link/y.rs"});
  fs::remove(At("a_link"));
  Seen seen = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  Write("z/w.rs");
  WaitFor({"z/w.rs"});
}

// ------------------------------------------------------------------ editors

TEST_F(WatcherTest, EditorTempThenRenameSavesReportOnlyTheTarget) {
  Write("src/file.rs", "fn v0() {}\n");
  StartWatching();
  // vim: probe file, swap file, backup by rename, write anew, drop the backup.
  Write("src/4913", "");
  fs::remove(At("src/4913"));
  Write("src/.file.rs.swp", "swap");
  fs::rename(At("src/file.rs"), At("src/file.rs~"));
  Write("src/file.rs", "fn v1() {}\n");
  fs::remove(At("src/file.rs~"));
  fs::remove(At("src/.file.rs.swp"));
  // Others: write a temporary file, rename it onto the target.
  Write("src/file.rs.tmp", "fn v2() {}\n");
  fs::rename(At("src/file.rs.tmp"), At("src/file.rs"));
  Write("src/.file.rs.tmp123", "fn v3() {}\n");
  fs::rename(At("src/.file.rs.tmp123"), At("src/file.rs"));
  // emacs lock file: a hidden name ending in .rs.
  fs::create_symlink("user@host.1234", At("src/.#file.rs"));
  fs::remove(At("src/.#file.rs"));
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"src/file.rs", "zz_sentinel.rs"}));
}

// ------------------------------------------------------------------ skipped

TEST_F(WatcherTest, GitignoredPathsAndTargetAreNotReported) {
  Write(".gitignore", "/generated/\n*.gen.rs\n!keep.gen.rs\n");
  Write("crates/a/.gitignore", "local_only.rs\n");
  Write("generated/keep.txt");
  Write("target/debug/keep.txt");
  Write("crates/a/target/keep.txt");
  StartWatching();
  Write("generated/x.rs");
  Write("generated/sub/y.rs");
  Write("src/x.gen.rs");
  Write("src/keep.gen.rs");
  Write("target/debug/build/out.rs");
  Write("crates/a/target/z.rs");
  Write("crates/a/local_only.rs");
  Write("crates/b/local_only.rs");
  Seen seen = Settle();
  EXPECT_EQ(seen.paths,
            (std::set<std::string>{"crates/b/local_only.rs", "src/keep.gen.rs", "zz_sentinel.rs"}));
}

TEST_F(WatcherTest, DatabaseGitAndHiddenDirectoriesNeverTriggerBatches) {
  Write(".ferrograph/db.sqlite", "x");
  Write(".git/HEAD", "ref: refs/heads/main\n");
  Write(".hidden/a.rs");
  StartWatching();
  const uint64_t events_before = watcher_->stats().events;
  for (int i = 0; i < 20; ++i) {
    Write(".ferrograph/db.sqlite", std::string(1000 + i, 'x'));
    Write(".ferrograph/db.sqlite-wal", std::string(100, 'w'));
    Write(".ferrograph/cache/x.rs");
    Write(".git/objects/ab/cdef", "blob");
    Write(".hidden/b.rs");
  }
  Result<WatchBatch> quiet = watcher_->Next(milliseconds(300));
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->empty());
  EXPECT_EQ(watcher_->stats().events, events_before);  // not even read
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"zz_sentinel.rs"}));
}

TEST_F(WatcherTest, GitignoreChangeRescansAndAppliesTheNewRules) {
  Write("gen/keep.txt");
  Write("other/keep.txt");
  StartWatching();
  WriteAtOnce(".gitignore", "gen/\n");
  Seen first = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(first.rescan);
  Write("gen/x.rs");
  Seen second = Settle();
  EXPECT_EQ(second.paths.count("gen/x.rs"), 0u);
  // Un-ignored again: gen/ is watched again.
  WriteAtOnce(".gitignore", "other/\n");
  WaitFor({}, /*rescan_counts=*/true);
  Write("gen/y.rs");
  Write("other/z.rs");
  Seen third = Settle();
  EXPECT_EQ(third.paths.count("gen/y.rs"), 1u);
  EXPECT_EQ(third.paths.count("other/z.rs"), 0u);
}

TEST_F(WatcherTest, FilterCallbackSkipsDirectoriesAndFiles) {
  WatchOptions options;
  options.filter = [](std::string_view path, bool is_dir) {
    return !(is_dir && path == "vendor") && path != "src/skip.rs";
  };
  Write("vendor/keep.txt");
  StartWatching(options);
  Write("vendor/dep.rs");
  Write("src/skip.rs");
  Write("src/take.rs");
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"src/take.rs", "zz_sentinel.rs"}));
}

// ------------------------------------------------------------------ batching

TEST_F(WatcherTest, DebounceCoalescesRepeatedWritesIntoOneEntry) {
  WatchOptions options;
  options.debounce = milliseconds(1000);  // far longer than the write loop's gaps
  options.max_latency = std::chrono::seconds(20);
  StartWatching(options);
  for (int i = 0; i < 200; ++i) Write("src/hot.rs", "// " + std::to_string(i) + "\n");
  Seen seen = WaitFor({"src/hot.rs"});
  ASSERT_EQ(seen.batches.size(), 1u);
  EXPECT_THAT(seen.batches[0], ElementsAre("src/hot.rs"));
  WatchStats stats = watcher_->stats();
  EXPECT_GT(stats.events, 1u);
  EXPECT_EQ(stats.batches, 1u);
}

TEST_F(WatcherTest, NextTimesOutWithAnEmptyBatch) {
  StartWatching();
  Result<WatchBatch> batch = watcher_->Next(milliseconds(50));
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->empty());
}

TEST_F(WatcherTest, StopWakesABlockedNext) {
  StartWatching();
  std::future<Result<WatchBatch>> blocked =
      std::async(std::launch::async, [this] { return watcher_->Next(std::chrono::hours(1)); });
  // Not required for correctness: gives Next a chance to block first.
  std::this_thread::sleep_for(milliseconds(100));
  watcher_->Stop();
  ASSERT_EQ(blocked.wait_for(kPatience), std::future_status::ready);
  Result<WatchBatch> batch = blocked.get();
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->stopped);
  // Later calls return at once, too.
  Result<WatchBatch> again = watcher_->Next(std::chrono::hours(1));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->stopped);
}

TEST_F(WatcherTest, PendingPathsAreBoundedAndDegradeToRescan) {
  WatchOptions options;
  options.max_pending_paths = 10;
  options.debounce = milliseconds(1000);
  options.max_latency = std::chrono::seconds(20);
  StartWatching(options);
  std::set<std::string> all;
  for (int i = 0; i < 50; ++i) {
    std::string rel = "src/f" + std::to_string(i) + ".rs";
    Write(rel);
    all.insert(rel);
  }
  Seen seen = WaitFor(all, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  EXPECT_LE(watcher_->stats().max_pending_seen, 10u);
}

// A consumer that re-reads every reported path, or everything on a rescan,
// ends with what is on disk, however stormy the changes.
TEST_F(WatcherTest, StormOfTenThousandFilesStaysBoundedAndLosesNothing) {
  constexpr int kDirs = 100;
  constexpr int kFilesPerDir = 100;
  WatchOptions options;  // the defaults: 4096 pending paths at most
  StartWatching(options);

  std::map<std::string, std::string> model;  // what the consumer believes
  bool rescans = false;
  size_t largest_batch = 0;
  auto read_file = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  auto consume = [&](const WatchBatch& batch) {
    largest_batch = std::max(largest_batch, batch.paths.size());
    if (batch.rescan) {
      rescans = true;
      model.clear();
      for (const auto& e : fs::recursive_directory_iterator(root_)) {
        if (e.is_regular_file() && e.path().extension() == ".rs") {
          model[e.path().lexically_relative(root_).string()] = read_file(e.path());
        }
      }
    }
    for (const std::string& p : batch.paths) {
      if (fs::exists(At(p))) {
        model[p] = read_file(At(p));
      } else {
        model.erase(p);
      }
    }
  };

  std::atomic<bool> writing_done{false};
  std::thread writer([&] {
    for (int d = 0; d < kDirs; ++d) {
      for (int f = 0; f < kFilesPerDir; ++f) {
        Write("d" + std::to_string(d) + "/f" + std::to_string(f) + ".rs", "v1\n");
      }
    }
    for (int d = 0; d < kDirs; ++d) {
      for (int f = 0; f < kFilesPerDir; ++f) {
        Write("d" + std::to_string(d) + "/f" + std::to_string(f) + ".rs", "v2\n");
      }
    }
    writing_done = true;
  });

  // Consume while the writer writes; once it is done, the sentinel proves
  // every earlier event has been handed out.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool sentinel_written = false;
  bool sentinel_seen = false;
  while (!sentinel_seen && std::chrono::steady_clock::now() < give_up) {
    if (writing_done && !sentinel_written) {
      writer.join();
      Write("zz_sentinel.rs", "done\n");
      sentinel_written = true;
    }
    Result<WatchBatch> batch = watcher_->Next(milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    consume(*batch);
    if (sentinel_written && model.count("zz_sentinel.rs") != 0) sentinel_seen = true;
    ASSERT_LE(watcher_->stats().max_pending_seen, options.max_pending_paths);
  }
  if (writer.joinable()) writer.join();
  ASSERT_TRUE(sentinel_seen);

  size_t correct = 0;
  for (int d = 0; d < kDirs; ++d) {
    for (int f = 0; f < kFilesPerDir; ++f) {
      auto it = model.find("d" + std::to_string(d) + "/f" + std::to_string(f) + ".rs");
      if (it != model.end() && it->second == "v2\n") ++correct;
    }
  }
  EXPECT_EQ(correct, static_cast<size_t>(kDirs * kFilesPerDir));
  WatchStats stats = watcher_->stats();
  EXPECT_LE(stats.max_pending_seen, options.max_pending_paths);
  EXPECT_LE(largest_batch, options.max_pending_paths);
  EXPECT_GT(stats.batches, 0u);
  EXPECT_GT(stats.events, 0u);
  EXPECT_EQ(stats.watched_dirs, static_cast<size_t>(kDirs + 1));
  std::cerr << "storm: events=" << stats.events << " batches=" << stats.batches
            << " rescans=" << stats.rescans << " overflows=" << stats.overflows
            << " max_pending_seen=" << stats.max_pending_seen << " consumer_rescanned=" << rescans
            << "\n";
}

// The kernel queue overflows while the watcher's thread is held up (here by a
// filter that blocks): the batch becomes a rescan, and the tree is walked
// again so that directories created meanwhile are watched.
TEST_F(WatcherTest, QueueOverflowTurnsIntoRescanAndRewalk) {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long max_queued = 0;
  if (!(limit_file >> max_queued) || max_queued > 100000) {
    GTEST_SKIP() << "max_queued_events unknown or too large to overflow in a test";
  }
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto entered = std::make_shared<std::promise<void>>();
  std::future<void> blocked = entered->get_future();
  auto once = std::make_shared<std::once_flag>();
  WatchOptions options;
  options.filter = [released, entered, once](std::string_view path, bool) {
    if (path == "block.rs") {
      std::call_once(*once, [&] { entered->set_value(); });
      released.wait();
    }
    return true;
  };
  Write("flood/keep.txt");
  StartWatching(options);
  Write("block.rs");
  // Flood only once the watcher's thread waits in the filter: every event
  // from here on stays in the kernel's queue (events the thread read along
  // with block.rs's would not count towards the overflow).
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  // Each write queues IN_CREATE, IN_MODIFY and IN_CLOSE_WRITE.
  const long files = max_queued / 3 + 100;
  for (long i = 0; i < files; ++i) Write("flood/f" + std::to_string(i) + ".rs", "x");
  fs::create_directories(At("made_during_overflow/sub"));
  release.set_value();
  Seen seen = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  EXPECT_GE(watcher_->stats().overflows, 1u);
  Write("made_during_overflow/sub/after.rs");
  WaitFor({"made_during_overflow/sub/after.rs"});
  EXPECT_LE(watcher_->stats().max_pending_seen, options.max_pending_paths);
}

TEST_F(WatcherTest, RootDeletedIsAWarningAndARescan) {
  Write("src/lib.rs");
  StartWatching();
  fs::remove_all(root_);
  Seen seen = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  ASSERT_FALSE(seen.warnings.empty());
  EXPECT_THAT(seen.warnings.back(), HasSubstr("deleted or moved"));
  EXPECT_EQ(watcher_->stats().watched_dirs, 0u);
}

// Inside a git repository, the .gitignore files above the root apply too.
TEST_F(WatcherTest, GitignoreAboveTheRootInsideTheRepositoryApplies) {
  fs::create_directories(top_ / ".git");
  WritePath(top_ / ".gitignore", "*.gen.rs\n/root/vendored/\n");
  Write("vendored/keep.txt");
  StartWatching();
  Write("src/a.gen.rs");
  Write("vendored/v.rs");
  Write("src/b.rs");
  Seen seen = Settle();
  EXPECT_EQ(seen.paths, (std::set<std::string>{"src/b.rs", "zz_sentinel.rs"}));
}

// ------------------------------------------------------------------ errors

TEST_F(WatcherTest, MissingRootIsInvalidArgumentNamingIt) {
  const std::string missing = (top_ / "no_such_dir").string();
  Result<std::unique_ptr<Watcher>> w = Watcher::Start(missing);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr(missing));
}

TEST_F(WatcherTest, RootThatIsAFileIsInvalidArgument) {
  Write("file.rs");
  Result<std::unique_ptr<Watcher>> w = Watcher::Start(At("file.rs").string());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("not a directory"));
}

TEST_F(WatcherTest, WatchLimitNamesTheLimitAndTheDirectory) {
  Write("a/x.rs");
  Write("b/x.rs");
  Write("c/x.rs");
  WatchOptions options;
  options.max_watched_dirs = 2;
  Result<std::unique_ptr<Watcher>> w = Watcher::Start(root_.string(), options);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kIOError);
  EXPECT_THAT(w.status().message(), HasSubstr("/proc/sys/fs/inotify/max_user_watches"));
  EXPECT_THAT(w.status().message(), HasSubstr((root_ / "b").string()));
}

TEST_F(WatcherTest, WatchLimitAfterStartIsAWarningAndARescan) {
  WatchOptions options;
  options.max_watched_dirs = 2;
  StartWatching(options);
  fs::create_directories(At("a"));
  fs::create_directories(At("b"));
  Seen seen = WaitFor({}, /*rescan_counts=*/true);
  EXPECT_TRUE(seen.rescan);
  ASSERT_FALSE(seen.warnings.empty());
  EXPECT_THAT(seen.warnings[0], HasSubstr("max_user_watches"));
}

}  // namespace
}  // namespace ferrograph
