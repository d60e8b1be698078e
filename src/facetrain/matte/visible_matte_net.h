#pragma once
// The visible-face matte network (issue 24): a small U-Net on the aligned crop. Input [B,3,R,R] in
// [0,1]; output logits [B,1,R,R] of "this pixel is face, and nothing is in front of it". Four
// levels (R, R/2, R/4, R/8; max-pool down, bilinear up, skip connections), two 3x3 conv + ReLU per
// level, each followed by batch normalisation. At R = 64 with widths 16/32/48/64 it is about
// 0.25 GFLOP a face and 0.2 M parameters.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <string>

namespace facetrain {

struct VisibleMatteNetImpl : torch::nn::Module {
  explicit VisibleMatteNetImpl(std::array<int64_t, 4> widths = {16, 32, 48, 64});
  torch::Tensor forward(const torch::Tensor& rgb);  // logits
  std::array<int64_t, 4> widths;
  torch::nn::Sequential enc1{nullptr}, enc2{nullptr}, enc3{nullptr}, enc4{nullptr};
  torch::nn::Sequential dec3{nullptr}, dec2{nullptr}, dec1{nullptr};
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(VisibleMatteNet);

// What a matte model file records besides its weights.
struct MatteModelInfo {
  int format_version = 2;  // 2: batch normalisation after every convolution
  std::string face_type;     // of the face set it was trained on: crops of another type are refused
  int crop_size_px = 0;      // the face set's crop size: the mattes are stored at it
  int resolution_px = 0;     // the network's
  std::array<int64_t, 4> widths{16, 32, 48, 64};
  std::string trained_on;    // the face set's path, for people
  int labelled_faces = 0;
};

// The model file: one torch archive holding "info" (JSON text) and the weights, written atomically.
void save_matte_model(const std::string& path, VisibleMatteNet& net, const MatteModelInfo& info);
// Throws MissingInputError (66) for a missing file, InputDataError (65) naming it for anything unreadable.
VisibleMatteNet load_matte_model(const std::string& path, MatteModelInfo& info);

}  // namespace facetrain
