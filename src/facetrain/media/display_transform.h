#pragma once
// The 8-bit detection proxy of a plate in a named colour space: OpenColorIO's display transform from
// that colour space to the config's default display and view (OpenColorIO stays in media's .cpp
// files: ocio_support.h).
#include <memory>
#include <string>

namespace facetrain {

class DisplayTransform {
 public:
  // `config_path` empty: the config named by $OCIO. Throws ConfigError (78) when there is no config,
  // it cannot be read, or `colorspace` is not in it (naming the config and some of its colour spaces).
  DisplayTransform(const std::string& config_path, const std::string& colorspace);
  ~DisplayTransform();
  // In place, `pixel_count` interleaved RGB floats; thread-safe.
  void apply(float* rgb, size_t pixel_count) const;
  const std::string& description() const { return description_; }  // "ACEScg -> sRGB/ACES 1.0 SDR (config.ocio)"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string description_;
};

}  // namespace facetrain
