#include "resolve/cfg.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

#include "common/utf8.h"

namespace ferrograph {

void CfgSet::Set(std::string_view name) { names_.emplace(name); }

void CfgSet::SetKeyValue(std::string_view key, std::string_view value) {
  auto it = values_.find(key);
  if (it == values_.end())
    it = values_.emplace(std::string(key), std::set<std::string, std::less<>>()).first;
  it->second.emplace(value);
}

void CfgSet::Unset(std::string_view name) {
  auto it = names_.find(name);
  if (it != names_.end()) names_.erase(it);
}

void CfgSet::UnsetKeyValue(std::string_view key, std::string_view value) {
  auto it = values_.find(key);
  if (it == values_.end()) return;
  auto v = it->second.find(value);
  if (v != it->second.end()) it->second.erase(v);
  if (it->second.empty()) values_.erase(it);
}

bool CfgSet::IsSet(std::string_view name) const { return names_.find(name) != names_.end(); }

bool CfgSet::HasKeyValue(std::string_view key, std::string_view value) const {
  auto it = values_.find(key);
  return it != values_.end() && it->second.find(value) != it->second.end();
}

std::string CfgSet::ToString() const {
  std::set<std::string> lines;
  for (const std::string& name : names_) lines.insert(name);
  for (const auto& [key, values] : values_) {
    for (const std::string& value : values) {
      std::string line = key + "=\"";
      for (char c : value) {
        if (c == '"' || c == '\\') line += '\\';
        line += c;
      }
      line += '"';
      lines.insert(std::move(line));
    }
  }
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += '\n';
  }
  return out;
}

CfgSet CfgSet::HostDefault() {
  CfgSet set;
  set.Set("debug_assertions");
  set.Set("unix");
  set.SetKeyValue("panic", "unwind");
  set.SetKeyValue("target_abi", "");
  set.SetKeyValue("target_arch", "x86_64");
  set.SetKeyValue("target_endian", "little");
  set.SetKeyValue("target_env", "gnu");
  set.SetKeyValue("target_family", "unix");
  for (const char* f : {"fxsr", "sse", "sse2"}) set.SetKeyValue("target_feature", f);
  for (const char* w : {"8", "16", "32", "64", "ptr"}) set.SetKeyValue("target_has_atomic", w);
  set.SetKeyValue("target_os", "linux");
  set.SetKeyValue("target_pointer_width", "64");
  set.SetKeyValue("target_vendor", "unknown");
  return set;
}

const char* CfgValueName(CfgValue value) {
  switch (value) {
    case CfgValue::kFalse: return "false";
    case CfgValue::kTrue: return "true";
    case CfgValue::kUnknown: return "unknown";
  }
  return "unknown";
}

