// The process's model trust: set by the CLI, else read from the user's config.
#include <mutex>

#include "ferrograph/provenance.h"

namespace ferrograph {
namespace {

std::mutex& TrustMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::optional<ModelTrust>& TrustSlot() {  // guarded by TrustMutex()
  static auto* slot = new std::optional<ModelTrust>;
  return *slot;
}

}  // namespace

void SetModelTrust(ModelTrust trust) {
  std::lock_guard<std::mutex> lock(TrustMutex());
  TrustSlot() = std::move(trust);
}

Result<ModelTrust> CurrentModelTrust() {
  {
    std::lock_guard<std::mutex> lock(TrustMutex());
    if (TrustSlot()) return *TrustSlot();
  }
  FG_ASSIGN_OR_RETURN(Config config, LoadConfig(std::string()));
  return ModelTrustFromConfig(config);
}

}  // namespace ferrograph
