// VersionGenerator: makes UUIDv7 values (RFC 9562, section 5.7) that are
// strictly increasing within the generator.
//
// Layout: 48-bit big-endian Unix milliseconds | ver=7 | 12-bit rand_a |
// var=0b10 | 62-bit rand_b. rand_a is used as a sub-millisecond counter
// (RFC 9562 section 6.2, method 1): within one millisecond each new version
// increments it; when it would overflow, or the clock goes backwards, the
// timestamp of the previous version is advanced by one millisecond instead.
// rand_b comes from a CSPRNG-seeded generator.
//
// Thread-safe: Next() may be called from any thread.
#ifndef FERROGRAPH_COMMON_VERSION_GENERATOR_H_
#define FERROGRAPH_COMMON_VERSION_GENERATOR_H_

#include <cstdint>
#include <mutex>
#include <random>

#include "common/clock.h"
#include "ferrograph/ids.h"

namespace ferrograph {

class VersionGenerator {
 public:
  // `clock` must outlive the generator.
  explicit VersionGenerator(Clock* clock = SystemClock());

  // A new version, greater than every version this generator made before.
  Version Next();

  // The process-wide generator over the system clock.
  static VersionGenerator& Default();

 private:
  Clock* const clock_;
  std::mutex mu_;
  uint64_t last_millis_ = 0;   // guarded by mu_
  uint16_t last_counter_ = 0;  // guarded by mu_
  std::mt19937_64 rng_;        // guarded by mu_
};

}  // namespace ferrograph

#endif  // FERROGRAPH_COMMON_VERSION_GENERATOR_H_
