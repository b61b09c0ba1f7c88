// The ingest pipeline: discover → read+hash → parse+extract (N workers) →
// module tree → nodes and edges → diff against the store → one version.
//
//   feeder thread ──jobs (bounded)──▶ N parser threads ──results (bounded)──▶
//   indexing thread (module walk, node building, the single store writer)
//
// Every queue is bounded, so a full writer slows the parsers and a full
// parser pool slows the feeder. A file whose bytes and module context are
// unchanged since the last version is read and hashed but not parsed, and
// none of its rows are written.
//
// Errors: a file that cannot be read, is binary, too large or not UTF-8 is
// reported as a warning and skipped; syntax errors are warnings naming file
// and line, with every item tree-sitter recovered kept. Only store failures
// (and a missing root) fail the run, and then nothing is committed.
#ifndef FERROGRAPH_INGEST_INDEXER_H_
#define FERROGRAPH_INGEST_INDEXER_H_

#include <string>

#include "ferrograph/engine.h"
#include "store/store.h"

namespace ferrograph {

// Indexes the workspace at `root` into `store` as one write transaction.
Result<IndexReport> RunIndex(Store& store, const std::string& root, const IndexOptions& options);

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_INDEXER_H_
