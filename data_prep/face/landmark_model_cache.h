#pragma once
// A verified binary cache of the parsed landmark model, so that `extract` does not spend a second
// parsing dlib's 99 MB portable serialization (and hashing it) on every run, a farm chunk of ten
// frames included.
//
// Where: FACETRAIN_CACHE_DIR, else $XDG_CACHE_HOME/facetrain, else ~/.cache/facetrain. Two kinds
// of file, both written atomically:
//   shape-predictor-<model SHA-256>.packed   the PackedModel: a header naming the model's SHA-256
//       and the payload's size and CRC-32, then the arrays. Found by the SHA-256 of the model file
//       being loaded, so it can never serve another model; a torn, truncated or altered file fails
//       its checks and is ignored (then rewritten).
//   model-identity-<SHA-256 of the absolute path>   the SHA-256 of that model file as last hashed,
//       with the file's device, inode, size, mtime and ctime then. A model file with the same
//       identity has not been written since (the kernel sets ctime on every change), so its
//       recorded hash is reused instead of reading 99 MB again; any difference means hash again.
// Everything here is best effort: an unwritable or damaged cache costs time, never correctness.
#include "data_prep/face/packed_landmark_model.h"

#include <filesystem>
#include <optional>
#include <string>

namespace facetrain {

// The folder used (not created); empty when no home and no variable says where.
std::filesystem::path landmark_model_cache_dir();

// "<device> <inode> <size> <mtime> <ctime>" of the model file now; empty if it cannot be read.
std::string landmark_model_file_identity(const std::filesystem::path& model_path);

// The recorded SHA-256 of `model_path` if the record was made for this same `identity`.
std::optional<std::string> recorded_landmark_model_sha256(const std::filesystem::path& model_path,
                                                           const std::string& identity);

// Fills `model` from the cache entry of the model with this SHA-256; false when there is none or it
// fails any check (then `model` is left empty).
bool read_cached_landmark_model(const std::string& model_sha256, PackedModel& model);

// Records the SHA-256 (and, when given, the parsed model) of `model_path`, but only if its identity
// is still `identity_before`, taken before it was hashed and parsed: a file changed meanwhile is
// never recorded under the hash of its earlier content.
void record_landmark_model(const std::filesystem::path& model_path, const std::string& identity_before,
                           const std::string& model_sha256, const PackedModel* model);

}  // namespace facetrain
