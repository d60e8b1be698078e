// YAML configs: deep nesting, alias bombs, duplicate keys, huge scalars are refused with
// ConfigError naming the file and line, never a crash or a hang; typed getters check types.
// Oracle: an input is either accepted or refused with a ConfigError (78) whose message begins with
// "fuzz.yaml:LINE:" (LINE from 1 to the document's line count + 1), or, for a refusal of the whole
// document (too deep, too large), "fuzz.yaml: ". Any other error kind, or a message that does not
// say where, aborts (a finding).
#include "facetrain/base/error.h"
#include "facetrain/config/config_map.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr char kSource[] = "fuzz.yaml";

[[noreturn]] void finding(const char* what, const char* message) {
  std::fprintf(stderr, "fuzz_config: %s: %s\n", what, message);
  std::abort();
}

// True when `message` starts "fuzz.yaml:N:" with N a line of the document (or just past its end,
// where yaml-cpp reports an unexpected end), or "fuzz.yaml: " for a whole-document refusal.
bool says_where(const std::string& message, const std::string& text) {
  const std::string prefix = std::string(kSource) + ":";
  if (message.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size();
  if (i < message.size() && message[i] == ' ')
    return message.find("nesting deeper than", i) == i + 1 || message.find("larger than 1 MiB", i) == i + 1;
  long line = 0;
  const size_t digits_start = i;
  while (i < message.size() && message[i] >= '0' && message[i] <= '9' && line < 100000000) line = line * 10 + (message[i++] - '0');
  if (i == digits_start || i >= message.size() || message[i] != ':') return false;
  const long lines = 1 + static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  return line >= 1 && line <= lines + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = facetrain::ConfigMap::load_string(text, kSource);
    // The getters the trainer uses, on keys a fuzzer can reach.
    config.get_int("max_steps", 0, 0, 1 << 30);
    config.get_double("optimizer.lr", 1e-4, 0, 1);
    config.get_bool("deterministic", false);
    config.get_string("preset", "tiny", {"tiny", "df-256"});
    auto nested = config.get_map("augment");
    nested.get_double("rotation_deg", 10, 0, 180);
    nested.finish();
    config.finish();
  } catch (const facetrain::ConfigError& e) {
    if (!says_where(e.what(), text)) finding("a ConfigError that does not name the file and line", e.what());
  } catch (const facetrain::Error& e) {
    finding("an error other than ConfigError", e.what());
  }
  return 0;
}
