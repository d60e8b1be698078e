#include "data_prep/face/model_cache.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/base/sha256.h"

#include <fmt/format.h>
#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace facetrain {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'F', 'T', 'M', 'O', 'D', 'E', 'L', 'C'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kKeyBytes = 128;

struct EntryHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t byte_order;
  char key[kKeyBytes];  // NUL-padded
  uint64_t payload_bytes;
  uint32_t payload_crc32;
  uint32_t reserved;
};
static_assert(sizeof(EntryHeader) == 160);

bool valid_key(const std::string& key) {
  return !key.empty() && key.size() < kKeyBytes && key.front() != '.' &&
         key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string::npos;
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, size_t{1} << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

fs::path sha256_record_path(const fs::path& dir, const fs::path& absolute) {
  return dir / fmt::format("file-sha256-{}", sha256_hex(absolute.string()).substr(0, 32));
}

}  // namespace

fs::path model_cache_dir() {
  if (const char* dir = std::getenv("FACETRAIN_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "facetrain";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "facetrain";
  return {};
}

std::string file_identity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{} {} {} {}.{:09d} {}.{:09d}", static_cast<unsigned long long>(st.st_dev),
                     static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                     static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec,
                     static_cast<long long>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec);
}

std::optional<std::string> read_cache_entry(const std::string& key) {
  const fs::path dir = model_cache_dir();
  if (dir.empty() || !valid_key(key)) return std::nullopt;
  const fs::path path = dir / key;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  EntryHeader header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof(header)) ||
      std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0 || header.format_version != kFormatVersion ||
      header.byte_order != kByteOrder || header.key[kKeyBytes - 1] != '\0' || std::string(header.key) != key ||
      header.payload_bytes > (uint64_t{1} << 32)) {
    log_debug("model cache {}: not this entry's header; ignored", path.string());
    return std::nullopt;
  }
  std::string payload(header.payload_bytes, '\0');
  if (!in.read(payload.data(), static_cast<std::streamsize>(payload.size())) || in.peek() != EOF ||
      crc32_of(payload.data(), payload.size()) != header.payload_crc32) {
    log_debug("model cache {}: damaged; ignored (it is written again)", path.string());
    return std::nullopt;
  }
  return payload;
}

void write_cache_entry(const std::string& key, std::string_view payload) {
  const fs::path dir = model_cache_dir();
  if (dir.empty() || !valid_key(key)) return;
  try {
    create_directories_private(dir);
    EntryHeader header{};
    std::memcpy(header.magic, kMagic, sizeof(kMagic));
    header.format_version = kFormatVersion;
    header.byte_order = kByteOrder;
    std::memcpy(header.key, key.data(), key.size());
    header.payload_bytes = payload.size();
    header.payload_crc32 = crc32_of(payload.data(), payload.size());
    std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
    bytes += payload;
    write_file_atomic(dir / key, bytes);
    log_debug("model cache: wrote {}", (dir / key).string());
  } catch (const std::exception& e) {
    log_debug("model cache: {} not written in {}: {}", key, dir.string(), e.what());
  }
}

std::optional<std::string> recorded_file_sha256(const fs::path& path, const std::string& identity) {
  const fs::path dir = model_cache_dir();
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (dir.empty() || identity.empty() || ec) return std::nullopt;
  std::ifstream in(sha256_record_path(dir, absolute));
  std::string version, path_line, identity_line, sha256;
  if (!std::getline(in, version) || version != "facetrain file sha256 1" || !std::getline(in, path_line) ||
      !std::getline(in, identity_line) || !std::getline(in, sha256))
    return std::nullopt;
  if (path_line != absolute.string() || identity_line != identity || !is_sha256_hex(sha256)) return std::nullopt;
  return sha256;
}

void record_file_sha256(const fs::path& path, const std::string& identity_before, const std::string& sha256) {
  const fs::path dir = model_cache_dir();
  if (dir.empty() || identity_before.empty() || !is_sha256_hex(sha256)) return;
  try {
    const fs::path absolute = fs::absolute(path);
    if (file_identity(absolute) != identity_before) {
      log_debug("{} changed while it was read: its SHA-256 is not recorded", path.string());
      return;
    }
    create_directories_private(dir);
    write_file_atomic(sha256_record_path(dir, absolute),
                      fmt::format("facetrain file sha256 1\n{}\n{}\n{}\n", absolute.string(), identity_before, sha256));
  } catch (const std::exception& e) {
    log_debug("model cache: the SHA-256 of {} not recorded in {}: {}", path.string(), dir.string(), e.what());
  }
}

std::string checked_model_sha256(const std::string& path, const std::string& expected, const std::string& what,
                                 const std::string& fetched_by) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw MissingInputError(fmt::format("{} '{}' not found ({})", what, path, fetched_by));
  const std::string identity = file_identity(path);
  const std::optional<std::string> recorded = recorded_file_sha256(path, identity);
  const std::string sha = recorded ? *recorded : sha256_file_hex(path);
  if (!expected.empty() && sha != expected)
    throw InputDataError(fmt::format("{} '{}' has SHA-256 {}, expected {} (wrong or corrupt file; {})", what, path, sha,
                                     expected, fetched_by));
  if (!recorded) record_file_sha256(path, identity, sha);
  return sha;
}

}  // namespace facetrain
