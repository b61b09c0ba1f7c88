// Clock: the one way ferrograph reads the time, so tests can fix it.
//
// SystemClock reads the real time. FakeClock (tests) returns what it is told.
// Implementations are thread-safe.
#ifndef FERROGRAPH_COMMON_CLOCK_H_
#define FERROGRAPH_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace ferrograph {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual uint64_t NowMillis() const = 0;
  // Monotonic nanoseconds, for measuring durations only.
  virtual uint64_t MonotonicNanos() const = 0;
};

// The process-wide real clock; never null, never freed.
Clock* SystemClock();

class FakeClock : public Clock {
 public:
  explicit FakeClock(uint64_t millis) : millis_(millis) {}
  uint64_t NowMillis() const override { return millis_.load(); }
  uint64_t MonotonicNanos() const override { return millis_.load() * 1000000; }
  void Set(uint64_t millis) { millis_.store(millis); }

 private:
  std::atomic<uint64_t> millis_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_COMMON_CLOCK_H_
