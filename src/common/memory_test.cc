#include "common/memory.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace ferrograph {
namespace {

// The unit tests do not link jemalloc: the weak reference is null and glibc
// answers (tests/cli_test.cc checks the program's own, jemalloc).
TEST(MemoryTest, WithoutJemallocTheAllocatorIsGlibcAndReleasingWorks) {
  EXPECT_EQ(AllocatorName(), "glibc");
  {
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 1000; ++i) blocks.emplace_back(new char[4096]);
  }
  ReleaseFreeMemory();  // must not crash with nothing or everything free
  ReleaseFreeMemory();
}

}  // namespace
}  // namespace ferrograph
