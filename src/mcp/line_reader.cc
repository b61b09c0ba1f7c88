// Bounded line reading (line_reader.h).
#include "mcp/line_reader.h"

#include <errno.h>
#include <unistd.h>

namespace ferrograph::mcp {

namespace {
constexpr size_t kChunkBytes = 64 << 10;
}  // namespace

LineReader::LineReader(int fd, size_t max_line_bytes) : fd_(fd), max_line_bytes_(max_line_bytes) {}

LineReader::Event LineReader::Next(std::string* line) {
  for (;;) {
    size_t nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos) {
      if (discarding_) {
        buffer_.erase(0, nl + 1);
        scanned_ = 0;
        discarding_ = false;
        continue;
      }
      bool oversized = nl > max_line_bytes_;
      line->assign(buffer_, 0, nl);
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      if (oversized) {
        line->clear();
        return Event::kOversized;
      }
      if (!line->empty() && line->back() == '\r') line->pop_back();
      return Event::kLine;
    }
    scanned_ = buffer_.size();
    if (discarding_) {
      buffer_.clear();
      scanned_ = 0;
    } else if (buffer_.size() > max_line_bytes_) {
      buffer_.clear();
      scanned_ = 0;
      discarding_ = true;
      return Event::kOversized;
    }
    if (end_) {
      if (buffer_.empty()) return Event::kEnd;
      *line = std::move(buffer_);
      buffer_.clear();
      scanned_ = 0;
      if (!line->empty() && line->back() == '\r') line->pop_back();
      return Event::kLine;
    }
    char chunk[kChunkBytes];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      end_ = true;
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace ferrograph::mcp
