#include "vector/dot.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <vector>

// This file is compiled with -ffp-contract=off (src/vector/CMakeLists.txt):
// the AVX-512 kernel's target has FMA, and a fused multiply-add rounds once
// where the portable kernel rounds twice.

namespace ferrograph::vector_internal {
namespace {

constexpr size_t kLanes = 16;

float DotPortable(const float* a, const float* b, size_t n) {
  // 16 independent partial sums: no lane depends on another, so g++ -O2
  // vectorizes the loop (as SSE) without reassociating a reduction. Fully
  // unrolling the lane loop keeps the sums in 4 registers instead of memory.
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma GCC unroll 16
    for (size_t j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (size_t width = kLanes / 2; width > 0; width /= 2) {
#pragma GCC unroll 8
    for (size_t j = 0; j < width; ++j) acc[j] += acc[j + width];
  }
  return acc[0] + tail;
}

// The reduction of the portable kernel from its lanes 0-7 already summed with
// lanes 8-15 (width 8): widths 4, 2 and 1.
__attribute__((target("avx"))) inline float ReduceEight(__m256 s8) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
  return _mm_cvtss_f32(s1);
}

__attribute__((target("avx"))) inline float Tail(const float* a, const float* b, size_t i,
                                                 size_t n) {
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return tail;
}

// Lanes 0-7 and 8-15 in two registers. (More lanes, in four or eight
// registers, gave no faster HNSW build: it waits on memory, not on the adds.)
__attribute__((target("avx2"))) float DotAvx2(const float* a, const float* b, size_t n) {
  __m256 lo = _mm256_setzero_ps();
  __m256 hi = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)));
  }
  const float tail = Tail(a, b, i, n);
  return ReduceEight(_mm256_add_ps(lo, hi)) + tail;
}

// The 16 lanes in one register.
__attribute__((target("avx512f"))) float DotAvx512(const float* a, const float* b, size_t n) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
  const float tail = Tail(a, b, i, n);
  // Width 8 through the masked extract: the plain one (and the cast) use an
  // undefined register that g++ 12 warns about in its own header.
  const __m512d wide = _mm512_castps_pd(acc);
  const __m256d zero = _mm256_setzero_pd();
  const __m256 lo = _mm256_castpd_ps(_mm512_mask_extractf64x4_pd(zero, 0xFF, wide, 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_mask_extractf64x4_pd(zero, 0xFF, wide, 1));
  return ReduceEight(_mm256_add_ps(lo, hi)) + tail;
}

template <DotFn F>
float Distance(const void* a, const void* b, const void* dim) {
  return 1.0f - F(static_cast<const float*>(a), static_cast<const float*>(b),
                  *static_cast<const size_t*>(dim));
}

std::vector<DotKernel> Supported() {
  std::vector<DotKernel> out = {{"portable", DotPortable, Distance<DotPortable>}};
  __builtin_cpu_init();
  // libgcc's checks include the operating system's support for the wider
  // registers (XCR0), not only the CPU's.
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", DotAvx2, Distance<DotAvx2>});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", DotAvx512, Distance<DotAvx512>});
  return out;
}

}  // namespace

std::span<const DotKernel> DotKernels() {
  static const std::vector<DotKernel>* kernels = new std::vector<DotKernel>(Supported());
  return *kernels;
}

const DotKernel& ActiveDotKernel() {
  static const DotKernel* active = [] {
    std::span<const DotKernel> all = DotKernels();
    if (const char* want = std::getenv("FERROGRAPH_SIMD"); want != nullptr && *want != '\0') {
      for (const DotKernel& k : all) {
        if (std::strcmp(k.name, want) == 0) return &k;
      }
    }
    return &all.back();
  }();
  return *active;
}

}  // namespace ferrograph::vector_internal
