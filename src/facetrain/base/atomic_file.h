#pragma once
// Nothing half-written is ever taken as done: files are written under a temporary name in the
// destination's directory (created exclusively, owner-only by default), fsynced, renamed into place,
// and the directory is fsynced.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace facetrain {

inline constexpr unsigned kDefaultFileMode = 0600;
inline constexpr unsigned kDefaultDirectoryMode = 0700;

// Writes `bytes` to `path` atomically. Throws OutputError (73) when the directory cannot be written,
// IoError (74) when a write or fsync fails midway (disk full); the old file, if any, is untouched.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode = kDefaultFileMode);

// Durability::deferred renames without fsync: the file is never seen half-written, and the caller
// makes it durable in bulk (sync_filesystem) before anything that refers to it is committed.
// Thousands of face crops cost one sync per chunk instead of one fsync each (~10 ms apiece).
enum class Durability { immediate, deferred };

// For writers that produce the file themselves (image encoders): a unique temporary path beside
// `final_path`; commit() fsyncs and renames it into place, the destructor removes it if not committed.
class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path final_path, unsigned mode = kDefaultFileMode,
                        Durability durability = Durability::immediate);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  const std::filesystem::path& temp_path() const { return temp_path_; }
  void commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  unsigned mode_;
  Durability durability_;
  bool committed_ = false;
};

// Creates `path` and missing parents with `mode`; throws OutputError naming it on failure.
void create_directories_private(const std::filesystem::path& path, unsigned mode = kDefaultDirectoryMode);

std::string read_file(const std::filesystem::path& path);  // throws MissingInputError / IoError

// Flushes every deferred write on the filesystem holding `directory` (syncfs); throws IoError.
void sync_filesystem(const std::filesystem::path& directory);

}  // namespace facetrain
