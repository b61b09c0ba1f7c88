#include "tokens/vocabulary.h"

#include <string>

namespace ferrograph {

Result<std::unique_ptr<Vocabulary>> Vocabulary::Create(const tokens_blob::RankTable& table) {
  std::unique_ptr<Vocabulary> v(new Vocabulary());
  v->table_ = table;
  v->offsets_.resize(table.n_ranks);
  uint32_t n_tokens = 0;
  uint64_t offset = 0;
  for (uint32_t r = 0; r < table.n_ranks; ++r) {
    v->offsets_[r] = static_cast<uint32_t>(offset);
    offset += table.lengths[r];
    if (table.lengths[r] > 0) ++n_tokens;
    if (table.lengths[r] > v->max_token_len_) v->max_token_len_ = table.lengths[r];
  }
  if (offset != table.n_bytes) return Status::Corruption("vocabulary: token lengths do not add up");

  size_t capacity = 1024;
  while (capacity < 2 * static_cast<size_t>(n_tokens)) capacity *= 2;
  v->slots_.assign(capacity, Slot{0, kNoRank});
  v->mask_ = capacity - 1;
  for (uint32_t r = 0; r < table.n_ranks; ++r) {
    const size_t n = table.lengths[r];
    if (n == 0) continue;
    const uint8_t* p = table.bytes + v->offsets_[r];
    if (v->Rank(p, n) != kNoRank) {
      return Status::Corruption("vocabulary: ranks " + std::to_string(v->Rank(p, n)) + " and " +
                                std::to_string(r) + " have the same bytes");
    }
    const uint64_t h = Hash(p, n);
    size_t i = h & v->mask_;
    while (v->slots_[i].rank != kNoRank) i = (i + 1) & v->mask_;
    v->slots_[i] = Slot{static_cast<uint32_t>(h >> 32), r};
  }
  for (int b = 0; b < 256; ++b) {
    const uint8_t byte = static_cast<uint8_t>(b);
    v->byte_rank_[b] = v->Rank(&byte, 1);
    if (v->byte_rank_[b] == kNoRank) {
      return Status::Corruption("vocabulary: no token for byte " + std::to_string(b));
    }
  }
  return v;
}

}  // namespace ferrograph
