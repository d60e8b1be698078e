#pragma once
// Nothing half-written is ever taken as done: files are written under a temporary name in the
// destination's directory (created exclusively, owner-only by default), fsynced, renamed into place,
// and the directory is fsynced.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace facetrain {

// Footage is pre-release content: what facetrain creates is owner-only (files 0600, directories
// 0700) unless the facility sets FACETRAIN_UMASK (octal, e.g. 027 for group-readable outputs).
// Throws UsageError when FACETRAIN_UMASK is not an octal mask.
unsigned creation_mask();
inline unsigned default_file_mode() { return 0666u & ~creation_mask(); }
inline unsigned default_directory_mode() { return 0777u & ~creation_mask(); }

// Writes `bytes` to `path` atomically. Throws OutputError (73) when the directory cannot be written,
// IoError (74) when a write or fsync fails midway (disk full); the old file, if any, is untouched.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes, unsigned mode = default_file_mode());

// Durability::deferred renames without fsync: the file is never seen half-written, and the caller
// makes it durable in bulk (sync_filesystem) before anything that refers to it is committed.
// Thousands of face crops cost one sync per chunk instead of one fsync each (~10 ms apiece).
enum class Durability { immediate, deferred };

// For writers that produce the file themselves (image encoders): a unique temporary path beside
// `final_path`; commit() fsyncs and renames it into place, the destructor removes it if not committed.
class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path final_path, unsigned mode = default_file_mode(),
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
void create_directories_private(const std::filesystem::path& path, unsigned mode = default_directory_mode());

std::string read_file(const std::filesystem::path& path);  // throws MissingInputError / IoError

// fsyncs a file written by someone else (a serializer, an encoder); throws IoError (74) naming it
// when the data cannot be made durable (ENOSPC, EIO), OutputError (73) when it cannot be opened.
void fsync_file(const std::filesystem::path& path);

// Flushes every deferred write on the filesystem holding `directory` (syncfs); throws IoError.
void sync_filesystem(const std::filesystem::path& directory);

}  // namespace facetrain
