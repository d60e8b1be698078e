#include "data_prep/face/landmark_model_cache.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"

#include <fmt/format.h>
#include <zlib.h>

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

namespace facetrain {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'F', 'T', 'P', 'A', 'C', 'K', 'L', 'M'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;

struct CacheHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t byte_order;
  char model_sha256[64];
  uint64_t payload_bytes;
  uint32_t payload_crc32;
  uint32_t reserved;
};
static_assert(sizeof(CacheHeader) == 96);

fs::path packed_path(const fs::path& dir, const std::string& sha256) {
  return dir / fmt::format("shape-predictor-{}.packed", sha256);
}

fs::path identity_path(const fs::path& dir, const fs::path& model_path) {
  return dir / fmt::format("model-identity-{}", sha256_hex(model_path.string()).substr(0, 32));
}

}  // namespace

std::string landmark_model_file_identity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{} {} {} {}.{:09d} {}.{:09d}", static_cast<unsigned long long>(st.st_dev),
                     static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                     static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec,
                     static_cast<long long>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec);
}

namespace {

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Appends plain arrays to a byte string; reads them back with bounds checks.
class Writer {
 public:
  template <typename T>
  void put(const T& value) { bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T)); }
  template <typename T>
  void put_array(const T* data, size_t count) {
    bytes_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), left_(size) {}
  template <typename T>
  bool get(T& value) { return get_array(&value, 1); }
  template <typename T>
  bool get_array(T* out, size_t count) {
    if (count > left_ / sizeof(T)) return false;
    std::memcpy(out, data_, count * sizeof(T));
    data_ += count * sizeof(T);
    left_ -= count * sizeof(T);
    return true;
  }
  bool at_end() const { return left_ == 0; }

 private:
  const char* data_;
  size_t left_;
};

std::string serialize(const PackedModel& m) {
  Writer w;
  w.put_array(m.initial_shape, kLandmarkShapeFloats);
  w.put(static_cast<uint32_t>(m.deltas.size()));
  for (size_t c = 0; c < m.deltas.size(); ++c) {
    w.put(static_cast<uint32_t>(m.deltas[c].size()));
    w.put_array(m.anchor_idx[c].data(), m.anchor_idx[c].size());
    w.put_array(m.deltas[c].data(), m.deltas[c].size());
  }
  w.put_array(m.first_tree.data(), m.first_tree.size());
  w.put(static_cast<uint32_t>(m.trees.size()));
  w.put_array(m.trees.data(), m.trees.size());
  w.put(static_cast<uint32_t>(m.splits.size()));
  w.put_array(m.splits.data(), m.splits.size());
  w.put(m.leaf_count);
  w.put_array(m.leaves.get(), static_cast<size_t>(m.leaf_count) * kLandmarkShapeFloats);
  return std::move(w.bytes());
}

bool deserialize(const char* data, size_t size, PackedModel& m) {
  Reader r(data, size);
  uint32_t levels = 0, count = 0;
  if (!r.get_array(m.initial_shape, kLandmarkShapeFloats) || !r.get(levels) || levels == 0 || levels > 1000) return false;
  m.anchor_idx.resize(levels);
  m.deltas.resize(levels);
  for (uint32_t c = 0; c < levels; ++c) {
    if (!r.get(count) || count > 65535) return false;
    m.anchor_idx[c].resize(count);
    m.deltas[c].resize(count);
    if (!r.get_array(m.anchor_idx[c].data(), count) || !r.get_array(m.deltas[c].data(), count)) return false;
  }
  m.first_tree.resize(levels + 1);
  if (!r.get_array(m.first_tree.data(), m.first_tree.size())) return false;
  if (!r.get(count) || count > size / sizeof(PackedTree)) return false;
  m.trees.resize(count);
  if (!r.get_array(m.trees.data(), count)) return false;
  if (!r.get(count) || count > size / sizeof(PackedSplit)) return false;
  m.splits.resize(count);
  if (!r.get_array(m.splits.data(), count)) return false;
  if (!r.get(m.leaf_count) || m.leaf_count > size / (sizeof(int16_t) * kLandmarkShapeFloats)) return false;
  const size_t values = static_cast<size_t>(m.leaf_count) * kLandmarkShapeFloats;
  m.leaves = allocate_packed_leaves(values);
  return r.get_array(m.leaves.get(), values) && r.at_end() && packed_model_problem(m).empty();
}

}  // namespace

