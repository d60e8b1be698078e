#include "facetrain/base/atomic_file.h"

#include "facetrain/base/error.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace facetrain {
namespace {

std::string errno_text() { return std::strerror(errno); }

// A name no other process or thread will pick: pid, a counter and random bits.
std::filesystem::path unique_temp_path(const std::filesystem::path& final_path) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  const uint64_t n = counter.fetch_add(1);
  const auto name = fmt::format(".{}.tmp-{}-{}-{:x}", final_path.filename().string(), ::getpid(), n, salt & 0xffffff);
  return final_path.parent_path() / name;
}

// Throws the error kind that matches a failure to create or write `path`.
[[noreturn]] void throw_write_error(const std::filesystem::path& path, const std::string& what, int error_number) {
  const std::string message = fmt::format("{}: {}: {}", path.string(), what, std::strerror(error_number));
  if (error_number == ENOSPC || error_number == EIO || error_number == EDQUOT) throw IoError(message);
  throw OutputError(message);
}

void fsync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some filesystems do not allow opening directories
  ::fsync(fd);
  ::close(fd);
}


void rename_into_place(const std::filesystem::path& temp_path, const std::filesystem::path& final_path) {
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp_path.c_str());
    throw_write_error(final_path, "cannot rename into place", saved);
  }
  fsync_directory(final_path.parent_path());
}

}  // namespace

unsigned creation_mask() {
  const char* env = std::getenv("FACETRAIN_UMASK");
  if (!env || !*env) return 077;
  char* end = nullptr;
  const long value = std::strtol(env, &end, 8);
  if (*end != '\0' || value < 0 || value > 0777)
    throw UsageError(fmt::format("FACETRAIN_UMASK={}: not an octal permission mask such as 077 or 027", env));
  return static_cast<unsigned>(value);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode) {
  const auto temp_path = unique_temp_path(path);
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw_write_error(path, "cannot create", errno);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      ::unlink(temp_path.c_str());
      throw_write_error(path, "write failed", saved);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    ::unlink(temp_path.c_str());
    throw_write_error(path, "fsync failed", saved);
  }
  if (::close(fd) != 0) {
    const int saved = errno;
    ::unlink(temp_path.c_str());
    throw_write_error(path, "close failed", saved);
  }
  rename_into_place(temp_path, path);
}

AtomicOutput::AtomicOutput(std::filesystem::path final_path, unsigned mode, Durability durability)
    : final_path_(std::move(final_path)), temp_path_(unique_temp_path(final_path_)), mode_(mode), durability_(durability) {
  // Create the temporary file exclusively with the final mode, so encoders that open it by name
  // never follow a planted link and never widen its permissions.
  const int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_);
  if (fd < 0) throw_write_error(final_path_, "cannot create", errno);
  ::close(fd);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicOutput::commit() {
  ::chmod(temp_path_.c_str(), mode_);
  if (durability_ == Durability::deferred) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) throw_write_error(final_path_, "cannot rename into place", errno);
  } else {
    fsync_file(temp_path_);
    rename_into_place(temp_path_, final_path_);
  }
  committed_ = true;
}

void create_directories_private(const std::filesystem::path& path, unsigned mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return;
  std::filesystem::path partial;
  for (const auto& part : path) {
    partial /= part;
    if (std::filesystem::is_directory(partial, ec)) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST)
      throw OutputError(fmt::format("{}: cannot create directory: {}", partial.string(), errno_text()));
  }
  if (!std::filesystem::is_directory(path, ec))
    throw OutputError(fmt::format("{}: exists and is not a directory", path.string()));
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open: {}", path.string(), errno_text()));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw IoError(fmt::format("{}: read failed", path.string()));
  return contents.str();
}

void fsync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_write_error(path, "cannot reopen for fsync", errno);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw_write_error(path, "fsync failed", saved);
}

void sync_filesystem(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open to sync: {}", directory.string(), errno_text()));
  const int rc = ::syncfs(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) throw IoError(fmt::format("{}: sync failed: {}", directory.string(), std::strerror(saved)));
}

}  // namespace facetrain
