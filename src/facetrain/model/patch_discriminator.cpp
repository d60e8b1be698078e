#include "facetrain/model/patch_discriminator.h"

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "facetrain/base/error.h"
#include "facetrain/model/named_parameters.h"

namespace facetrain {
namespace {

constexpr double kSlope = 0.2;
constexpr int kMaxLevels = 5;
constexpr int kMinLogitsPx = 4;
constexpr int kMaxWidthFactor = 8;

// The receptive field of `levels` levels (4x4 stride 2, then 3x3) and the 1x1 head.
int receptive_field(int levels) {
  int field = 1, jump = 1;
  for (int i = 0; i < levels; ++i) {
    field += 3 * jump;  // 4x4
    jump *= 2;
    field += 2 * jump;  // 3x3
  }
  return field;
}

torch::nn::Conv2d conv(int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_ch, out_ch, kernel).stride(stride).padding(padding).bias(true));
}

}  // namespace

struct PatchDiscriminator::Net : torch::nn::Module {
  Net(int levels, int dims) {
    int64_t in_ch = 3;
    for (int i = 0; i < levels; ++i) {
      const int64_t width = int64_t(dims) * std::min(1 << i, kMaxWidthFactor);
      downs.push_back(register_module(fmt::format("down{}", i), conv(in_ch, width, 4, 2, 1)));
      mixes.push_back(register_module(fmt::format("mix{}", i), conv(width, width, 3, 1, 1)));
      in_ch = width;
    }
    head = register_module("head", conv(in_ch, 1, 1, 1, 0));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (size_t i = 0; i < downs.size(); ++i) {
      x = torch::leaky_relu(downs[i]->forward(x), kSlope);
      x = torch::leaky_relu(mixes[i]->forward(x), kSlope);
    }
    return head->forward(x);
  }
  std::vector<torch::nn::Conv2d> downs, mixes;
  torch::nn::Conv2d head{nullptr};
};

PatchDiscriminator::Shape PatchDiscriminator::shape_for(int resolution_px, int patch_px) {
  const int wanted = patch_px > 0 ? patch_px : resolution_px / 8;
  Shape shape;
  for (int levels = 1; levels <= kMaxLevels && (resolution_px >> levels) >= kMinLogitsPx; ++levels) {
    shape = {levels, receptive_field(levels)};
    if (shape.receptive_field_px >= wanted) break;
  }
  return shape;
}

PatchDiscriminator::PatchDiscriminator(int resolution_px, int dims, int patch_px)
    : shape_(shape_for(resolution_px, patch_px)) {
  if (shape_.levels == 0 || dims < 1)
    throw ConfigError(fmt::format("adversarial: no patch discriminator for {} px crops with dims {}", resolution_px, dims));
  net_ = std::make_unique<Net>(shape_.levels, dims);
}

PatchDiscriminator::~PatchDiscriminator() = default;
PatchDiscriminator::PatchDiscriminator(PatchDiscriminator&&) noexcept = default;
PatchDiscriminator& PatchDiscriminator::operator=(PatchDiscriminator&&) noexcept = default;

void PatchDiscriminator::to(c10::Device device, bool channels_last) {
  move_module(*net_, device, channels_last);
  channels_last_ = channels_last;
}

void PatchDiscriminator::set_trainable(bool on) {
  for (auto& p : net_->parameters()) p.requires_grad_(on);
}

at::Tensor PatchDiscriminator::logits(const at::Tensor& images) {
  return net_->forward(channels_last_ ? images.contiguous(at::MemoryFormat::ChannelsLast) : images);
}

std::vector<at::Tensor> PatchDiscriminator::parameters() const { return net_->parameters(); }

NamedTensors PatchDiscriminator::named_parameters() const { return module_named_parameters(*net_); }

void PatchDiscriminator::load_named_parameters(const NamedTensors& state, const std::string& source) {
  load_module_parameters(*net_, state, source,
                         fmt::format("patch discriminator of {} levels, first width {}", shape_.levels,
                                     net_->downs.front()->options.out_channels()));
}

torch::nn::Module& PatchDiscriminator::module() { return *net_; }

}  // namespace facetrain
