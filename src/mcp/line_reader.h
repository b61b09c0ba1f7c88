// LineReader: newline-delimited messages from a file descriptor (MCP's stdio
// transport), in bounded memory.
//
// Reads in chunks of 64 KiB and holds at most one line of `max_line_bytes`
// plus one chunk. A longer line is reported once, as kOversized, when it
// passes the bound; the rest of it is read and dropped unbuffered, so a
// client sending gigabytes without a newline costs no memory.
//
// Thread-compatible: one reader per descriptor, used from one thread.
#ifndef FERROGRAPH_MCP_LINE_READER_H_
#define FERROGRAPH_MCP_LINE_READER_H_

#include <cstddef>
#include <string>

namespace ferrograph::mcp {

class LineReader {
 public:
  enum class Event {
    kLine,       // *line holds the next line, without "\n" or a trailing "\r"
    kOversized,  // a line longer than max_line_bytes was dropped
    kEnd,        // end of input (or a read error); a last unterminated line came before
  };

  // Does not own `fd`.
  LineReader(int fd, size_t max_line_bytes);

  // Blocks until the next event.
  Event Next(std::string* line);

 private:
  int fd_;
  size_t max_line_bytes_;
  std::string buffer_;
  size_t scanned_ = 0;       // bytes of buffer_ known to hold no newline
  bool discarding_ = false;  // dropping the rest of an oversized line
  bool end_ = false;
};

}  // namespace ferrograph::mcp

#endif  // FERROGRAPH_MCP_LINE_READER_H_
