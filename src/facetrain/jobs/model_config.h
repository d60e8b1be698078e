#pragma once
// The shape of a face-swap model: a DeepFaceLab-SAEHD-style autoencoder, in two architectures:
//   df    one encoder and one inter shared by both identities, one decoder per identity;
//   liae  one encoder, inter_AB (both identities) and inter_B (the double only), one decoder;
// and SAEHD's two options, both on by default (its "-ud" variant, the presets' network):
//   -U  pixel_norm_latent: the encoder's flattened output is pixel-normalised;
//   -D  double_resolution: the dense bottleneck sits at resolution/32 and the RGB head doubles the
//       resolution with a sub-pixel convolution (R/32 -> R); without it, SAEHD's plain variant, the
//       bottleneck is at resolution/16, the decoder's stages reach R and the RGB head is a 1x1
//       convolution at R (R/16 -> R): the same widths, ~4x the decoder's FLOPs.
// No LibTorch here: the CLI and the config reader use this header; estimate_model_cost() gives
// FLOPs and parameters analytically, without building the network.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace facetrain {

enum class Architecture { df, liae };

std::string_view to_string(Architecture architecture);
// "df" or "liae"; throws ConfigError naming the value and the choices otherwise.
Architecture parse_architecture(std::string_view text);

// How the convolutions that feed a pixel shuffle start (issue 27). icnr: each group of r^2 output
// channels that one shuffled channel is made of starts as one Xavier filter repeated r^2 times, so
// that at initialisation the shuffle is a nearest-neighbour upsample and no checkerboard is there
// for training to undo (Aitken et al. 2017); xavier: plain Xavier, the recipe before issue 27, kept
// so that the bench and a test can compare the two.
enum class UpsampleInit { icnr, xavier };
std::string_view to_string(UpsampleInit init);
// "icnr" or "xavier"; throws ConfigError otherwise.
UpsampleInit parse_upsample_init(std::string_view text);

struct ModelConfig {
  Architecture architecture = Architecture::liae;
  int resolution_px = 256;  // square face crop; a multiple of 32 in [64, 512]
  int ae_dims = 256;        // bottleneck width (dense layer of the inter)
  int e_dims = 64;          // encoder width: channels e, 2e, 4e, 8e
  int d_dims = 64;          // decoder width: channels 8d, 4d, 2d
  int d_mask_dims = 24;     // mask decoder width: 8dm, 4dm, 2dm (and dm with double_resolution)
  bool pixel_norm_latent = true;  // SAEHD -U: pixel norm on the encoder's flattened output
  bool double_resolution = true;  // SAEHD -D: bottleneck at R/32, sub-pixel RGB head (else R/16, 1x1 head)
  // How training starts, not what the network is: left out of ==, describe() and the checkpoint,
  // so a run resumes, and swap loads its weights, whatever it was initialised with.
  UpsampleInit upsample_init = UpsampleInit::icnr;

  bool operator==(const ModelConfig& other) const;
  bool operator!=(const ModelConfig& other) const { return !(*this == other); }
};

// The allowed range of each field: the one place validate_model_config and the config reader
// (train_config.cpp) take them from.
struct ModelFieldRange {
  int low, high;
};
inline constexpr ModelFieldRange kResolutionRange{64, 512};  // and a multiple of kResolutionStepPx
inline constexpr int kResolutionStepPx = 32;                 // the dense bottleneck is resolution / 32 wide (-D)
inline constexpr ModelFieldRange kAeDimsRange{8, 2048};
inline constexpr ModelFieldRange kEDimsRange{4, 512};
inline constexpr ModelFieldRange kDDimsRange{4, 512};
inline constexpr ModelFieldRange kDMaskDimsRange{2, 512};

// Throws ConfigError (naming the field and the allowed range) for a configuration the model
// cannot be built with.
void validate_model_config(const ModelConfig& config);

// Presets: "tiny" (df, 64 px, ae 64 / e 16 / d 16 / dm 8: learns on a 2-core CPU), "df-256" and
// "liae-256" (SAEHD df-ud / liae-ud at 256 px with its default dims ae 256 / e 64 / d 64, except
// d_mask_dims 24 instead of 22: a multiple of 8 suits bf16 tensor cores, +1.4% FLOPs), and
// "liae-512" (the same dims at 512 px). Unknown names throw ConfigError listing the presets.
ModelConfig model_preset(std::string_view name);
std::vector<std::string> model_preset_names();

// Analytic cost. Multiply-add = 2 FLOPs; conv and dense layers only (activations, pixel norm,
// pixel shuffle and the sigmoid are not counted), as in research/anchors-performance.md §2.
struct ModelCost {
  double encoder_flops = 0;  // one image through the encoder
  double inter_flops = 0;    // one image through one inter (df: the inter; liae: inter_AB or inter_B)
  double decoder_flops = 0;  // one image through one decoder (RGB and mask heads)
  // A training step's forward cost per image: df = encoder + inter + decoder;
  // liae = encoder + 1.5 inters + decoder (the actor uses inter_AB, the double inter_AB and inter_B).
  double forward_flops_per_image = 0;
  // One swapped frame (double -> actor): encoder + inter(s) + decoder.
  double swap_flops_per_image = 0;
  std::int64_t encoder_parameters = 0;
  std::int64_t inter_parameters = 0;    // one inter
  std::int64_t decoder_parameters = 0;  // one decoder
  std::int64_t parameter_count = 0;     // the whole model (df: 2 decoders; liae: 2 inters)
};

ModelCost estimate_model_cost(const ModelConfig& config);

// "liae res=256 ae=256 e=64 d=64 dm=24", for logs and manifests; compared on resume. A variant
// without SAEHD's options adds them, off: " -u off", " -d off" (so the -ud strings are unchanged).
std::string describe(const ModelConfig& config);

}  // namespace facetrain
