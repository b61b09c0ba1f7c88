// libsodium start-up and base64, shared by the provenance sources.
#ifndef FERROGRAPH_PROVENANCE_SODIUM_UTIL_H_
#define FERROGRAPH_PROVENANCE_SODIUM_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "ferrograph/status.h"

namespace ferrograph {

// sodium_init(), once per process (thread-safe). Internal when it fails.
Status InitSodium();
// Standard base64 with padding.
std::string Base64(std::string_view bytes);
// nullopt unless `text` is standard padded base64 (no whitespace).
std::optional<std::string> Unbase64(std::string_view text);

}  // namespace ferrograph

#endif  // FERROGRAPH_PROVENANCE_SODIUM_UTIL_H_
