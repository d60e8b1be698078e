#pragma once
// The name each metrics.jsonl key is charted under, in TensorBoard (its tag) and on the report page
// alike, grouped the way people look at a fine-tune: loss/train and loss/validation together, each
// identity's loss terms in its own section (actor/dssim, double/mse...), optimizer/learning_rate,
// speed/images_per_s, and identity/... for identity scores where a run logs them.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace facetrain::report {

// The tag for `key`, or "" for keys that are not a time series (step, world_size).
std::string metric_tag(const std::string& key);

// Every numeric field of one metrics line as (tag, value), in key order.
std::vector<std::pair<std::string, double>> metric_scalars(const nlohmann::json& metrics_line);

}  // namespace facetrain::report
