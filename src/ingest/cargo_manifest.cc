#include "ingest/cargo_manifest.h"

#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include "common/utf8.h"

namespace ferrograph {

const TomlValue* TomlValue::Find(std::string_view key) const {
  if (type != Type::kTable) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

TomlValue* TomlValue::Find(std::string_view key) {
  return const_cast<TomlValue*>(std::as_const(*this).Find(key));
}

const char* TomlTypeName(TomlValue::Type type) {
  switch (type) {
    case TomlValue::Type::kString: return "string";
    case TomlValue::Type::kInteger: return "integer";
    case TomlValue::Type::kFloat: return "float";
    case TomlValue::Type::kBoolean: return "boolean";
    case TomlValue::Type::kDatetime: return "datetime";
    case TomlValue::Type::kArray: return "array";
    case TomlValue::Type::kTable: return "table";
  }
  return "value";
}

namespace {

constexpr int kMaxNesting = 128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '-';
}
bool IsScalarChar(char c) { return IsBareKeyChar(c) || c == '+' || c == '.' || c == ':'; }

bool IsDigitOfBase(char c, int base) {
  switch (base) {
    case 2: return c == '0' || c == '1';
    case 8: return c >= '0' && c <= '7';
    case 16: return IsHexDigit(c);
    default: return IsDigit(c);
  }
}

// Reads digits of `base` where each `_` sits between two digits. Returns the
// number of digits read (0 when none, or when an underscore is misplaced).
size_t ReadDigits(std::string_view s, size_t* i, int base) {
  size_t digits = 0;
  while (*i < s.size()) {
    char c = s[*i];
    if (IsDigitOfBase(c, base)) {
      ++digits;
      ++*i;
    } else if (c == '_' && digits > 0 && *i + 1 < s.size() && IsDigitOfBase(s[*i + 1], base)) {
      ++*i;
    } else {
      break;
    }
  }
  return digits;
}

// [+-]? decimal digits without a leading zero (except "0" itself).
bool ReadDecimalInteger(std::string_view s, size_t* i) {
  if (*i < s.size() && (s[*i] == '+' || s[*i] == '-')) ++*i;
  size_t start = *i;
  if (ReadDigits(s, i, 10) == 0) return false;
  return !(s[start] == '0' && *i - start > 1);
}

bool IsInteger(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    size_t i = 2;
    return ReadDigits(s, &i, base) > 0 && i == s.size();
  }
  size_t i = 0;
  return ReadDecimalInteger(s, &i) && i == s.size();
}

bool IsFloat(std::string_view s) {
  std::string_view body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "nan") return true;
  size_t i = 0;
  if (!ReadDecimalInteger(s, &i)) return false;
  bool fraction_or_exponent = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (ReadDigits(s, &i, 10) == 0) return false;
    fraction_or_exponent = true;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (ReadDigits(s, &i, 10) == 0) return false;
    fraction_or_exponent = true;
  }
  return fraction_or_exponent && i == s.size();
}

// Exactly `n` decimal digits at s[*i].
bool FixedDigits(std::string_view s, size_t* i, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    if (*i + k >= s.size() || !IsDigit(s[*i + k])) return false;
  }
  *i += n;
  return true;
}

bool ReadTime(std::string_view s, size_t* i) {
  if (!FixedDigits(s, i, 2) || *i >= s.size() || s[*i] != ':') return false;
  ++*i;
  if (!FixedDigits(s, i, 2)) return false;
  if (*i < s.size() && s[*i] == ':') {  // seconds are optional in TOML 1.1
    ++*i;
    if (!FixedDigits(s, i, 2)) return false;
    if (*i < s.size() && s[*i] == '.') {
      ++*i;
      if (!FixedDigits(s, i, 1)) return false;
      while (*i < s.size() && IsDigit(s[*i])) ++*i;
    }
  }
  return true;
}

// Offset date-time, local date-time, local date, local time.
bool IsDatetime(std::string_view s) {
  size_t i = 0;
  if (s.size() >= 3 && s[2] == ':') return ReadTime(s, &i) && i == s.size();
  if (!FixedDigits(s, &i, 4) || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!FixedDigits(s, &i, 2) || i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!FixedDigits(s, &i, 2)) return false;
  if (i == s.size()) return true;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
  ++i;
  if (!ReadTime(s, &i)) return false;
  if (i == s.size()) return true;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  if (!FixedDigits(s, &i, 2) || i >= s.size() || s[i] != ':') return false;
  ++i;
  return FixedDigits(s, &i, 2) && i == s.size();
}

