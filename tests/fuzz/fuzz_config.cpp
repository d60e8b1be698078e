// YAML configs: deep nesting, alias bombs, duplicate keys, huge scalars are refused with
// ConfigError naming the file and line, never a crash or a hang; typed getters check types.
#include "facetrain/base/error.h"
#include "facetrain/config/config_map.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = facetrain::ConfigMap::load_string(text, "fuzz.yaml");
    // The getters the trainer uses, on keys a fuzzer can reach.
    config.get_int("max_steps", 0, 0, 1 << 30);
    config.get_double("optimizer.lr", 1e-4, 0, 1);
    config.get_bool("deterministic", false);
    config.get_string("preset", "tiny", {"tiny", "df-256"});
    auto nested = config.get_map("augment");
    nested.get_double("rotation_deg", 10, 0, 180);
    nested.finish();
    config.finish();
  } catch (const facetrain::Error&) {
  }
  return 0;
}
