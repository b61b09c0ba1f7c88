// Blake3Hasher: the official BLAKE3 C implementation behind a small RAII-free
// value type, and the identities derived from it (ContentHash, NodeId).
//
// Thread-compatible: one hasher per thread; the free functions are
// thread-safe.
#ifndef FERROGRAPH_HASH_BLAKE3_HASHER_H_
#define FERROGRAPH_HASH_BLAKE3_HASHER_H_

#include <blake3.h>

#include <cstdint>
#include <string_view>

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

// NodeId = first 16 bytes of BLAKE3 over the length-prefixed fields
// (crate, canonical path, kind name, disambiguator). `disambiguator` tells
// apart items that share crate, path and kind (e.g. two `fn f` under
// different #[cfg]); 0 for the first.
NodeId MakeNodeId(std::string_view crate_name, std::string_view path, NodeKind kind,
                  uint32_t disambiguator);

}  // namespace ferrograph

#endif  // FERROGRAPH_HASH_BLAKE3_HASHER_H_