std::string JoinKeys(const std::vector<std::string>& keys, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < keys.size(); ++i) {
    if (i > 0) out += '.';
    out += keys[i];
  }
  return out;
}

TomlValue NewTable(TomlValue::Origin origin, int line) {
  TomlValue t;
  t.type = TomlValue::Type::kTable;
  t.origin = origin;
  t.line = line;
  return t;
}

TomlValue* AddChild(TomlValue* table, std::string key, TomlValue value) {
  table->keys.push_back(std::move(key));
  table->items.push_back(std::move(value));
  return &table->items.back();
}

class TomlParser {
 public:
  TomlParser(std::string_view text, std::string_view file) : src_(text), file_(file) {}

  Result<TomlValue> Parse() {
    if (src_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte order mark
    TomlValue root = NewTable(TomlValue::Origin::kHeader, 1);
    TomlValue* current = &root;
    while (true) {
      SkipSpaces();
      if (AtEnd()) break;
      char c = Peek();
      if (c == '#' || AtNewline()) {
        FG_RETURN_IF_ERROR(ExpectLineEnd());
        continue;
      }
      int line = line_;
      if (c == '[') {
        ++pos_;
        bool array = Peek() == '[';
        if (array) ++pos_;
        std::vector<std::string> keys;
        FG_RETURN_IF_ERROR(ParseKey(&keys));
        if (Peek() != ']' || (array && Peek(1) != ']')) {
          if (Peek() == ']') ++pos_;
          return UnexpectedChar(array ? "expected `]]` to close the table header"
                                      : "expected `]` to close the table header");
        }
        pos_ += array ? 2 : 1;
        FG_ASSIGN_OR_RETURN(current, OpenTable(&root, keys, array, line));
      } else {
        std::vector<std::string> keys;
        FG_RETURN_IF_ERROR(ParseKey(&keys));
        if (Peek() != '=') return Error("expected `=`");
        ++pos_;
        SkipSpaces();
        TomlValue value;
        FG_RETURN_IF_ERROR(ParseValue(&value, 0));
        FG_RETURN_IF_ERROR(Insert(current, keys, std::move(value), line));
      }
      FG_RETURN_IF_ERROR(ExpectLineEnd());
    }
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= src_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool LookingAt(std::string_view s) const { return src_.substr(pos_).starts_with(s); }
  bool AtNewline() const { return Peek() == '\n' || (Peek() == '\r' && Peek(1) == '\n'); }
  void ConsumeNewline() {
    pos_ += Peek() == '\r' ? 2 : 1;
    ++line_;
  }

  Status Error(std::string_view msg) const { return ErrorAt(line_, msg); }
  Status ErrorAt(int line, std::string_view msg) const {
    std::string text(file_);
    text += ':';
    text += std::to_string(line);
    text += ": ";
    text += msg;
    return Status::InvalidArgument(text);
  }
  Status UnexpectedChar(std::string_view what) const {
    std::string msg(what);
    if (AtEnd()) {
      msg += ", found end of file";
    } else if (AtNewline()) {
      msg += ", found end of line";
    } else if (static_cast<unsigned char>(Peek()) >= 0x20 && Peek() != 0x7F) {
      msg += ", found `";
      msg += Peek();
      msg += '`';
    }
    return Error(msg);
  }

  void SkipSpaces() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  void SkipComment() {
    if (Peek() != '#') return;
    while (!AtEnd() && !AtNewline()) ++pos_;
  }
  // Spaces, comments and newlines, as allowed between array elements.
  void SkipBlank() {
    while (true) {
      SkipSpaces();
      SkipComment();
      if (!AtNewline()) return;
      ConsumeNewline();
    }
  }
  // After a key/value pair or a header: spaces, an optional comment, then a
  // newline or the end of the document.
  Status ExpectLineEnd() {
    SkipSpaces();
    SkipComment();
    if (AtEnd()) return Status::OK();
    if (!AtNewline()) return UnexpectedChar("expected a newline");
    ConsumeNewline();
    return Status::OK();
  }

  // key ( '.' key )*, with spaces around the dots; leaves trailing spaces consumed.
  Status ParseKey(std::vector<std::string>* keys) {
    while (true) {
      SkipSpaces();
      std::string key;
      char c = Peek();
      if (c == '"') {
        if (LookingAt("\"\"\"")) return Error("a key cannot be a multi-line string");
        FG_RETURN_IF_ERROR(ParseBasicString(&key));
      } else if (c == '\'') {
        if (LookingAt("'''")) return Error("a key cannot be a multi-line string");
        FG_RETURN_IF_ERROR(ParseLiteralString(&key));
      } else if (IsBareKeyChar(c)) {
        while (IsBareKeyChar(Peek())) key += src_[pos_++];
      } else {
        return UnexpectedChar("expected a key");
      }
      keys->push_back(std::move(key));
      SkipSpaces();
      if (Peek() != '.') return Status::OK();
      ++pos_;
    }
  }

  Status ParseValue(TomlValue* out, int depth) {
    if (depth > kMaxNesting) return Error("values nested too deeply");
    out->line = line_;
    out->origin = TomlValue::Origin::kValue;
    char c = Peek();
    if (c == '"') {
      out->type = TomlValue::Type::kString;
      if (LookingAt("\"\"\"")) return ParseMultilineBasicString(&out->text);
      return ParseBasicString(&out->text);
    }
    if (c == '\'') {
      out->type = TomlValue::Type::kString;
      if (LookingAt("'''")) return ParseMultilineLiteralString(&out->text);
      return ParseLiteralString(&out->text);
    }
    if (c == '[') return ParseArray(out, depth);
    if (c == '{') return ParseInlineTable(out, depth);
    return ParseScalar(out);
  }

  Status ParseEscape(std::string* out) {
    ++pos_;  // the backslash
    char c = Peek();
    int hex_digits = 0;
    switch (c) {
      case 'b': out->push_back('\b'); break;
      case 't': out->push_back('\t'); break;
      case 'n': out->push_back('\n'); break;
      case 'f': out->push_back('\f'); break;
      case 'r': out->push_back('\r'); break;
      case 'e': out->push_back('\x1B'); break;
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case 'x': hex_digits = 2; break;
      case 'u': hex_digits = 4; break;
      case 'U': hex_digits = 8; break;
      default: {
        if (AtEnd() || AtNewline()) return Error("unterminated escape sequence");
        std::string msg = "invalid escape sequence `\\";
        msg += c;
        msg += '`';
        return Error(msg);
      }
    }
    ++pos_;
    if (hex_digits == 0) return Status::OK();
    uint32_t cp = 0;
    for (int k = 0; k < hex_digits; ++k) {
      char h = Peek();
      if (!IsHexDigit(h)) {
        return Error(std::string("expected ") + std::to_string(hex_digits) + " hex digits in `\\" +
                     c + "` escape");
      }
      cp = cp * 16 + static_cast<uint32_t>(IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
      ++pos_;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Error("escape is not a Unicode scalar value");
    }
    AppendUtf8(cp, out);
    return Status::OK();
  }

  Status ParseBasicString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (AtEnd() || AtNewline() || Peek() == '\n') return Error("unterminated string");
      char c = Peek();
      if (c == '"') {
        ++pos_;
        return Status::OK();
      }
      if (c == '\\') {
        FG_RETURN_IF_ERROR(ParseEscape(out));
      } else {
        out->push_back(c);
        ++pos_;
      }
    }
  }

  Status ParseLiteralString(std::string* out) {
    ++pos_;
    while (true) {
      if (AtEnd() || AtNewline() || Peek() == '\n') return Error("unterminated string");
      char c = src_[pos_++];
      if (c == '\'') return Status::OK();
      out->push_back(c);
    }
  }

  // Handles the closing run of a multi-line string: up to two extra quotes
  // belong to the content. Returns true when the string ended.
  bool CloseMultiline(char quote, std::string* out) {
    size_t run = 0;
    while (Peek(run) == quote) ++run;
    if (run < 3) {
      out->append(run, quote);
      pos_ += run;
      return false;
    }
    size_t extra = run > 5 ? 2 : run - 3;
    out->append(extra, quote);
    pos_ += 3 + extra;
    return true;
  }

  void SkipNewlineAfterOpening() {
    if (AtNewline()) ConsumeNewline();
  }

  Status ParseMultilineBasicString(std::string* out) {
    int start_line = line_;
    pos_ += 3;
    SkipNewlineAfterOpening();
    while (true) {
      if (AtEnd()) return ErrorAt(start_line, "unterminated multi-line string");
      char c = Peek();
      if (c == '"') {
        if (CloseMultiline('"', out)) {
          if (Peek() == '"') return Error("too many quotes closing a multi-line string");
          return Status::OK();
        }
      } else if (c == '\\') {
        // A backslash ending a line trims the newline and the following blanks.
        size_t look = 1;
        while (Peek(look) == ' ' || Peek(look) == '\t') ++look;
        if (Peek(look) == '\n' || (Peek(look) == '\r' && Peek(look + 1) == '\n')) {
          pos_ += look;
          while (Peek() == ' ' || Peek() == '\t' || AtNewline()) {
            if (AtNewline()) {
              ConsumeNewline();
            } else {
              ++pos_;
            }
          }
        } else {
          FG_RETURN_IF_ERROR(ParseEscape(out));
        }
      } else if (AtNewline()) {
        ConsumeNewline();
        out->push_back('\n');
      } else {
        out->push_back(c);
        ++pos_;
      }
    }
  }

  Status ParseMultilineLiteralString(std::string* out) {
    int start_line = line_;
    pos_ += 3;
    SkipNewlineAfterOpening();
    while (true) {
      if (AtEnd()) return ErrorAt(start_line, "unterminated multi-line string");
      if (Peek() == '\'') {
        if (CloseMultiline('\'', out)) {
          if (Peek() == '\'') return Error("too many quotes closing a multi-line string");
          return Status::OK();
        }
      } else if (AtNewline()) {
        ConsumeNewline();
        out->push_back('\n');
      } else {
        out->push_back(src_[pos_++]);
      }
    }
  }

  Status ParseArray(TomlValue* out, int depth) {
    out->type = TomlValue::Type::kArray;
    ++pos_;  // '['
    while (true) {
      SkipBlank();
      if (Peek() == ']') {
        ++pos_;
        return Status::OK();
      }
      if (AtEnd()) return Error("unterminated array");
      TomlValue element;
      FG_RETURN_IF_ERROR(ParseValue(&element, depth + 1));
      out->items.push_back(std::move(element));
      SkipBlank();
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != ']') {
        return UnexpectedChar("expected `,` or `]` in array");
      }
    }
  }

