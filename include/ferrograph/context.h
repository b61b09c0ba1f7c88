// Context assembly: the code a question needs, within a token budget.
//
// AssembleContext searches the graph (hybrid search) for the question, then
// fills a budget greedily: first the hits in rank order (docs, signature and
// body; code with the same content hash once, an item whose container is in
// whole not again), then their neighbours by tier: the impl or trait a method
// belongs to (the struct or enum of a field or variant) as its header, the
// signatures of the functions they call, the definitions of the types they
// use (the signature when a definition is over budget/8 tokens). A part that
// does not fit is shortened (to its signature and the first paragraph of its
// docs) or left out and named in `omitted`.
//
// The budget bounds the exact rendered document: ContextResult::markdown in
// markdown format, ContextResult::json in JSON format, each counted whole
// (headings, code fences, the account at the end, the JSON punctuation, the
// trailing newline) with the request's model's tokenizer. total_tokens is
// that count; the document never holds more than `budget` tokens. When the
// model has no known vocabulary the counts are an estimate (exact == false,
// tokenizer == "estimate") and the account says so.
//
// Thread safety: AssembleContext uses `engine` for the whole call; like every
// Engine method, one engine serves one thread at a time.
#ifndef FERROGRAPH_CONTEXT_H_
#define FERROGRAPH_CONTEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ferrograph/search.h"
#include "ferrograph/status.h"

namespace ferrograph {

class Engine;

enum class ContextFormat { kMarkdown, kJson };

struct ContextRequest {
  std::string question;
  // Tokens the rendered document may hold, at most.
  int64_t budget = 8000;
  // A model or encoding name for TokenCounter::ForModel.
  std::string model = "cl100k_base";
  // Search hits to start from, 1 to 1000.
  int k = 10;
  // Test code among the search hits (search.h).
  TestCode tests = TestCode::kDemote;
  // Which document the budget bounds (and which of markdown/json is filled).
  ContextFormat format = ContextFormat::kMarkdown;
};

struct ContextPart {
  // "hit", "callee", "type", "container".
  std::string kind;
  std::string path;       // the node's canonical path
  std::string node_kind;  // KindName of the node: "fn", "struct", ...
  std::string file;
  uint32_t line = 0;
  std::string text;  // the code (or signature and docs) as included
  // Tokens of `text` alone (the document's headings and fences are counted
  // in total_tokens, not here).
  int64_t tokens = 0;
  // Why it was included: "search #1 (lexical #2 ...)", "called by a::f", ...
  std::string why;
  // True when `text` is a shortened form (signature and docs, no body).
  bool shortened = false;
};

struct ContextResult {
  std::string question;
  int64_t budget = 0;
  // Tokens of the whole rendered document (markdown or json).
  int64_t total_tokens = 0;
  std::string tokenizer;  // "cl100k_base", ..., or "estimate"
  bool exact = true;
  std::vector<ContextPart> parts;
  // Every candidate left out for want of room, "hit a::b (function, N
  // tokens)", in the order they were given up. The document lists as many of
  // them as fit ("and N more" / "omitted_more" for the rest).
  std::vector<std::string> omitted;
  // The rendered document in markdown format (empty in JSON format).
  std::string markdown;
  // The rendered document in JSON format, ending in a newline (empty in
  // markdown format).
  std::string json;
  // The search's warning (SearchResponse::warning): it ran without its
  // vector half. Not part of the document.
  std::string warning;
};

// Assembles the context for request.question from the engine's graph (as of
// its pinned version, if any). Fails with InvalidArgument for an empty
// question, a budget below 1 or too small for even an empty answer (the
// message names the smallest budget that works), or an empty model name;
// otherwise with the errors of Engine::Search.
Result<ContextResult> AssembleContext(Engine& engine, const ContextRequest& request);

}  // namespace ferrograph

#endif  // FERROGRAPH_CONTEXT_H_
