// score_crops: facetrain's training-time quality scores (train/training_scores.h) applied to any
// model's predictions of the held-out faces, so that facetrain and a peer go through one scorer
// (docs/peer-faceswap.md, issue 27).
//
//   score_crops --actor FACESET --double FACESET --cache DIR [--resolution 64]
//               (--predictions DIR | --model RUN_OR_CHECKPOINT [--write DIR]) [--targets DIR]
//               [--identity-model FILE]
//
// The face sets are packed and split exactly as `facetrain train` packs and splits them
// (read_usable_faces at TrainConfig's min_fit_confidence, load_face_pack at its validation_fraction:
// the last 5 % of each face set's usable faces in frame order are held out), and the faces scored are
// the trainer's own (held_out_faces, face_pack.h): 64 held-out faces of each identity for
// reconstruction, spread over the held-out slice, 16 held-out double faces for identity, and
// references made from the training faces (make_identity_reference, up to 64 per identity).
//
// --predictions DIR: 8-bit RGB PNGs at RESOLUTION x RESOLUTION in the face set's crop geometry (the
// crop resized to RESOLUTION), one per held-out face, named by the crop's file name:
//   DIR/actor/<crop>.png   the actor's face through the actor's decoder
//   DIR/double/<crop>.png  the double's face through the double's decoder
//   DIR/swap/<crop>.png    the double's face through the actor's decoder
// --model RUN: facetrain's own predictions of the same faces (the checkpoint's model.pt, the weight
// average when the run kept one), scored as floats as the trainer scores them; --write DIR also
// writes them as PNGs in the --predictions layout (every held-out face), to score them the PNG way.
//
// --targets DIR: reconstruction targets read from DIR/actor and DIR/double (same layout) instead of the
// packed crops, e.g. a peer's own inputs carried through the same warp as its outputs, so that the
// resampling of a geometry change counts on both sides (the masks stay the face set's).
//
// Prints one JSON document: per side "actor_" / "double_" reconstruction (ssim, psnr_db,
// checkerboard_ratio) and "identity_" (to_actor, to_double, closer_to_actor, same_as_actor) on the
// 16 faces the trainer uses, "identity_all_" on the 64 validation double faces, and the faces used.
#include "facetrain/base/error.h"
#include "facetrain/faceset/usable_faces.h"
#include "facetrain/jobs/train_config.h"
#include "facetrain/media/image_io.h"
#include "facetrain/model/face_swap_model.h"
#include "facetrain/module/face_scorer_loader.h"
#include "facetrain/train/face_pack.h"
#include "facetrain/train/model_checkpoint.h"
#include "facetrain/train/training_scores.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace facetrain;

namespace {

std::string crop_name(const UsableFaces& usable, int64_t i) {
  return fs::path(usable.faces[static_cast<size_t>(i)].face->crop).filename().string();
}

torch::Tensor read_predictions(const fs::path& dir, const UsableFaces& usable, const torch::Tensor& index, int r) {
  const int64_t n = index.size(0);
  auto out = torch::empty({n, 3, r, r}, torch::kFloat32);
  for (int64_t k = 0; k < n; ++k) {
    const fs::path path = dir / crop_name(usable, index[k].item<int64_t>());
    const Rgb8Image image = read_rgb8(path);
    if (image.width != r || image.height != r)
      throw InputDataError(path.string() + ": not " + std::to_string(r) + " px square");
    out[k] = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {r, r, 3}, torch::kUInt8)
                 .permute({2, 0, 1})
                 .to(torch::kFloat32)
                 .div(255);
  }
  return out;
}

void write_predictions(const fs::path& dir, const UsableFaces& usable, const torch::Tensor& index,
                       const torch::Tensor& rgb) {
  fs::create_directories(dir);
  auto u8 = rgb.detach().clamp(0, 1).mul(255).round().to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  for (int64_t k = 0; k < index.size(0); ++k) {
    Rgb8Image image;
    image.width = static_cast<int>(u8.size(2));
    image.height = static_cast<int>(u8.size(1));
    image.pixels.assign(u8[k].data_ptr<uint8_t>(), u8[k].data_ptr<uint8_t>() + u8[k].numel());
    write_png(dir / crop_name(usable, index[k].item<int64_t>()), image);
  }
}

nlohmann::json names(const UsableFaces& usable, const torch::Tensor& index) {
  nlohmann::json out = nlohmann::json::array();
  for (int64_t k = 0; k < index.size(0); ++k) out.push_back(crop_name(usable, index[k].item<int64_t>()));
  return out;
}

int usage() {
  std::cerr << "usage: score_crops --actor FACESET --double FACESET --cache DIR [--resolution 64]\n"
               "                   (--predictions DIR | --model RUN [--write DIR]) [--targets DIR] [--identity-model FILE]\n";
  return 64;
}

}  // namespace

