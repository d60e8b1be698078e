#include "facetrain/media/network_encoding.h"

#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/media/ocio_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace facetrain {

namespace {

constexpr float kSrgbLinearLimit = 0.0031308f;
constexpr float kSrgbEncodedLimit = 0.04045f;

void zero_non_finite(float* rgb, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(rgb[i])) rgb[i] = 0.f;
}

// Lossless optimisation only: OCIO_OPTIMIZATION_DEFAULT includes fast (approximate) log, exp and
// pow, which would make the round trip inexact in the 5th digit.
OCIO::ConstCPUProcessorRcPtr cpu_processor(const OCIO::ConstProcessorRcPtr& processor) {
  return processor->getOptimizedCPUProcessor(OCIO::OPTIMIZATION_LOSSLESS);
}

void apply(const OCIO::ConstCPUProcessorRcPtr& processor, float* rgb, size_t pixel_count) {
  zero_non_finite(rgb, pixel_count * 3);
  if (pixel_count == 0) return;
  OCIO::PackedImageDesc image(rgb, static_cast<long>(pixel_count), 1, 3);
  processor->apply(image);
}

// "DISPLAY/VIEW" split at the slash that leaves a display and a view the config has.
bool split_display_view(const OCIO::ConstConfigRcPtr& config, const std::string& text, std::string& display,
                        std::string& view) {
  for (size_t slash = text.find('/'); slash != std::string::npos; slash = text.find('/', slash + 1)) {
    const std::string d = text.substr(0, slash), v = text.substr(slash + 1);
    for (int i = 0; i < config->getNumDisplays(); ++i) {
      if (d != config->getDisplay(i)) continue;
      for (int j = 0; j < config->getNumViews(d.c_str()); ++j)
        if (v == config->getView(d.c_str(), j)) {
          display = d;
          view = v;
          return true;
        }
    }
  }
  return false;
}

std::string displays_and_views(const OCIO::ConstConfigRcPtr& config) {
  std::string text;
  for (int i = 0; i < config->getNumDisplays() && i < 4; ++i) {
    const char* d = config->getDisplay(i);
    for (int j = 0; j < config->getNumViews(d) && j < 3; ++j) text += fmt::format("{}'{}/{}'", text.empty() ? "" : ", ", d, config->getView(d, j));
  }
  return text;
}

// The probe colours of RoundTrip (network_encoding.h).
std::vector<std::array<float, 3>> probe_colours() {
  std::vector<float> levels;
  for (int q = -14 * 4; q <= 16 * 4; ++q) levels.push_back(std::exp2(q / 4.0f));
  for (int i = 0; i <= 64; ++i) levels.push_back(i / 64.0f);
  std::vector<std::array<float, 3>> probes;
  for (float v : levels) {
    probes.push_back({v, v, v});
    probes.push_back({v, 0, 0});
    probes.push_back({0, v, 0});
    probes.push_back({0, 0, v});
    probes.push_back({v, v, 0});
    probes.push_back({v, 0, v});
    probes.push_back({0, v, v});
    probes.push_back({v, 0.5f * v, 0.25f * v});  // a skin-like ratio
  }
  return probes;
}

}  // namespace

struct NetworkEncoding::Processors {
  OCIO::ConstCPUProcessorRcPtr forward;
  OCIO::ConstCPUProcessorRcPtr inverse;  // null when OpenColorIO cannot invert the transform
  std::string inverse_error;
};

bool RoundTrip::invertible() const { return has_inverse && probes_in_range > 0 && max_error <= kInvertibleTolerance; }

float srgb_encode_extended(float v) {
  if (!std::isfinite(v)) return 0.f;
  if (v <= kSrgbLinearLimit) return 12.92f * v;
  return 1.055f * std::pow(v, 1.f / 2.4f) - 0.055f;
}

float srgb_decode_extended(float e) {
  if (!std::isfinite(e)) return 0.f;
  if (e <= kSrgbEncodedLimit) return e / 12.92f;
  return std::pow((e + 0.055f) / 1.055f, 2.4f);
}