  Status ParseInlineTable(TomlValue* out, int depth) {
    out->type = TomlValue::Type::kTable;
    int line = line_;
    ++pos_;  // '{'
    while (true) {
      SkipBlank();
      if (Peek() == '}') break;
      if (AtEnd()) return ErrorAt(line, "unterminated inline table");
      std::vector<std::string> keys;
      int key_line = line_;
      FG_RETURN_IF_ERROR(ParseKey(&keys));
      if (Peek() != '=') return Error("expected `=`");
      ++pos_;
      SkipSpaces();
      TomlValue value;
      FG_RETURN_IF_ERROR(ParseValue(&value, depth + 1));
      FG_RETURN_IF_ERROR(Insert(out, keys, std::move(value), key_line));
      SkipBlank();
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != '}') {
        return UnexpectedChar("expected `,` or `}` in inline table");
      }
    }
    ++pos_;                                   // '}'
    out->origin = TomlValue::Origin::kValue;  // frozen
    out->line = line;
    return Status::OK();
  }

  Status ParseScalar(TomlValue* out) {
    size_t start = pos_;
    while (IsScalarChar(Peek())) ++pos_;
    // A local date followed by " HH:" continues as a date-time.
    if (pos_ - start == 10 && IsDatetime(src_.substr(start, 10)) && Peek() == ' ' &&
        IsDigit(Peek(1)) && IsDigit(Peek(2)) && Peek(3) == ':') {
      ++pos_;
      while (IsScalarChar(Peek())) ++pos_;
    }
    std::string_view token = src_.substr(start, pos_ - start);
    if (token.empty()) return UnexpectedChar("expected a value");
    out->text = std::string(token);
    if (token == "true" || token == "false") {
      out->type = TomlValue::Type::kBoolean;
    } else if (IsInteger(token)) {
      out->type = TomlValue::Type::kInteger;
    } else if (IsFloat(token)) {
      out->type = TomlValue::Type::kFloat;
    } else if (IsDatetime(token)) {
      out->type = TomlValue::Type::kDatetime;
    } else {
      std::string msg = "invalid value `";
      msg += token;
      msg += '`';
      if (IsBareKeyChar(token[0]) && !IsDigit(token[0]) && token[0] != '-' && token != "inf" &&
          token != "nan") {
        msg += " (strings must be quoted)";
      }
      return ErrorAt(out->line, msg);
    }
    return Status::OK();
  }

  // Sets `keys` = value inside `table`, creating the dotted-key tables.
  Status Insert(TomlValue* table, const std::vector<std::string>& keys, TomlValue value, int line) {
    for (size_t i = 0; i + 1 < keys.size(); ++i) {
      TomlValue* child = table->Find(keys[i]);
      if (child == nullptr) {
        child = AddChild(table, keys[i], NewTable(TomlValue::Origin::kDotted, line));
      } else if (!child->is_table() || child->origin != TomlValue::Origin::kDotted) {
        return ErrorAt(line, "cannot add keys to `" + JoinKeys(keys, i + 1) +
                                 "`: it is already defined elsewhere");
      }
      table = child;
    }
    if (table->Find(keys.back()) != nullptr) {
      return ErrorAt(line, "duplicate key `" + JoinKeys(keys, keys.size()) + "`");
    }
    AddChild(table, keys.back(), std::move(value));
    return Status::OK();
  }

  // Finds or creates the table a [header] or [[header]] names.
  Result<TomlValue*> OpenTable(TomlValue* root, const std::vector<std::string>& keys, bool array,
                               int line) {
    TomlValue* table = root;
    for (size_t i = 0; i + 1 < keys.size(); ++i) {
      TomlValue* child = table->Find(keys[i]);
      if (child == nullptr) {
        child = AddChild(table, keys[i], NewTable(TomlValue::Origin::kImplicit, line));
      } else if (child->is_array() && child->origin == TomlValue::Origin::kArrayOfTables) {
        child = &child->items.back();
      } else if (!child->is_table() || child->origin == TomlValue::Origin::kValue) {
        return ErrorAt(line, "cannot define a table inside `" + JoinKeys(keys, i + 1) +
                                 "`: it is already defined as a value");
      }
      table = child;
    }
    const std::string& last = keys.back();
    std::string name = JoinKeys(keys, keys.size());
    TomlValue* existing = table->Find(last);
    if (array) {
      if (existing == nullptr) {
        TomlValue list;
        list.type = TomlValue::Type::kArray;
        list.origin = TomlValue::Origin::kArrayOfTables;
        list.line = line;
        existing = AddChild(table, last, std::move(list));
      } else if (!existing->is_array() || existing->origin != TomlValue::Origin::kArrayOfTables) {
        return ErrorAt(line, "`" + name + "` is already defined and is not an array of tables");
      }
      existing->items.push_back(NewTable(TomlValue::Origin::kHeader, line));
      return &existing->items.back();
    }
    if (existing == nullptr) {
      return AddChild(table, last, NewTable(TomlValue::Origin::kHeader, line));
    }
    if (existing->is_table() && existing->origin == TomlValue::Origin::kImplicit) {
      existing->origin = TomlValue::Origin::kHeader;
      existing->line = line;
      return existing;
    }
    return ErrorAt(line, "table `" + name + "` is defined twice");
  }

  std::string_view src_;
  std::string_view file_;
  size_t pos_ = 0;
  int line_ = 1;
};

