// Reading one source file as the indexer needs it: bytes, size limit, and
// the checks that keep bad input out of the parser with a clear message.
//
// Thread-safe (no shared state).
#ifndef FERROGRAPH_INGEST_SOURCE_FILE_H_
#define FERROGRAPH_INGEST_SOURCE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ferrograph/status.h"

namespace ferrograph {

// Reads `path` whole. Fails, naming `display_path`, when it cannot be read
// (IOError), is larger than `max_bytes`, holds NUL bytes (binary), or is not
// valid UTF-8 (InvalidArgument, with line and byte offset of the first bad
// sequence).
Result<std::string> ReadSourceFile(const std::string& path, const std::string& display_path,
                                   uint64_t max_bytes);

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_SOURCE_FILE_H_
