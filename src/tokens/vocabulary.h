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
          std::memcmp(table_.bytes + offsets_[s.rank], p, n) == 0) {
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

  static uint64_t Hash(const uint8_t* p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = Mix(h ^ w);
      p += 8;
      n -= 8;
    }
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    return Mix(h ^ w);
  }

 private:
  struct Slot {
    uint32_t tag;   // high half of the hash
    uint32_t rank;  // kNoRank: empty
  };
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