namespace {

// Deeper nesting than this is treated as malformed (rustc has no such limit,
// but no real predicate comes close, and it bounds the recursion).
constexpr int kMaxDepth = 64;

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentContinue(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Rust's strict and reserved keywords (edition 2021): not identifiers unless
// raw (`r#type`); `true` and `false` are handled apart. None is longer than 8.
constexpr std::string_view kKeywords[] = {
    "Self",     "abstract", "as",       "async", "await", "become", "box",    "break",   "const",
    "continue", "crate",    "do",       "dyn",   "else",  "enum",   "extern", "final",   "fn",
    "for",      "if",       "impl",     "in",    "let",   "loop",   "macro",  "match",   "mod",
    "move",     "mut",      "override", "priv",  "pub",   "ref",    "return", "self",    "static",
    "struct",   "super",    "trait",    "try",   "type",  "typeof", "unsafe", "unsized", "use",
    "virtual",  "where",    "while",    "yield"};

// A word of at most 8 bytes packed into an integer, zero-padded; words with
// no NUL byte pack to distinct values.
constexpr uint64_t Pack(std::string_view word) {
  uint64_t v = 0;
  for (size_t i = 0; i < word.size(); ++i) {
    v |= uint64_t{static_cast<unsigned char>(word[i])} << (8 * i);
  }
  return v;
}

constexpr auto kPackedKeywords = [] {
  std::array<uint64_t, std::size(kKeywords)> packed{};
  for (size_t i = 0; i < packed.size(); ++i) packed[i] = Pack(kKeywords[i]);
  std::sort(packed.begin(), packed.end());
  return packed;
}();

bool IsKeyword(std::string_view word) {
  if (word.size() < 2 || word.size() > 8) return false;
  return std::binary_search(kPackedKeywords.begin(), kPackedKeywords.end(), Pack(word));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

// Kleene's three-valued logic: kUnknown is "either", so that all() with a
// false member is false and any() with a true member is true whatever the
// unknown members are.
using Tri = CfgValue;

Tri Not(Tri v) { return v == Tri::kUnknown ? v : v == Tri::kTrue ? Tri::kFalse : Tri::kTrue; }

// A recursive-descent parser that evaluates as it parses. Every method returns
// false on malformed input; the caller then gives up on the whole text.
// Options take their values from `set`; with `only` given, `only` is false
// and every other option unknown instead (CfgRequires).
class CfgParser {
 public:
  // `set` may be null when only the syntax matters (FromPrintCfg).
  CfgParser(std::string_view text, const CfgSet* set) : src_(text), set_(set) {}
  CfgParser(std::string_view text, std::string_view only)
      : src_(text), set_(nullptr), only_(only) {}

  // The whole text: one predicate, an optional trailing comma, the end.
  bool ParseTopLevel(Tri* value) {
    if (!ParsePredicate(0, value)) return false;
    if (!SkipBlank()) return false;
    if (Peek() == ',') {
      ++pos_;
      if (!SkipBlank()) return false;
    }
    return AtEnd();
  }

  // One option (`name` or `key = "value"`) and nothing else. `storage` holds
  // the value when it had escapes.
  bool ParseLoneOption(std::string_view* key, std::optional<std::string_view>* value,
                       std::string* storage) {
    if (!SkipBlank() || !ParseIdent(key)) return false;
    if (!SkipBlank()) return false;
    if (Peek() == '=') {
      ++pos_;
      std::string_view v;
      if (!SkipBlank() || !ParseString(&v, storage)) return false;
      *value = v;
      if (!SkipBlank()) return false;
    }
    return AtEnd();
  }

 private:
  bool AtEnd() const { return pos_ >= src_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }

  // Whitespace and comments. False on an unterminated block comment.
  bool SkipBlank() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '/' && Peek(1) == '/') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        pos_ += 2;
        int depth = 1;
        while (depth > 0) {
          if (AtEnd()) return false;
          if (Peek() == '/' && Peek(1) == '*') {
            ++depth;
            pos_ += 2;
          } else if (Peek() == '*' && Peek(1) == '/') {
            --depth;
            pos_ += 2;
          } else {
            ++pos_;
          }
        }
      } else {
        break;
      }
    }
    return true;
  }

  // IDENT or r#IDENT; `_` alone and keywords (but `true` and `false`,
  // which the caller handles) are not identifiers.
  bool ParseIdent(std::string_view* out) {
    bool raw = Peek() == 'r' && Peek(1) == '#' && IsIdentStart(Peek(2));
    if (raw) pos_ += 2;
    size_t start = pos_;
    if (!IsIdentStart(Peek())) return false;
    while (IsIdentContinue(Peek())) ++pos_;
    *out = src_.substr(start, pos_ - start);
    return *out != "_" && (raw || !IsKeyword(*out));
  }

  // A string literal: "..." with escapes, r"...", r#"..."#. No suffix.
  bool ParseString(std::string_view* out, std::string* storage) {
    if (Peek() == 'r' && (Peek(1) == '"' || Peek(1) == '#')) {
      ++pos_;
      size_t hashes = 0;
      while (Peek() == '#') {
        ++hashes;
        ++pos_;
      }
      if (Peek() != '"') return false;
      ++pos_;
      size_t start = pos_;
      while (true) {
        if (AtEnd()) return false;
        if (Peek() == '"') {
          size_t run = 0;
          while (run < hashes && Peek(1 + run) == '#') ++run;
          if (run == hashes) {
            *out = src_.substr(start, pos_ - start);
            pos_ += 1 + hashes;
            return !IsIdentContinue(Peek());
          }
        }
        ++pos_;
      }
    }
    if (Peek() != '"') return false;
    ++pos_;
    size_t start = pos_;
    bool escaped = false;
    while (true) {
      if (AtEnd()) return false;
      char c = Peek();
      if (c == '"') break;
      if (c == '\\') {
        if (!escaped) storage->assign(src_.substr(start, pos_ - start));
        escaped = true;
        if (!ParseEscape(storage)) return false;
        continue;
      }
      if (escaped) storage->push_back(c);
      ++pos_;
    }
    *out = escaped ? std::string_view(*storage) : src_.substr(start, pos_ - start);
    ++pos_;  // closing quote
    return !IsIdentContinue(Peek());
  }

  // A Rust string escape at the backslash, decoded onto `out`.
  bool ParseEscape(std::string* out) {
    ++pos_;  // the backslash
    if (AtEnd()) return false;
    char c = Peek();
    ++pos_;
    switch (c) {
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case '\\': out->push_back('\\'); return true;
      case '0': out->push_back('\0'); return true;
      case '\'': out->push_back('\''); return true;
      case '"': out->push_back('"'); return true;
      case '\r':
        if (Peek() != '\n') return false;
        [[fallthrough]];
      case '\n':  // line continuation: skips the newline and leading blanks
        while (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r') ++pos_;
        return true;
      case 'x': {
        if (!IsHexDigit(Peek()) || !IsHexDigit(Peek(1))) return false;
        int v = HexValue(Peek()) * 16 + HexValue(Peek(1));
        if (v > 0x7F) return false;
        out->push_back(static_cast<char>(v));
        pos_ += 2;
        return true;
      }
      case 'u': {
        if (Peek() != '{') return false;
        ++pos_;
        uint32_t cp = 0;
        int digits = 0;
        while (Peek() != '}') {
          char h = Peek();
          if (h == '_' && digits > 0) {
            ++pos_;
            continue;
          }
          if (!IsHexDigit(h) || ++digits > 6) return false;
          cp = cp * 16 + static_cast<uint32_t>(HexValue(h));
          ++pos_;
        }
        ++pos_;  // '}'
        if (digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        AppendUtf8(cp, out);
        return true;
      }
      default: return false;
    }
  }

  // `(list)` after all/any: folds the values with AND (`all`) or OR.
  bool ParseList(int depth, bool is_all, Tri* value) {
    ++pos_;  // '('
    const Tri absorbing = is_all ? Tri::kFalse : Tri::kTrue;
    Tri acc = Not(absorbing);
    if (!SkipBlank()) return false;
    while (Peek() != ')') {
      Tri item = Tri::kFalse;
      if (!ParsePredicate(depth + 1, &item)) return false;
      if (acc != absorbing && item != Not(absorbing)) acc = item;
      if (!SkipBlank()) return false;
      if (Peek() == ',') {
        ++pos_;
        if (!SkipBlank()) return false;
      } else if (Peek() != ')') {
        return false;
      }
    }
    ++pos_;  // ')'
    *value = acc;
    return true;
  }

  bool ParsePredicate(int depth, Tri* value) {
    if (depth > kMaxDepth || !SkipBlank()) return false;
    std::string_view name;
    bool raw = Peek() == 'r' && Peek(1) == '#';
    if (!ParseIdent(&name)) return false;
    if (!SkipBlank()) return false;
    char next = Peek();
    if (next == '(') {
      if (raw) return false;
      if (name == "all" || name == "any") return ParseList(depth, name == "all", value);
      if (name != "not") return false;  // version(..), accessible(..), target(..), unknown
      ++pos_;
      Tri inner = Tri::kFalse;
      if (!ParsePredicate(depth + 1, &inner) || !SkipBlank()) return false;
      if (Peek() == ',') {
        ++pos_;
        if (!SkipBlank()) return false;
      }
      if (Peek() != ')') return false;
      ++pos_;
      *value = Not(inner);
      return true;
    }
    if (next == '=') {
      ++pos_;
      std::string_view text;
      std::string storage;  // stays empty (no allocation) unless escapes
      if (!SkipBlank() || !ParseString(&text, &storage)) return false;
      *value = Option(set_ != nullptr && set_->HasKeyValue(name, text));
      return true;
    }
    if (!raw && (name == "true" || name == "false")) {
      *value = name == "true" ? Tri::kTrue : Tri::kFalse;
      return true;
    }
    if (next == ':') return false;  // a path: `a::b`
    *value = only_ ? (name == *only_ ? Tri::kFalse : Tri::kUnknown)
                   : Option(set_ != nullptr && set_->IsSet(name));
    return true;
  }

  Tri Option(bool is_set) const {
    if (only_) return Tri::kUnknown;
    return is_set ? Tri::kTrue : Tri::kFalse;
  }

  std::string_view src_;
  const CfgSet* set_;
  std::optional<std::string_view> only_;
  size_t pos_ = 0;
};

}  // namespace

