#include "common/memory.h"

#include <malloc.h>

#include <cstddef>

// jemalloc's control interface, present only when jemalloc is linked in: a
// weak reference is null otherwise.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace ferrograph {

std::string AllocatorName() {
  if (mallctl == nullptr) return "glibc";
  const char* version = nullptr;
  size_t size = sizeof version;
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return std::string("jemalloc ") + version;
}

void ReleaseFreeMemory() {
  if (mallctl == nullptr) {
    malloc_trim(0);
    return;
  }
  // "arena.<MALLCTL_ARENAS_ALL>.purge": 4096 names every arena.
  (void)mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
}

}  // namespace ferrograph
