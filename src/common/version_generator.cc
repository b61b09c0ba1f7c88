#include "common/version_generator.h"

#include <array>

namespace ferrograph {

VersionGenerator::VersionGenerator(Clock* clock) : clock_(clock) {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

VersionGenerator& VersionGenerator::Default() {
  static VersionGenerator* gen = new VersionGenerator();
  return *gen;
}

Version VersionGenerator::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t now = clock_->NowMillis() & 0xFFFFFFFFFFFFull;
  uint64_t millis;
  uint16_t counter;
  if (now > last_millis_) {
    millis = now;
    // Start the counter at a random value in the lower half so that a burst
    // still has room to increment (RFC 9562 6.2, "counter rollover guard").
    counter = static_cast<uint16_t>(rng_() & 0x7FF);
  } else if (last_counter_ < 0xFFF) {
    millis = last_millis_;
    counter = last_counter_ + 1;
  } else {
    millis = last_millis_ + 1;
    counter = 0;
  }
  last_millis_ = millis;
  last_counter_ = counter;

  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | (counter >> 8));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  uint64_t rand_b = rng_();
  b[8] = static_cast<uint8_t>(0x80 | ((rand_b >> 56) & 0x3F));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(rand_b >> (8 * (15 - i)));
  return Version::FromBytes(b.data());
}

}  // namespace ferrograph