Result<CfgSet> CfgSet::FromPrintCfg(std::string_view text) {
  CfgSet set;
  int line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string_view key;
    std::optional<std::string_view> value;
    std::string storage;
    if (!CfgParser(line, nullptr).ParseLoneOption(&key, &value, &storage)) {
      return Status::InvalidArgument("line " + std::to_string(line_number) +
                                     ": expected `name` or `key=\"value\"`, found `" +
                                     std::string(line) + "`");
    }
    if (value) {
      set.SetKeyValue(key, *value);
    } else {
      set.Set(key);
    }
  }
  return set;
}

CfgValue EvaluateCfg(std::string_view predicate, const CfgSet& set) {
  Tri value = Tri::kFalse;
  if (!CfgParser(predicate, &set).ParseTopLevel(&value)) return CfgValue::kUnknown;
  return value;
}

bool CfgRequires(std::string_view predicate, std::string_view option) {
  Tri value = Tri::kUnknown;
  return CfgParser(predicate, option).ParseTopLevel(&value) && value == Tri::kFalse;
}

CfgValue EvaluateCfgs(const std::vector<std::string>& predicates, const CfgSet& set) {
  CfgValue result = CfgValue::kTrue;
  for (const std::string& p : predicates) {
    CfgValue v = EvaluateCfg(p, set);
    if (v == CfgValue::kFalse) return CfgValue::kFalse;
    if (v == CfgValue::kUnknown) result = CfgValue::kUnknown;
  }
  return result;
}

}  // namespace ferrograph
