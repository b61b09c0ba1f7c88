#include "embed/fasttext_embedder.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>
#include <fasttext/vector.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <istream>
#include <streambuf>
#include <unordered_map>

#include "embed/tokenize.h"
#include "ferrograph/provenance.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

// libfasttext 0.9.2's file format (fasttext.cc, args.cc, dictionary.cc,
// densematrix.cc): all fields little-endian, as written by an x86 host.
constexpr int32_t kMagic = 793712314;
constexpr int32_t kMaxVersion = 12;
constexpr int64_t kMaxVocabulary = 30000000;  // fastText's MAX_VOCAB_SIZE
constexpr int32_t kMaxDim = 10000;
constexpr int32_t kMaxNgram = 64;
// Where Args::loss lies: magic, version, then dim ws epoch minCount neg
// wordNgrams (int32 each).
constexpr size_t kLossOffset = 8 + 6 * 4;

// Bounds-checked reads over the file's bytes.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool Read(T* out) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // Skips a NUL-terminated string.
  bool SkipCString() {
    size_t nul = bytes_.find('\0', pos_);
    if (nul == std::string_view::npos) return false;
    pos_ = nul + 1;
    return true;
  }
  bool Skip(uint64_t n) {
    if (bytes_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct ModelShape {
  int32_t dim = 0;
};

// Checks the whole layout of a fastText model file, so that libfasttext never
// reads past the end or sizes a table from garbage. The error text says what
// is wrong, without the file name.
Result<ModelShape> CheckModelLayout(std::string_view bytes) {
  ByteReader r(bytes);
  int32_t magic = 0, version = 0;
  if (!r.Read(&magic) || magic != kMagic)
    return Status::Corruption("not a fastText model (bad magic)");
  if (!r.Read(&version) || version < 11 || version > kMaxVersion) {
    return Status::Corruption("unsupported fastText format version " + std::to_string(version));
  }
  // Args: dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
  // lrUpdateRate (int32 each), t (double).
  int32_t a[12];
  for (int32_t& v : a) {
    if (!r.Read(&v)) return Status::Corruption("truncated in the header");
  }
  double t;
  if (!r.Read(&t)) return Status::Corruption("truncated in the header");
  const int32_t dim = a[0], loss = a[6], model = a[7], bucket = a[8], minn = a[9], maxn = a[10];
  if (dim < 1 || dim > kMaxDim) return Status::Corruption("bad dimension " + std::to_string(dim));
  if (loss < 1 || loss > 4 || model < 1 || model > 3) {
    return Status::Corruption("bad model or loss kind");
  }
  if (bucket < 0 || minn < 0 || maxn < 0 || maxn > kMaxNgram || (maxn > 0 && minn > maxn) ||
      (maxn > 0 && bucket == 0)) {
    return Status::Corruption("bad character n-gram settings");
  }
  // Dictionary.
  int32_t size = 0, nwords = 0, nlabels = 0;
  int64_t ntokens = 0, pruneidx_size = 0;
  if (!r.Read(&size) || !r.Read(&nwords) || !r.Read(&nlabels) || !r.Read(&ntokens) ||
      !r.Read(&pruneidx_size)) {
    return Status::Corruption("truncated in the dictionary");
  }
  if (size < 0 || nwords < 0 || nlabels < 0 || static_cast<int64_t>(nwords) + nlabels != size ||
      size > kMaxVocabulary) {
    return Status::Corruption("bad dictionary size");
  }
  if ((model == 3 ? nlabels : nwords) == 0) return Status::Corruption("empty vocabulary");
  for (int32_t i = 0; i < size; ++i) {
    int64_t count = 0;
    int8_t type = 0;
    if (!r.SkipCString() || !r.Read(&count) || !r.Read(&type)) {
      return Status::Corruption("truncated in the dictionary");
    }
    if (count < 0 || (type != 0 && type != 1)) return Status::Corruption("bad dictionary entry");
  }
  if (pruneidx_size > 0) {
    // Pruned dictionaries only come with quantized models.
    return Status::Unsupported("quantized (.ftz) models are not supported");
  }
  uint8_t quant = 0;
  if (!r.Read(&quant)) return Status::Corruption("truncated before the input matrix");
  if (quant != 0) return Status::Unsupported("quantized (.ftz) models are not supported");
  auto matrix = [&](const char* what, int64_t want_rows) -> Status {
    int64_t m = 0, n = 0;
    if (!r.Read(&m) || !r.Read(&n))
      return Status::Corruption(std::string("truncated in the ") + what);
    if (n != dim || m != want_rows) {
      return Status::Corruption(std::string("the ") + what + " has the wrong shape");
    }
    if (static_cast<uint64_t>(m) > r.remaining() / sizeof(float) / static_cast<uint64_t>(n) ||
        !r.Skip(static_cast<uint64_t>(m) * static_cast<uint64_t>(n) * sizeof(float))) {
      return Status::Corruption(std::string("truncated in the ") + what);
    }
    return Status::OK();
  };
  FG_RETURN_IF_ERROR(matrix("input matrix", static_cast<int64_t>(nwords) + bucket));
  uint8_t qout = 0;
  if (!r.Read(&qout)) return Status::Corruption("truncated before the output matrix");
  FG_RETURN_IF_ERROR(matrix("output matrix", model == 3 ? nlabels : nwords));
  if (r.remaining() != 0) return Status::Corruption("trailing bytes after the model");
  return ModelShape{dim};
}

// A read-only istream over bytes we own.
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());
    setg(p, p, p + bytes.size());
  }
};