// ---------------------------------------------------------------------------
// Cargo manifest extraction.

class ManifestReader {
 public:
  explicit ManifestReader(std::string_view file) : file_(file) {}

  Status Read(const TomlValue& doc, CargoManifest* m) {
    const TomlValue* package = doc.Find("package");
    if (package == nullptr) package = doc.Find("project");  // legacy spelling
    if (package != nullptr) {
      FG_RETURN_IF_ERROR(ExpectTable(*package, "package"));
      m->package.emplace();
      FG_RETURN_IF_ERROR(ReadPackage(*package, &*m->package));
    }
    if (const TomlValue* lib = doc.Find("lib")) {
      FG_RETURN_IF_ERROR(ExpectTable(*lib, "lib"));
      m->lib.emplace();
      FG_RETURN_IF_ERROR(ReadTarget(*lib, "lib", &*m->lib));
    }
    FG_RETURN_IF_ERROR(ReadTargets(doc, "bin", &m->bins));
    FG_RETURN_IF_ERROR(ReadTargets(doc, "example", &m->examples));
    FG_RETURN_IF_ERROR(ReadTargets(doc, "test", &m->tests));
    FG_RETURN_IF_ERROR(ReadTargets(doc, "bench", &m->benches));
    if (const TomlValue* ws = doc.Find("workspace")) {
      FG_RETURN_IF_ERROR(ExpectTable(*ws, "workspace"));
      m->workspace.emplace();
      FG_RETURN_IF_ERROR(ReadWorkspace(*ws, &*m->workspace));
    }
    FG_RETURN_IF_ERROR(ReadDependencyTables(doc, "", "", &m->dependencies));
    if (const TomlValue* features = doc.Find("features")) {
      FG_RETURN_IF_ERROR(ReadFeatures(*features, &m->features));
    }
    if (const TomlValue* targets = doc.Find("target")) {
      FG_RETURN_IF_ERROR(ExpectTable(*targets, "target"));
      for (size_t i = 0; i < targets->keys.size(); ++i) {
        std::string where = "target." + targets->keys[i];
        FG_RETURN_IF_ERROR(ExpectTable(targets->items[i], where));
        FG_RETURN_IF_ERROR(ReadDependencyTables(targets->items[i], targets->keys[i], where + ".",
                                                &m->dependencies));
      }
    }
    return Status::OK();
  }

