#include "train_command.h"

#include "console_reporter.h"
#include "facetrain/base/duration.h"
#include "facetrain/base/error.h"
#include "facetrain/base/launch_environment.h"
#include "facetrain/jobs/local_launcher.h"
#include "facetrain/module/torch_module.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace facetrain::cli {

CLI::App* setup_train(CLI::App& app, TrainArgs& args) {
  auto* cmd = app.add_subcommand("train", "Fine-tune a face-swap model on the actor's and the double's face sets");
  auto& job = args.job;
  cmd->add_option("--actor", job.actor_faceset, "The actor's face set (the face to put on)");
  cmd->add_option("--double", job.double_faceset, "The double's face set (the face to replace)");
  cmd->add_option("-o,--output", job.run_directory, "Run directory (created; resumed when it holds checkpoints)");
  cmd->add_option("--config", args.config_file, "YAML configuration (see examples/configs/train.yaml)");
  cmd->add_option("--preset", args.preset, "Model preset: tiny, df-256, liae-256, liae-512");
  cmd->add_option("--base", job.base_checkpoint, "Start from this checkpoint or run directory");
  cmd->add_option("--base-parts", job.base_parts, "Parts taken from --base: all, or encoder (encoder and inters)")
      ->check(CLI::IsMember({"all", "encoder"}));
  cmd->add_option("--max-steps", args.max_steps, "Stop after this many steps (the run's total)");
  cmd->add_option("--max-time", args.max_time, "Stop after this long: 90s, 45m, 6h");
  cmd->add_option("--target-loss", args.target_loss, "Stop when the held-out loss (moving average) reaches this");
  cmd->add_option("--batch-size", args.batch_size, "Faces per identity per step, per process")->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", args.seed, "Seed of every random stream");
  cmd->add_option("--device", args.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--checkpoint-every", args.checkpoint_every, "Steps between checkpoints")->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--resume", args.resume, "auto: continue from the newest complete checkpoint; never: start over")
      ->check(CLI::IsMember({"auto", "never"}));
  cmd->add_option("--nproc-per-node", args.nproc_per_node, "Start N local worker processes (one per GPU) and train "
                  "data-parallel; --batch-size is per process")->check(CLI::Range(1, 1024));
  cmd->add_option("--nnodes", args.nnodes, "Machines taking part (each runs this command with its --node-rank)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--node-rank", args.node_rank, "This machine's index among --nnodes (0 hosts the rendezvous)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--master-addr", args.master_addr, "Rendezvous address (node 0's; the store listens there)");
  cmd->add_option("--master-port", args.master_port, "Rendezvous port (default: a free one, single node only)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--rdzv-endpoint", args.rdzv_endpoint, "HOST:PORT: --master-addr and --master-port in one");
  cmd->add_option("--dist-timeout", args.dist_timeout_s, "Seconds after which a lost or frozen rank ends every rank")
      ->check(CLI::Range(3.0, 86400.0));
  cmd->add_option("--grad-compression", args.grad_compression, "none, or bf16 (all-reduce bf16 gradients; CUDA only)")
      ->check(CLI::IsMember({"none", "bf16"}));
  cmd->add_flag("--dump-config", args.dump_config, "Print the effective configuration, parameters and FLOPs, then exit");
  cmd->add_flag("!--no-quality", args.job.quality_scores,
                "Do not score the model (reconstruction SSIM/PSNR at validations, identity at previews)");
  cmd->add_option("--identity-model", args.job.identity_model,
                  "dlib's face-recognition model for the identity scores (default: $FACETRAIN_MODELS or the build's "
                  "models folder, where scripts/fetch-models.sh puts it)");
  cmd->add_flag("--json", args.json, "Machine-readable JSON events on stdout");
  return cmd;
}

