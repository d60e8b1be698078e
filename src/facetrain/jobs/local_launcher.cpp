#include "facetrain/jobs/local_launcher.h"

#include "facetrain/base/error.h"
#include "facetrain/base/launch_environment.h"
#include "facetrain/base/log.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

extern char** environ;

namespace facetrain::dist {
namespace {

using Clock = std::chrono::steady_clock;

// A currently free TCP port on `address` (IPv4 literal); the rendezvous binds it moments later.
int free_port(const std::string& address) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    throw UsageError(fmt::format("--master-addr {}: give an IPv4 address, or a --master-port", address));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw UnavailableError(fmt::format("cannot open a socket: {}", std::strerror(errno)));
  sa.sin_port = 0;
  socklen_t length = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw UnavailableError(fmt::format("--master-addr {}: cannot bind a port there: {}", address, reason));
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return "stopped";
}

int code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 70;
}

}  // namespace

std::vector<std::string> current_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  while (start < all.size()) {
    const size_t end = all.find('\0', start);
    args.push_back(all.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return args;
}

int run_local_workers(const LocalLaunch& launch) {
  if (launch.nproc_per_node < 1 || launch.nnodes < 1 || launch.node_rank < 0 || launch.node_rank >= launch.nnodes)
    throw UsageError(fmt::format("--nproc-per-node {} --nnodes {} --node-rank {}: need N >= 1 and 0 <= node rank < nodes",
                                 launch.nproc_per_node, launch.nnodes, launch.node_rank));
  if (launch.nnodes > 1 && launch.master_port == 0)
    throw UsageError("--nnodes > 1 needs --master-addr and --master-port (the same on every node)");
  if (launch.command_line.empty()) throw InternalError("launcher: empty command line");
  const int port = launch.master_port != 0 ? launch.master_port : free_port(launch.master_addr);
  const int world = launch.nproc_per_node * launch.nnodes;

  char exe[4096] = {};
  const ssize_t exe_length = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (exe_length <= 0) throw InternalError("launcher: cannot read /proc/self/exe");

  // Environments and argv are prepared before fork: the child only calls async-signal-safe code.
  std::vector<std::string> argv_storage = launch.command_line;
  argv_storage[0] = exe;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const char* overridden[] = {"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                              kLocalWorkerVariable, "GROUP_RANK"};
  std::vector<std::string> base_env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool skip = name.rfind("TORCHELASTIC_", 0) == 0;
    for (const char* o : overridden) skip = skip || name == o;
    if (!skip) base_env.push_back(entry);
  }
  std::vector<std::vector<std::string>> env_storage(static_cast<size_t>(launch.nproc_per_node));
  std::vector<std::vector<char*>> envs(env_storage.size());
  for (int local = 0; local < launch.nproc_per_node; ++local) {
    auto& e = env_storage[static_cast<size_t>(local)];
    e = base_env;
    e.push_back(fmt::format("RANK={}", launch.node_rank * launch.nproc_per_node + local));
    e.push_back(fmt::format("LOCAL_RANK={}", local));
    e.push_back(fmt::format("WORLD_SIZE={}", world));
    e.push_back(fmt::format("LOCAL_WORLD_SIZE={}", launch.nproc_per_node));
    e.push_back(fmt::format("GROUP_RANK={}", launch.node_rank));
    e.push_back(fmt::format("MASTER_ADDR={}", launch.master_addr));
    e.push_back(fmt::format("MASTER_PORT={}", port));
    e.push_back(fmt::format("{}=1", kLocalWorkerVariable));
    for (auto& s : e) envs[static_cast<size_t>(local)].push_back(s.data());
    envs[static_cast<size_t>(local)].push_back(nullptr);
  }

  sigset_t watched, previous;
  sigemptyset(&watched);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&watched, s);
  if (::sigprocmask(SIG_BLOCK, &watched, &previous) != 0) throw InternalError("launcher: sigprocmask failed");

  const pid_t launcher_pid = ::getpid();
  pid_t group = 0;
  std::map<pid_t, int> running;  // pid -> global rank
  for (int local = 0; local < launch.nproc_per_node; ++local) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      if (group != 0) ::kill(-group, SIGKILL);
      throw UnavailableError(fmt::format("launcher: cannot start worker {}: {}", local, std::strerror(errno)));
    }
    if (pid == 0) {
      ::setpgid(0, group);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the launcher gone: save and stop (the peers do the same)
      if (::getppid() != launcher_pid) ::_exit(75);
      for (int s : {SIGTERM, SIGINT, SIGHUP}) ::signal(s, SIG_DFL);
      ::sigprocmask(SIG_SETMASK, &previous, nullptr);
      ::execve(argv[0], argv.data(), envs[static_cast<size_t>(local)].data());
      ::_exit(70);
    }
    ::setpgid(pid, group);  // both sides set it: no race with the child's exec
    if (group == 0) group = pid;
    running[pid] = launch.node_rank * launch.nproc_per_node + local;
  }
  log_info("launcher: {} worker(s) on this node (ranks {}-{} of {}), rendezvous {}:{}", launch.nproc_per_node,
           launch.node_rank * launch.nproc_per_node, (launch.node_rank + 1) * launch.nproc_per_node - 1, world,
           launch.master_addr, port);

  int forwarded_signal = 0;
  std::optional<std::pair<int, int>> first_failure;  // rank, wait status
  std::optional<Clock::time_point> kill_at;
  bool killed = false;
  std::vector<int> killed_ranks;
  std::map<int, int> codes;  // rank -> exit code
  while (!running.empty()) {
    timespec tick{0, 200 * 1000 * 1000};
    const int sig = ::sigtimedwait(&watched, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      forwarded_signal = sig;
      log_info("launcher: forwarding signal {} to the workers", sig);
      ::kill(-group, sig);
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = running.find(pid);
      if (it == running.end()) continue;
      const int rank = it->second;
      running.erase(it);
      codes[rank] = code_of(status);
      const bool expected = code_of(status) == 0 || (forwarded_signal != 0 && code_of(status) == 128 + forwarded_signal);
      if (!expected && !first_failure && !killed) {
        first_failure = {rank, status};
        kill_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>((launch.dist_timeout_s + 5) * 1000));
        log_error("launcher: rank {} (pid {}) {}; the other ranks stop within --dist-timeout", rank, pid,
                  describe_status(status));
      }
    }
    if (kill_at && !killed && Clock::now() >= *kill_at && !running.empty()) {
      for (const auto& [pid, rank] : running) killed_ranks.push_back(rank);
      log_error("launcher: rank(s) {} still running {:g} s after rank {} failed (frozen?): killing them",
                fmt::join(killed_ranks, ", "), launch.dist_timeout_s + 5, first_failure->first);
      ::kill(-group, SIGKILL);
      killed = true;
    }
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);

  if (first_failure) {
    const auto [rank, status] = *first_failure;
    if (WIFEXITED(status)) {
      const int code = WEXITSTATUS(status);
      throw Error(static_cast<ExitCode>(code),
                  fmt::format("rank {} failed with exit code {} (see its messages above){}", rank, code,
                              killed_ranks.empty() ? std::string()
                                                   : fmt::format("; rank(s) {} did not stop and were killed",
                                                                 fmt::join(killed_ranks, ", "))));
    }
    throw TemporaryError(fmt::format("lost rank {}: it {}; the same command resumes from the last checkpoint", rank,
                                     describe_status(status)));
  }
  if (forwarded_signal != 0) return 128 + forwarded_signal;
  return 0;
}

}  // namespace facetrain::dist
