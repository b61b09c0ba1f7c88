// Vocabulary: the byte strings of a BPE encoding and their ranks, both ways.
//
// A token's rank is its id and its merge priority (lower merges first). The
// token bytes stay in the rank table (normally the embedded blob, which must
// outlive the Vocabulary); the Vocabulary adds offsets by rank and an
// open-addressing hash table from bytes to rank.
//
// Thread safety: immutable after Create; any number of threads may read.
#ifndef FERROGRAPH_TOKENS_VOCABULARY_H_
#define FERROGRAPH_TOKENS_VOCABULARY_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"
#include "tokens/rank_blob.h"

namespace ferrograph {

class Vocabulary {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;

  // Corruption when two ranks share their bytes or a single byte has no token
  // (byte-level BPE needs all 256).
  static Result<std::unique_ptr<Vocabulary>> Create(const tokens_blob::RankTable& table);

  // The rank of the token whose bytes are p[0..n), or kNoRank.
  uint32_t Rank(const uint8_t* p, size_t n) const {
    if (n > max_token_len_) return kNoRank;
    const uint64_t h = Hash(p, n);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.rank == kNoRank) return kNoRank;
      if (s.tag == tag && table_.lengths[s.rank] == n &&
          Equal(table_.bytes + offsets_[s.rank], p, n)) {
        return s.rank;
      }
    }
  }
  uint32_t ByteRank(uint8_t b) const { return byte_rank_[b]; }

  // The bytes of `rank`; empty when no token has that rank.
  std::string_view Bytes(uint32_t rank) const {
    if (rank >= table_.n_ranks) return {};
    return std::string_view(reinterpret_cast<const char*>(table_.bytes + offsets_[rank]),
                            table_.lengths[rank]);
  }
  // One more than the highest rank.
  uint32_t n_ranks() const { return table_.n_ranks; }

  // Reads only p[0..n): short keys through overlapping loads (no memcpy or
  // memcmp call on the hot path).
  static uint64_t Hash(const uint8_t* p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    if (n <= 16) {
      uint64_t a, b;
      if (n >= 8) {
        a = Load64(p);
        b = Load64(p + n - 8);
      } else if (n >= 4) {
        a = Load32(p);
        b = Load32(p + n - 4);
      } else if (n > 0) {
        a = static_cast<uint64_t>(p[0]) << 16 | static_cast<uint64_t>(p[n / 2]) << 8 | p[n - 1];
        b = 0;
      } else {
        a = b = 0;
      }
      return Mix(h ^ a ^ Mix(b + h));
    }
    while (n > 8) {
      h = Mix(h ^ Load64(p));
      p += 8;
      n -= 8;
    }
    return Mix(h ^ Load64(p + n - 8));
  }

 private:
  struct Slot {
    uint32_t tag;   // high half of the hash
    uint32_t rank;  // kNoRank: empty
  };
  static uint64_t Load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint64_t Load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static bool Equal(const uint8_t* a, const uint8_t* b, size_t n) {
    if (n >= 8 && n <= 16) {
      return Load64(a) == Load64(b) && Load64(a + n - 8) == Load64(b + n - 8);
    }
    if (n >= 4 && n < 8) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
    if (n < 4) {
      for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return false;
      }
      return true;
    }
    return std::memcmp(a, b, n) == 0;
  }
  static uint64_t Mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
  }

  Vocabulary() = default;

  tokens_blob::RankTable table_;
  std::vector<uint32_t> offsets_;  // by rank, into table_.bytes
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t max_token_len_ = 0;
  uint32_t byte_rank_[256] = {};
};

}  // namespace ferrograph

#endif  // FERROGRAPH_TOKENS_VOCABULARY_H_
