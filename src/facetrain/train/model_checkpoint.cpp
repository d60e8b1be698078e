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

namespace {

ModelConfig model_config_from_state(const nlohmann::json& state, const fs::path& checkpoint) {
  ModelConfig config;
  try {
    const auto& m = state.at("model_config");
    config.architecture = parse_architecture(m.at("architecture").get<std::string>());
    config.resolution_px = m.at("resolution").get<int>();
    config.ae_dims = m.at("ae_dims").get<int>();
    config.e_dims = m.at("e_dims").get<int>();
    config.d_dims = m.at("d_dims").get<int>();
    config.d_mask_dims = m.at("d_mask_dims").get<int>();
    // SAEHD's -U / -D (issue 27): a state.json from before them has neither key and is -ud.
    config.pixel_norm_latent = m.value("pixel_norm_latent", true);
    config.double_resolution = m.value("double_resolution", true);
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("{}: state.json has no usable model_config ({})", (checkpoint / "state.json").string(), e.what()));
  } catch (const ConfigError& e) {
    throw InputDataError(fmt::format("{}: state.json: {}", (checkpoint / "state.json").string(), e.what()));
  }
  try {
    validate_model_config(config);
  } catch (const ConfigError& e) {
    throw InputDataError(fmt::format("{}: state.json: {}", (checkpoint / "state.json").string(), e.what()));
  }
  return config;
}

}  // namespace

nlohmann::json checkpoint_state_to_json(const CheckpointState& s) {
  const ModelConfig& m = s.model;
  nlohmann::json state = {{"model", describe(m)},
                          {"model_config", {{"architecture", std::string(to_string(m.architecture))},
                                            {"resolution", m.resolution_px}, {"ae_dims", m.ae_dims},
                                            {"e_dims", m.e_dims}, {"d_dims", m.d_dims},
                                            {"d_mask_dims", m.d_mask_dims},
                                            {"pixel_norm_latent", m.pixel_norm_latent},
                                            {"double_resolution", m.double_resolution}}},
                          {"face_type", s.face_type},
                          {"encoding", s.encoding ? network_encoding_to_json(*s.encoding) : nlohmann::json()},
                          {"elapsed_s", s.elapsed_s},
                          {"validation_history", s.validation_history},
                          {"base_model_sha256", s.base_model_sha256},
                          {"facetrain", s.facetrain_version}};
  if (!s.encoding) state.erase("encoding");
  if (s.identity_reference) state["identity_reference"] = identity_reference_to_json(*s.identity_reference);
  return state;
}

CheckpointState checkpoint_state_from_json(const nlohmann::json& state, const fs::path& checkpoint) {
  const std::string where = (checkpoint / "state.json").string();
  CheckpointState s;
  s.model = model_config_from_state(state, checkpoint);
  s.model_description = state.value("model", "");
  s.face_type = state.value("face_type", std::string());
  if (state.contains("encoding")) s.encoding = network_encoding_from_json(state["encoding"], where);
  s.elapsed_s = state.value("elapsed_s", 0.0);
  for (const auto& v : state.value("validation_history", nlohmann::json::array())) s.validation_history.push_back(v.get<double>());
  s.base_model_sha256 = state.value("base_model_sha256", "");
  s.facetrain_version = state.value("facetrain", "");
  if (state.contains("identity_reference")) s.identity_reference = identity_reference_from_json(state["identity_reference"], where);
  return s;
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
