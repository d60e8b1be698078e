#pragma once
// Strict YAML configuration: every key must be known (the reader consumes what it understands and
// finish() rejects the rest), duplicate keys are refused, values are type- and range-checked. Every
// error names the file, the line and the dotted key: "train.yaml:14: key 'optimizer.lr': ...".
// config_map.cpp is the only translation unit that includes yaml-cpp.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace facetrain {

class ConfigMap {
 public:
  // Throws MissingInputError (66) if the file is absent, ConfigError (78) for bad YAML, a top level
  // that is not a mapping, duplicate keys, nesting deeper than 32 or a file over 1 MiB.
  static ConfigMap load_file(const std::filesystem::path& path);
  static ConfigMap load_string(const std::string& text, const std::string& source_name);
  ConfigMap(const ConfigMap&);
  ConfigMap& operator=(const ConfigMap&);
  ~ConfigMap();

  bool has(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double get_double(const std::string& key, double fallback, double min, double max);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed = {});
  // A nested mapping (empty when absent); its keys are checked by its own finish().
  ConfigMap get_map(const std::string& key);
  // Throws ConfigError naming the first key that no getter consumed.
  void finish() const;
  // "file:line" of a key (or of the mapping itself when key is empty), for callers' own errors.
  std::string where(const std::string& key = {}) const;

 private:
  struct Impl;
  explicit ConfigMap(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace facetrain
