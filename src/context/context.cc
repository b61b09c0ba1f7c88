// AssembleContext: search, candidates, a greedy fill of the budget, and the
// rendering whose exact token count is the budget's measure.
//
// The invariant of the fill: after every step the rendered document (with
// its account, the list of what was left out and its own total) fits the
// budget. A part is accepted only when the document with it fits; leaving a
// part out lengthens the account, and when that no longer fits the account
// lists fewer omitted names ("and N more"), and failing that the part added
// last is dropped.
#include "ferrograph/context.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ferrograph/engine.h"
#include "tokens/token_counter.h"

namespace ferrograph {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr size_t kQuestionEchoChars = 200;  // of the question in the markdown heading
constexpr int kMaxCallees = 12;             // per hit
constexpr int kMaxTypes = 8;                // per hit
constexpr int kFixedPointRounds = 8;
constexpr size_t kMaxShortSignature = 400;  // bytes
constexpr size_t kMaxDocSummary = 600;      // bytes

// A search hit's reasons without their scores, which cost tokens and tell a
// reader little: "lexical #1 (bm25 7.20; name, docs)" -> "lexical #1",
// "graph +0.0011 (calls a::f)" -> "graph (calls a::f)".
std::string SearchWhy(const std::vector<std::string>& why) {
  std::string out;
  for (const std::string& w : why) {
    std::string brief = w;
    if (w.rfind("graph", 0) == 0) {
      size_t paren = w.find(" (");
      brief = paren == std::string::npos ? "graph" : "graph" + w.substr(paren);
    } else if (size_t paren = w.find(" ("); paren != std::string::npos) {
      brief = w.substr(0, paren);
    }
    out += (out.empty() ? "" : ", ") + brief;
  }
  return out;
}

// "/// line" for each line of `docs`.
std::string DocComment(const std::string& docs) {
  if (docs.empty()) return "";
  std::string out;
  size_t start = 0;
  while (start <= docs.size()) {
    size_t end = docs.find('\n', start);
    if (end == std::string::npos) end = docs.size();
    std::string_view line(docs.data() + start, end - start);
    out += line.empty() ? "///\n" : "/// " + std::string(line) + "\n";
    start = end + 1;
  }
  return out;
}

// The first paragraph of `docs`, at most kMaxDocSummary bytes; "..." as a
// last line when something was left out.
std::string DocSummary(const std::string& docs) {
  size_t end = docs.find("\n\n");
  std::string summary = docs.substr(0, end);
  if (summary.size() > kMaxDocSummary) {
    size_t cut = kMaxDocSummary;
    while (cut > 0 && (static_cast<unsigned char>(summary[cut]) & 0xC0) == 0x80) --cut;
    summary = summary.substr(0, cut);
    end = 0;
  }
  if (end != std::string::npos) summary += "\n...";
  return summary;
}

bool HasBody(NodeKind kind) {
  switch (kind) {
    case NodeKind::kFunction:
    case NodeKind::kMethod:
    case NodeKind::kStruct:
    case NodeKind::kEnum:
    case NodeKind::kUnion:
    case NodeKind::kTrait:
    case NodeKind::kImpl:
    case NodeKind::kModule:
    case NodeKind::kMacro: return true;
    default: return false;
  }
}

// The docs' summary and the signature, the body elided: what a part is
// shortened to. A
// const's or static's value is elided too, and a signature longer than
// kMaxShortSignature bytes is cut.
std::string ShortText(const Node& n) {
  std::string sig = n.signature.empty() ? n.name : n.signature;
  if (n.kind == NodeKind::kConst || n.kind == NodeKind::kStatic) {
    size_t eq = sig.find(" = ");
    if (eq != std::string::npos) sig = sig.substr(0, eq) + " = ...;";
  }
  if (sig.size() > kMaxShortSignature) {
    size_t cut = kMaxShortSignature;
    while (cut > 0 && (static_cast<unsigned char>(sig[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    sig = sig.substr(0, cut) + " ...";
  }
  std::string out = DocComment(DocSummary(n.docs)) + sig;
  if (HasBody(n.kind) && !sig.empty() && sig.back() != ';' && sig.back() != '}') out += " { ... }";
  return out;
}

// A span starts at its item's first character, so its later lines keep the
// item's indentation: the indentation of the closing line (a lone `}`) is
// taken off every line after the first.
std::string Dedented(const std::string& text) {
  size_t last = text.rfind('\n');
  if (last == std::string::npos) return text;
  std::string_view closing(text.data() + last + 1, text.size() - last - 1);
  size_t indent = closing.find_first_not_of(" \t");
  if (indent == 0 || indent == std::string_view::npos) return text;
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!first) {
      size_t blank = line.find_first_not_of(" \t");
      line.remove_prefix(std::min(indent, blank == std::string_view::npos ? line.size() : blank));
    }
    out.append(line);
    if (end < text.size()) out += '\n';
    first = false;
    start = end + 1;
  }
  return out;
}

// The node's source, with its docs in front when the span leaves them out.
std::string FullText(const Node& n, const std::optional<std::string>& source) {
  if (!source || source->empty()) return ShortText(n);
  std::string code = Dedented(*source);
  if (n.docs.empty()) return code;
  std::string first_doc_line = n.docs.substr(0, n.docs.find('\n'));
  if (code.find(first_doc_line) != std::string::npos) return code;
  return DocComment(n.docs) + code;
}

// A code fence longer than any backtick run in `text`.
std::string Fence(const std::string& text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

std::string OneLine(std::string_view s, size_t max_chars) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out = out.substr(0, cut) + "...";
  }
  return out;
}

struct Candidate {
  ContextPart full;
  std::optional<ContextPart> shortened;  // none when full is already short
  Node node;
};

class Assembler {
 public:
  Assembler(Engine& engine, const ContextRequest& request, TokenCounter counter)
      : engine_(engine), request_(request), counter_(std::move(counter)) {}

  Result<ContextResult> Run() {
    result_.question = request_.question;
    result_.budget = request_.budget;
    result_.tokenizer = std::string(counter_.label());
    result_.exact = counter_.exact();

    // The smallest answer first (no parts, up to 999 omitted ones counted):
    // when even that does not fit, say what would.
    omitted_.assign(999, "");
    listed_cap_ = 0;
    const bool fits = Fits();
    const int64_t smallest = Measure(false).second;
    omitted_.clear();
    listed_cap_ = std::numeric_limits<size_t>::max();
    if (!fits || !Fits()) return TooSmall(smallest);

    SearchRequest search;
    search.query = request_.question;
    search.k = request_.k;
    search.mode = SearchMode::kHybrid;
    search.tests = request_.tests;
    FG_ASSIGN_OR_RETURN(SearchResponse response, engine_.Search(search));
    result_.warning = response.warning;
    // Nothing matched at all: the account says so, when that fits (it
    // takes fewer tokens than the list of omitted parts the smallest
    // answer was measured with, so it does unless the budget is that tight).
    if (response.results.empty()) {
      no_match_ = true;
      if (!Fits()) no_match_ = false;
    }

    // Hits, in rank order, one per content.
    int rank = 0;
    for (const SearchHit& hit : response.results) {
      ++rank;
      if (hit.node.kind == NodeKind::kExternal) continue;
      if (!IsNew(hit.node)) continue;  // a node or content seen at a better rank
      FG_ASSIGN_OR_RETURN(NodeDetails d, engine_.Describe(hit.node.id));
      Candidate c = MakeCandidate("hit", d.node, d.source,
                                  fmt::format("search #{}: {}", rank, SearchWhy(hit.why)));
      if (ShortOnly(d.node.kind)) UseShortFormOnly(&c);
      Offer(std::move(c));
      details_.push_back(std::move(d));
    }

    // Neighbours of the hits that made it, by tier: the impls and traits
    // (or types) they belong to, then what they call, then the types they use.
    std::vector<const NodeDetails*> included;
    for (const NodeDetails& d : details_)
      if (kept_.count(d.node.id)) included.push_back(&d);
    for (const NodeDetails* d : included) FG_RETURN_IF_ERROR(OfferContainer(*d));
    for (const NodeDetails* d : included) FG_RETURN_IF_ERROR(OfferCallees(*d));
    for (const NodeDetails* d : included) FG_RETURN_IF_ERROR(OfferTypes(*d));

    auto [doc, total] = Measure(true);
    if (total < 0 || total > request_.budget) return TooSmall(total);  // not expected
    result_.total_tokens = total;
    if (request_.format == ContextFormat::kJson) {
      result_.json = std::move(doc);
    } else {
      result_.markdown = std::move(doc);
    }
    return std::move(result_);
  }

 private:
  Status TooSmall(int64_t smallest) const {
    return Status::InvalidArgument(fmt::format(
        "a budget of {} tokens is too small: the answer without any code takes {} tokens",
        request_.budget, smallest));
  }

  static bool ShortOnly(NodeKind kind) {
    return kind == NodeKind::kCrate || kind == NodeKind::kModule;
  }

  static void UseShortFormOnly(Candidate* c) {
    if (c->shortened) {
      c->full = std::move(*c->shortened);
      c->shortened.reset();
    }
  }

  ContextPart MakePart(const std::string& kind, const Node& n, std::string text,
                       std::string why) const {
    ContextPart p;
    p.kind = kind;
    p.path = n.path;
    p.node_kind = std::string(KindName(n.kind));
    p.file = n.file;
    p.line = n.span.start_line;
    p.text = std::move(text);
    p.tokens = static_cast<int64_t>(counter_.Count(p.text));
    p.why = std::move(why);
    return p;
  }

  Candidate MakeCandidate(const std::string& kind, const Node& n,
                          const std::optional<std::string>& source, std::string why) const {
    Candidate c;
    c.node = n;
    std::string full = FullText(n, source);
    std::string brief = ShortText(n);
    c.full = MakePart(kind, n, full, why);
    if (brief.size() < full.size()) {
      c.shortened = MakePart(kind, n, std::move(brief), std::move(why));
      c.shortened->shortened = true;
    }
    return c;
  }

  // A neighbour not yet included (by node or by content).
  bool IsNew(const Node& n) {
    if (n.kind == NodeKind::kExternal) return false;
    if (seen_ids_.count(n.id)) return false;
    if (kept_whole_.count(n.parent)) return false;  // its code is in its container's part
    if (!n.content_hash.IsZero() && seen_hashes_.count(n.content_hash)) return false;
    seen_ids_.insert(n.id);
    if (!n.content_hash.IsZero()) seen_hashes_.insert(n.content_hash);
    return true;
  }

  Status OfferContainer(const NodeDetails& d) {
    if (!d.container) return Status::OK();
    const Node& c = *d.container;
    bool wanted = c.kind == NodeKind::kImpl || c.kind == NodeKind::kTrait ||
                  c.kind == NodeKind::kStruct || c.kind == NodeKind::kEnum ||
                  c.kind == NodeKind::kUnion;
    if (!wanted || !IsNew(c)) return Status::OK();
    Candidate cand;
    cand.node = c;
    cand.full = MakePart("container", c, ShortText(c),
                         fmt::format("{} {} belongs to it", KindName(d.node.kind), d.node.path));
    Offer(std::move(cand));
    return Status::OK();
  }

  Status OfferCallees(const NodeDetails& d) {
    if (d.node.kind != NodeKind::kFunction && d.node.kind != NodeKind::kMethod) return Status::OK();
    CallTreeOptions options;
    options.depth = 1;
    options.max_nodes = 200;
    FG_ASSIGN_OR_RETURN(CallTree tree,
                        engine_.Calls({d.node.id}, CallDirection::kCallees, options));
    // Callees resolved by name to many candidates are guesses; the rest first.
    std::vector<const CallTreeEntry*> entries;
    for (const CallTreeEntry& e : tree.entries)
      if (e.depth == 1) entries.push_back(&e);
    auto guess = [](const CallTreeEntry* e) {
      for (const CallSite& s : e->sites)
        if (s.resolved != "name_only" || s.candidates <= 1) return false;
      return !e->sites.empty();
    };
    std::stable_sort(
        entries.begin(), entries.end(),
        [&](const CallTreeEntry* a, const CallTreeEntry* b) { return !guess(a) && guess(b); });
    int offered = 0;
    for (const CallTreeEntry* e : entries) {
      if (offered >= kMaxCallees) break;
      if (!IsNew(e->node)) continue;
      ++offered;
      std::string where;
      if (!e->sites.empty()) where = fmt::format(" (line {})", e->sites.front().line);
      Candidate cand;
      cand.node = e->node;
      cand.full = MakePart("callee", e->node, ShortText(e->node),
                           fmt::format("called by {}{}", d.node.path, where));
      Offer(std::move(cand));
    }
    return Status::OK();
  }

  Status OfferTypes(const NodeDetails& d) {
    int offered = 0;
    for (const NodeDetails::Link& l : d.out_edges) {
      if (offered >= kMaxTypes) break;
      if (l.edge.kind != EdgeKind::kUsesType) continue;
      const Node& t = l.other;
      bool is_type = t.kind == NodeKind::kStruct || t.kind == NodeKind::kEnum ||
                     t.kind == NodeKind::kUnion || t.kind == NodeKind::kTrait ||
                     t.kind == NodeKind::kTypeAlias;
      if (!is_type || !IsNew(t)) continue;
      ++offered;
      FG_ASSIGN_OR_RETURN(NodeDetails td, engine_.Describe(t.id));
      Candidate cand =
          MakeCandidate("type", td.node, td.source, fmt::format("type used by {}", d.node.path));
      // A large definition is worth its signature only.
      int64_t large = std::max<int64_t>(100, request_.budget / 8);
      if (cand.full.tokens > large) UseShortFormOnly(&cand);
      Offer(std::move(cand));
    }
    return Status::OK();
  }

  // Adds the candidate in full, else shortened, else lists it as omitted.
  // True when some form was added.
  bool Offer(Candidate c) {
    if (TryAdd(c.full, c.node.id)) return true;
    if (c.shortened && TryAdd(*c.shortened, c.node.id)) return true;
    omitted_.push_back(fmt::format("{} {} ({}, {} tokens)", c.full.kind, c.full.path,
                                   c.full.node_kind,
                                   c.shortened ? c.shortened->tokens : c.full.tokens));
    Repair();
    return false;
  }

  bool TryAdd(const ContextPart& part, const NodeId& id) {
    // The document grows by at least about the part's own tokens: skip the
    // rendering when that alone is over (only ever errs towards leaving out).
    if (last_total_ + part.tokens - 4 > request_.budget) return false;
    result_.parts.push_back(part);
    if (!Fits()) {
      result_.parts.pop_back();
      return false;
    }
    part_ids_.push_back(id);
    kept_.insert(id);
    if (!part.shortened && part.kind != "container") kept_whole_.insert(id);
    return true;
  }

  // Restores the invariant after an omission: fewer omitted names listed,
  // else the last part dropped (and omitted in turn).
  void Repair() {
    while (!Fits()) {
      size_t listed = std::min(listed_cap_, omitted_.size());
      if (listed > 0) {
        listed_cap_ = listed - 1;
        continue;
      }
      if (result_.parts.empty()) return;  // cannot happen: the empty answer fit
      const ContextPart& last = result_.parts.back();
      omitted_.push_back(
          fmt::format("{} {} ({}, {} tokens)", last.kind, last.path, last.node_kind, last.tokens));
      result_.parts.pop_back();
      kept_.erase(part_ids_.back());
      kept_whole_.erase(part_ids_.back());
      part_ids_.pop_back();
    }
  }

  bool Fits() {
    auto [doc, total] = Measure(false);
    if (total < 0 || total > request_.budget) return false;
    last_total_ = total;
    return true;
  }

  // The document and its token count, its stated total settled by fixed
  // point iteration; count -1 when it does not settle (treated as not
  // fitting). `final` copies `omitted_` into the result.
  std::pair<std::string, int64_t> Measure(bool final) {
    if (final) result_.omitted = omitted_;
    int64_t guess = last_total_;
    std::string doc;
    for (int round = 0; round < kFixedPointRounds; ++round) {
      doc = Render(guess);
      int64_t count = static_cast<int64_t>(counter_.Count(doc));
      if (count == guess) return {std::move(doc), count};
      guess = count;
    }
    return {std::move(doc), final ? guess : -1};
  }

  std::string Render(int64_t total) const {
    return request_.format == ContextFormat::kJson ? RenderJson(total) : RenderMarkdown(total);
  }

  size_t Listed() const { return std::min(listed_cap_, omitted_.size()); }

  std::string TokenizerNote() const {
    if (counter_.exact()) return std::string(counter_.label());
    return fmt::format("estimate: no known vocabulary for model `{}`, counts are approximate",
                       request_.model);
  }

  std::string RenderMarkdown(int64_t total) const {
    std::string out =
        fmt::format("# Context: {}\n", OneLine(request_.question, kQuestionEchoChars));
    int i = 0;
    for (const ContextPart& p : result_.parts) {
      ++i;
      std::string fence = Fence(p.text);
      std::string where = p.file.empty() ? "" : fmt::format(" ({}:{})", p.file, p.line);
      out += fmt::format("\n## {}. {}: {} {}{}\n\n{}rust\n{}\n{}\n", i, p.kind, p.node_kind, p.path,
                         where, fence, p.text, fence);
    }
    out +=
        fmt::format("\n## Account\n\n{} of {} tokens ({}), {} part{}{}.\n", total, request_.budget,
                    TokenizerNote(), result_.parts.size(), result_.parts.size() == 1 ? "" : "s",
                    no_match_ ? ": no code matched the question" : "");
    i = 0;
    for (const ContextPart& p : result_.parts) {
      ++i;
      out += fmt::format("{}{}. {} {}: {} tokens{}; {}\n", i == 1 ? "\n" : "", i, p.kind, p.path,
                         p.tokens, p.shortened ? " (shortened to signature and docs)" : "",
                         OneLine(p.why, 300));
    }
    if (!omitted_.empty()) {
      size_t listed = Listed();
      std::string names;
      for (size_t k = 0; k < listed; ++k) names += (k == 0 ? "" : ", ") + omitted_[k];
      size_t more = omitted_.size() - listed;
      if (listed == 0) {
        out += fmt::format("\nLeft out for want of room: {} candidate{}.\n", more,
                           more == 1 ? "" : "s");
      } else {
        out += fmt::format("\nLeft out for want of room: {}{}.\n", names,
                           more == 0 ? "" : fmt::format(" and {} more", more));
      }
    }
    return out;
  }

  std::string RenderJson(int64_t total) const {
    OrderedJson parts = OrderedJson::array();
    for (const ContextPart& p : result_.parts) {
      parts.push_back({{"kind", p.kind},
                       {"path", p.path},
                       {"node_kind", p.node_kind},
                       {"file", p.file},
                       {"line", p.line},
                       {"tokens", p.tokens},
                       {"shortened", p.shortened},
                       {"why", p.why},
                       {"text", p.text}});
    }
    OrderedJson omitted = OrderedJson::array();
    size_t listed = Listed();
    for (size_t k = 0; k < listed; ++k) omitted.push_back(omitted_[k]);
    OrderedJson j = {{"question", request_.question},
                     {"budget", request_.budget},
                     {"total_tokens", total},
                     {"tokenizer", std::string(counter_.label())},
                     {"exact", counter_.exact()},
                     {"parts", parts},
                     {"omitted", omitted}};
    if (listed < omitted_.size()) j["omitted_more"] = omitted_.size() - listed;
    return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
  }

  Engine& engine_;
  const ContextRequest& request_;
  const TokenCounter counter_;
  ContextResult result_;
  std::vector<std::string> omitted_;
  size_t listed_cap_ = std::numeric_limits<size_t>::max();
  bool no_match_ = false;   // the search found nothing
  int64_t last_total_ = 0;  // of the last document that fit
  std::set<NodeId> seen_ids_;
  std::set<ContentHash> seen_hashes_;
  std::vector<NodeId> part_ids_;      // of result_.parts
  std::set<NodeId> kept_;             // nodes with a part in the document
  std::set<NodeId> kept_whole_;       // of which those with all their code
  std::vector<NodeDetails> details_;  // of the hits, in rank order
};

}  // namespace

Result<ContextResult> AssembleContext(Engine& engine, const ContextRequest& request) {
  if (request.question.empty()) return Status::InvalidArgument("context: the question is empty");
  if (request.budget < 1) return Status::InvalidArgument("context: the budget must be at least 1");
  if (request.k < 1 || request.k > 1000)
    return Status::InvalidArgument("context: k must be from 1 to 1000");
  FG_ASSIGN_OR_RETURN(TokenCounter counter, TokenCounter::ForModel(request.model));
  Assembler assembler(engine, request, std::move(counter));
  return assembler.Run();
}

}  // namespace ferrograph
