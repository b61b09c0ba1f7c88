// The process's malloc: which one it is, and giving freed memory back.
//
// The programs link jemalloc (CMakeLists.txt); libraries and their tests run
// on whatever malloc their program has, so these functions ask at run time.
#ifndef FERROGRAPH_COMMON_MEMORY_H_
#define FERROGRAPH_COMMON_MEMORY_H_

#include <string>

namespace ferrograph {

// "jemalloc 5.3.0-..." when jemalloc is the process's malloc, else "glibc".
std::string AllocatorName();

// Returns the pages that freed memory holds to the kernel (jemalloc: purges
// every arena; glibc: malloc_trim). For the end of a large one-shot run.
void ReleaseFreeMemory();

}  // namespace ferrograph

#endif  // FERROGRAPH_COMMON_MEMORY_H_
