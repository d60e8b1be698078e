#pragma once
// `facetrain train --nproc-per-node N`: this process becomes the node's launcher. It starts N
// workers (the same command line, re-executed with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT and FACETRAIN_LOCAL_WORKER=1 in their environment) in a process group of their own,
// forwards SIGTERM/SIGINT/SIGHUP to that group, and leaves no orphans: workers die with the
// launcher (PR_SET_PDEATHSIG), and when one worker fails the rest get --dist-timeout (+5 s) to
// notice and stop by themselves before they are killed. No LibTorch.
#include <string>
#include <vector>

namespace facetrain::dist {

struct LocalLaunch {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free port on master_addr (single node only)
  double dist_timeout_s = 600;
  std::vector<std::string> command_line;  // argv of the workers (argv[0] is replaced by /proc/self/exe)
};

// Runs the workers to the end and returns the launcher's exit code: 0 when all succeeded; 128+S
// after forwarding signal S; a failed worker's own exit code (e.g. 78, 65); 75 when a worker
// was killed by a signal it was not sent by us (the same command resumes). Throws on a bad
// launch specification (UsageError) or when workers cannot be started.
int run_local_workers(const LocalLaunch& launch);

// This process's command line, read from /proc/self/cmdline.
std::vector<std::string> current_command_line();

}  // namespace facetrain::dist
