#pragma once
// dlib's CNN face detector network (mmod), and the same network with its convolutions run by a
// ConvStackRunner (facetrain/face/conv_stack.h): LibTorch on the CPU or a CUDA device, from the torch
// module (`extract --detector-device cpu|cuda`).
//
// Design: only the convolutions leave dlib. The extract module keeps dlib (data_prep/face/*) and the
// torch module keeps LibTorch (libfacetrain-torch.so, loaded with dlopen); what crosses between them
// is plain data: the weights (ConvStack, copied out of the deserialized MmodNet) one way, a float
// NCHW tensor each way per forward. The input tensor is built by dlib's own input layer
// (input_rgb_image_pyramid::to_tensor: the tiled image pyramid, exactly as dlib builds it) and the
// output map is decoded by dlib's own pieces (output_tensor_to_input_tensor through the network's
// layers, the input layer's tensor_space_to_image_space, the loss's mmod_options) in the steps of
// loss_mmod_::to_label: so the two paths differ only in the convolution arithmetic. The alternative,
// compiling the torch forward into the extract module, would make libfacetrain-extract.so link
// LibTorch (and load it for every extract); and a torch-side decode would need dlib there.
#include "facetrain/face/conv_stack.h"

#include <dlib/dnn.h>

#include <memory>
#include <vector>

namespace facetrain {

// dlib's published mmod face detector network (dnn_mmod_face_detection_ex.cpp); the layer types
// must match mmod_human_face_detector.dat exactly for deserialization.
namespace mmod_layers {
template <long num_filters, typename SUBNET>
using con5d = dlib::con<num_filters, 5, 5, 2, 2, SUBNET>;
template <long num_filters, typename SUBNET>
using con5 = dlib::con<num_filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler = dlib::relu<dlib::affine<
    con5d<32, dlib::relu<dlib::affine<con5d<32, dlib::relu<dlib::affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET>
using rcon5 = dlib::relu<dlib::affine<con5<45, SUBNET>>>;
}  // namespace mmod_layers
using MmodNet = dlib::loss_mmod<dlib::con<
    1, 9, 9, 1, 1,
    mmod_layers::rcon5<mmod_layers::rcon5<mmod_layers::rcon5<
        mmod_layers::downsampler<dlib::input_rgb_image_pyramid<dlib::pyramid_down<6>>>>>>>>;

// `net`'s convolutions, input first: each con_ layer's filters and biases with dlib's padding (none
// at stride 2, filter/2 at stride 1: con_'s defaults), each affine_ layer's gamma and beta as the
// scale and shift of the convolution below it, each relu_ as its ReLU. Throws InputDataError for a
// layer of another kind.
ConvStack conv_stack_of(const MmodNet& net);

// `net` (kept by reference, never run) with its convolutions run by `runner`.
class MmodStackNet {
 public:
  MmodStackNet(const MmodNet& net, std::unique_ptr<ConvStackRunner> runner);

  // What net.process(image, adjust_threshold) returns for each image, all of them (of one size) in
  // one batch through the runner.
  std::vector<std::vector<dlib::mmod_rect>> detect(const std::vector<dlib::matrix<dlib::rgb_pixel>>& images,
                                                   double adjust_threshold);
  std::vector<dlib::mmod_rect> detect(const dlib::matrix<dlib::rgb_pixel>& image, double adjust_threshold);

  // The last detect's input tensor (dlib's) and output map (samples x channels x rows x cols), as
  // net.subnet().get_output() would hold it after net.process on the same images.
  const dlib::resizable_tensor& input() const { return input_; }
  const std::vector<float>& output() const { return output_; }
  long output_rows() const { return out_rows_; }
  long output_cols() const { return out_cols_; }

 private:
  const MmodNet& net_;
  std::unique_ptr<ConvStackRunner> runner_;
  dlib::resizable_tensor input_;
  std::vector<float> output_;
  long out_rows_ = 0, out_cols_ = 0;
};

}  // namespace facetrain
