#pragma once
// Data-parallel gradient averaging (docs/design.md §6): parameters are grouped into buckets (reverse
// registration order, about the order backward produces their gradients); a gradient hook copies
// each gradient into its bucket's flat buffer, and a full bucket is all-reduced asynchronously
// while backward still runs. finish() launches what is left, waits, divides by the world size and
// writes the averages into the parameters' .grad. Buckets launch in index order on every rank,
// so the ranks' collectives always match. Optional bf16 compression (CUDA only) halves the bytes.
//
// c10d::Reducer is not used: it is built for Python's DistributedDataParallel (autograd hooks set up
// from Python, a logger, static-graph modes); this is the part facetrain needs, with its own order.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace facetrain::dist {

class ProcessGroup;

struct GradientSyncStats {
  int64_t buckets = 0;
  int64_t bytes_per_step = 0;        // gradient bytes all-reduced per step (after compression)
  double exposed_wait_seconds = 0;   // time finish() spent waiting for communication, last step
};

class GradientSynchronizer {
 public:
  GradientSynchronizer(ProcessGroup& group, std::vector<at::Tensor> parameters, int64_t bucket_bytes = 25 << 20,
                       bool bf16_compression = false);
  ~GradientSynchronizer();  // removes the hooks
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Before backward(): forget the previous step's gradients.
  void begin_step();
  // After backward(): every parameter's .grad holds the mean over ranks. Throws TemporaryError
  // naming lost ranks when a collective fails.
  void finish();

  const GradientSyncStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copies rank `root`'s parameters into every rank's (one flat broadcast).
void broadcast_parameters(ProcessGroup& group, const std::vector<at::Tensor>& parameters, int root = 0);

}  // namespace facetrain::dist
