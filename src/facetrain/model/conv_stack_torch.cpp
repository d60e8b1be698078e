#include "facetrain/model/conv_stack_torch.h"

#include "facetrain/base/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace facetrain {

namespace {

class TorchConvStack final : public ConvStackRunner {
 public:
  TorchConvStack(const ConvStack& stack, c10::Device device) : device_(device) {
    long channels = stack.layers.empty() ? 0 : stack.layers.front().in_channels;
    for (const ConvStackLayer& l : stack.layers) {
      const size_t filter_count = static_cast<size_t>(l.out_channels * l.in_channels * l.kernel_rows * l.kernel_cols);
      if (l.in_channels != channels || l.filters.size() != filter_count ||
          (!l.bias.empty() && l.bias.size() != static_cast<size_t>(l.out_channels)) ||
          l.scale.size() != l.shift.size() || (!l.scale.empty() && l.scale.size() != static_cast<size_t>(l.out_channels)))
        throw InputDataError("convolution stack: a layer's weights do not match its shape or the layer before it");
      channels = l.out_channels;
      // conv, then y = scale * (conv + bias) + shift, folded into one convolution's weights.
      torch::Tensor w = torch::from_blob(const_cast<float*>(l.filters.data()),
                                         {l.out_channels, l.in_channels, l.kernel_rows, l.kernel_cols})
                            .clone();
      torch::Tensor b = l.bias.empty() ? torch::zeros({l.out_channels})
                                       : torch::from_blob(const_cast<float*>(l.bias.data()), {l.out_channels}).clone();
      if (!l.scale.empty()) {
        const torch::Tensor s = torch::from_blob(const_cast<float*>(l.scale.data()), {l.out_channels}).clone();
        const torch::Tensor t = torch::from_blob(const_cast<float*>(l.shift.data()), {l.out_channels}).clone();
        w = w * s.view({-1, 1, 1, 1});
        b = b * s + t;
      }
      layers_.push_back({w.to(device_), b.to(device_), {l.stride_y, l.stride_x}, {l.pad_y, l.pad_x}, l.relu});
    }
  }

  void forward(const float* input, long samples, long channels, long rows, long cols, std::vector<float>& output,
               long& out_rows, long& out_cols) override {
    if (layers_.empty()) throw InternalError("convolution stack without layers");
    c10::InferenceMode inference;
    torch::Tensor x = torch::from_blob(const_cast<float*>(input), {samples, channels, rows, cols}).to(device_);
    for (const Layer& l : layers_) {
      x = torch::conv2d(x, l.weight, l.bias, l.stride, l.padding);
      if (l.relu) x.relu_();
    }
    x = x.to(torch::kCPU).contiguous();
    out_rows = x.size(2);
    out_cols = x.size(3);
    output.resize(static_cast<size_t>(x.numel()));
    std::copy_n(x.data_ptr<float>(), x.numel(), output.data());
  }

 private:
  struct Layer {
    torch::Tensor weight, bias;
    std::vector<int64_t> stride, padding;
    bool relu;
  };
  c10::Device device_;
  std::vector<Layer> layers_;
};

}  // namespace

std::unique_ptr<ConvStackRunner> open_torch_conv_stack(const ConvStack& stack, ConvStackDevice device) {
  if (device == ConvStackDevice::cpu) return std::make_unique<TorchConvStack>(stack, c10::Device(c10::DeviceType::CPU));
  if (!torch::cuda::is_available())
    throw UnavailableError("--detector-device cuda: no CUDA device is available (this build or machine has none); "
                           "--detector-device cpu runs the detector's convolutions through LibTorch on the CPU, "
                           "dlib (the default) through dlib");
  return std::make_unique<TorchConvStack>(stack, c10::Device(c10::DeviceType::CUDA, 0));
}

}  // namespace facetrain
