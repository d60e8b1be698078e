#pragma once
// A verified cache of parsed face models, so that `extract` does not pay seconds of parsing on every
// run (a farm chunk of ten frames included): dlib's 68-point landmark model (99 MB of dlib's portable
// serialization, about a second to parse and to hash) and dlib's HOG frontal face detector (built
// from an embedded text form in about 1.3 s; its binary form loads in milliseconds).
//
// Where: FACETRAIN_CACHE_DIR, else $XDG_CACHE_HOME/facetrain, else ~/.cache/facetrain. Each entry
// is one file written atomically: a header (magic, format version, byte order, the entry's key,
// the payload's size and CRC-32) and the payload. The key names the exact model the payload was made
// from (the landmark model's SHA-256; the dlib library file's identity for the HOG detector), is part
// of the file name and is checked against the header, so an entry can never serve another model; a
// torn, truncated, altered or renamed file fails its checks and is ignored (then rewritten).
//
// A file's SHA-256 is also recorded with the file's identity (device, inode, size, mtime, ctime) at
// the time it was hashed; while the identity is unchanged the file has not been written since (the
// kernel sets ctime on every change), so the recorded hash is reused instead of reading it again.
// Everything here is best effort: an unwritable or damaged cache costs time, never correctness.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace facetrain {

// The folder used (not created); empty when no home and no variable says where.
std::filesystem::path model_cache_dir();

// "<device> <inode> <size> <mtime> <ctime>" of the file now; empty if it cannot be read.
std::string file_identity(const std::filesystem::path& path);

// The payload of the entry `key` (letters, digits, '-', '_', '.'), if it exists and passes every check.
std::optional<std::string> read_cache_entry(const std::string& key);

// Writes the entry `key` (best effort: failures are logged at debug level).
void write_cache_entry(const std::string& key, std::string_view payload);

// The recorded SHA-256 of `path` if the record was made for this same `identity`.
std::optional<std::string> recorded_file_sha256(const std::filesystem::path& path, const std::string& identity);

// Records the SHA-256 of `path`, but only if its identity is still `identity_before`, taken before it
// was hashed (and used): a file changed meanwhile is never recorded under its earlier content's hash.
void record_file_sha256(const std::filesystem::path& path, const std::string& identity_before,
                        const std::string& sha256);

// The SHA-256 of the model file `path` (from the record above when the file is unchanged since it was
// hashed, else hashed now and recorded). Throws MissingInputError (66) when the file is not there and,
// when `expected` is not empty, InputDataError (65) when the file's SHA-256 differs: both name `what`,
// the path, and (`fetched_by`) where the right file comes from.
std::string checked_model_sha256(const std::string& path, const std::string& expected, const std::string& what,
                                 const std::string& fetched_by);

}  // namespace facetrain
