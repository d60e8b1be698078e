#include "facetrain/matte/visible_matte_net.h"

#include "facetrain/base/atomic_file.h"
#include "facetrain/base/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace facetrain {

namespace {

torch::nn::Sequential double_conv(int64_t in, int64_t out) {
  using namespace torch::nn;
  // Batch normalisation: a network trained from scratch in a few hundred steps converges much
  // faster with it; at inference its running statistics are a fixed affine map.
  return Sequential(Conv2d(Conv2dOptions(in, out, 3).padding(1).bias(false)), BatchNorm2d(out), ReLU(ReLUOptions(true)),
                    Conv2d(Conv2dOptions(out, out, 3).padding(1).bias(false)), BatchNorm2d(out), ReLU(ReLUOptions(true)));
}

torch::Tensor up_to(const torch::Tensor& x, const torch::Tensor& like) {
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

VisibleMatteNetImpl::VisibleMatteNetImpl(std::array<int64_t, 4> w) : widths(w) {
  enc1 = register_module("enc1", double_conv(3, w[0]));
  enc2 = register_module("enc2", double_conv(w[0], w[1]));
  enc3 = register_module("enc3", double_conv(w[1], w[2]));
  enc4 = register_module("enc4", double_conv(w[2], w[3]));
  dec3 = register_module("dec3", double_conv(w[3] + w[2], w[2]));
  dec2 = register_module("dec2", double_conv(w[2] + w[1], w[1]));
  dec1 = register_module("dec1", double_conv(w[1] + w[0], w[0]));
  head = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(w[0], 1, 1)));
}

torch::Tensor VisibleMatteNetImpl::forward(const torch::Tensor& rgb) {
  namespace F = torch::nn::functional;
  const auto pool = [](const torch::Tensor& x) { return F::max_pool2d(x, F::MaxPool2dFuncOptions(2)); };
  const torch::Tensor x = rgb * 2 - 1;
  const torch::Tensor e1 = enc1->forward(x);
  const torch::Tensor e2 = enc2->forward(pool(e1));
  const torch::Tensor e3 = enc3->forward(pool(e2));
  const torch::Tensor e4 = enc4->forward(pool(e3));
  torch::Tensor d = dec3->forward(torch::cat({up_to(e4, e3), e3}, 1));
  d = dec2->forward(torch::cat({up_to(d, e2), e2}, 1));
  d = dec1->forward(torch::cat({up_to(d, e1), e1}, 1));
  return head->forward(d);
}

void save_matte_model(const std::string& path, VisibleMatteNet& net, const MatteModelInfo& info) {
  const nlohmann::json json = {{"format_version", 2}, {"kind", "facetrain-visible-matte"},
                               {"face_type", info.face_type}, {"crop_size_px", info.crop_size_px},
                               {"resolution_px", info.resolution_px}, {"widths", info.widths},
                               {"trained_on", info.trained_on}, {"labelled_faces", info.labelled_faces}};
  AtomicOutput out(path);
  try {
    torch::serialize::OutputArchive archive;
    net->to(torch::kCPU);
    net->save(archive);
    archive.write("info", c10::IValue(json.dump()));
    archive.save_to(out.temp_path().string());
  } catch (const c10::Error& e) {
    throw IoError(fmt::format("{}: cannot write the matte model: {}", path, e.what_without_backtrace()));
  }
  out.commit();
}

VisibleMatteNet load_matte_model(const std::string& path, MatteModelInfo& info) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw MissingInputError(fmt::format("--model {}: no such file", path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue text;
    if (!archive.try_read("info", text) || !text.isString())
      throw InputDataError(fmt::format("--model {}: not a facetrain matte model (no info record)", path));
    const nlohmann::json json = nlohmann::json::parse(text.toStringRef());
    if (json.value("kind", "") != "facetrain-visible-matte")
      throw InputDataError(fmt::format("--model {}: not a facetrain matte model", path));
    info.format_version = json.at("format_version").get<int>();
    if (info.format_version != 2)
      throw InputDataError(fmt::format("--model {}: format_version {} (this facetrain reads 2)", path, info.format_version));
    info.face_type = json.at("face_type").get<std::string>();
    info.crop_size_px = json.at("crop_size_px").get<int>();
    info.resolution_px = json.at("resolution_px").get<int>();
    info.widths = json.at("widths").get<std::array<int64_t, 4>>();
    info.trained_on = json.value("trained_on", "");
    info.labelled_faces = json.value("labelled_faces", 0);
    if (info.resolution_px < 16 || info.resolution_px > 1024 || info.resolution_px % 8 != 0)
      throw InputDataError(fmt::format("--model {}: resolution {} px", path, info.resolution_px));
    VisibleMatteNet net(info.widths);
    net->load(archive);
    net->eval();
    return net;
  } catch (const c10::Error& e) {
    throw InputDataError(fmt::format("--model {}: unreadable matte model: {}", path, e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw InputDataError(fmt::format("--model {}: unreadable matte model info: {}", path, e.what()));
  }
}

}  // namespace facetrain