fs::path landmark_model_cache_dir() {
  if (const char* dir = std::getenv("FACETRAIN_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "facetrain";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "facetrain";
  return {};
}

std::optional<std::string> recorded_landmark_model_sha256(const fs::path& model_path, const std::string& identity) {
  const fs::path dir = landmark_model_cache_dir();
  std::error_code ec;
  const fs::path absolute = fs::absolute(model_path, ec);
  if (dir.empty() || identity.empty() || ec) return std::nullopt;
  std::ifstream in(identity_path(dir, absolute));
  std::string version, path_line, identity_line, sha256;
  if (!std::getline(in, version) || version != "facetrain model identity 1" || !std::getline(in, path_line) ||
      !std::getline(in, identity_line) || !std::getline(in, sha256))
    return std::nullopt;
  if (path_line != absolute.string() || identity_line != identity || !is_sha256_hex(sha256)) return std::nullopt;
  return sha256;
}

bool read_cached_landmark_model(const std::string& model_sha256, PackedModel& model) {
  const fs::path dir = landmark_model_cache_dir();
  if (dir.empty() || !is_sha256_hex(model_sha256)) return false;
  const fs::path path = packed_path(dir, model_sha256);
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  CacheHeader header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof(header))) return false;
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0 || header.format_version != kFormatVersion ||
      header.byte_order != kByteOrder ||
      std::string(header.model_sha256, sizeof(header.model_sha256)) != model_sha256 ||
      header.payload_bytes > (uint64_t{1} << 32)) {
    log_debug("landmark model cache {}: not this model's or another format; ignored", path.string());
    return false;
  }
  std::string payload(header.payload_bytes, '\0');
  if (!in.read(payload.data(), static_cast<std::streamsize>(payload.size())) || in.peek() != EOF ||
      crc32_of(payload.data(), payload.size()) != header.payload_crc32 ||
      !deserialize(payload.data(), payload.size(), model)) {
    log_debug("landmark model cache {}: damaged; ignored (it is written again)", path.string());
    model = PackedModel{};
    return false;
  }
  return true;
}

void record_landmark_model(const fs::path& model_path, const std::string& identity_before,
                           const std::string& model_sha256, const PackedModel* model) {
  const fs::path dir = landmark_model_cache_dir();
  if (dir.empty() || !is_sha256_hex(model_sha256) || identity_before.empty()) return;
  try {
    const fs::path absolute = fs::absolute(model_path);
    if (landmark_model_file_identity(absolute) != identity_before) {
      log_debug("landmark model {} changed while it was read: not cached", model_path.string());
      return;
    }
    create_directories_private(dir);
    if (model) {
      const std::string payload = serialize(*model);
      CacheHeader header{};
      std::memcpy(header.magic, kMagic, sizeof(kMagic));
      header.format_version = kFormatVersion;
      header.byte_order = kByteOrder;
      std::memcpy(header.model_sha256, model_sha256.data(), sizeof(header.model_sha256));
      header.payload_bytes = payload.size();
      header.payload_crc32 = crc32_of(payload.data(), payload.size());
      std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
      bytes += payload;
      write_file_atomic(packed_path(dir, model_sha256), bytes);
    }
    write_file_atomic(identity_path(dir, absolute), fmt::format("facetrain model identity 1\n{}\n{}\n{}\n",
                                                                absolute.string(), identity_before, model_sha256));
    log_debug("landmark model {} recorded in {}", model_path.string(), dir.string());
  } catch (const std::exception& e) {
    log_debug("landmark model not cached in {}: {}", dir.string(), e.what());
  }
}

}  // namespace facetrain
