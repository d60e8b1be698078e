// peer_reference: one facetrain training step on synthetic faces, written with torch::pickle_save
// (a dict readable by Python's torch.load) so that bench/peers/facetrain_peer.py can prove that its
// PyTorch network is facetrain's: the same parameters, the same augmentation, the same losses, the
// same gradient norm and the same loss after one AdamW step. Test-only (tests/e2e/peers_pytorch.sh).
//
//   peer_reference --config P.yaml --out R.pt [--batch-size B] [--threads T]
//
// P.yaml is `facetrain train --preset P --dump-config` (read as `train --config` reads it). The step
// is the trainer's (src/facetrain/train/trainer.cpp): weights seeded by the config's seed, faces
// through facetrain's Augmenter, forward_training, reconstruction_loss per identity with the
// eyes-and-mouth map, backward, clip_gradients, AdamW (or Adam) at the first step's learning rate.
// Keys of the dict:
//   weight/NAME, weight_after/NAME      parameters before and after the step
//   grad/NAME                           gradients of the summed loss (before clipping)
//   raw/{actor,double}_{images,masks,landmarks}, seed/augment_{actor,double}
//   batch/{actor,double}_{input,target,target_mask,landmarks}   the augmented batch
//   output/{actor,double}_{rgb,mask}    the forward before the step
//   loss/{actor,double}_{dssim,mse,l1,eyes_mouth,mask,total}, loss/after_step_total
//   grad_norm, lr, cost/parameter_count, cost/forward_flops_per_image (estimate_model_cost)
// Exit 64 on bad arguments, 78 on a bad config, 70 otherwise.
#include <torch/serialize.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "facetrain/base/error.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/jobs/model_config.h"
#include "facetrain/train/augment.h"
#include "facetrain/train/gradient_clip.h"
#include "facetrain/train/losses.h"
#include "facetrain/jobs/train_config.h"

using namespace facetrain;

namespace {

constexpr std::uint64_t kAugmentActorSeed = 11, kAugmentDoubleSeed = 12, kFacesSeed = 13;

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "peer_reference: ERROR: " << message
            << "\nusage: peer_reference --config P.yaml --out R.pt [--batch-size B] [--threads T]\n";
  std::exit(64);
}

struct Faces {
  torch::Tensor images, masks, landmarks;
};

// Smooth colour fields with some pixel noise (uint8), an elliptic face mask, and landmarks spread
// over the middle of the crop (so the eyes-and-mouth polygons cover real area).
Faces synthetic_faces(int64_t count, int64_t size, at::Generator& gen) {
  namespace F = torch::nn::functional;
  auto field = F::interpolate(torch::rand({count, 3, 8, 8}, gen),
                              F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kBilinear).align_corners(false));
  field = (field * 0.9 + torch::rand({count, 3, size, size}, gen) * 0.1);
  auto ys = torch::linspace(-1, 1, size).view({1, 1, size, 1});
  auto xs = torch::linspace(-1, 1, size).view({1, 1, 1, size});
  auto mask = (xs.square() / 0.5 + ys.square() / 0.7 < 1.0).to(torch::kUInt8).mul(255).expand({count, 1, size, size});
  auto landmarks = (torch::rand({count, 68, 2}, gen) * 0.5 + 0.25) * static_cast<double>(size - 1);
  return {(field * 255).round().to(torch::kUInt8), mask.contiguous(), landmarks};
}

