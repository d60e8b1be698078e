#include "matte_command.h"

#include "console_reporter.h"
#include "facetrain/base/duration.h"
#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/module/torch_module.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace facetrain::cli {

namespace {

int run_train(MatteArgs& args, ConsoleReporter& reporter) {
  MatteTrainJob& job = args.train;
  if (job.faces.empty() || job.output.empty()) throw UsageError("matte train needs --faces FACESET -o MATTE_MODEL");
  if (!args.max_time.empty()) job.max_seconds = parse_duration_seconds(args.max_time);
  reporter.event("start", {{"command", "matte train"}, {"faces", job.faces.string()}, {"output", job.output.string()}});
  const MatteTrainReport report = torch_module().run_matte_train(job, reporter);
  nlohmann::json labelled_frames = report.labelled_frames;
  log_info("matte model {} ({} steps in {:.1f} s; {} faces with synthetic occluders, {} labelled)", job.output.string(),
           report.steps, report.seconds, report.faces, report.labelled_faces);
  std::string by_kind;
  for (const auto& [kind, value] : report.holdout_iou)
    by_kind += fmt::format("{}{} {:.3f} (hull {:.3f})", by_kind.empty() ? "" : ", ", kind, value, report.hull_iou.at(kind));
  if (!by_kind.empty()) log_info("held-out faces with synthetic occluders, IoU: {}; {:.1f} ms a face", by_kind, report.ms_per_face);
  reporter.event("done", {{"model", job.output.string()}, {"model_sha256", report.model_sha256}, {"steps", report.steps},
                          {"seconds", report.seconds}, {"faces", report.faces}, {"labelled_faces", report.labelled_faces},
                          {"labelled_frames", labelled_frames}, {"loss", report.final_loss},
                          {"holdout_iou", report.holdout_iou}, {"hull_iou", report.hull_iou},
                          {"ms_per_face", report.ms_per_face}});
  return 0;
}

int run_apply(MatteArgs& args, ConsoleReporter& reporter) {
  MatteApplyJob& job = args.apply;
  if (job.faces.empty() || job.model.empty()) throw UsageError("matte apply needs --faces FACESET --model MATTE_MODEL");
  reporter.event("start", {{"command", "matte apply"}, {"faces", job.faces.string()}, {"model", job.model.string()}});
  const MatteApplyReport report = torch_module().run_matte_apply(job, reporter);
  log_info("visible-face mattes for {} faces in {:.1f} s ({:.1f} ms a face) -> {}; on average {:.1f} % of the face hull "
           "is occluded; matte flicker {:.3f} -> {:.3f} of the plate's (window +-{})",
           report.faces, report.seconds, report.ms_per_face, report.index.string(), 100 * report.occluded_share,
           report.flicker_before, report.flicker_after, job.window);
  reporter.event("done", {{"faces", report.faces}, {"seconds", report.seconds}, {"ms_per_face", report.ms_per_face},
                          {"index", report.index.string()}, {"occluded_share", report.occluded_share},
                          {"flicker_before", report.flicker_before}, {"flicker_after", report.flicker_after}});
  return 0;
}

}  // namespace

CLI::App* setup_matte(CLI::App& app, MatteArgs& args) {
  auto* cmd = app.add_subcommand("matte", "The visible-face matte: where the face is visible, with hands, props and hair "
                                          "in front of it left out (train a model per shot, apply it to face sets)");
  cmd->require_subcommand(1);
  auto* train = cmd->add_subcommand("train", "Learn a shot's visible-face matte from its face set (synthetic occluders; "
                                             "optionally a few artists' mattes)");
  MatteTrainJob& t = args.train;
  train->add_option("--faces", t.faces, "The face set to learn from");
  train->add_option("--labels", t.labels,
                    "Artists' mattes: an image sequence with the plate's frame numbers (roto.####.png, or EXR whose "
                    "alpha is the matte); each labelled frame weighs --label-weight times a synthetic one");
  train->add_option("--labels-white", t.labels_white, "What is white in a label: occluder or visible (the visible face)")
      ->check(CLI::IsMember({"occluder", "visible"}))->capture_default_str();
  train->add_option("-o,--output", t.output, "The matte model file to write");
  train->add_option("--steps", t.steps, "Training steps")->check(CLI::Range(int64_t{1}, int64_t{10000000}))->capture_default_str();
  train->add_option("--max-time", args.max_time, "Stop after this long even before --steps (90s, 10m, 1h)");
  train->add_option("--resolution", t.resolution_px, "The network's size in pixels (multiple of 8)")->capture_default_str();
  train->add_option("--width", t.width, "Channels of the network's first level (the others 2x, 3x, 4x)")
      ->check(CLI::Range(4, 128))->capture_default_str();
  train->add_option("--batch", t.batch, "Faces per step")->check(CLI::Range(1, 1024))->capture_default_str();
  train->add_option("--lr", t.learning_rate, "Adam learning rate (cosine decay to a tenth)")->capture_default_str();
  train->add_flag("--outline-from-labels", t.outline_from_labels,
                  "Teach every face the face outline the visible-face labels draw (hairline, far cheek), not the "
                  "landmark hull's; needs --labels and --labels-white visible");
  train->add_option("--label-weight", t.label_weight, "Loss weight of a labelled face against a synthetic one")
      ->check(CLI::Range(0.0, 1000.0))->capture_default_str();
  train->add_option("--seed", t.seed, "Random seed")->capture_default_str();
  train->add_option("--device", t.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  train->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  auto* apply = cmd->add_subcommand("apply", "Write a visible-face matte for every face of a face set (swap and train "
                                             "then use it)");
  MatteApplyJob& a = args.apply;
  apply->add_option("--faces", a.faces, "The face set to write mattes into");
  apply->add_option("--model", a.model, "A matte model from `facetrain matte train`");
  apply->add_option("--window", a.window, "Smooth each matte over +-N frames of its track where the plate holds still "
                                          "(0 = frame by frame)")->check(CLI::Range(0, 50))->capture_default_str();
  apply->add_option("--batch", a.batch, "Faces per network call")->check(CLI::Range(1, 1024))->capture_default_str();
  apply->add_option("--device", a.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  apply->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  args.train_command = train;
  args.apply_command = apply;
  return cmd;
}

int run_matte_command(MatteArgs& args, ConsoleReporter& reporter) {
  if (args.train_command->parsed()) return run_train(args, reporter);
  return run_apply(args, reporter);
}

}  // namespace facetrain::cli