int run_train_command(TrainArgs& args, ConsoleReporter& reporter) {
  TrainConfig& config = args.job.config;
  // defaults < preset (shape and recipe) < file < flags. A --preset flag beats the file's preset and
  // dims; the file's other keys (its recipe, upsample_init, and SAEHD's -U/-D switches, which make a
  // variant of any preset) still apply over the flag's preset.
  apply_preset(config, args.preset.empty() ? config.preset : args.preset);
  if (!args.config_file.empty())
    apply_config_file(config, args.config_file, args.preset.empty() ? FilePreset::apply : FilePreset::check_only);
  if (!args.preset.empty()) {
    const ModelConfig file_model = config.model;
    config.model = model_preset(args.preset);
    config.model.upsample_init = file_model.upsample_init;  // how training starts, not the shape: the file's holds
    config.model.pixel_norm_latent = file_model.pixel_norm_latent;  // -U / -D: the preset's variant
    config.model.double_resolution = file_model.double_resolution;
  }
  if (args.max_steps) config.max_steps = *args.max_steps;
  if (!args.max_time.empty()) config.max_time_s = parse_duration_seconds(args.max_time);
  if (args.target_loss) config.target_loss = *args.target_loss;
  if (args.batch_size) config.batch_size = *args.batch_size;
  if (args.seed) config.seed = *args.seed;
  if (!args.device.empty()) config.device = args.device;
  if (args.checkpoint_every) config.checkpoint_every = *args.checkpoint_every;
  args.job.resume = args.resume == "auto";
  validate_train_config(config);

  if (args.dump_config) {
    const ModelCost cost = estimate_model_cost(config.model);
    std::printf("%s", train_config_to_yaml(config).c_str());
    std::printf("# model: %s\n# parameters: %lld\n# forward GFLOP per image (training step): %.2f\n"
                "# forward GFLOP per swapped frame: %.2f\n",
                describe(config.model).c_str(), static_cast<long long>(cost.parameter_count),
                cost.forward_flops_per_image / 1e9, cost.swap_flops_per_image / 1e9);
    return 0;
  }
  if (args.job.actor_faceset.empty() || args.job.double_faceset.empty() || args.job.run_directory.empty())
    throw UsageError("train needs --actor FACESET --double FACESET -o RUN");
  if (config.max_steps == 0 && config.max_time_s == 0 && config.target_loss == 0)
    log_warning("no --max-steps, --max-time or --target-loss: training runs until stopped (SIGINT/SIGTERM saves first)");

  if (!args.rdzv_endpoint.empty()) {
    const auto colon = args.rdzv_endpoint.rfind(':');
    const std::string port = colon == std::string::npos ? "" : args.rdzv_endpoint.substr(colon + 1);
    if (colon == 0 || port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      throw UsageError(fmt::format("--rdzv-endpoint {}: expected HOST:PORT", args.rdzv_endpoint));
    args.master_addr = args.rdzv_endpoint.substr(0, colon);
    args.master_port = std::stoi(port);
  }
  if (args.grad_compression == "bf16" && config.device != "cuda")
    throw ConfigError("--grad-compression bf16 needs --device cuda (Gloo on CPU all-reduces float32)");
  const bool local_worker = std::getenv(kLocalWorkerVariable) != nullptr;
  if (!local_worker && (args.nproc_per_node > 1 || args.nnodes > 1)) {
    dist::LocalLaunch launch;
    launch.nproc_per_node = args.nproc_per_node;
    launch.nnodes = args.nnodes;
    launch.node_rank = args.node_rank;
    launch.master_addr = args.master_addr;
    launch.master_port = args.master_port;
    launch.dist_timeout_s = args.dist_timeout_s;
    launch.command_line = dist::current_command_line();
    return dist::run_local_workers(launch);
  }
  args.job.launch = launch_environment_from_process();
  args.job.dist_timeout_s = args.dist_timeout_s;
  args.job.grad_compression = args.grad_compression;
  const int rank = args.job.launch.rank;
  const bool distributed = args.job.launch.distributed();
  if (rank > 0) {  // other ranks: warnings and errors only, prefixed with their rank
    set_log_level(LogLevel::warning);
    set_log_prefix(fmt::format("[rank {}] ", rank));
  }

  if (rank == 0)
    reporter.event("start", {{"command", "train"}, {"run", args.job.run_directory.string()}, {"preset", config.preset},
                             {"world_size", args.job.launch.world_size}});
  TrainReport report;
  try {
    report = torch_module().run_train(args.job, reporter);
  } catch (const Error& e) {
    if (distributed) throw Error(e.code(), fmt::format("[rank {}] {}", rank, e.what()));
    throw;
  }
  if (rank > 0) return 0;
  log_info("stopped ({}) at step {} after {:.1f} s; training loss {:.5f}, held-out loss {:.5f}", to_string(report.reason),
           report.steps, report.seconds, report.last_loss, report.validation_loss);
  log_info("checkpoint: {}", report.last_checkpoint.string());
  log_info("preview:    {}", report.last_preview.string());
  nlohmann::json done = {{"reason", to_string(report.reason)},
                         {"steps", report.steps},
                         {"steps_this_session", report.steps_this_session},
                         {"seconds", report.seconds},
                         {"device_hours", report.device_hours},
                         {"loss", report.last_loss},
                         {"validation_loss", report.validation_loss},
                         {"checkpoint", report.last_checkpoint.string()},
                         {"preview", report.last_preview.string()}};
  if (report.seconds_to_target >= 0) done["seconds_to_target"] = report.seconds_to_target;
  if (!report.quality.empty()) {
    done["quality"] = report.quality;
    const nlohmann::json& q = report.quality;
    auto value = [&](const char* key) { return q.contains(key) ? q[key].get<double>() : std::nan(""); };
    log_info("quality: held-out faces through their own decoder: actor SSIM {:.3f} PSNR {:.2f} dB checkerboard {:.2f} "
             "sharpness {:.2f}, double SSIM {:.3f} PSNR {:.2f} dB checkerboard {:.2f} sharpness {:.2f}; swapped double faces "
             "{:.3f} from the actor, {:.3f} from the double ({:.0f} % closer to the actor, {:.0f} % within 0.6), landmark error {:.3f}",
             value("validation_actor_ssim"), value("validation_actor_psnr_db"), value("validation_actor_checkerboard_ratio"),
             value("validation_actor_sharpness_ratio"), value("validation_double_ssim"), value("validation_double_psnr_db"),
             value("validation_double_checkerboard_ratio"), value("validation_double_sharpness_ratio"),
             value("identity_to_actor"), value("identity_to_double"),
             100 * value("identity_closer_to_actor"), 100 * value("identity_same_as_actor"), value("swap_landmark_error"));
  }
  reporter.event("done", done);
  return 0;
}

}  // namespace facetrain::cli