 private:
  Status TypeError(const TomlValue& v, std::string_view where, std::string_view expected) const {
    std::string msg(file_);
    msg += ':';
    msg += std::to_string(v.line);
    msg += ": `";
    msg += where;
    msg += "` must be ";
    msg += expected;
    msg += ", found ";
    msg += TomlTypeName(v.type);
    return Status::InvalidArgument(msg);
  }
  Status ExpectTable(const TomlValue& v, std::string_view where) const {
    return v.is_table() ? Status::OK() : TypeError(v, where, "a table");
  }

  static std::string Join(std::string_view a, std::string_view b) {
    std::string s(a);
    s += '.';
    s += b;
    return s;
  }

  Status GetString(const TomlValue& table, std::string_view key, std::string_view where,
                   std::optional<std::string>* out) const {
    const TomlValue* v = table.Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_string()) return TypeError(*v, Join(where, key), "a string");
    *out = v->text;
    return Status::OK();
  }

  Status GetBool(const TomlValue& table, std::string_view key, std::string_view where,
                 std::optional<bool>* out) const {
    const TomlValue* v = table.Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_bool()) return TypeError(*v, Join(where, key), "a boolean");
    *out = v->as_bool();
    return Status::OK();
  }

  Status GetStringArray(const TomlValue& table, std::string_view key, std::string_view where,
                        std::vector<std::string>* out) const {
    const TomlValue* v = table.Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_array()) return TypeError(*v, Join(where, key), "an array of strings");
    for (const TomlValue& item : v->items) {
      if (!item.is_string()) return TypeError(item, Join(where, key), "an array of strings");
      out->push_back(item.text);
    }
    return Status::OK();
  }

  // A string, or `{ workspace = true }` (inherited from [workspace.package]).
  Status GetInheritableString(const TomlValue& table, std::string_view key, std::string_view where,
                              std::optional<std::string>* out, bool* inherited) const {
    const TomlValue* v = table.Find(key);
    if (v == nullptr) return Status::OK();
    if (v->is_string()) {
      *out = v->text;
      return Status::OK();
    }
    if (v->is_table()) {
      std::optional<bool> ws;
      FG_RETURN_IF_ERROR(GetBool(*v, "workspace", Join(where, key), &ws));
      if (ws.value_or(false)) {
        *inherited = true;
        return Status::OK();
      }
    }
    return TypeError(*v, Join(where, key), "a string or `{ workspace = true }`");
  }

  Status ReadPackage(const TomlValue& t, CargoPackageSpec* p) const {
    p->line = t.line;
    const TomlValue* name = t.Find("name");
    if (name == nullptr) {
      return Status::InvalidArgument(std::string(file_) + ":" + std::to_string(t.line) +
                                     ": missing `package.name`");
    }
    if (!name->is_string()) return TypeError(*name, "package.name", "a string");
    if (name->text.empty()) {
      return Status::InvalidArgument(std::string(file_) + ":" + std::to_string(name->line) +
                                     ": `package.name` is empty");
    }
    p->name = name->text;
    FG_RETURN_IF_ERROR(
        GetInheritableString(t, "version", "package", &p->version, &p->version_from_workspace));
    FG_RETURN_IF_ERROR(
        GetInheritableString(t, "edition", "package", &p->edition, &p->edition_from_workspace));
    if (const TomlValue* ws = t.Find("workspace")) {
      if (!ws->is_string()) return TypeError(*ws, "package.workspace", "a string");
      p->workspace = ws->text;
    }
    FG_RETURN_IF_ERROR(GetBool(t, "autolib", "package", &p->autolib));
    FG_RETURN_IF_ERROR(GetBool(t, "autobins", "package", &p->autobins));
    FG_RETURN_IF_ERROR(GetBool(t, "autoexamples", "package", &p->autoexamples));
    FG_RETURN_IF_ERROR(GetBool(t, "autotests", "package", &p->autotests));
    FG_RETURN_IF_ERROR(GetBool(t, "autobenches", "package", &p->autobenches));
    return Status::OK();
  }

  Status ReadTarget(const TomlValue& t, std::string_view where, CargoTargetSpec* out) const {
    out->line = t.line;
    FG_RETURN_IF_ERROR(GetString(t, "name", where, &out->name));
    FG_RETURN_IF_ERROR(GetString(t, "path", where, &out->path));
    return Status::OK();
  }

  Status ReadTargets(const TomlValue& doc, std::string_view key,
                     std::vector<CargoTargetSpec>* out) const {
    const TomlValue* list = doc.Find(key);
    if (list == nullptr) return Status::OK();
    if (!list->is_array()) return TypeError(*list, key, "an array of tables");
    for (const TomlValue& item : list->items) {
      if (!item.is_table()) return TypeError(item, key, "an array of tables");
      CargoTargetSpec spec;
      FG_RETURN_IF_ERROR(ReadTarget(item, key, &spec));
      out->push_back(std::move(spec));
    }
    return Status::OK();
  }

  Status ReadWorkspace(const TomlValue& t, CargoWorkspaceSpec* w) const {
    w->line = t.line;
    FG_RETURN_IF_ERROR(GetStringArray(t, "members", "workspace", &w->members));
    FG_RETURN_IF_ERROR(GetStringArray(t, "exclude", "workspace", &w->exclude));
    FG_RETURN_IF_ERROR(GetStringArray(t, "default-members", "workspace", &w->default_members));
    if (const TomlValue* package = t.Find("package")) {
      FG_RETURN_IF_ERROR(ExpectTable(*package, "workspace.package"));
      FG_RETURN_IF_ERROR(GetString(*package, "version", "workspace.package", &w->package_version));
      FG_RETURN_IF_ERROR(GetString(*package, "edition", "workspace.package", &w->package_edition));
    }
    if (const TomlValue* deps = t.Find("dependencies")) {
      FG_RETURN_IF_ERROR(ReadDependencies(*deps, DependencyKind::kNormal, "",
                                          "workspace.dependencies", &w->dependencies));
    }
    return Status::OK();
  }

  Status ReadFeatures(const TomlValue& t, std::vector<CargoFeature>* out) const {
    FG_RETURN_IF_ERROR(ExpectTable(t, "features"));
    for (size_t i = 0; i < t.keys.size(); ++i) {
      CargoFeature feature;
      feature.name = t.keys[i];
      feature.line = t.items[i].line;
      FG_RETURN_IF_ERROR(GetStringArray(t, t.keys[i], "features", &feature.enables));
      out->push_back(std::move(feature));
    }
    return Status::OK();
  }

  Status ReadDependencyTables(const TomlValue& t, const std::string& target,
                              const std::string& prefix, std::vector<CargoDependency>* out) const {
    static constexpr std::pair<const char*, DependencyKind> kTables[] = {
        {"dependencies", DependencyKind::kNormal},
        {"dev-dependencies", DependencyKind::kDev},
        {"dev_dependencies", DependencyKind::kDev},
        {"build-dependencies", DependencyKind::kBuild},
        {"build_dependencies", DependencyKind::kBuild},
    };
    for (const auto& [key, kind] : kTables) {
      if (const TomlValue* deps = t.Find(key)) {
        FG_RETURN_IF_ERROR(ReadDependencies(*deps, kind, target, prefix + key, out));
      }
    }
    return Status::OK();
  }

  Status ReadDependencies(const TomlValue& t, DependencyKind kind, const std::string& target,
                          const std::string& where, std::vector<CargoDependency>* out) const {
    FG_RETURN_IF_ERROR(ExpectTable(t, where));
    for (size_t i = 0; i < t.keys.size(); ++i) {
      const TomlValue& v = t.items[i];
      std::string dep_where = Join(where, t.keys[i]);
      CargoDependency dep;
      dep.key = t.keys[i];
      dep.package = t.keys[i];
      dep.kind = kind;
      dep.target = target;
      dep.line = v.line;
      if (v.is_string()) {
        dep.version = v.text;
      } else if (v.is_table()) {
        std::optional<std::string> package;
        FG_RETURN_IF_ERROR(GetString(v, "package", dep_where, &package));
        if (package) dep.package = *package;
        FG_RETURN_IF_ERROR(GetString(v, "version", dep_where, &dep.version));
        FG_RETURN_IF_ERROR(GetString(v, "path", dep_where, &dep.path));
        std::optional<bool> flag;
        FG_RETURN_IF_ERROR(GetBool(v, "optional", dep_where, &flag));
        dep.optional = flag.value_or(false);
        flag.reset();
        FG_RETURN_IF_ERROR(GetBool(v, "workspace", dep_where, &flag));
        dep.workspace = flag.value_or(false);
      } else {
        return TypeError(v, dep_where, "a version string or a table");
      }
      out->push_back(std::move(dep));
    }
    return Status::OK();
  }

  std::string_view file_;
};