int main(int argc, char** argv) try {
  fs::path actor_dir, double_dir, cache, predictions, model_path, write_dir, targets;
  std::string identity_model;
  int resolution = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw ConfigError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--actor") actor_dir = next();
    else if (a == "--double") double_dir = next();
    else if (a == "--cache") cache = next();
    else if (a == "--resolution") resolution = std::stoi(next());
    else if (a == "--predictions") predictions = next();
    else if (a == "--model") model_path = next();
    else if (a == "--write") write_dir = next();
    else if (a == "--targets") targets = next();
    else if (a == "--identity-model") identity_model = next();
    else return usage();
  }
  if (actor_dir.empty() || double_dir.empty() || cache.empty() || predictions.empty() == model_path.empty()) return usage();

  const TrainConfig defaults;  // the trainer's split: validation_fraction and min_fit_confidence
  const UsableFaces actor_faces = read_usable_faces(actor_dir, defaults.min_fit_confidence);
  const UsableFaces double_faces = read_usable_faces(double_dir, defaults.min_fit_confidence);
  const FacePack actor = load_face_pack(actor_faces, resolution, defaults.validation_fraction, cache, "actor");
  const FacePack double_ = load_face_pack(double_faces, resolution, defaults.validation_fraction, cache, "double");
  const torch::Tensor va = held_out_faces(actor, 64), vd = held_out_faces(double_, 64), id16 = held_out_faces(double_, 16);

  std::unique_ptr<FaceScorer> scorer = open_face_scorer(identity_model, actor.landmark_points);
  if (!scorer->has_identity()) throw MissingInputError("no face-recognition model (scripts/fetch-models.sh)");
  const IdentityReference reference = make_identity_reference(*scorer, actor, double_, 64);

  nlohmann::json out;
  out["resolution"] = resolution;
  out["actor"] = {{"faces", actor.size()}, {"train", actor.train_count}, {"held_out", actor.size() - actor.train_count}};
  out["double"] = {{"faces", double_.size()}, {"train", double_.train_count}, {"held_out", double_.size() - double_.train_count}};
  out["validation_actor_faces"] = names(actor_faces, va);
  out["validation_double_faces"] = names(double_faces, vd);
  out["identity_double_faces"] = names(double_faces, id16);
  out["reference"] = {{"actor_faces", reference.actor_faces}, {"double_faces", reference.double_faces}};

  auto images = [](const FacePack& p, const torch::Tensor& index) {
    return p.images.index_select(0, index).to(torch::kFloat32).div(255);
  };
  auto masks = [](const FacePack& p, const torch::Tensor& index) {
    return p.masks.index_select(0, index).to(torch::kFloat32).div(255);
  };
  // Every input face's own reference scores (what a perfect reconstruction and a no-op swap give).
  out["double_faces_as_they_are"] = identity_metrics(
      face_descriptors(*scorer, images(double_, id16), double_.landmarks.index_select(0, id16)), reference, "identity_");

  torch::Tensor pa, pd, ps16, ps64;
  if (!model_path.empty()) {
    torch::NoGradGuard no_grad;
    const VerifiedCheckpoint verified = resolve_checkpoint(model_path);
    const CheckpointState state = checkpoint_state_from_json(verified.state, verified.directory);
    FaceSwapModel model(state.model);
    const NamedTensors loaded = load_named(verified.directory / "model.pt", model.named_parameters());
    model.load_named_parameters(loaded, (verified.directory / "model.pt").string());
    model.train(false);
    out["checkpoint"] = verified.directory.string();
    out["checkpoint_elapsed_s"] = state.elapsed_s;
    pa = model.reconstruct_actor(images(actor, va)).rgb.to(torch::kFloat32);
    pd = model.reconstruct_double(images(double_, vd)).rgb.to(torch::kFloat32);
    ps16 = model.swap_double_to_actor(images(double_, id16)).rgb.to(torch::kFloat32);
    ps64 = model.swap_double_to_actor(images(double_, vd)).rgb.to(torch::kFloat32);
    if (!write_dir.empty()) {  // every held-out face, for the PNG path and the contact sheet
      auto all = [](const FacePack& p) { return torch::arange(p.train_count, p.size(), torch::kLong); };
      const torch::Tensor ia = all(actor), id = all(double_);
      write_predictions(write_dir / "actor", actor_faces, ia, model.reconstruct_actor(images(actor, ia)).rgb);
      write_predictions(write_dir / "double", double_faces, id, model.reconstruct_double(images(double_, id)).rgb);
      write_predictions(write_dir / "swap", double_faces, id, model.swap_double_to_actor(images(double_, id)).rgb);
    }
  } else {
    out["predictions"] = predictions.string();
    pa = read_predictions(predictions / "actor", actor_faces, va, resolution);
    pd = read_predictions(predictions / "double", double_faces, vd, resolution);
    ps16 = read_predictions(predictions / "swap", double_faces, id16, resolution);
    ps64 = read_predictions(predictions / "swap", double_faces, vd, resolution);
  }
  const torch::Tensor ta = targets.empty() ? images(actor, va) : read_predictions(targets / "actor", actor_faces, va, resolution);
  const torch::Tensor td = targets.empty() ? images(double_, vd) : read_predictions(targets / "double", double_faces, vd, resolution);
  if (!targets.empty()) out["targets"] = targets.string();
  nlohmann::json scores = reconstruction_metrics(pa, ta, masks(actor, va), "actor_");
  scores.update(reconstruction_metrics(pd, td, masks(double_, vd), "double_"));
  scores.update(identity_metrics(face_descriptors(*scorer, ps16, double_.landmarks.index_select(0, id16)), reference,
                                 "identity_"));
  scores.update(identity_metrics(face_descriptors(*scorer, ps64, double_.landmarks.index_select(0, vd)), reference,
                                 "identity_all_"));
  out["scores"] = scores;
  std::cout << out.dump(2) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "score_crops: " << e.what() << "\n";
  return 1;
}
