#include "facetrain/config/config_map.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace facetrain {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr int kMaxDepth = 32;

// yaml-cpp recurses per nesting level; refuse deep documents before handing them over.
void check_nesting(const std::string& text, const std::string& source) {
  int flow_depth = 0, max_flow = 0;
  size_t max_indent = 0, line_start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      const std::string line = text.substr(line_start, i - line_start);
      const size_t indent = line.find_first_not_of(' ');
      if (indent != std::string::npos && line[indent] != '#') max_indent = std::max(max_indent, indent);
      line_start = i + 1;
      continue;
    }
    if (text[i] == '[' || text[i] == '{') max_flow = std::max(max_flow, ++flow_depth);
    if (text[i] == ']' || text[i] == '}') --flow_depth;
  }
  if (max_flow > kMaxDepth || max_indent > static_cast<size_t>(kMaxDepth) * 8)
    throw ConfigError(fmt::format("{}: nesting deeper than {} levels", source, kMaxDepth));
}

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

}  // namespace

struct ConfigMap::Impl {
  std::string source;   // file name as given
  std::string prefix;   // dotted key of this mapping ("" at top level)
  YAML::Node node;
  std::set<std::string> consumed;

  std::string dotted(const std::string& key) const { return prefix.empty() ? key : prefix + "." + key; }
  std::string location(const YAML::Node& at) const { return fmt::format("{}:{}", source, line_of(at)); }

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    const YAML::Node value = node[key];
    throw ConfigError(fmt::format("{}: key '{}': {}", location(value ? value : node), dotted(key), why));
  }

  // Checks this mapping's keys: scalars, no duplicates. Recurses into nested mappings.
  static void validate_mapping(const YAML::Node& mapping, const std::string& source, const std::string& prefix,
                               int depth) {
    if (depth > kMaxDepth) throw ConfigError(fmt::format("{}: nesting deeper than {} levels", source, kMaxDepth));
    std::set<std::string> seen;
    for (const auto& entry : mapping) {
      if (!entry.first.IsScalar())
        throw ConfigError(fmt::format("{}:{}: a key must be a plain name", source, line_of(entry.first)));
      const std::string key = entry.first.Scalar();
      const std::string full = prefix.empty() ? key : prefix + "." + key;
      if (!seen.insert(key).second)
        throw ConfigError(fmt::format("{}:{}: key '{}' appears twice", source, line_of(entry.first), full));
      if (entry.second.IsMap()) validate_mapping(entry.second, source, full, depth + 1);
    }
  }

  const YAML::Node scalar(const std::string& key) {
    consumed.insert(key);
    const YAML::Node value = node[key];
    if (!value.IsScalar()) fail(key, "expected a single value");
    return value;
  }
};

ConfigMap::ConfigMap(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigMap::ConfigMap(const ConfigMap&) = default;
ConfigMap& ConfigMap::operator=(const ConfigMap&) = default;
ConfigMap::~ConfigMap() = default;

ConfigMap ConfigMap::load_string(const std::string& text, const std::string& source_name) {
  if (text.size() > kMaxConfigBytes) throw ConfigError(fmt::format("{}: larger than 1 MiB", source_name));
  check_nesting(text, source_name);
  auto impl = std::make_shared<Impl>();
  impl->source = source_name;
  try {
    impl->node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: invalid YAML: {}", source_name, e.mark.line + 1, e.msg));
  }
  if (impl->node.IsNull()) impl->node = YAML::Node(YAML::NodeType::Map);
  if (!impl->node.IsMap()) throw ConfigError(fmt::format("{}:1: expected a mapping of keys to values", source_name));
  Impl::validate_mapping(impl->node, source_name, "", 0);
  return ConfigMap(impl);
}

ConfigMap ConfigMap::load_file(const std::filesystem::path& path) {
  std::error_code ec;
  // Only a regular file has a size to check before reading: a pipe (--config <(...)) is checked once read.
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) > kMaxConfigBytes)
    throw ConfigError(fmt::format("{}: larger than 1 MiB", path.string()));
  return load_string(read_file(path), path.string());
}

bool ConfigMap::has(const std::string& key) const { return static_cast<bool>(impl_->node[key]); }

int64_t ConfigMap::get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  if (!has(key)) return fallback;
  const YAML::Node value = impl_->scalar(key);
  int64_t result = 0;
  try {
    result = value.as<int64_t>();
  } catch (const YAML::Exception&) {
    impl_->fail(key, fmt::format("expected an integer in [{}, {}], got '{}'", min, max, value.Scalar()));
  }
  if (result < min || result > max)
    impl_->fail(key, fmt::format("expected an integer in [{}, {}], got {}", min, max, result));
  return result;
}

double ConfigMap::get_double(const std::string& key, double fallback, double min, double max) {
  if (!has(key)) return fallback;
  const YAML::Node value = impl_->scalar(key);
  double result = 0;
  try {
    result = value.as<double>();
  } catch (const YAML::Exception&) {
    impl_->fail(key, fmt::format("expected a number in [{}, {}], got '{}'", min, max, value.Scalar()));
  }
  if (!std::isfinite(result) || result < min || result > max)
    impl_->fail(key, fmt::format("expected a number in [{}, {}], got {}", min, max, value.Scalar()));
  return result;
}

bool ConfigMap::get_bool(const std::string& key, bool fallback) {
  if (!has(key)) return fallback;
  const YAML::Node value = impl_->scalar(key);
  try {
    return value.as<bool>();
  } catch (const YAML::Exception&) {
    impl_->fail(key, fmt::format("expected true or false, got '{}'", value.Scalar()));
  }
}

std::string ConfigMap::get_string(const std::string& key, const std::string& fallback,
                                  const std::vector<std::string>& allowed) {
  if (!has(key)) return fallback;
  const std::string result = impl_->scalar(key).Scalar();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), result) == allowed.end()) {
    std::string names;
    for (const auto& name : allowed) names += (names.empty() ? "" : ", ") + name;
    impl_->fail(key, fmt::format("expected one of {}, got '{}'", names, result));
  }
  return result;
}

ConfigMap ConfigMap::get_map(const std::string& key) {
  impl_->consumed.insert(key);
  auto child = std::make_shared<Impl>();
  child->source = impl_->source;
  child->prefix = impl_->dotted(key);
  const YAML::Node value = impl_->node[key];
  if (!value || value.IsNull()) {
    child->node = YAML::Node(YAML::NodeType::Map);
  } else if (!value.IsMap()) {
    impl_->fail(key, "expected a mapping of keys to values");
  } else {
    child->node = value;
  }
  return ConfigMap(child);
}

void ConfigMap::finish() const {
  for (const auto& entry : impl_->node) {
    const std::string key = entry.first.Scalar();
    if (!impl_->consumed.count(key))
      throw ConfigError(fmt::format("{}: unknown key '{}'", impl_->location(entry.first), impl_->dotted(key)));
  }
}

std::string ConfigMap::where(const std::string& key) const {
  if (!key.empty() && impl_->node[key]) return impl_->location(impl_->node[key]);
  return impl_->location(impl_->node);
}

}  // namespace facetrain
