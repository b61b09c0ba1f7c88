// Blake3Hasher: the official BLAKE3 C implementation behind a small RAII-free
// value type, and the identities derived from it (ContentHash, NodeId).
//
// Thread-compatible: one hasher per thread; the free functions are
// thread-safe.
#ifndef FERROGRAPH_HASH_BLAKE3_HASHER_H_
#define FERROGRAPH_HASH_BLAKE3_HASHER_H_

#include <blake3.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/ids.h"

namespace ferrograph {

class Blake3Hasher {
 public:
  Blake3Hasher() { blake3_hasher_init(&state_); }
  void Update(const void* data, size_t len) { blake3_hasher_update(&state_, data, len); }
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Length-prefixed update: keeps ("ab","c") apart from ("a","bc").
  void UpdateField(std::string_view s);
  // The 32-byte digest of everything so far; the hasher may go on.
  ContentHash Finalize() const;
  // The first `n` bytes of the extended output.
  void FinalizeInto(uint8_t* out, size_t n) const { blake3_hasher_finalize(&state_, out, n); }

 private:
  blake3_hasher state_;
};

// BLAKE3 of `bytes`.
ContentHash HashBytes(std::string_view bytes);

// A digest of many small fields: each appended to a buffer (strings
// length-prefixed, so ("ab","c") stays apart from ("a","bc")) that is hashed
// in chunks of 64 KiB, as BLAKE3 is fast on long inputs and slow on many
// tiny updates; the buffer stays small however much is digested (BLAKE3's
// digest does not depend on how its input was split). For in-memory
// fingerprints; the layout is not a stored format.
class FieldDigest {
 public:
  static constexpr size_t kChunk = 64 << 10;
  // `expected`: about how many bytes will be digested.
  explicit FieldDigest(size_t expected = 0) { buf_.reserve(std::min(expected, kChunk) + 64); }
  void Field(std::string_view s) {
    Number(s.size());
    if (s.size() >= kChunk) {
      Flush();
      hasher_.Update(s);
      return;
    }
    buf_.append(s);
    if (buf_.size() >= kChunk) Flush();
  }
  void Number(uint64_t v) { buf_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  template <typename Fixed>
  void Bytes(const Fixed& fixed) {
    buf_.append(reinterpret_cast<const char*>(fixed.data()), Fixed::kSize);
  }
  void Fields(const std::vector<std::string>& list) {
    Number(list.size());
    for (const std::string& s : list) Field(s);
  }
  ContentHash Finish() const {
    Blake3Hasher h = hasher_;
    h.Update(buf_);
    return h.Finalize();
  }

 private:
  void Flush() {
    hasher_.Update(buf_);
    buf_.clear();
  }
  Blake3Hasher hasher_;
  std::string buf_;
};

// NodeId = first 16 bytes of BLAKE3 over the length-prefixed fields
// (crate, canonical path, kind name, disambiguator). `disambiguator` tells
// apart items that share crate, path and kind (e.g. two `fn f` under
// different #[cfg]); 0 for the first.
NodeId MakeNodeId(std::string_view crate_name, std::string_view path, NodeKind kind,
                  uint32_t disambiguator);

}  // namespace ferrograph

#endif  // FERROGRAPH_HASH_BLAKE3_HASHER_H_
