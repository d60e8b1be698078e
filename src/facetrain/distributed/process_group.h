#pragma once
// One rank's membership of a distributed `facetrain train` (docs/design.md §6): the c10d TCPStore
// rendezvous and a c10d process group (ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA).
//
// Every failure of the rendezvous or of a collective becomes a facetrain error that names the
// lost rank(s): after a collective fails (a peer's socket closed, or Gloo's timeout ran out for a
// frozen peer) the surviving ranks hold a short roll call through the store; ranks that do not
// answer are named. Exit code 75 (retry: the same command resumes from the last checkpoint).
// The whole wait is bounded by timeout_s: collectives get timeout_s - 3 s, the roll call 2 s.
#include "facetrain/base/launch_environment.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace facetrain::dist {

class ProcessGroup;

// An all-reduce in flight; wait() throws TemporaryError naming lost ranks.
class PendingCollective {
 public:
  PendingCollective();
  ~PendingCollective();
  PendingCollective(PendingCollective&&) noexcept;
  PendingCollective& operator=(PendingCollective&&) noexcept;
  void wait();

 private:
  friend class ProcessGroup;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ProcessGroup {
 public:
  // Connects to MASTER_ADDR:MASTER_PORT (rank 0 serves the store unless torchrun's agent does),
  // waits up to timeout_s for every rank to join (TemporaryError naming the missing ranks), then
  // builds the process group (NCCL when `cuda`, else Gloo bound to the rendezvous interface).
  ProcessGroup(const LaunchEnvironment& launch, bool cuda, double timeout_s);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  double timeout_s() const;
  std::string backend_name() const;  // "gloo" or "nccl"

  // Store: every rank publishes `value` under `key` and gets all ranks' values, in rank order.
  std::vector<std::string> exchange(const std::string& key, const std::string& value);
  void publish(const std::string& key, const std::string& value);
  // Waits up to `timeout_s` for a key published by another rank.
  std::string fetch(const std::string& key, double timeout_s);

  // Collectives over the process group. The tensors must live on the group's device.
  void broadcast(at::Tensor& tensor, int root);
  PendingCollective allreduce_sum_async(at::Tensor& tensor);
  void allreduce_sum(at::Tensor& tensor);

  // Turns a failed collective into TemporaryError (75) naming the ranks that did not answer the
  // roll call; marks the group failed (it is then abandoned, never torn down, so nothing hangs).
  [[noreturn]] void fail(const std::string& operation, const std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrain::dist
