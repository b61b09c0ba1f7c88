#include "ferrograph/config.h"

#include <toml++/toml.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

// Where a value came from, for error messages: "FILE:LINE: key a.b".
std::string Where(const std::string& file, const toml::node& node, const std::string& key) {
  return file + ":" + std::to_string(node.source().begin.line) + ": key " + key;
}

const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date or time";
    default: return "nothing";
  }
}

Status WrongType(const std::string& file, const toml::node& node, const std::string& key,
                 const char* want) {
  return Status::InvalidArgument(Where(file, node, key) + ": expected " + want + ", got " +
                                 TypeName(node));
}

// One file's values, applied over `config` as they are read.
class FileReader {
 public:
  FileReader(std::string file, Config* config) : file_(std::move(file)), config_(config) {}

  Status Apply(const toml::table& root, bool project) {
    for (auto&& [k, v] : root) {
      const std::string key(k.str());
      if (key == "embeddings") {
        const toml::table* t = v.as_table();
        if (t == nullptr) return WrongType(file_, v, key, "a table");
        for (auto&& [k2, v2] : *t) {
          const std::string key2 = key + "." + std::string(k2.str());
          if (key2 != "embeddings.openai") return Unknown(v2, key2);
          FG_RETURN_IF_ERROR(Section(v2, key2));
        }
        continue;
      }
      if (key == "models" && project) {
        return Status::InvalidArgument(
            Where(file_, v, key) +
            ": [models] is read from the user's config and the environment only (a project's "
            "files may not vouch for its own models)");
      }
      if (key != "models" && key != "index" && key != "llm" && key != "context") {
        return Unknown(v, key);
      }
      FG_RETURN_IF_ERROR(Section(v, key));
    }
    return Status::OK();
  }

 private:
  Status Unknown(const toml::node& node, const std::string& key) {
    return Status::InvalidArgument(Where(file_, node, key) + ": unknown key (see the README, " +
                                   "\"Configuration\", for the keys)");
  }

  Status Section(const toml::node& node, const std::string& name) {
    const toml::table* t = node.as_table();
    if (t == nullptr) return WrongType(file_, node, name, "a table");
    for (auto&& [k, v] : *t) {
      const std::string field(k.str());
      const std::string key = name + "." + field;
      FG_RETURN_IF_ERROR(Field(name, field, v, key));
    }
    return Status::OK();
  }

  Status Field(const std::string& section, const std::string& field, const toml::node& v,
               const std::string& key) {
    Config& c = *config_;
    if (section == "models") {
      if (field == "allow_unsigned") return Bool(v, key, &c.models.allow_unsigned);
      if (field == "trusted_keys") return Strings(v, key, &c.models.trusted_keys);
    } else if (section == "index") {
      if (field == "embedders") return Strings(v, key, &c.index.embedders);
      if (field == "jobs") return Int(v, key, 0, 1024, &c.index.jobs);
    } else if (section == "llm") {
      if (field == "base_url") return String(v, key, &c.llm.base_url);
      if (field == "model") return String(v, key, &c.llm.model);
      if (field == "api_key_env") return String(v, key, &c.llm.api_key_env);
      if (field == "timeout_seconds") return Int(v, key, 1, 86400, &c.llm.timeout_seconds);
      if (field == "max_retries") return Int(v, key, 0, 100, &c.llm.max_retries);
    } else if (section == "embeddings.openai") {
      if (field == "base_url") return String(v, key, &c.openai_embeddings.base_url);
      if (field == "model") return String(v, key, &c.openai_embeddings.model);
      if (field == "api_key_env") return String(v, key, &c.openai_embeddings.api_key_env);
    } else if (section == "context") {
      if (field == "default_budget")
        return Int(v, key, 1, std::numeric_limits<int>::max(), &c.context.default_budget);
      if (field == "model") return String(v, key, &c.context.model);
    }
    return Unknown(v, key);
  }

  Status Bool(const toml::node& v, const std::string& key, bool* out) {
    const auto* b = v.as_boolean();
    if (b == nullptr) return WrongType(file_, v, key, "a boolean");
    *out = b->get();
    return Status::OK();
  }
  Status String(const toml::node& v, const std::string& key, std::string* out) {
    const auto* s = v.as_string();
    if (s == nullptr) return WrongType(file_, v, key, "a string");
    *out = s->get();
    return Status::OK();
  }
  Status Int(const toml::node& v, const std::string& key, int64_t lo, int64_t hi, int* out) {
    const auto* i = v.as_integer();
    if (i == nullptr) return WrongType(file_, v, key, "an integer");
    if (i->get() < lo || i->get() > hi) {
      return Status::InvalidArgument(Where(file_, v, key) + ": " + std::to_string(i->get()) +
                                     " is out of range (" + std::to_string(lo) + " to " +
                                     std::to_string(hi) + ")");
    }
    *out = static_cast<int>(i->get());
    return Status::OK();
  }
  Status Strings(const toml::node& v, const std::string& key, std::vector<std::string>* out) {
    const toml::array* a = v.as_array();
    if (a == nullptr) return WrongType(file_, v, key, "an array of strings");
    std::vector<std::string> values;
    for (const toml::node& e : *a) {
      const auto* s = e.as_string();
      if (s == nullptr) return WrongType(file_, e, key, "an array of strings");
      values.push_back(s->get());
    }
    *out = std::move(values);
    return Status::OK();
  }