// fastText's checkModel is protected; loading from a stream needs it first.
class StreamLoadableFastText : public fasttext::FastText {
 public:
  using fasttext::FastText::checkModel;
};

Result<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return Status::NotFound("no such file");
    return Status::IOError(std::string("cannot open: ") + std::strerror(e));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IOError("not a regular file");
  }
  std::string bytes;
  bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(bytes.size() + 65536);  // the file grew
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Status::IOError(std::string("read failed: ") + std::strerror(e));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

class FastTextEmbedder : public Embedder {
 public:
  FastTextEmbedder(std::unique_ptr<StreamLoadableFastText> model, std::string model_id, int dim)
      : model_(std::move(model)), model_id_(std::move(model_id)), dim_(dim), word_(dim) {}

  const std::string& model_id() const override { return model_id_; }
  int dim() const override { return dim_; }

  Result<std::vector<float>> Embed(const std::vector<std::string>& texts) override {
    std::vector<float> out(texts.size() * static_cast<size_t>(dim_), 0.0f);
    try {
      for (size_t i = 0; i < texts.size(); ++i) EmbedOne(texts[i], out.data() + i * dim_);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("fasttext embed: ") + e.what());
    }
    return out;
  }

 private:
  // Mean of the normalized word vectors, then normalized.
  void EmbedOne(std::string_view text, float* v) {
    ForEachIdentifier(text, [&](std::string_view whole, const std::string_view* parts, size_t n) {
      AddWord(whole, v);
      if (n > 1 || parts[0] != whole) {
        for (size_t i = 0; i < n; ++i) AddWord(parts[i], v);
      }
    });
    L2Normalize(v, dim_);  // the mean's direction; its length does not matter
  }

  void AddWord(std::string_view word, float* v) {
    const std::vector<float>& w = WordVector(word);
    for (int d = 0; d < dim_; ++d) v[d] += w[d];
  }

  // The normalized vector of `word` (zero when it has neither a vector nor
  // n-grams), cached: code repeats its words.
  const std::vector<float>& WordVector(std::string_view word) {
    key_.assign(word.data(), word.size());
    auto it = cache_.find(key_);
    if (it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCached) cache_.clear();
    model_->getWordVector(word_, key_);
    std::vector<float> w(word_.data(), word_.data() + dim_);
    L2Normalize(w.data(), dim_);
    return cache_.emplace(key_, std::move(w)).first->second;
  }

  static constexpr size_t kMaxCached = 100000;

  std::unique_ptr<StreamLoadableFastText> model_;
  std::string model_id_;
  int dim_;
  fasttext::Vector word_;  // scratch
  std::string key_;        // scratch
  std::unordered_map<std::string, std::vector<float>> cache_;
};

