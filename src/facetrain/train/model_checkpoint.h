#pragma once
// Finding and reading a model checkpoint (shared by `train --base`, resume, and `swap --model`), and
// its state.json: the one place its schema is written (train) and read (resume, swap).
#include "facetrain/faceset/network_encoding_record.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/quality/identity_scores.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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

// What a checkpoint's state.json records besides its files' SHA-256s (CheckpointStore adds "files").
struct CheckpointState {
  ModelConfig model;                               // "model_config"; "model" holds describe(model)
  std::string model_description;                   // "model" as read (resume compares it with describe())
  std::string face_type;                           // the crops' face type
  std::optional<NetworkEncodingRecord> encoding;   // the crops' encoding (absent in older checkpoints)
  double elapsed_s = 0;                            // training time up to this checkpoint, all sessions
  std::vector<double> validation_history;          // the held-out losses of the target-loss window
  std::string base_model_sha256;                   // the --base model.pt's, "" without one
  std::string facetrain_version;
  std::optional<IdentityReference> identity_reference;  // the identities' reference descriptors (issue 12)
};

nlohmann::json checkpoint_state_to_json(const CheckpointState& state);
// Throws InputDataError naming `checkpoint`/state.json when its model_config is missing or unusable,
// or a recorded encoding or identity reference is malformed.
CheckpointState checkpoint_state_from_json(const nlohmann::json& state, const std::filesystem::path& checkpoint);

// Reads the tensors named in `wanted_names` from a model.pt archive (those it has; callers check
// completeness). Throws InputDataError naming `path` when it is not a facetrain model file.
NamedTensors load_named(const std::filesystem::path& path, const NamedTensors& wanted_names);

}  // namespace facetrain