NetworkEncoding NetworkEncoding::for_request(const EncodingRequest& request, bool scene_linear_plate) {
  const std::string& name = request.encoding;
  if (name == "plate" || name == "srgb" || (name.empty() && request.input_colorspace.empty())) {
    NetworkEncodingRecord record;
    record.kind = name == "srgb" || (name.empty() && scene_linear_plate) ? EncodingKind::srgb : EncodingKind::plate;
    return from_record(record, request.input_colorspace, request.ocio_config);
  }
  const std::string what = "--encoding " + (name.empty() ? std::string("(default)") : name);
  if (request.input_colorspace.empty())
    throw ConfigError(fmt::format("{}: an OpenColorIO encoding needs the plates' colour space (--colorspace NAME, as "
                                  "the config spells it); without one, use --encoding plate or srgb",
                                  what));
  const LoadedOcioConfig loaded = load_ocio_config(request.ocio_config, what);
  const OCIO::ConstConfigRcPtr& config = loaded.config;
  NetworkEncodingRecord record;
  record.config = loaded.identity;
  std::string wanted = name;
  if (wanted.empty()) {
    const char* log_space = config->getColorSpace(OCIO::ROLE_COMPOSITING_LOG) ? OCIO::ROLE_COMPOSITING_LOG : nullptr;
    if (log_space) wanted = config->getColorSpace(log_space)->getName();
    else wanted = "display";
  }
  if (wanted == "display") {
    record.kind = EncodingKind::display_view;
    record.display = config->getDefaultDisplay();
    record.view = config->getDefaultView(record.display.c_str());
  } else if (config->getColorSpace(wanted.c_str())) {
    record.kind = EncodingKind::colorspace;
    record.colorspace = config->getColorSpace(wanted.c_str())->getName();  // roles resolve to their colour space
  } else if (split_display_view(config, wanted, record.display, record.view)) {
    record.kind = EncodingKind::display_view;
  } else {
    throw ConfigError(fmt::format("{}: neither a colour space nor a DISPLAY/VIEW of OpenColorIO config {} (displays and "
                                  "views: {}; or plate, srgb, display)",
                                  what, loaded.identity.path, displays_and_views(config)));
  }
  return from_record(record, request.input_colorspace, loaded.identity.path);
}

NetworkEncoding NetworkEncoding::from_record(const NetworkEncodingRecord& record, const std::string& input_colorspace,
                                             const std::string& ocio_config) {
  NetworkEncoding out;
  out.record_ = record;
  out.input_colorspace_ = input_colorspace;
  if (!record.config) {
    out.alternative_ = "srgb";
    out.measure_round_trip();
    return out;
  }
  const std::string what = fmt::format("encoding {}", record.name());
  if (input_colorspace.empty())
    throw ConfigError(fmt::format("{}: the plate's colour space is not recorded (extract --colorspace NAME)", what));
  // The config: the one given, else where extract found it, else $OCIO (a farm that mounts it elsewhere).
  std::string path = ocio_config;
  std::error_code ec;
  if (path.empty() && std::filesystem::is_regular_file(record.config->path, ec)) path = record.config->path;
  if (path.empty()) {
    const char* env = std::getenv("OCIO");
    if (!env || !*env)
      throw ConfigError(fmt::format("{}: the OpenColorIO config '{}' is no longer at {}: give it with --ocio-config or "
                                    "$OCIO", what, record.config->name, record.config->path));
    path = env;
  }
  const LoadedOcioConfig loaded = load_ocio_config(path, what);
  if (loaded.identity.name != record.config->name || loaded.identity.sha256 != record.config->sha256)
    throw ConfigError(fmt::format("OpenColorIO config {} is '{}' (sha256 {}), but the crops were made with '{}' (sha256 "
                                  "{}, then at {}): give that config with --ocio-config or $OCIO",
                                  loaded.identity.path, loaded.identity.name, loaded.identity.sha256,
                                  record.config->name, record.config->sha256, record.config->path));
  out.record_.config->path = loaded.identity.path;  // where it is now
  out.record_.config->library_version = loaded.identity.library_version;
  const OCIO::ConstConfigRcPtr& config = loaded.config;
  require_colorspace(loaded, input_colorspace, what + ": the plate's colour space");
  auto processors = std::make_shared<Processors>();
  try {
    if (record.kind == EncodingKind::colorspace) {
      require_colorspace(loaded, record.colorspace, what);
      processors->forward = cpu_processor(config->getProcessor(input_colorspace.c_str(), record.colorspace.c_str()));
      processors->inverse = cpu_processor(config->getProcessor(record.colorspace.c_str(), input_colorspace.c_str()));
    } else {
      auto transform = OCIO::DisplayViewTransform::Create();
      transform->setSrc(input_colorspace.c_str());
      transform->setDisplay(record.display.c_str());
      transform->setView(record.view.c_str());
      processors->forward = cpu_processor(config->getProcessor(transform, OCIO::TRANSFORM_DIR_FORWARD));
      try {
        processors->inverse = cpu_processor(config->getProcessor(transform, OCIO::TRANSFORM_DIR_INVERSE));
      } catch (const OCIO::Exception& e) {
        processors->inverse_error = e.what();
      }
    }
  } catch (const OCIO::Exception& e) {
    throw ConfigError(fmt::format("{} from '{}' with OpenColorIO config {}: {}", what, input_colorspace,
                                  loaded.identity.path, e.what()));
  }
  out.processors_ = processors;
  // An invertible alternative to name: the config's log colour space for compositing, else any
  // colour space it marks as log encoded, else the built-in sRGB curve.
  if (const auto log_space = config->getColorSpace(OCIO::ROLE_COMPOSITING_LOG))
    out.alternative_ = fmt::format("'{}' (the config's compositing_log role)", log_space->getName());
  for (int i = 0; out.alternative_.empty() && i < config->getNumColorSpaces(); ++i) {
    const auto cs = config->getColorSpace(config->getColorSpaceNameByIndex(i));
    if (cs && std::string(cs->getEncoding()) == "log") out.alternative_ = fmt::format("'{}' (a log colour space of the config)", cs->getName());
  }
  if (out.alternative_.empty()) out.alternative_ = "srgb (the sRGB curve, without OpenColorIO)";
  out.measure_round_trip();
  return out;
}

