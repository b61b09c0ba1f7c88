// UTF-8 encoding and validation, shared by every reader of text.
//
// Thread-safe (pure functions).
#ifndef FERROGRAPH_COMMON_UTF8_H_
#define FERROGRAPH_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferrograph {

// Appends the UTF-8 encoding of `cp`. A value that is not a Unicode scalar
// value (a surrogate, or above U+10FFFF) is appended as U+FFFD.
void AppendUtf8(uint32_t cp, std::string* out);

// Offset of the first invalid UTF-8 sequence in `s`, or npos when valid.
// Overlong forms, surrogates and code points above U+10FFFF are invalid.
size_t FindInvalidUtf8(std::string_view s);

}  // namespace ferrograph

#endif  // FERROGRAPH_COMMON_UTF8_H_
