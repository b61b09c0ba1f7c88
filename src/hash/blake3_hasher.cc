#include "hash/blake3_hasher.h"

#include <string>

namespace ferrograph {

void Blake3Hasher::UpdateField(std::string_view s) {
  uint8_t len[8];
  uint64_t n = s.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  Update(len, sizeof(len));
  Update(s);
}

ContentHash Blake3Hasher::Finalize() const {
  ContentHash h;
  blake3_hasher_finalize(&state_, h.mutable_data(), ContentHash::kSize);
  return h;
}

ContentHash HashBytes(std::string_view bytes) {
  Blake3Hasher h;
  h.Update(bytes);
  return h.Finalize();
}

NodeId MakeNodeId(std::string_view crate_name, std::string_view path, NodeKind kind,
                  uint32_t disambiguator) {
  Blake3Hasher h;
  h.UpdateField("ferrograph.node.v1");
  h.UpdateField(crate_name);
  h.UpdateField(path);
  h.UpdateField(KindName(kind));
  h.UpdateField(std::to_string(disambiguator));
  NodeId id;
  h.FinalizeInto(id.mutable_data(), NodeId::kSize);
  return id;
}

}  // namespace ferrograph