  std::string file_;
  Config* config_;
};

// The file's text; nullopt when it does not exist.
Result<std::optional<std::string>> ReadIfExists(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return Status::IOError(path + ": " + ec.message());
    }
    return std::optional<std::string>();
  }
  if (fs::is_directory(path, ec)) return Status::IOError(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot read: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return std::optional<std::string>(text.str());
}

Result<std::optional<toml::table>> ParseFile(const std::string& path) {
  FG_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadIfExists(path));
  if (!text) return std::optional<toml::table>();
  try {
    return std::optional<toml::table>(toml::parse(*text, path));
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ":" +
                                   std::to_string(e.source().begin.column) +
                                   ": not valid TOML: " + std::string(e.description()));
  }
}

Status ApplyFile(const std::string& path, bool project, Config* config) {
  if (path.empty()) return Status::OK();
  FG_ASSIGN_OR_RETURN(std::optional<toml::table> root, ParseFile(path));
  if (!root) return Status::OK();
  FG_RETURN_IF_ERROR(FileReader(path, config).Apply(*root, project));
  config->sources.push_back(path);
  return Status::OK();
}

// "a, b,,c " -> {"a","b","c"}.
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream in(text);
  while (std::getline(in, item, ',')) {
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Status ApplyEnv(const ConfigEnv& env, Config* c) {
  if (!env) return Status::OK();
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* v = env(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  auto set_string = [&](const char* name, std::string* out) {
    if (auto v = get(name)) *out = *v;
  };
  auto set_int = [&](const char* name, int64_t lo, int64_t hi, int* out) -> Status {
    auto v = get(name);
    if (!v) return Status::OK();
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (errno != 0 || end == v->c_str() || *end != '\0' || n < lo || n > hi) {
      return Status::InvalidArgument(std::string("environment variable ") + name + "=" + *v +
                                     ": expected an integer from " + std::to_string(lo) + " to " +
                                     std::to_string(hi));
    }
    *out = static_cast<int>(n);
    return Status::OK();
  };
  if (auto v = get("FERROGRAPH_ALLOW_UNSIGNED_MODELS")) {
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") {
      c->models.allow_unsigned = true;
    } else if (*v == "0" || *v == "false" || *v == "no" || *v == "off") {
      c->models.allow_unsigned = false;
    } else {
      return Status::InvalidArgument("environment variable FERROGRAPH_ALLOW_UNSIGNED_MODELS=" + *v +
                                     ": expected 1 or 0 (true/false, yes/no, on/off)");
    }
  }
  if (auto v = get("FERROGRAPH_TRUSTED_KEYS")) c->models.trusted_keys = SplitList(*v);
  if (auto v = get("FERROGRAPH_EMBEDDERS")) c->index.embedders = SplitList(*v);
  FG_RETURN_IF_ERROR(set_int("FERROGRAPH_JOBS", 0, 1024, &c->index.jobs));
  set_string("FERROGRAPH_LLM_BASE_URL", &c->llm.base_url);
  set_string("FERROGRAPH_LLM_MODEL", &c->llm.model);
  set_string("FERROGRAPH_LLM_API_KEY_ENV", &c->llm.api_key_env);
  FG_RETURN_IF_ERROR(set_int("FERROGRAPH_LLM_TIMEOUT_SECONDS", 1, 86400, &c->llm.timeout_seconds));
  FG_RETURN_IF_ERROR(set_int("FERROGRAPH_LLM_MAX_RETRIES", 0, 100, &c->llm.max_retries));
  set_string("FERROGRAPH_OPENAI_BASE_URL", &c->openai_embeddings.base_url);
  set_string("FERROGRAPH_OPENAI_MODEL", &c->openai_embeddings.model);
  set_string("FERROGRAPH_OPENAI_API_KEY_ENV", &c->openai_embeddings.api_key_env);
  FG_RETURN_IF_ERROR(set_int("FERROGRAPH_CONTEXT_BUDGET", 1, std::numeric_limits<int>::max(),
                             &c->context.default_budget));
  set_string("FERROGRAPH_CONTEXT_MODEL", &c->context.model);
  return Status::OK();
}

// A TOML basic string: "..." with \ and " escaped, control characters as \uXXXX.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return Status::IOError(parent.string() + ": cannot create: " + ec.message());
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::IOError(tmp + ": cannot write");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IOError(path + ": cannot write: " + ec.message());
  }
  return Status::OK();
}

