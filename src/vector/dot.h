// The dot product of float vectors, the inner loop of every vector search and
// of the HNSW build, with kernels for the CPU's vector units chosen at run
// time (the binary itself targets baseline x86-64).
//
// Every kernel adds in the same order as the portable one (16 partial sums
// over the vector, then a fixed pairwise reduction, then the tail), with no
// fused multiply-add, so all of them return the same float bit for bit: a
// pair of vectors gets one score whichever index, kernel or machine computes
// it (tested).
//
// Internal to src/vector. The functions are pure and thread-safe.
#ifndef FERROGRAPH_VECTOR_DOT_H_
#define FERROGRAPH_VECTOR_DOT_H_

#include <cstddef>
#include <span>

namespace ferrograph::vector_internal {

using DotFn = float (*)(const float* a, const float* b, size_t n);
// hnswlib's distance signature: 1 - dot(a, b) over *(const size_t*)dim.
using DotDistanceFn = float (*)(const void* a, const void* b, const void* dim);

struct DotKernel {
  const char* name;  // "portable", "avx2", "avx512f"
  DotFn dot;
  DotDistanceFn distance;
};

// The kernels this CPU and its operating system can run, portable first and
// the fastest last.
std::span<const DotKernel> DotKernels();

// The kernel in use: the fastest that runs here, unless the environment
// variable FERROGRAPH_SIMD names another one of DotKernels() (for
// benchmarks: FERROGRAPH_SIMD=portable). Chosen once per process.
const DotKernel& ActiveDotKernel();

// sum(a[i] * b[i]) over n floats, through ActiveDotKernel().
inline float Dot(const float* a, const float* b, size_t n) {
  return ActiveDotKernel().dot(a, b, n);
}

}  // namespace ferrograph::vector_internal

#endif  // FERROGRAPH_VECTOR_DOT_H_
