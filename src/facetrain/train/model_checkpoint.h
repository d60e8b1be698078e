#pragma once
// Finding and reading a model checkpoint (shared by `train --base`, resume, and `swap --model`).
#include "facetrain/model/face_swap_model.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace facetrain {

// A checkpoint whose files matched their SHA-256s when it was resolved, with its state.json.
struct VerifiedCheckpoint {
  std::filesystem::path directory;
  nlohmann::json state;  // state.json: "files": {name: sha256}, model config, face type...
  // The SHA-256 state.json records for `file` (verified against the file when resolved).
  std::string file_sha256(const std::string& file) const;
};

// A model checkpoint directory, or a run directory (its newest valid checkpoint), verified once:
// callers use the returned state instead of hashing the files again. Throws MissingInputError (66)
// when the path does not exist, InputDataError (65) naming it when it holds no complete, verified
// checkpoint.
VerifiedCheckpoint resolve_checkpoint(const std::filesystem::path& path);

// Reads the tensors named in `wanted_names` from a model.pt archive (those it has; callers check
// completeness). Throws InputDataError naming `path` when it is not a facetrain model file.
NamedTensors load_named(const std::filesystem::path& path, const NamedTensors& wanted_names);

}  // namespace facetrain
