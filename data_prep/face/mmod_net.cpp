#include "data_prep/face/mmod_net.h"

#include "facetrain/base/error.h"

#include <algorithm>
#include <variant>

namespace facetrain {

namespace {

// The computational layers as dlib's visitor meets them: from the output down to the input.
struct ConvOp {
  ConvStackLayer layer;
};
struct AffineOp {
  std::vector<float> gamma, beta;
};
struct ReluOp {};
using Op = std::variant<ConvOp, AffineOp, ReluOp>;

std::vector<float> floats_of(const dlib::tensor& t, size_t offset, size_t count) {
  const float* p = t.host() + offset;
  return std::vector<float>(p, p + count);
}

struct CollectOps {
  std::vector<Op>* ops;
  bool* unknown;

  template <long N, long R, long C, int SY, int SX, int PY, int PX>
  void operator()(const dlib::con_<N, R, C, SY, SX, PY, PX>& l) const {
    const dlib::tensor& params = l.get_layer_params();
    ConvStackLayer c;
    c.out_channels = l.num_filters();
    c.kernel_rows = l.nr();
    c.kernel_cols = l.nc();
    c.stride_y = l.stride_y();
    c.stride_x = l.stride_x();
    c.pad_y = l.padding_y();
    c.pad_x = l.padding_x();
    const size_t bias_count = l.bias_is_disabled() ? 0 : static_cast<size_t>(c.out_channels);
    const size_t filter_count = params.size() - bias_count;
    c.in_channels = static_cast<long>(filter_count / static_cast<size_t>(c.out_channels * c.kernel_rows * c.kernel_cols));
    c.filters = floats_of(params, 0, filter_count);  // con_'s filters: (num_filters, k, nr, nc), then the biases
    c.bias = floats_of(params, filter_count, bias_count);
    ops->push_back(ConvOp{std::move(c)});
  }
  void operator()(const dlib::affine_& l) const {
    if (l.get_mode() != dlib::CONV_MODE) {
      *unknown = true;
      return;
    }
    const auto gamma_alias = l.get_gamma();
    const auto beta_alias = l.get_beta();
    const dlib::tensor& gamma = gamma_alias.get();
    const dlib::tensor& beta = beta_alias.get();
    ops->push_back(AffineOp{floats_of(gamma, 0, gamma.size()), floats_of(beta, 0, beta.size())});
  }
  void operator()(const dlib::relu_&) const { ops->push_back(ReluOp{}); }
  template <typename Other>
  void operator()(const Other&) const {
    *unknown = true;
  }
};

}  // namespace

ConvStack conv_stack_of(const MmodNet& net) {
  std::vector<Op> ops;
  bool unknown = false;
  dlib::visit_computational_layers(net, CollectOps{&ops, &unknown});
  const auto bad = [] { return InputDataError("the mmod face detector network has a layer other than con, affine or relu"); };
  if (unknown) throw bad();
  std::reverse(ops.begin(), ops.end());  // input first
  ConvStack stack;
  for (Op& op : ops) {
    if (auto* conv = std::get_if<ConvOp>(&op)) {
      stack.layers.push_back(std::move(conv->layer));
      continue;
    }
    if (stack.layers.empty()) throw bad();
    ConvStackLayer& last = stack.layers.back();
    if (auto* affine = std::get_if<AffineOp>(&op)) {
      if (!last.scale.empty() || last.relu || affine->gamma.size() != static_cast<size_t>(last.out_channels) ||
          affine->beta.size() != affine->gamma.size())
        throw bad();
      last.scale = std::move(affine->gamma);
      last.shift = std::move(affine->beta);
    } else {
      if (last.relu) throw bad();
      last.relu = true;
    }
  }
  return stack;
}

MmodStackNet::MmodStackNet(const MmodNet& net, std::unique_ptr<ConvStackRunner> runner)
    : net_(net), runner_(std::move(runner)) {
  if (!runner_) throw InternalError("mmod network without a convolution runner");
  if (net_.loss_details().get_options().use_bounding_box_regression)
    throw InputDataError("mmod face detector models with bounding-box regression are not supported off dlib");
}

std::vector<dlib::mmod_rect> MmodStackNet::detect(const dlib::matrix<dlib::rgb_pixel>& image, double adjust_threshold) {
  return detect(std::vector<dlib::matrix<dlib::rgb_pixel>>{image}, adjust_threshold).front();
}

std::vector<std::vector<dlib::mmod_rect>> MmodStackNet::detect(const std::vector<dlib::matrix<dlib::rgb_pixel>>& images,
                                                               double adjust_threshold) {
  std::vector<std::vector<dlib::mmod_rect>> labels(images.size());
  if (images.empty()) return labels;
  // As add_loss_layer::process: the input layer's tensor, the forward, loss_mmod_::to_label.
  net_.input_layer().to_tensor(images.begin(), images.end(), input_);
  runner_->forward(input_.host(), input_.num_samples(), input_.k(), input_.nr(), input_.nc(), output_, out_rows_,
                   out_cols_);
  const dlib::mmod_options& options = net_.loss_details().get_options();
  const long windows = static_cast<long>(options.detector_windows.size());
  const size_t per_sample = static_cast<size_t>(windows * out_rows_ * out_cols_);
  if (output_.size() != per_sample * static_cast<size_t>(input_.num_samples()))
    throw InternalError("the mmod convolutions' output has not one channel per detector window");
  const auto& subnet = net_.subnet();
  // to_label's intermediate_detection without bounding-box regression: the anchor box is the box.
  struct Detection {
    dlib::drectangle rect;
    double confidence;
    long channel;
    bool operator<(const Detection& other) const { return confidence < other.confidence; }
  };
  std::vector<Detection> dets;
  for (long i = 0; i < input_.num_samples(); ++i) {
    // tensor_to_dets
    const float* out = output_.data() + per_sample * static_cast<size_t>(i);
    dets.clear();
    for (long k = 0; k < windows; ++k) {
      for (long r = 0; r < out_rows_; ++r) {
        for (long c = 0; c < out_cols_; ++c) {
          const double score = out[(k * out_rows_ + r) * out_cols_ + c];
          if (score > adjust_threshold) {
            const dlib::dpoint p = dlib::output_tensor_to_input_tensor(subnet, dlib::point(c, r));
            dlib::drectangle rect =
                dlib::centered_drect(p, options.detector_windows[k].width, options.detector_windows[k].height);
            rect = net_.input_layer().tensor_space_to_image_space(input_, rect);
            dets.push_back({rect, score, k});
          }
        }
      }
    }
    std::sort(dets.rbegin(), dets.rend());
    // Non-max suppression (to_label, overlaps_any_box_nms).
    std::vector<dlib::mmod_rect>& final_dets = labels[static_cast<size_t>(i)];
    for (const Detection& d : dets) {
      const dlib::rectangle rect = d.rect;
      if (std::any_of(final_dets.begin(), final_dets.end(),
                      [&](const dlib::mmod_rect& kept) { return options.overlaps_nms(kept.rect, rect); }))
        continue;
      final_dets.push_back(dlib::mmod_rect(d.rect, d.confidence, options.detector_windows[d.channel].label));
    }
  }
  return labels;
}

}  // namespace facetrain