// A file next to `path` that is removed when this goes out of scope unless
// released.
class TempFile {
 public:
  static Result<TempFile> Create(const std::string& path_prefix) {
    std::string tmpl = path_prefix + ".XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
      return Status::IOError("cannot create a temporary file " + tmpl + ": " +
                             std::strerror(errno));
    }
    ::close(fd);
    return TempFile(tmpl);
  }
  TempFile(TempFile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status CheckTrainOptions(const FastTextTrainOptions& o) {
  if (o.dim < 1 || o.dim > kMaxDim) return Status::InvalidArgument("fasttext: dim out of range");
  if (o.epoch < 1 || o.min_count < 1 || o.window < 1 || o.negatives < 1 || o.threads < 1) {
    return Status::InvalidArgument(
        "fasttext: epoch, min_count, window, negatives and threads must be positive");
  }
  if (o.minn < 0 || o.maxn < 0 || o.maxn > kMaxNgram || (o.maxn > 0 && o.minn > o.maxn) ||
      o.bucket < 0 || (o.maxn > 0 && o.bucket == 0)) {
    return Status::InvalidArgument("fasttext: bad character n-gram settings");
  }
  if (!(o.learning_rate > 0)) return Status::InvalidArgument("fasttext: learning_rate must be > 0");
  return Status::OK();
}

Status WriteTrainingText(const std::vector<std::string>& documents, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  std::string line;
  bool ok = true;
  for (const std::string& doc : documents) {
    line = FastTextTrainingLine(doc);
    if (line.empty()) continue;
    line.push_back('\n');
    ok = ok && std::fwrite(line.data(), 1, line.size(), f) == line.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::OK();
}

}  // namespace

std::string FastTextTrainingLine(std::string_view document) {
  std::string line;
  auto add = [&](std::string_view w) {
    if (!line.empty()) line.push_back(' ');
    line.append(w);
  };
  ForEachIdentifier(document, [&](std::string_view whole, const std::string_view* parts, size_t n) {
    add(whole);
    if (n > 1 || parts[0] != whole) {
      for (size_t i = 0; i < n; ++i) add(parts[i]);
    }
  });
  return line;
}

Status TrainFastText(const std::vector<std::string>& documents, const FastTextTrainOptions& options,
                     const std::string& out_path) {
  FG_RETURN_IF_ERROR(CheckTrainOptions(options));
  FG_ASSIGN_OR_RETURN(TempFile text, TempFile::Create(out_path + ".train"));
  FG_RETURN_IF_ERROR(WriteTrainingText(documents, text.path()));
  FG_ASSIGN_OR_RETURN(TempFile model_file, TempFile::Create(out_path + ".tmp"));

  fasttext::Args args;
  args.input = text.path();
  args.output = model_file.path();
  args.model = options.skipgram ? fasttext::model_name::sg : fasttext::model_name::cbow;
  args.loss = fasttext::loss_name::ns;
  args.dim = options.dim;
  args.epoch = options.epoch;
  args.minCount = options.min_count;
  args.minn = options.minn;
  args.maxn = options.maxn;
  args.ws = options.window;
  args.neg = options.negatives;
  args.lr = options.learning_rate;
  args.bucket = options.maxn > 0 ? options.bucket : 0;
  args.thread = options.threads;
  args.seed = options.seed;
  args.verbose = 0;
  try {
    fasttext::FastText ft;
    ft.train(args);
    ft.saveModel(model_file.path());
  } catch (const std::invalid_argument& e) {
    // Dictionary::readFromFile: "Empty vocabulary. Try a smaller -minCount value."
    return Status::InvalidArgument(std::string("fasttext training: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("fasttext training: ") + e.what());
  }
  // fastText does not check its writes: read the file back before it replaces
  // anything.
  FG_ASSIGN_OR_RETURN(std::string bytes,
                      ReadWholeFile(model_file.path()).WithContext(model_file.path()));
  Result<ModelShape> shape = CheckModelLayout(bytes);
  if (!shape.ok()) {
    return Status::IOError("fasttext training wrote a bad model file " + model_file.path() + ": " +
                           shape.status().message());
  }
  std::error_code ec;
  fs::rename(model_file.path(), out_path, ec);
  if (ec) return Status::IOError("cannot rename the model into " + out_path + ": " + ec.message());
  model_file.Release();
  return Status::OK();
}

Result<std::unique_ptr<Embedder>> LoadFastTextModel(const std::string& path) {
  FG_ASSIGN_OR_RETURN(ModelTrust trust, CurrentModelTrust().WithContext("fasttext model " + path));
  return LoadFastTextModel(path, trust);
}

Result<std::unique_ptr<Embedder>> LoadFastTextModel(const std::string& path,
                                                    const ModelTrust& trust) {
  const std::string context = "fasttext model " + path;
  FG_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path).WithContext(context));
  // Provenance first: nothing of a refused file is interpreted.
  FG_ASSIGN_OR_RETURN(ModelCheck check, VerifyModelBytes(path, bytes, trust).WithContext(context));
  FG_ASSIGN_OR_RETURN(ModelShape shape, CheckModelLayout(bytes).WithContext(context));
  // "fasttext-" + 16 hex digits of the file's BLAKE3 (the magic is checked).
  std::string model_id = check.model_id;
  // Embedding reads only the dictionary and the input matrix. Loading builds
  // the training loss of the output layer too; negative sampling's is a
  // shuffled 10M-entry table (most of the load time), hierarchical softmax's a
  // small tree. The id above is of the file as it is.
  const int32_t kHierarchicalSoftmax = 1;
  std::memcpy(bytes.data() + kLossOffset, &kHierarchicalSoftmax, sizeof(int32_t));
  auto model = std::make_unique<StreamLoadableFastText>();
  try {
    MemoryBuf buf(bytes);
    std::istream in(&buf);
    if (!model->checkModel(in)) return Status::Corruption(context + ": not a fastText model");
    model->loadModel(in);
    if (!in) return Status::Corruption(context + ": truncated");
    if (model->getDimension() != shape.dim) return Status::Corruption(context + ": bad dimension");
  } catch (const std::exception& e) {
    return Status::Corruption(context + ": " + e.what());
  }
  return std::unique_ptr<Embedder>(
      std::make_unique<FastTextEmbedder>(std::move(model), std::move(model_id), shape.dim));
}

}  // namespace ferrograph
