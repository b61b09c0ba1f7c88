// The file a persisted vector index lives in: a fixed header that says what
// the file holds, then an opaque payload (the index structure, e.g. hnswlib's
// own serialization).
//
// Layout, all integers little-endian:
//   offset  size  field
//   0       8     magic "FGVECIDX"
//   8       4     format version (kIndexFileVersion)
//   12      4     model id length L (at most kMaxModelIdBytes)
//   16      L     model id (the embedder's model id, UTF-8)
//   16+L    4     dimension (1..kMaxDim)
//   20+L    8     count of live vectors
//   28+L    8     generation (the caller's stamp of the vector set)
//   36+L    8     payload size P
//   44+L    32    digest: BLAKE3 over bytes [0, 44+L) and the payload, so a
//                 damaged header field (a generation, a model id) is caught
//                 as surely as a damaged payload
//   76+L    P     payload
// The file is exactly 76+L+P bytes long.
//
// Writing goes to a temporary file beside the target, is fsynced and renamed
// over the target (then the directory is fsynced): a reader sees the old file
// or the new one, never a mix, and a failed write leaves the old one intact.
//
// Internal to src/vector. Functions are thread-safe (no shared state).
#ifndef FERROGRAPH_VECTOR_INDEX_FILE_H_
#define FERROGRAPH_VECTOR_INDEX_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "ferrograph/ids.h"
#include "ferrograph/status.h"
#include "vector/vector_index.h"

namespace ferrograph::vector_internal {

inline constexpr char kIndexFileMagic[8] = {'F', 'G', 'V', 'E', 'C', 'I', 'D', 'X'};
inline constexpr uint32_t kIndexFileVersion = 1;
inline constexpr uint32_t kMaxModelIdBytes = 4096;
inline constexpr uint32_t kMaxDim = 65536;

// A header as read from a file, with where its payload lies.
struct IndexFileInfo {
  VectorIndexHeader header;
  uint64_t header_size = 0;  // bytes before the payload
  uint64_t payload_size = 0;
  ContentHash digest;
};

// A unique name for a temporary file beside `path` ("<path>.<tag>.<pid>.<n>.tmp").
std::string TempPathBeside(const std::string& path, const char* tag);

// Writes `header` followed by the bytes of the file `payload_path` (exactly
// `payload_size` of them) to `path`, atomically. InvalidArgument when the
// header does not fit the format; IOError (naming the file) when the system
// refuses, after removing its temporary file; `path` is then untouched.
Status WriteIndexFile(const std::string& path, const VectorIndexHeader& header,
                      const std::string& payload_path, uint64_t payload_size);

// Reads and checks the header of `path`: magic, version, field limits, and
// that the file is as long as the header says. Does not read the payload.
// NotFound when the file is missing; IOError when it cannot be read;
// Corruption ("<path>: <what is wrong>") otherwise.
Result<IndexFileInfo> ReadIndexFileInfo(const std::string& path);

// A verified payload held in an anonymous in-memory file (memfd), mapped
// read-only. Loaders that only accept a path can open path().
class VerifiedPayload {
 public:
  VerifiedPayload() = default;
  VerifiedPayload(VerifiedPayload&& other) noexcept;
  VerifiedPayload& operator=(VerifiedPayload&& other) noexcept;
  VerifiedPayload(const VerifiedPayload&) = delete;
  VerifiedPayload& operator=(const VerifiedPayload&) = delete;
  ~VerifiedPayload();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // "/proc/self/fd/N": valid while this object lives.
  std::string path() const;

 private:
  friend Result<VerifiedPayload> ReadIndexFile(const std::string& path, IndexFileInfo* info);
  void Reset();

  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Reads `path` whole: the header as ReadIndexFileInfo does (into *info), then
// the payload, checking the digest. Errors as ReadIndexFileInfo, plus
// Corruption on a digest mismatch.
Result<VerifiedPayload> ReadIndexFile(const std::string& path, IndexFileInfo* info);

}  // namespace ferrograph::vector_internal

#endif  // FERROGRAPH_VECTOR_INDEX_FILE_H_
