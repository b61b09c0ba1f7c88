#include "ferrograph/context.h"

#include "ferrograph/engine.h"

namespace ferrograph {

Result<ContextResult> AssembleContext(Engine& engine, const ContextRequest& request) {
  return Status::Unsupported("context assembly is not implemented yet");
}

}  // namespace ferrograph