void NetworkEncoding::encode(float* rgb, size_t pixel_count) const {
  switch (record_.kind) {
    case EncodingKind::plate: zero_non_finite(rgb, pixel_count * 3); return;
    case EncodingKind::srgb:
      for (size_t i = 0; i < pixel_count * 3; ++i) rgb[i] = srgb_encode_extended(rgb[i]);
      return;
    default: apply(processors_->forward, rgb, pixel_count); return;
  }
}

void NetworkEncoding::decode(float* rgb, size_t pixel_count) const {
  switch (record_.kind) {
    case EncodingKind::plate: zero_non_finite(rgb, pixel_count * 3); return;
    case EncodingKind::srgb:
      for (size_t i = 0; i < pixel_count * 3; ++i) rgb[i] = srgb_decode_extended(rgb[i]);
      return;
    default:
      if (!processors_->inverse)
        throw ConfigError(fmt::format("encoding {}: OpenColorIO cannot invert it ({}); use {}", record_.name(),
                                      processors_->inverse_error, alternative_));
      apply(processors_->inverse, rgb, pixel_count);
      return;
  }
}

std::string NetworkEncoding::invertible_alternative() const { return alternative_; }

void NetworkEncoding::measure_round_trip() {
  round_trip_ = RoundTrip{};
  if (processors_ && !processors_->inverse) {
    round_trip_.has_inverse = false;
    return;
  }
  const std::vector<std::array<float, 3>> probes = probe_colours();
  std::vector<float> values(probes.size() * 3);
  for (size_t i = 0; i < probes.size(); ++i)
    for (int c = 0; c < 3; ++c) values[i * 3 + c] = probes[i][c];
  std::vector<float> encoded = values;
  encode(encoded.data(), probes.size());
  std::vector<float> decoded = encoded;
  decode(decoded.data(), probes.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    bool in_range = true;
    for (int c = 0; c < 3; ++c) {
      const float e = encoded[i * 3 + c];
      in_range = in_range && std::isfinite(e) && e >= 0.f && e <= 1.f;
    }
    if (!in_range) continue;
    ++round_trip_.probes_in_range;
    for (int c = 0; c < 3; ++c) {
      const double x = values[i * 3 + c], y = decoded[i * 3 + c];
      const double error = std::isfinite(y) ? std::abs(y - x) / std::max(1.0, std::abs(x)) : 1e30;
      if (error > round_trip_.max_error) {
        round_trip_.max_error = error;
        round_trip_.worst = probes[i];
      }
    }
  }
}

}  // namespace facetrain