double learning_rate_at(const OptimizerConfig& o, int64_t step) {  // trainer.cpp's warm-up
  if (o.warmup_steps <= 0 || step >= o.warmup_steps) return o.lr;
  return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, out_path;
  int64_t batch_override = 0;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--config") config_path = value;
    else if (flag == "--out") out_path = value;
    else if (flag == "--batch-size") batch_override = std::stoll(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else usage("unknown argument " + flag);
  }
  if (config_path.empty() || out_path.empty()) usage("--config and --out are required");
  try {
    TrainConfig config;
    config.model = model_preset(config.preset);
    apply_config_file(config, config_path);
    if (batch_override > 0) config.batch_size = batch_override;
    validate_train_config(config);
    if (threads > 0) at::set_num_threads(threads);
    at::globalContext().setDeterministicAlgorithms(true, false);  // as the trainer on CPU

    c10::Dict<std::string, at::Tensor> out;
    auto scalar = [](double v) { return torch::tensor(v, torch::kFloat64); };
    const ModelCost cost = estimate_model_cost(config.model);
    out.insert("cost/parameter_count", torch::tensor(cost.parameter_count, torch::kInt64));
    out.insert("cost/forward_flops_per_image", scalar(cost.forward_flops_per_image));

    torch::manual_seed(config.seed);  // the trainer's initial weights
    FaceSwapModel model(config.model);
    model.train(true);
    for (const auto& [name, p] : model.named_parameters()) out.insert("weight/" + name, p.detach().clone());

    const int64_t r = config.model.resolution_px, b = config.batch_size;
    at::Generator gen = at::detail::createCPUGenerator(kFacesSeed);
    const Faces actor = synthetic_faces(b, r, gen), dbl = synthetic_faces(b, r, gen);
    Augmenter augment_actor(config.augment, kAugmentActorSeed, c10::Device(c10::kCPU));
    Augmenter augment_double(config.augment, kAugmentDoubleSeed, c10::Device(c10::kCPU));
    out.insert("seed/augment_actor", torch::tensor(static_cast<int64_t>(kAugmentActorSeed)));
    out.insert("seed/augment_double", torch::tensor(static_cast<int64_t>(kAugmentDoubleSeed)));
    const AugmentedBatch a = augment_actor(actor.images, actor.masks, actor.landmarks);
    const AugmentedBatch d = augment_double(dbl.images, dbl.masks, dbl.landmarks);
    for (const auto& [who, faces, batch] : {std::tuple<const char*, const Faces&, const AugmentedBatch&>{"actor", actor, a},
                                            {"double", dbl, d}}) {
      const std::string w = who;
      out.insert("raw/" + w + "_images", faces.images);
      out.insert("raw/" + w + "_masks", faces.masks);
      out.insert("raw/" + w + "_landmarks", faces.landmarks);
      out.insert("batch/" + w + "_input", batch.input);
      out.insert("batch/" + w + "_target", batch.target);
      out.insert("batch/" + w + "_target_mask", batch.target_mask);
      out.insert("batch/" + w + "_landmarks", batch.landmarks);
    }

    auto losses_for = [&](const SwapOutput& o, const AugmentedBatch& batch) {
      const auto eyes_mouth = config.loss.eyes_mouth_weight > 0 ? eyes_mouth_weight_map(batch.landmarks, r, r) : torch::Tensor();
      return reconstruction_loss(o.rgb.to(torch::kFloat32), o.mask.to(torch::kFloat32), batch.target, batch.target_mask,
                                 eyes_mouth, config.loss);
    };
    const TrainingOutput o = model.forward_training(a.input, d.input);
    const LossTerms la = losses_for(o.actor, a), ld = losses_for(o.double_, d);
    out.insert("output/actor_rgb", o.actor.rgb.detach());
    out.insert("output/actor_mask", o.actor.mask.detach());
    out.insert("output/double_rgb", o.double_.rgb.detach());
    out.insert("output/double_mask", o.double_.mask.detach());
    for (const auto& [name, value] : la.named()) out.insert("loss/actor_" + name, value.detach());
    for (const auto& [name, value] : ld.named()) out.insert("loss/double_" + name, value.detach());

    const auto& oc = config.optimizer;
    const double lr = learning_rate_at(oc, 0);
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (oc.type == "adam")
      optimizer = std::make_unique<torch::optim::Adam>(
          model.parameters(), torch::optim::AdamOptions(lr).betas({oc.beta1, oc.beta2}).weight_decay(oc.weight_decay));
    else
      optimizer = std::make_unique<torch::optim::AdamW>(
          model.parameters(), torch::optim::AdamWOptions(lr).betas({oc.beta1, oc.beta2}).weight_decay(oc.weight_decay));
    torch::Tensor total = la.total + ld.total;
    optimizer->zero_grad();
    total.backward();
    for (const auto& [name, p] : model.named_parameters()) out.insert("grad/" + name, p.grad().detach().clone());
    if (oc.clip_grad_norm > 0) out.insert("grad_norm", clip_gradients(model.parameters(), oc.clip_grad_norm));
    optimizer->step();
    out.insert("lr", scalar(lr));
    for (const auto& [name, p] : model.named_parameters()) out.insert("weight_after/" + name, p.detach().clone());
    {
      torch::NoGradGuard no_grad;
      const TrainingOutput after = model.forward_training(a.input, d.input);
      out.insert("loss/after_step_total", (losses_for(after.actor, a).total + losses_for(after.double_, d).total).detach());
    }

    const std::vector<char> bytes = torch::pickle_save(out);
    std::ofstream file(out_path, std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file.flush()) throw std::runtime_error("cannot write " + out_path);
    std::fprintf(stderr, "peer_reference: %s, batch %lld per identity: loss %.6f, after one step %.6f\n",
                 describe(config.model).c_str(), static_cast<long long>(b), total.item<double>(),
                 out.at("loss/after_step_total").item<double>());
    return 0;
  } catch (const ConfigError& e) {
    std::cerr << "peer_reference: ERROR: " << e.what() << "\n";
    return 78;
  } catch (const std::exception& e) {
    std::cerr << "peer_reference: ERROR: " << e.what() << "\n";
    return 70;
  }
}
