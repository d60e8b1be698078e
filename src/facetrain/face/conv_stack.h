#pragma once
// A stack of 2-D convolutions (each followed by an optional per-channel scale and shift and an
// optional ReLU) as plain data, and the interface of whatever runs it. It is how the CNN face
// detector's convolutions (dlib's mmod network, data_prep/face/mmod_net.h) cross from the extract
// module (dlib) to the torch module (LibTorch, facetrain/model/conv_stack_torch.h) without either
// library's types: the extract module copies the weights out of dlib's network and builds the input
// tensor and decodes the output map with dlib's own code; the torch module only convolves.
#include <memory>
#include <vector>

namespace facetrain {

struct ConvStackLayer {
  long in_channels = 0, out_channels = 0;
  long kernel_rows = 0, kernel_cols = 0;
  long stride_y = 1, stride_x = 1;
  long pad_y = 0, pad_x = 0;  // zero padding on each side
  std::vector<float> filters; // out_channels x in_channels x kernel_rows x kernel_cols (dlib's and torch's order)
  std::vector<float> bias;    // out_channels; empty: none
  std::vector<float> scale;   // out_channels: y = scale * (conv + bias) + shift; empty: no scale and shift
  std::vector<float> shift;   // out_channels, with scale
  bool relu = false;          // max(0, y) last
};

struct ConvStack {
  std::vector<ConvStackLayer> layers;
};

class ConvStackRunner {
 public:
  virtual ~ConvStackRunner() = default;
  // `input`: samples x channels x rows x cols floats (NCHW, contiguous). `output` is resized to
  // samples x (last layer's out_channels) x out_rows x out_cols, NCHW.
  virtual void forward(const float* input, long samples, long channels, long rows, long cols,
                       std::vector<float>& output, long& out_rows, long& out_cols) = 0;
};

// Where a runner runs (`extract --detector-device cpu|cuda`; `dlib`, dlib's own code, needs none).
enum class ConvStackDevice { cpu, cuda };
inline const char* to_string(ConvStackDevice device) { return device == ConvStackDevice::cuda ? "cuda" : "cpu"; }

// Opens a runner of `stack` on `device`. Throws UnavailableError (69) when the device (or the module
// that runs it) is not there.
using ConvStackOpener = std::unique_ptr<ConvStackRunner> (*)(const ConvStack& stack, ConvStackDevice device);

}  // namespace facetrain
