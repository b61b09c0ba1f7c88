#include "tokens/rank_blob.h"

#include <cstring>
#include <string>

// Defined in the generated rank_blob.S.
extern "C" const unsigned char ferrograph_rank_blob_begin[];
extern "C" const unsigned char ferrograph_rank_blob_end[];

namespace ferrograph {
namespace tokens_blob {

std::string_view EmbeddedBlob() {
  return std::string_view(
      reinterpret_cast<const char*>(ferrograph_rank_blob_begin),
      static_cast<size_t>(ferrograph_rank_blob_end - ferrograph_rank_blob_begin));
}

Result<RankTable> FindRankTable(std::string_view blob, std::string_view name) {
  FileHeader fh;
  if (blob.size() < sizeof(fh)) return Status::Corruption("rank blob: too short");
  std::memcpy(&fh, blob.data(), sizeof(fh));
  if (std::memcmp(fh.magic, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("rank blob: bad magic");
  }
  if (fh.count > (blob.size() - sizeof(fh)) / sizeof(EntryHeader)) {
    return Status::Corruption("rank blob: entry count past the end");
  }
  for (uint32_t i = 0; i < fh.count; ++i) {
    EntryHeader eh;
    std::memcpy(&eh, blob.data() + sizeof(fh) + i * sizeof(EntryHeader), sizeof(eh));
    const std::string entry_name(eh.name, strnlen(eh.name, sizeof(eh.name)));
    if (entry_name != name) continue;
    const std::string what = "rank blob: table " + entry_name + ": ";
    if (eh.lengths_offset > blob.size() || eh.n_ranks > blob.size() - eh.lengths_offset ||
        eh.bytes_offset > blob.size() || eh.n_bytes > blob.size() - eh.bytes_offset) {
      return Status::Corruption(what + "extends past the end");
    }
    RankTable t;
    t.lengths = reinterpret_cast<const uint8_t*>(blob.data() + eh.lengths_offset);
    t.bytes = reinterpret_cast<const uint8_t*>(blob.data() + eh.bytes_offset);
    t.n_ranks = eh.n_ranks;
    t.n_bytes = eh.n_bytes;
    uint64_t sum = 0;
    for (uint32_t r = 0; r < t.n_ranks; ++r) sum += t.lengths[r];
    if (sum != t.n_bytes) return Status::Corruption(what + "token lengths do not add up");
    return t;
  }
  return Status::NotFound("rank blob: no table " + std::string(name));
}

}  // namespace tokens_blob
}  // namespace ferrograph
