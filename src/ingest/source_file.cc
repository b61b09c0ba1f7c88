#include "ingest/source_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/utf8.h"

namespace ferrograph {

Result<std::string> ReadSourceFile(const std::string& path, const std::string& display_path,
                                   uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(display_path + ": cannot read: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError(display_path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(display_path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::InvalidArgument(display_path + ": skipped, " + std::to_string(st.st_size) +
                                   " bytes is over the limit of " + std::to_string(max_bytes) +
                                   " bytes");
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t r = ::read(fd, data.data() + got, data.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::IOError(display_path + ": read failed: " + std::strerror(err));
    }
    if (r == 0) break;  // the file shrank under us: take what is there
    got += static_cast<size_t>(r);
  }
  data.resize(got);
  // A file that grew while we read it: read the rest, within the limit.
  char extra[4096];
  for (;;) {
    ssize_t r = ::read(fd, extra, sizeof(extra));
    if (r <= 0) break;
    data.append(extra, static_cast<size_t>(r));
    if (data.size() > max_bytes) {
      ::close(fd);
      return Status::InvalidArgument(display_path + ": skipped, grew over the limit of " +
                                     std::to_string(max_bytes) + " bytes while being read");
    }
  }
  ::close(fd);

  if (std::memchr(data.data(), '\0', data.size()) != nullptr) {
    size_t at = static_cast<const char*>(std::memchr(data.data(), '\0', data.size())) - data.data();
    return Status::InvalidArgument(display_path + ": skipped, binary file (NUL byte at offset " +
                                   std::to_string(at) + ")");
  }
  size_t bad = FindInvalidUtf8(data);
  if (bad != std::string_view::npos) {
    size_t line = 1 + std::count(data.begin(), data.begin() + static_cast<long>(bad), '\n');
    return Status::InvalidArgument(display_path + ":" + std::to_string(line) +
                                   ": skipped, not valid UTF-8 (byte offset " +
                                   std::to_string(bad) + ")");
  }
  return data;
}

}  // namespace ferrograph
