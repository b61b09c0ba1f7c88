#include "vector/index_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "hash/blake3_hasher.h"

namespace ferrograph::vector_internal {
namespace {

constexpr size_t kFixedPrefix = 16;              // magic, version, model id length
constexpr size_t kFixedAfterId = 4 + 8 + 8 + 8;  // dim, count, generation, payload size
constexpr size_t kDigestSize = ContentHash::kSize;
constexpr size_t kChunk = size_t{1} << 20;

size_t HeaderSizeFor(size_t model_id_bytes) {
  return kFixedPrefix + model_id_bytes + kFixedAfterId + kDigestSize;
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes and reports the error close() gives (it can report a failed
  // delayed write).
  bool Close() {
    int fd = std::exchange(fd_, -1);
    return fd < 0 || ::close(fd) == 0;
  }

 private:
  int fd_ = -1;
};

// Removes a file on scope exit unless dismissed.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void Dismiss() { path_.clear(); }

 private:
  std::string path_;
};

std::string Errno() { return std::strerror(errno); }

// Reads up to n bytes at `offset`; the count read (short only at end of
// file), or -1 with errno set.
ssize_t PreadFull(int fd, void* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r =
        ::pread(fd, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

bool WriteFull(int fd, const void* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, static_cast<const char*>(buf) + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(w);
  }
  return true;
}

template <typename T>
void PutLittle(std::string* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

template <typename T>
T GetLittle(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}

// The header bytes up to (not including) the digest.
std::string EncodeHeaderPrefix(const VectorIndexHeader& h, uint64_t payload_size) {
  std::string out(kIndexFileMagic, sizeof(kIndexFileMagic));
  PutLittle<uint32_t>(&out, kIndexFileVersion);
  PutLittle<uint32_t>(&out, static_cast<uint32_t>(h.model_id.size()));
  out += h.model_id;
  PutLittle<uint32_t>(&out, static_cast<uint32_t>(h.dim));
  PutLittle<uint64_t>(&out, h.count);
  PutLittle<uint64_t>(&out, h.generation);
  PutLittle<uint64_t>(&out, payload_size);
  return out;
}

Status Corrupt(const std::string& path, const std::string& what) {
  return Status::Corruption(path + ": " + what);
}

Result<UniqueFd> OpenForRead(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(path + ": no vector index file");
    return Status::IOError(path + ": cannot open: " + Errno());
  }
  return fd;
}

// Parses the header of the open file `fd`; *prefix receives the header bytes
// the digest covers.
Result<IndexFileInfo> ParseHeader(int fd, const std::string& path, std::string* prefix) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IOError(path + ": cannot stat: " + Errno());
  if (!S_ISREG(st.st_mode)) return Status::IOError(path + ": not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size == 0) return Corrupt(path, "empty file, not a vector index");

  std::vector<uint8_t> buf(HeaderSizeFor(kMaxModelIdBytes));
  ssize_t got = PreadFull(fd, buf.data(), buf.size(), 0);
  if (got < 0) return Status::IOError(path + ": cannot read: " + Errno());
  const size_t n = static_cast<size_t>(got);
  if (n < sizeof(kIndexFileMagic) ||
      std::memcmp(buf.data(), kIndexFileMagic, sizeof(kIndexFileMagic)) != 0) {
    return Corrupt(path, "not a ferrograph vector index (bad magic)");
  }
  if (n < kFixedPrefix) return Corrupt(path, "truncated header (" + std::to_string(n) + " bytes)");
  const uint32_t version = GetLittle<uint32_t>(buf.data() + 8);
  if (version == 0) return Corrupt(path, "invalid format version 0");
  if (version > kIndexFileVersion) {
    return Corrupt(path, "format version " + std::to_string(version) +
                             " is newer than this ferrograph reads (" +
                             std::to_string(kIndexFileVersion) + ")");
  }
  const uint32_t id_len = GetLittle<uint32_t>(buf.data() + 12);
  if (id_len > kMaxModelIdBytes) {
    return Corrupt(path, "model id length " + std::to_string(id_len) + " exceeds the limit of " +
                             std::to_string(kMaxModelIdBytes));
  }
  const size_t header_size = HeaderSizeFor(id_len);
  if (n < header_size) {
    return Corrupt(path, "truncated header (" + std::to_string(n) + " of " +
                             std::to_string(header_size) + " bytes)");
  }
  const uint8_t* p = buf.data() + kFixedPrefix + id_len;
  IndexFileInfo info;
  info.header.model_id.assign(reinterpret_cast<const char*>(buf.data() + kFixedPrefix), id_len);
  const uint32_t dim = GetLittle<uint32_t>(p);
  info.header.count = GetLittle<uint64_t>(p + 4);
  info.header.generation = GetLittle<uint64_t>(p + 12);
  info.payload_size = GetLittle<uint64_t>(p + 20);
  info.digest = ContentHash::FromBytes(p + 28);
  info.header_size = header_size;
  if (dim == 0 || dim > kMaxDim) {
    return Corrupt(
        path, "dimension " + std::to_string(dim) + " is outside 1.." + std::to_string(kMaxDim));
  }
  info.header.dim = static_cast<int>(dim);
  if (info.payload_size != file_size - header_size) {
    return Corrupt(
        path,
        "the file is " + std::to_string(file_size) + " bytes; its header says " +
            std::to_string(header_size) + " + " + std::to_string(info.payload_size) +
            (file_size < header_size + info.payload_size ? " (truncated)" : " (trailing bytes)"));
  }
  prefix->assign(reinterpret_cast<const char*>(buf.data()), header_size - kDigestSize);
  return info;
}

Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return Status::IOError(dir + ": cannot sync the directory: " + Errno());
  }
  return Status::OK();
}

}  // namespace