// The worklist behind ResolveFeatures. Views point into the manifest and the
// request, which outlive it.
class FeatureResolver {
 public:
  explicit FeatureResolver(const CargoManifest& m) {
    for (const CargoFeature& f : m.features) {
      explicit_.emplace(f.name, &f);
      for (const std::string& entry : f.enables) {
        if (entry.starts_with("dep:")) dep_syntax_.insert(std::string_view(entry).substr(4));
      }
    }
    for (const CargoDependency& d : m.dependencies) {
      dependencies_.insert(d.key);
      if (d.optional && d.kind != DependencyKind::kDev) optional_.insert(d.key);
    }
  }

  // Enables `entry` (any [features] entry syntax) and what it implies.
  void Enable(std::string_view entry) {
    pending_.push_back(entry);
    while (!pending_.empty()) {
      std::string_view e = pending_.back();
      pending_.pop_back();
      Process(e);
    }
  }

  void EnableAll() {
    for (const auto& [name, feature] : explicit_) Enable(name);
    for (std::string_view dep : optional_) {
      if (HasImplicitFeature(dep)) Enable(dep);
    }
  }

  CargoFeatureSet Finish() && {
    CargoFeatureSet out;
    out.features.assign(features_.begin(), features_.end());
    out.optional_dependencies.assign(enabled_deps_.begin(), enabled_deps_.end());
    out.unknown = std::move(unknown_);
    return out;
  }