// Byte offset of (line, column), both 1-based, in `text`; npos when outside.
size_t Offset(const std::string& text, uint32_t line, uint32_t column) {
  size_t pos = 0;
  for (uint32_t l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return std::string::npos;
    ++pos;
  }
  // Columns count code points; the lines this edits start with ASCII.
  pos += column - 1;
  return pos <= text.size() ? pos : std::string::npos;
}

}  // namespace

ConfigEnv ProcessEnv() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

std::string UserConfigDir(const ConfigEnv& env) {
  const char* xdg = env ? env("XDG_CONFIG_HOME") : nullptr;
  if (xdg != nullptr && xdg[0] == '/') return (fs::path(xdg) / "ferrograph").string();
  const char* home = env ? env("HOME") : nullptr;
  if (home != nullptr && home[0] != '\0')
    return (fs::path(home) / ".config" / "ferrograph").string();
  return "";
}

std::string ProjectConfigFile(const std::string& project_dir) {
  return (fs::path(project_dir) / ".ferrograph" / "config.toml").string();
}

Result<Config> LoadConfig(const std::string& project_dir) {
  ConfigSources sources;
  sources.env = ProcessEnv();
  std::string user_dir = UserConfigDir(sources.env);
  if (!user_dir.empty()) sources.user_file = (fs::path(user_dir) / "config.toml").string();
  if (!project_dir.empty()) sources.project_file = ProjectConfigFile(project_dir);
  return LoadConfig(sources);
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  FG_RETURN_IF_ERROR(ApplyFile(sources.user_file, /*project=*/false, &config));
  if (!sources.project_file.empty() && sources.project_file != sources.user_file) {
    FG_RETURN_IF_ERROR(ApplyFile(sources.project_file, /*project=*/true, &config));
  }
  FG_RETURN_IF_ERROR(ApplyEnv(sources.env, &config));
  return config;
}

Status AddTrustedKey(const std::string& path, const std::string& public_key) {
  FG_ASSIGN_OR_RETURN(std::optional<std::string> existing, ReadIfExists(path));
  const std::string line = "trusted_keys = [" + TomlString(public_key) + "]";
  if (!existing) {
    return WriteFileAtomically(path,
                               "# ferrograph configuration (see the README, "
                               "\"Configuration\").\n\n[models]\n" +
                                   line + "\n");
  }
  std::string text = *existing;
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) +
                                   ": not valid TOML: " + std::string(e.description()) +
                                   "; not adding the key");
  }
  const std::string by_hand = "; add the key by hand: [models] " + line;
  toml::node* models = root.get("models");
  if (models == nullptr) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "\n[models]\n" + line + "\n";
    return WriteFileAtomically(path, text);
  }
  toml::table* table = models->as_table();
  if (table == nullptr) {
    return Status::InvalidArgument(Where(path, *models, "models") + ": not a table" + by_hand);
  }
  toml::node* keys = table->get("trusted_keys");
  if (keys == nullptr) {
    // Only a [models] header line is edited: the new key goes right below it.
    const uint32_t header = models->source().begin.line;
    size_t start = Offset(text, header, 1);
    size_t eol = start == std::string::npos ? std::string::npos : text.find('\n', start);
    std::string header_text =
        start == std::string::npos
            ? ""
            : text.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    size_t b = header_text.find_first_not_of(" \t");
    if (table->is_inline() || b == std::string::npos || header_text.compare(b, 1, "[") != 0 ||
        header_text.find("models") == std::string::npos) {
      return Status::InvalidArgument(path + ": [models] is not a plain table" + by_hand);
    }
    if (eol == std::string::npos) {
      text += "\n" + line + "\n";
    } else {
      text.insert(eol + 1, line + "\n");
    }
  } else {
    toml::array* array = keys->as_array();
    if (array == nullptr) return WrongType(path, *keys, "models.trusted_keys", "an array");
    for (const toml::node& e : *array) {
      if (const auto* s = e.as_string(); s != nullptr && s->get() == public_key) {
        return Status::OK();
      }
    }
    // Insert the key first in the array, right after its '['.
    size_t open = Offset(text, keys->source().begin.line, keys->source().begin.column);
    if (open == std::string::npos || text[open] != '[') {
      return Status::InvalidArgument(path + ": cannot edit models.trusted_keys" + by_hand);
    }
    text.insert(open + 1, TomlString(public_key) + (array->empty() ? "" : ", "));
  }
  // Check the edit before it replaces the file.
  try {
    toml::table edited = toml::parse(text, path);
    const toml::array* a = edited["models"]["trusted_keys"].as_array();
    bool found = false;
    if (a != nullptr) {
      for (const toml::node& e : *a) {
        if (const auto* s = e.as_string(); s != nullptr && s->get() == public_key) found = true;
      }
    }
    if (!found) return Status::Internal(path + ": the edit lost the key" + by_hand);
  } catch (const toml::parse_error& e) {
    return Status::Internal(path + ": the edit broke the file (" + std::string(e.description()) +
                            ")" + by_hand);
  }
  return WriteFileAtomically(path, text);
}

}  // namespace ferrograph
