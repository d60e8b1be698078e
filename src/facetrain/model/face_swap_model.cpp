// The SAEHD-style autoencoder ("-ud" by default; ModelConfig switches -U and -D off), written from
// the architecture description in research/anchors-performance.md §2 (layer kinds, widths, kernel
// sizes) and DeepFaceLab's plain variant for -D off; the layer list here and
// estimate_model_cost() in model_config.cpp must describe the same network (a unit test compares
// their parameter counts).
#include "facetrain/model/face_swap_model.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "facetrain/base/error.h"
#include "facetrain/model/named_parameters.h"

namespace facetrain {
namespace {

constexpr double kSlope = 0.1;          // LeakyReLU after downscale / upscale convolutions
constexpr double kResidualSlope = 0.2;  // LeakyReLU inside and after residual blocks
constexpr double kPixelNormEps = 1e-6;

// LeakyReLU in place on a fresh activation (the argument is a by-value handle to it).
torch::Tensor leaky(torch::Tensor x, double slope) { return torch::leaky_relu_(x, slope); }

torch::nn::Conv2d make_conv(int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride = 1) {
  torch::nn::Conv2d conv(
      torch::nn::Conv2dOptions(in_ch, out_ch, kernel).stride(stride).padding(kernel / 2).bias(true));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(conv->weight);
  torch::nn::init::zeros_(conv->bias);
  return conv;
}

torch::nn::Linear make_dense(int64_t in_features, int64_t out_features) {
  torch::nn::Linear dense(torch::nn::LinearOptions(in_features, out_features).bias(true));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(dense->weight);
  torch::nn::init::zeros_(dense->bias);
  return dense;
}

constexpr int64_t kShuffle = 2;  // every pixel shuffle doubles the side

// A convolution whose output goes through pixel_shuffle(., kShuffle): out_ch channels after the
// shuffle, out_ch * kShuffle^2 before it. pixel_shuffle builds output channel c from input channels
// c*r^2 .. c*r^2 + r^2 - 1 (one per position of the r x r block), so ICNR repeats each of out_ch
// filters r^2 times in a row (repeat_interleave on dim 0): the shuffle then copies one value into
// the whole block. The repeated filters are drawn with the full convolution's Xavier bound, so
// each weight has the distribution it had before and activations keep their scale.
torch::nn::Conv2d make_shuffle_conv(int64_t in_ch, int64_t out_ch, int64_t kernel, UpsampleInit init) {
  const int64_t block = kShuffle * kShuffle;
  torch::nn::Conv2d conv = make_conv(in_ch, block * out_ch, kernel);
  if (init == UpsampleInit::xavier) return conv;
  torch::NoGradGuard no_grad;
  const double fan_in = static_cast<double>(in_ch * kernel * kernel);
  const double fan_out = static_cast<double>(block * out_ch * kernel * kernel);
  const double bound = std::sqrt(6.0 / (fan_in + fan_out));
  auto filters = torch::empty({out_ch, in_ch, kernel, kernel}).uniform_(-bound, bound);
  conv->weight.copy_(filters.repeat_interleave(block, 0));
  return conv;
}

// 3x3 conv to 4x the channels, LeakyReLU, pixel shuffle: doubles the spatial size.
struct UpscaleImpl : torch::nn::Module {
  UpscaleImpl(int64_t in_ch, int64_t out_ch, UpsampleInit init)
      : conv(register_module("conv", make_shuffle_conv(in_ch, out_ch, 3, init))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    // In place is safe: the convolution's backward needs its input, not its output, and
    // leaky_relu's backward works from its result for a positive slope.
    return torch::pixel_shuffle(leaky(conv->forward(x), kSlope), kShuffle);
  }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(Upscale);

struct ResidualBlockImpl : torch::nn::Module {
  explicit ResidualBlockImpl(int64_t ch)
      : conv1(register_module("conv1", make_conv(ch, ch, 3))),
        conv2(register_module("conv2", make_conv(ch, ch, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = leaky(conv1->forward(x), kResidualSlope);
    y = conv2->forward(y);
    return leaky(x + y, kResidualSlope);
  }
  torch::nn::Conv2d conv1, conv2;
};
TORCH_MODULE(ResidualBlock);

// Four 5x5 stride-2 convolutions (e, 2e, 4e, 8e channels), flattened and (-U) pixel-normalised.
struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const ModelConfig& c) : pixel_norm(c.pixel_norm_latent) {
    int64_t in_ch = 3;
    for (int i = 0; i < 4; ++i) {
      const int64_t out_ch = int64_t(c.e_dims) << i;
      downs.push_back(register_module(fmt::format("down{}", i), make_conv(in_ch, out_ch, 5, 2)));
      in_ch = out_ch;
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& down : downs) x = leaky(down->forward(x), kSlope);
    // flatten() is a reshape: it copies a channels_last tensor into C,H,W order, never view()s it.
    x = x.flatten(1);
    if (!pixel_norm) return x;
    return x * torch::rsqrt(x.square().mean(1, /*keepdim=*/true) + kPixelNormEps);
  }
  bool pixel_norm;
  std::vector<torch::nn::Conv2d> downs;
};
TORCH_MODULE(Encoder);

// Dense bottleneck: features -> ae_dims -> side^2 * out_ch, reshaped, upscaled to twice the side;
// the side is R/32 with -D (upscaled to R/16), else R/16 (upscaled to R/8).
struct InterImpl : torch::nn::Module {
  InterImpl(const ModelConfig& c, int64_t out_ch)
      : out_ch(out_ch),
        bottleneck_px(c.resolution_px / (c.double_resolution ? 32 : 16)),
        dense1(register_module(
            "dense1", make_dense(int64_t(c.resolution_px / 16) * (c.resolution_px / 16) * 8 * c.e_dims, c.ae_dims))),
        dense2(register_module("dense2", make_dense(c.ae_dims, bottleneck_px * bottleneck_px * out_ch))),
        upscale(register_module("upscale", Upscale(out_ch, out_ch, c.upsample_init))) {}
  torch::Tensor forward(const torch::Tensor& code, bool channels_last) {
    auto x = dense2->forward(dense1->forward(code));
    x = x.reshape({x.size(0), out_ch, bottleneck_px, bottleneck_px});
    if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    return upscale->forward(x);
  }
  int64_t out_ch, bottleneck_px;
  torch::nn::Linear dense1, dense2;
  Upscale upscale;
};
TORCH_MODULE(Inter);

// With -D (input at R/16): RGB: 3x (upscale + residual block) to R/2, a 3x3 conv to 12 channels,
// pixel shuffle to R; mask: 4 upscales to R, a 1x1 conv. Without (input at R/8): RGB: 3x (upscale
// + residual block) to R, a 1x1 conv to 3 channels (SAEHD's plain head); mask: 3 upscales to R, a
// 1x1 conv. Both through a sigmoid. The layers keep their names either way (rgb_head, mask_up0..,
// mask_head); only shapes differ, and mask_up3 exists with -D only.
struct DecoderImpl : torch::nn::Module {
  DecoderImpl(const ModelConfig& c, int64_t in_ch) : shuffle_rgb(c.double_resolution) {
    const int64_t d = c.d_dims, dm = c.d_mask_dims;
    const int64_t widths[] = {8 * d, 4 * d, 2 * d};
    int64_t ch = in_ch;
    for (int i = 0; i < 3; ++i) {
      ups.push_back(register_module(fmt::format("up{}", i), Upscale(ch, widths[i], c.upsample_init)));
      residuals.push_back(register_module(fmt::format("res{}", i), ResidualBlock(widths[i])));
      ch = widths[i];
    }
    rgb_head = register_module(
        "rgb_head", shuffle_rgb ? make_shuffle_conv(ch, 3, 3, c.upsample_init) : make_conv(ch, 3, 1));
    const int64_t mask_widths[] = {8 * dm, 4 * dm, 2 * dm, dm};
    const int mask_upscales = c.double_resolution ? 4 : 3;
    ch = in_ch;
    for (int i = 0; i < mask_upscales; ++i) {
      mask_ups.push_back(register_module(fmt::format("mask_up{}", i), Upscale(ch, mask_widths[i], c.upsample_init)));
      ch = mask_widths[i];
    }
    mask_head = register_module("mask_head", make_conv(ch, 1, 1));
  }
  SwapOutput forward(const torch::Tensor& z) {
    auto x = z;
    for (size_t i = 0; i < ups.size(); ++i) x = residuals[i]->forward(ups[i]->forward(x));
    x = rgb_head->forward(x);
    auto rgb = torch::sigmoid(shuffle_rgb ? torch::pixel_shuffle(x, kShuffle) : x);
    auto m = z;
    for (auto& up : mask_ups) m = up->forward(m);
    auto mask = torch::sigmoid(mask_head->forward(m));
    return {rgb, mask};
  }
  bool shuffle_rgb;
  std::vector<Upscale> ups;
  std::vector<ResidualBlock> residuals;
  torch::nn::Conv2d rgb_head{nullptr};
  std::vector<Upscale> mask_ups;
  torch::nn::Conv2d mask_head{nullptr};
};
TORCH_MODULE(Decoder);

SwapOutput slice(const SwapOutput& o, int64_t start, int64_t length) {
  return {o.rgb.narrow(0, start, length), o.mask.narrow(0, start, length)};
}

void check_images(const torch::Tensor& x, const ModelConfig& c, const char* what) {
  const int64_t r = c.resolution_px;
  if (!x.defined() || x.dim() != 4 || x.size(1) != 3 || x.size(2) != r || x.size(3) != r ||
      !x.is_floating_point())
    throw InternalError(fmt::format("FaceSwapModel: {} must be a float tensor [B, 3, {}, {}], got {}", what,
                                    r, r, x.defined() ? fmt::format("{}", fmt::join(x.sizes(), "x")) : "none"));
}

}  // namespace

struct FaceSwapModel::Net : torch::nn::Module {
  explicit Net(const ModelConfig& c) : encoder(register_module("encoder", Encoder(c))) {
    if (c.architecture == Architecture::df) {
      inter = register_module("inter", Inter(c, c.ae_dims));
      decoder_actor = register_module("decoder_actor", Decoder(c, c.ae_dims));
      decoder_double = register_module("decoder_double", Decoder(c, c.ae_dims));
    } else {
      inter_ab = register_module("inter_ab", Inter(c, 2 * c.ae_dims));
      inter_b = register_module("inter_b", Inter(c, 2 * c.ae_dims));
      decoder = register_module("decoder", Decoder(c, 4 * c.ae_dims));
    }
  }
  Encoder encoder;
  Inter inter{nullptr}, inter_ab{nullptr}, inter_b{nullptr};
  Decoder decoder_actor{nullptr}, decoder_double{nullptr}, decoder{nullptr};
};

FaceSwapModel::FaceSwapModel(const ModelConfig& config) : config_(config) {
  validate_model_config(config_);
  net_ = std::make_unique<Net>(config_);
}

FaceSwapModel::~FaceSwapModel() = default;
FaceSwapModel::FaceSwapModel(FaceSwapModel&&) noexcept = default;
FaceSwapModel& FaceSwapModel::operator=(FaceSwapModel&&) noexcept = default;

void FaceSwapModel::to(c10::Device device, bool channels_last) {
  move_module(*net_, device, channels_last);
  channels_last_ = channels_last;
}

c10::Device FaceSwapModel::device() const { return net_->encoder->downs.front()->weight.device(); }

void FaceSwapModel::train(bool on) { net_->train(on); }

namespace {
torch::Tensor prepare(const torch::Tensor& x, bool channels_last) {
  return channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}
}  // namespace

SwapOutput FaceSwapModel::reconstruct_actor(const at::Tensor& actor_images) {
  check_images(actor_images, config_, "actor images");
  auto code = net_->encoder->forward(prepare(actor_images, channels_last_));
  if (config_.architecture == Architecture::df)
    return net_->decoder_actor->forward(net_->inter->forward(code, channels_last_));
  auto ab = net_->inter_ab->forward(code, channels_last_);
  return net_->decoder->forward(torch::cat({ab, ab}, 1));
}

SwapOutput FaceSwapModel::reconstruct_double(const at::Tensor& double_images) {
  check_images(double_images, config_, "double images");
  auto code = net_->encoder->forward(prepare(double_images, channels_last_));
  if (config_.architecture == Architecture::df)
    return net_->decoder_double->forward(net_->inter->forward(code, channels_last_));
  auto ab = net_->inter_ab->forward(code, channels_last_);
  auto b = net_->inter_b->forward(code, channels_last_);
  return net_->decoder->forward(torch::cat({ab, b}, 1));
}

SwapOutput FaceSwapModel::swap_double_to_actor(const at::Tensor& double_images) {
  // Same path as the actor's reconstruction: the double's code goes through the actor side.
  check_images(double_images, config_, "double images");
  auto code = net_->encoder->forward(prepare(double_images, channels_last_));
  if (config_.architecture == Architecture::df)
    return net_->decoder_actor->forward(net_->inter->forward(code, channels_last_));
  auto ab = net_->inter_ab->forward(code, channels_last_);
  return net_->decoder->forward(torch::cat({ab, ab}, 1));
}

TrainingOutput FaceSwapModel::forward_training(const at::Tensor& actor_images, const at::Tensor& double_images) {
  check_images(actor_images, config_, "actor images");
  check_images(double_images, config_, "double images");
  const int64_t na = actor_images.size(0), nd = double_images.size(0);
  auto x = prepare(torch::cat({actor_images, double_images}, 0), channels_last_);
  auto code = net_->encoder->forward(x);
  if (config_.architecture == Architecture::df) {
    auto z = net_->inter->forward(code, channels_last_);
    return {net_->decoder_actor->forward(z.narrow(0, 0, na)), net_->decoder_double->forward(z.narrow(0, na, nd))};
  }
  auto ab = net_->inter_ab->forward(code, channels_last_);
  auto b = net_->inter_b->forward(code.narrow(0, na, nd), channels_last_);
  auto ab_actor = ab.narrow(0, 0, na), ab_double = ab.narrow(0, na, nd);
  auto z = torch::cat({torch::cat({ab_actor, ab_actor}, 1), torch::cat({ab_double, b}, 1)}, 0);
  auto out = net_->decoder->forward(z);
  return {slice(out, 0, na), slice(out, na, nd)};
}

std::vector<at::Tensor> FaceSwapModel::parameters() const {
  std::vector<at::Tensor> out;
  for (auto& item : net_->named_parameters(/*recurse=*/true)) out.push_back(item.value());
  return out;
}

NamedTensors FaceSwapModel::named_parameters() const { return module_named_parameters(*net_); }

void FaceSwapModel::load_named_parameters(const NamedTensors& state, const std::string& source) {
  load_module_parameters(*net_, state, source, fmt::format("model {}", describe(config_)));
}

torch::nn::Module& FaceSwapModel::module() { return *net_; }

}  // namespace facetrain