  bool HasExplicit(std::string_view name) const { return explicit_.contains(name); }

 private:
  bool HasImplicitFeature(std::string_view dep) const {
    return optional_.contains(dep) && !dep_syntax_.contains(dep) && !explicit_.contains(dep);
  }

  void EnableDependency(std::string_view dep) {
    enabled_deps_.emplace(dep);
    if (HasImplicitFeature(dep)) features_.emplace(dep);
  }

  void Unknown(std::string_view entry) {
    for (const std::string& u : unknown_) {
      if (u == entry) return;
    }
    unknown_.emplace_back(entry);
  }

  void Process(std::string_view entry) {
    if (entry.starts_with("dep:")) {
      std::string_view dep = entry.substr(4);
      if (optional_.contains(dep)) {
        enabled_deps_.emplace(dep);
      } else {
        Unknown(entry);
      }
      return;
    }
    if (size_t slash = entry.find('/'); slash != std::string_view::npos) {
      std::string_view dep = entry.substr(0, slash);
      bool weak = dep.ends_with('?');
      if (weak) dep.remove_suffix(1);
      if (!dependencies_.contains(dep)) {
        Unknown(entry);
      } else if (!weak && optional_.contains(dep)) {
        EnableDependency(dep);
      }
      return;
    }
    if (auto it = explicit_.find(entry); it != explicit_.end()) {
      if (features_.emplace(entry).second) {
        for (const std::string& e : it->second->enables) pending_.push_back(e);
      }
      return;
    }
    if (HasImplicitFeature(entry)) {
      EnableDependency(entry);
      return;
    }
    Unknown(entry);
  }

