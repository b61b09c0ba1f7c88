#include "cli/context_commands.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_config.h"
#include "context/chat_client.h"
#include "ferrograph/context.h"

namespace ferrograph::cli {

const char* const kContextHelp =
    R"(Usage: ferrograph context QUESTION [--budget N] [--model M] [-k N] [--json]
                         [--tests demote|include|exclude] [--db FILE] [--as-of V]

The code QUESTION needs, within a budget of tokens: the search hits (hybrid
search; code with the same content once) in rank order, each with its docs,
signature and body, then their neighbours: the impl or trait a method belongs
to, the signatures of the functions it calls, the definitions of the types it
uses. A part that does not fit is cut to its signature and docs, or left out.
The output ends with an account: the tokens of each part and why it is there,
and what was left out.

The budget bounds the whole output, exactly as printed (headings, code fences,
the account, JSON punctuation, the final newline), counted with the model's
tokenizer. A model with no known vocabulary is counted with an estimate, and
the account says so.

  --budget N   tokens the output may hold (default: [context] default_budget,
               8000)
  --model M    the model (or encoding) whose tokenizer counts: gpt-4o,
               cl100k_base, ... (default: [context] model, cl100k_base)
  -k N         search hits to start from (default 10)
  --tests T    test code among the hits (see `search --help`): demote (the
               default: unless the question is about tests), include, exclude
  --json       {"question","budget","total_tokens","tokenizer","exact",
                "parts":[{"kind","path","node_kind","file","line","tokens",
                "shortened","why","text"}],"omitted":[...]} on one line
                ("omitted_more": N when not all omitted names fit)
)";

const char* const kAskHelp =
    R"(Usage: ferrograph ask QUESTION [--budget N] [--model M] [-k N] [--db FILE] [--as-of V]
                     [--tests demote|include|exclude]

Assembles the context for QUESTION (as `context` does), sends it with the
question to an OpenAI-compatible chat completions server (POST
{base_url}/chat/completions, streamed), prints the answer as it arrives, then
the nodes the context held ("sources:").

  --budget N   tokens of context (default: [context] default_budget), counted
               with the [context] model's tokenizer
  --model M    the chat model (default: [llm] model)
  -k N         search hits to start from (default 10)
  --tests T    test code among the hits (see `search --help`; default demote)

The server, key and limits come from [llm] in the config, or the environment:
FERROGRAPH_LLM_BASE_URL (default http://localhost:11434/v1, Ollama),
FERROGRAPH_LLM_MODEL, FERROGRAPH_LLM_API_KEY_ENV (the variable holding the key,
default OPENAI_API_KEY; no key is sent when it is unset),
FERROGRAPH_LLM_TIMEOUT_SECONDS (the longest wait for a byte, default 120) and
FERROGRAPH_LLM_MAX_RETRIES (default 3). Connection errors, 429 and 5xx are
retried with backoff until the answer starts; never after. A timeout, an HTTP
error (with the server's message), a malformed stream or one cut off before
its end prints what arrived, then the error, and exits 1.
)";

namespace {

// The shared options of both commands; returns the exit code on a usage error.
std::optional<int> ParseRequest(const Args& args, const std::string& command, ContextRequest* req) {
  for (const std::string& word : args.positional)
    req->question += (req->question.empty() ? "" : " ") + word;
  if (req->question.empty()) return Usage(command + " needs a QUESTION", command);
  const Config& config = ActiveConfig();
  auto budget = CountOption(args, "--budget", static_cast<uint64_t>(config.context.default_budget),
                            1, 100000000);
  if (!budget) return Usage("--budget wants a number from 1 to 100000000", command);
  req->budget = static_cast<int64_t>(*budget);
  auto k = CountOption(args, "-k", 10, 1, 1000);
  if (!k) return Usage("-k wants a number from 1 to 1000", command);
  req->k = static_cast<int>(*k);
  if (auto it = args.values.find("--tests"); it != args.values.end()) {
    auto tests = ParseTestCode(it->second);
    if (!tests) return Usage("--tests wants demote, include or exclude", command);
    req->tests = *tests;
  }
  req->model = config.context.model;
  return std::nullopt;
}

}  // namespace

int CmdContext(const Args& args) {
  ContextRequest req;
  if (auto rc = ParseRequest(args, "context", &req)) return *rc;
  if (auto it = args.values.find("--model"); it != args.values.end()) req.model = it->second;
  const bool json_out = args.flags.count("--json") > 0;
  req.format = json_out ? ContextFormat::kJson : ContextFormat::kMarkdown;
  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto result = AssembleContext(**engine, req);
  if (!result.ok()) return Fail(result.status());
  if (!result->warning.empty()) std::cerr << "ferrograph: warning: " << result->warning << "\n";
  std::cout << (json_out ? result->json : result->markdown) << std::flush;
  return kExitOk;
}

int CmdAsk(const Args& args) {
  ContextRequest req;
  if (auto rc = ParseRequest(args, "ask", &req)) return *rc;
  const Config::Llm& llm = ActiveConfig().llm;
  ChatOptions chat;
  chat.base_url = llm.base_url;
  chat.model = llm.model;
  if (auto it = args.values.find("--model"); it != args.values.end()) chat.model = it->second;
  if (!llm.api_key_env.empty()) {
    const char* key = std::getenv(llm.api_key_env.c_str());
    if (key != nullptr) chat.api_key = key;
  }
  chat.timeout_ms = llm.timeout_seconds * 1000;
  chat.max_retries = llm.max_retries;
  auto client = NewHttpChatClient(chat);
  if (!client.ok()) return Fail(client.status());

  auto engine = OpenForReading(args);
  if (!engine.ok()) return Fail(engine.status());
  auto context = AssembleContext(**engine, req);
  if (!context.ok()) return Fail(context.status());
  if (!context->warning.empty()) std::cerr << "ferrograph: warning: " << context->warning << "\n";
  std::cerr << fmt::format("ferrograph: context: {} parts, {} of {} tokens ({}); asking {} at {}\n",
                           context->parts.size(), context->total_tokens, req.budget,
                           context->tokenizer, chat.model, chat.base_url);

  std::vector<ChatMessage> messages = {
      {"system",
       "You answer questions about a Rust codebase. The user gives you context assembled from "
       "the code (search hits, then the items they belong to, call and use), then the "
       "question. Base the answer on that code, name the items you refer to by their paths, "
       "and say so when the context does not answer the question."},
      {"user", context->markdown + "\nQuestion: " + req.question}};
  bool ends_in_newline = true;
  auto report = (*client)->Complete(messages, [&](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    ends_in_newline = piece.back() == '\n';
  });
  if (!ends_in_newline) std::fputs("\n", stdout);
  std::fflush(stdout);
  if (!report.ok()) return Fail(report.status());
  std::string sources = "\nsources:\n";
  for (const ContextPart& p : context->parts)
    sources += p.file.empty() ? fmt::format("  {}\n", p.path)
                              : fmt::format("  {} ({}:{})\n", p.path, p.file, p.line);
  if (context->parts.empty()) sources += "  (none: no code fit in the budget)\n";
  std::fputs(sources.c_str(), stdout);
  return kExitOk;
}

}  // namespace ferrograph::cli
