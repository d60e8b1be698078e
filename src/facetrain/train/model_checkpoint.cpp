#include "facetrain/train/model_checkpoint.h"

#include "facetrain/base/error.h"
#include "facetrain/checkpoint/checkpoint_store.h"

#include <fmt/format.h>
#include <torch/torch.h>

namespace facetrain {

namespace fs = std::filesystem;

NamedTensors load_named(const fs::path& path, const NamedTensors& wanted_names) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    throw InputDataError(fmt::format("{}: not a facetrain model file", path.string()));
  }
  NamedTensors out;
  for (const auto& [name, unused] : wanted_names) {
    torch::Tensor tensor;
    if (archive.try_read(name, tensor)) out.emplace_back(name, tensor);
  }
  return out;
}

std::string VerifiedCheckpoint::file_sha256(const std::string& file) const {
  return state.at("files").at(file).get<std::string>();
}

VerifiedCheckpoint resolve_checkpoint(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw MissingInputError(fmt::format("{}: no such checkpoint or run directory", path.string()));
  if (fs::exists(path / "checkpoints", ec)) {
    auto loaded = CheckpointStore(path / "checkpoints").newest_valid();
    if (!loaded) throw InputDataError(fmt::format("{}: holds no complete checkpoint", path.string()));
    return {loaded->directory, std::move(loaded->state)};
  }
  VerifiedCheckpoint verified{path, {}};
  const std::string problem = CheckpointStore::verify(path, &verified.state);
  if (!problem.empty()) throw InputDataError(fmt::format("{}: unusable checkpoint: {}", path.string(), problem));
  return verified;
}

}  // namespace facetrain
