#include "facetrain/report/metric_names.h"

namespace facetrain::report {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

std::string metric_tag(const std::string& key) {
  if (key == "step" || key == "world_size") return "";
  if (key == "loss") return "loss/train";
  if (key == "validation_loss") return "loss/validation";
  if (key == "discriminator_loss") return "loss/discriminator";  // the adversarial term's (train.md)
  if (key == "lr") return "optimizer/learning_rate";
  if (key == "images_per_s") return "speed/images_per_s";
  if (key == "step_s") return "speed/seconds_per_step";
  if (key == "comm_exposed_s") return "speed/exposed_communication_s";
  if (key == "elapsed_s") return "time/elapsed_s";
  for (const char* group : {"actor", "double", "identity", "swap", "validation"}) {
    const std::string prefix = std::string(group) + "_";
    if (starts_with(key, prefix) && key.size() > prefix.size()) return std::string(group) + "/" + key.substr(prefix.size());
  }
  return "metrics/" + key;
}

std::vector<std::pair<std::string, double>> metric_scalars(const nlohmann::json& metrics_line) {
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [key, value] : metrics_line.items()) {
    if (!value.is_number()) continue;
    const std::string tag = metric_tag(key);
    if (!tag.empty()) scalars.emplace_back(tag, value.get<double>());
  }
  return scalars;
}

}  // namespace facetrain::report
