// Strong identity types of the code graph.
//
//   ContentHash  BLAKE3 (32 bytes) of an item's normalized syntax, or of a
//                file's bytes. Equal content, equal hash, wherever it lives.
//   NodeId       the first 16 bytes of BLAKE3 over (crate, canonical path,
//                kind, disambiguator). Stable while an item is edited in place;
//                changes when it is renamed or moved.
//   Version      a UUIDv7 (RFC 9562) naming one committed ingest; its order is
//                time order.
//
// All three are plain values with hex text forms (str()/FromHex()). They are
// thread-compatible: const access from many threads is safe.
#ifndef FERROGRAPH_IDS_H_
#define FERROGRAPH_IDS_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ferrograph {

// Lower-case hex of `n` bytes.
std::string ToHex(const uint8_t* bytes, size_t n);
// Parses exactly 2*n hex digits into `out`; false on any other input.
bool FromHexInto(std::string_view hex, uint8_t* out, size_t n);

template <size_t N, typename Tag>
class FixedBytes {
 public:
  static constexpr size_t kSize = N;
  FixedBytes() { bytes_.fill(0); }
  explicit FixedBytes(const std::array<uint8_t, N>& b) : bytes_(b) {}

  static FixedBytes FromBytes(const void* data) {
    FixedBytes f;
    std::memcpy(f.bytes_.data(), data, N);
    return f;
  }
  static std::optional<FixedBytes> FromHex(std::string_view hex) {
    FixedBytes f;
    if (!FromHexInto(hex, f.bytes_.data(), N)) return std::nullopt;
    return f;
  }

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }
  std::string str() const { return ToHex(bytes_.data(), N); }
  bool IsZero() const {
    for (uint8_t b : bytes_)
      if (b) return false;
    return true;
  }

  friend bool operator==(const FixedBytes& a, const FixedBytes& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const FixedBytes& a, const FixedBytes& b) { return a.bytes_ != b.bytes_; }
  // Byte-wise (memcmp) order, compared eight bytes at a time: sorted maps
  // of ids sit on edit paths, where a call to memcmp per comparison showed.
  friend bool operator<(const FixedBytes& a, const FixedBytes& b) {
    if constexpr (N % 8 == 0) {
      for (size_t i = 0; i < N; i += 8) {
        uint64_t x, y;
        std::memcpy(&x, a.bytes_.data() + i, 8);
        std::memcpy(&y, b.bytes_.data() + i, 8);
        if (x != y) {
          if constexpr (std::endian::native == std::endian::little) {
            x = __builtin_bswap64(x);  // the first byte most significant
            y = __builtin_bswap64(y);
          }
          return x < y;
        }
      }
      return false;
    } else {
      return a.bytes_ < b.bytes_;
    }
  }

  size_t Hash() const {
    size_t h;
    std::memcpy(&h, bytes_.data(), sizeof(h));  // already uniformly distributed
    return h;
  }

 private:
  std::array<uint8_t, N> bytes_;
};

struct ContentHashTag {};
struct NodeIdTag {};
using ContentHash = FixedBytes<32, ContentHashTag>;
using NodeId = FixedBytes<16, NodeIdTag>;

// A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 12 bits of
// sub-millisecond sequence, variant 10, 62 random bits. Versions made by one
// process are strictly increasing even within one millisecond.
class Version {
 public:
  Version() { bytes_.fill(0); }
  static Version FromBytes(const uint8_t* b16);
  // Parses the canonical 8-4-4-4-12 text form (either case).
  static std::optional<Version> Parse(std::string_view text);

  // Canonical lower-case 8-4-4-4-12 text form.
  std::string str() const;
  uint64_t unix_millis() const;
  int version_field() const { return bytes_[6] >> 4; }
  int variant_bits() const { return bytes_[8] >> 6; }
  const uint8_t* data() const { return bytes_.data(); }

  friend bool operator==(const Version& a, const Version& b) { return a.bytes_ == b.bytes_; }
  friend bool operator<(const Version& a, const Version& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_;
};

// Hash functors for unordered containers.
struct FixedBytesHash {
  template <size_t N, typename Tag>
  size_t operator()(const FixedBytes<N, Tag>& f) const {
    return f.Hash();
  }
};

}  // namespace ferrograph

#endif  // FERROGRAPH_IDS_H_