std::string TempPathBeside(const std::string& path, const char* tag) {
  static std::atomic<uint64_t> counter{0};
  return path + "." + tag + "." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1)) + ".tmp";
}

Status WriteIndexFile(const std::string& path, const VectorIndexHeader& header,
                      const std::string& payload_path, uint64_t payload_size) {
  if (header.model_id.size() > kMaxModelIdBytes) {
    return Status::InvalidArgument(
        "vector index: model id is " + std::to_string(header.model_id.size()) +
        " bytes, more than the limit of " + std::to_string(kMaxModelIdBytes));
  }
  if (header.dim <= 0 || static_cast<uint32_t>(header.dim) > kMaxDim) {
    return Status::InvalidArgument("vector index: dimension " + std::to_string(header.dim) +
                                   " is outside 1.." + std::to_string(kMaxDim));
  }
  UniqueFd in(::open(payload_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::IOError(payload_path + ": cannot open: " + Errno());
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return Status::IOError(payload_path + ": " + Errno());
  if (static_cast<uint64_t>(st.st_size) != payload_size) {
    // hnswlib's writer does not check its stream: a full disk shows up here.
    return Status::IOError(payload_path + ": holds " + std::to_string(st.st_size) +
                           " bytes of the index, expected " + std::to_string(payload_size) +
                           " (out of space?)");
  }

  const std::string tmp = TempPathBeside(path, "write");
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::IOError(tmp + ": cannot create: " + Errno());
  RemoveOnExit remove_tmp(tmp);
  auto write_error = [&tmp] { return Status::IOError(tmp + ": cannot write: " + Errno()); };

  const std::string prefix = EncodeHeaderPrefix(header, payload_size);
  Blake3Hasher hasher;
  hasher.Update(prefix);
  const uint8_t zeros[kDigestSize] = {};
  if (!WriteFull(out.get(), prefix.data(), prefix.size()) ||
      !WriteFull(out.get(), zeros, sizeof(zeros))) {
    return write_error();
  }
  std::vector<char> chunk(kChunk);
  uint64_t copied = 0;
  while (copied < payload_size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), payload_size - copied));
    ssize_t got = PreadFull(in.get(), chunk.data(), want, copied);
    if (got < 0) return Status::IOError(payload_path + ": cannot read: " + Errno());
    if (static_cast<size_t>(got) != want) {
      return Status::IOError(payload_path + ": shrank while being copied");
    }
    hasher.Update(chunk.data(), want);
    if (!WriteFull(out.get(), chunk.data(), want)) return write_error();
    copied += want;
  }
  const ContentHash digest = hasher.Finalize();
  if (::pwrite(out.get(), digest.data(), kDigestSize, static_cast<off_t>(prefix.size())) !=
      static_cast<ssize_t>(kDigestSize)) {
    return write_error();
  }
  if (::fsync(out.get()) != 0) return Status::IOError(tmp + ": cannot sync: " + Errno());
  if (!out.Close()) return Status::IOError(tmp + ": cannot close: " + Errno());
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError(path + ": cannot replace with " + tmp + ": " + Errno());
  }
  remove_tmp.Dismiss();
  return SyncDirectoryOf(path);
}

Result<IndexFileInfo> ReadIndexFileInfo(const std::string& path) {
  FG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  std::string prefix;
  return ParseHeader(fd.get(), path, &prefix);
}

VerifiedPayload::VerifiedPayload(VerifiedPayload&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

VerifiedPayload& VerifiedPayload::operator=(VerifiedPayload&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

VerifiedPayload::~VerifiedPayload() { Reset(); }

void VerifiedPayload::Reset() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  data_ = nullptr;
  size_ = 0;
}

std::string VerifiedPayload::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

Result<VerifiedPayload> ReadIndexFile(const std::string& path, IndexFileInfo* info) {
  FG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path));
  std::string prefix;
  FG_ASSIGN_OR_RETURN(*info, ParseHeader(fd.get(), path, &prefix));

  VerifiedPayload payload;
  payload.fd_ = ::memfd_create("ferrograph-vector-index", MFD_CLOEXEC);
  if (payload.fd_ < 0) return Status::IOError("memfd_create: " + Errno());

  Blake3Hasher hasher;
  hasher.Update(prefix);
  std::vector<char> chunk(kChunk);
  uint64_t copied = 0;
  while (copied < info->payload_size) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(chunk.size(), info->payload_size - copied));
    ssize_t got = PreadFull(fd.get(), chunk.data(), want, info->header_size + copied);
    if (got < 0) return Status::IOError(path + ": cannot read: " + Errno());
    if (static_cast<size_t>(got) != want) return Corrupt(path, "truncated while being read");
    hasher.Update(chunk.data(), want);
    if (!WriteFull(payload.fd_, chunk.data(), want)) {
      return Status::IOError("copying " + path + " into memory: " + Errno());
    }
    copied += want;
  }
  if (hasher.Finalize() != info->digest) {
    return Corrupt(path, "checksum mismatch (the file is damaged)");
  }
  payload.size_ = static_cast<size_t>(info->payload_size);
  if (payload.size_ > 0) {
    void* map = ::mmap(nullptr, payload.size_, PROT_READ, MAP_SHARED, payload.fd_, 0);
    if (map == MAP_FAILED) return Status::IOError("mapping " + path + ": " + Errno());
    payload.data_ = static_cast<const uint8_t*>(map);
  }
  return payload;
}

}  // namespace ferrograph::vector_internal