  std::map<std::string_view, const CargoFeature*> explicit_;
  std::set<std::string_view> dep_syntax_;    // x of every `dep:x` entry
  std::set<std::string_view> dependencies_;  // every dependency key
  std::set<std::string_view> optional_;      // optional normal/build dependency keys
  std::set<std::string, std::less<>> features_;
  std::set<std::string, std::less<>> enabled_deps_;
  std::vector<std::string> unknown_;
  std::vector<std::string_view> pending_;
};

}  // namespace

CargoFeatureSet ResolveFeatures(const CargoManifest& manifest, const CargoFeatureRequest& request) {
  FeatureResolver resolver(manifest);
  if (request.all_features) resolver.EnableAll();
  if (request.default_features && resolver.HasExplicit("default")) resolver.Enable("default");
  for (const std::string& f : request.features) resolver.Enable(f);
  return std::move(resolver).Finish();
}

Result<TomlValue> ParseToml(std::string_view text, std::string_view file_name) {
  return TomlParser(text, file_name).Parse();
}

Result<CargoManifest> ParseCargoManifest(std::string_view text, std::string_view file_name) {
  FG_ASSIGN_OR_RETURN(TomlValue doc, ParseToml(text, file_name));
  CargoManifest manifest;
  FG_RETURN_IF_ERROR(ManifestReader(file_name).Read(doc, &manifest));
  return manifest;
}

}  // namespace ferrograph
