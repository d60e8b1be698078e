#pragma once
// Finding and reading a model checkpoint (shared by `train --base`, resume, and `swap --model`).
#include "facetrain/model/face_swap_model.h"

#include <filesystem>

namespace facetrain {

// A model checkpoint directory, or a run directory (its newest valid checkpoint). Throws
// MissingInputError (66) when the path does not exist, InputDataError (65) naming it when it holds
// no complete, verified checkpoint.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

// Reads the tensors named in `wanted_names` from a model.pt archive (those it has; callers check
// completeness). Throws InputDataError naming `path` when it is not a facetrain model file.
NamedTensors load_named(const std::filesystem::path& path, const NamedTensors& wanted_names);

}  // namespace facetrain
