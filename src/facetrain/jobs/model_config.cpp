#include "facetrain/jobs/model_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "facetrain/base/error.h"

namespace facetrain {
namespace {

// One convolution: output size out_px x out_px, k x k kernel, with bias.
struct ConvCost {
  double macs;
  std::int64_t parameters;
};

ConvCost conv(std::int64_t out_px, std::int64_t in_ch, std::int64_t out_ch, std::int64_t kernel) {
  return {double(out_px) * double(out_px) * double(in_ch) * double(out_ch) * double(kernel * kernel),
          in_ch * out_ch * kernel * kernel + out_ch};
}

ConvCost dense(std::int64_t in_features, std::int64_t out_features) {
  return {double(in_features) * double(out_features), in_features * out_features + out_features};
}

struct Accumulator {
  double macs = 0;
  std::int64_t parameters = 0;
  void add(const ConvCost& c) {
    macs += c.macs;
    parameters += c.parameters;
  }
};

void check_range(const char* field, int value, ModelFieldRange range) {
  if (value < range.low || value > range.high)
    throw ConfigError(fmt::format("model: {} = {} is out of range [{}, {}]", field, value, range.low, range.high));
}

}  // namespace

std::string_view to_string(Architecture architecture) {
  return architecture == Architecture::df ? "df" : "liae";
}

Architecture parse_architecture(std::string_view text) {
  if (text == "df") return Architecture::df;
  if (text == "liae") return Architecture::liae;
  throw ConfigError(fmt::format("model: unknown architecture '{}' (expected df or liae)", text));
}

std::string_view to_string(UpsampleInit init) { return init == UpsampleInit::icnr ? "icnr" : "xavier"; }

UpsampleInit parse_upsample_init(std::string_view text) {
  if (text == "icnr") return UpsampleInit::icnr;
  if (text == "xavier") return UpsampleInit::xavier;
  throw ConfigError(fmt::format("model: unknown upsample_init '{}' (expected icnr or xavier)", text));
}

bool ModelConfig::operator==(const ModelConfig& other) const {
  return architecture == other.architecture && resolution_px == other.resolution_px &&
         ae_dims == other.ae_dims && e_dims == other.e_dims && d_dims == other.d_dims &&
         d_mask_dims == other.d_mask_dims && pixel_norm_latent == other.pixel_norm_latent &&
         double_resolution == other.double_resolution;
}

void validate_model_config(const ModelConfig& config) {
  check_range("resolution", config.resolution_px, kResolutionRange);
  if (config.resolution_px % kResolutionStepPx != 0)
    throw ConfigError(fmt::format("model: resolution = {} must be a multiple of {}",
                                  config.resolution_px, kResolutionStepPx));
  check_range("ae_dims", config.ae_dims, kAeDimsRange);
  check_range("e_dims", config.e_dims, kEDimsRange);
  check_range("d_dims", config.d_dims, kDDimsRange);
  check_range("d_mask_dims", config.d_mask_dims, kDMaskDimsRange);
}

ModelConfig model_preset(std::string_view name) {
  ModelConfig config;
  if (name == "tiny") {
    config.architecture = Architecture::df;
    config.resolution_px = 64;
    config.ae_dims = 64;
    config.e_dims = 16;
    config.d_dims = 16;
    config.d_mask_dims = 8;
  } else if (name == "df-256") {
    config.architecture = Architecture::df;  // SAEHD defaults: ae 256, e 64, d 64 (dm 22 -> 24)
  } else if (name == "liae-256") {
    config.architecture = Architecture::liae;
  } else if (name == "liae-512") {
    config.architecture = Architecture::liae;
    config.resolution_px = 512;
  } else {
    throw ConfigError(fmt::format("model: unknown preset '{}' (expected one of: {})", name,
                                  fmt::join(model_preset_names(), ", ")));
  }
  return config;
}

std::vector<std::string> model_preset_names() { return {"tiny", "df-256", "liae-256", "liae-512"}; }

ModelCost estimate_model_cost(const ModelConfig& config) {
  validate_model_config(config);
  const std::int64_t r = config.resolution_px;
  const std::int64_t e = config.e_dims, d = config.d_dims, dm = config.d_mask_dims;
  const std::int64_t ae = config.ae_dims;
  const bool liae = config.architecture == Architecture::liae;
  const std::int64_t inter_out_ch = liae ? 2 * ae : ae;
  const std::int64_t decoder_in_ch = liae ? 4 * ae : ae;
  // -D: the bottleneck at r/32 and a sub-pixel RGB head from r/2; without it r/16 and a head at r.
  const std::int64_t bottleneck_px = config.double_resolution ? r / 32 : r / 16;

  // Encoder: four 5x5 stride-2 convolutions.
  Accumulator encoder;
  std::int64_t in_ch = 3;
  for (int i = 0; i < 4; ++i) {
    const std::int64_t out_ch = e << i;
    encoder.add(conv(r >> (i + 1), in_ch, out_ch, 5));
    in_ch = out_ch;
  }
  const std::int64_t encoded_features = (r / 16) * (r / 16) * 8 * e;

  // Inter: dense -> dense -> 3x3 upscale (conv to 4x channels + pixel shuffle).
  Accumulator inter;
  inter.add(dense(encoded_features, ae));
  inter.add(dense(ae, bottleneck_px * bottleneck_px * inter_out_ch));
  inter.add(conv(bottleneck_px, inter_out_ch, 4 * inter_out_ch, 3));

  // Decoder at 2 x bottleneck -> three (upscale + residual block) -> RGB head: with -D a 3x3 conv at
  // r/2 to 3 x 4 channels and a pixel shuffle to r; without, a 1x1 conv at r. Mask branch: upscales
  // to r (four with -D, three without) and a 1x1 convolution.
  Accumulator decoder;
  const std::int64_t decoder_in_px = 2 * bottleneck_px;
  const std::int64_t widths[] = {8 * d, 4 * d, 2 * d};
  std::int64_t ch = decoder_in_ch;
  std::int64_t px = decoder_in_px;
  for (std::int64_t w : widths) {
    decoder.add(conv(px, ch, 4 * w, 3));  // upscale: conv at the input size
    px *= 2;
    decoder.add(conv(px, w, w, 3));  // residual block: two 3x3 convs
    decoder.add(conv(px, w, w, 3));
    ch = w;
  }
  if (config.double_resolution)
    decoder.add(conv(px, ch, 12, 3));  // at r/2: 3 x 4 channels, then pixel shuffle to r
  else
    decoder.add(conv(px, ch, 3, 1));  // at r
  const std::int64_t mask_widths[] = {8 * dm, 4 * dm, 2 * dm, dm};
  const int mask_upscales = config.double_resolution ? 4 : 3;
  ch = decoder_in_ch;
  px = decoder_in_px;
  for (int i = 0; i < mask_upscales; ++i) {
    decoder.add(conv(px, ch, 4 * mask_widths[i], 3));
    px *= 2;
    ch = mask_widths[i];
  }
  decoder.add(conv(px, ch, 1, 1));

  ModelCost cost;
  cost.encoder_flops = 2 * encoder.macs;
  cost.inter_flops = 2 * inter.macs;
  cost.decoder_flops = 2 * decoder.macs;
  cost.encoder_parameters = encoder.parameters;
  cost.inter_parameters = inter.parameters;
  cost.decoder_parameters = decoder.parameters;
  if (liae) {
    cost.forward_flops_per_image = cost.encoder_flops + 1.5 * cost.inter_flops + cost.decoder_flops;
    cost.swap_flops_per_image = cost.encoder_flops + cost.inter_flops + cost.decoder_flops;
    cost.parameter_count = encoder.parameters + 2 * inter.parameters + decoder.parameters;
  } else {
    cost.forward_flops_per_image = cost.encoder_flops + cost.inter_flops + cost.decoder_flops;
    cost.swap_flops_per_image = cost.forward_flops_per_image;
    cost.parameter_count = encoder.parameters + inter.parameters + 2 * decoder.parameters;
  }
  return cost;
}

std::string describe(const ModelConfig& config) {
  return fmt::format("{} res={} ae={} e={} d={} dm={}{}{}", to_string(config.architecture),
                     config.resolution_px, config.ae_dims, config.e_dims, config.d_dims,
                     config.d_mask_dims, config.pixel_norm_latent ? "" : " -u off",
                     config.double_resolution ? "" : " -d off");
}

}  // namespace facetrain
