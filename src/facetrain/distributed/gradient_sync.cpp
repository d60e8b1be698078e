#include "facetrain/distributed/gradient_sync.h"

#include "facetrain/base/error.h"
#include "facetrain/distributed/process_group.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <mutex>

namespace facetrain::dist {

struct GradientSynchronizer::Impl {
  struct Slot {
    at::Tensor parameter;
    int64_t bucket = 0;
    int64_t offset = 0;  // elements into the bucket's buffer
    bool ready = false;
    unsigned hook = 0;
  };
  struct Bucket {
    at::Tensor buffer;  // flat, float32 or bf16
    std::vector<size_t> slots;
    int64_t ready = 0;
    bool launched = false;
    PendingCollective pending;
  };

  ProcessGroup* group = nullptr;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  int64_t next_to_launch = 0;
  std::mutex mutex;  // hooks may run on autograd's device threads
  GradientSyncStats stats;

  void launch_ready_buckets() {  // caller holds mutex
    while (next_to_launch < static_cast<int64_t>(buckets.size())) {
      Bucket& b = buckets[static_cast<size_t>(next_to_launch)];
      if (b.ready < static_cast<int64_t>(b.slots.size())) return;
      b.pending = group->allreduce_sum_async(b.buffer);
      b.launched = true;
      ++next_to_launch;
    }
  }

  void on_gradient(size_t index, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    Slot& s = slots[index];
    Bucket& b = buckets[static_cast<size_t>(s.bucket)];
    if (s.ready || b.launched) return;  // a second backward through the same graph: keep the first
    b.buffer.narrow(0, s.offset, s.parameter.numel()).copy_(grad.reshape({-1}));
    s.ready = true;
    ++b.ready;
    launch_ready_buckets();
  }
};

GradientSynchronizer::GradientSynchronizer(ProcessGroup& group, std::vector<at::Tensor> parameters, int64_t bucket_bytes,
                                           bool bf16_compression)
    : impl_(std::make_unique<Impl>()) {
  auto& g = *impl_;
  g.group = &group;
  if (parameters.empty()) throw InternalError("GradientSynchronizer: no parameters");
  const auto device = parameters.front().device();
  if (bf16_compression && !device.is_cuda())
    throw ConfigError("--grad-compression bf16 needs --device cuda (Gloo on CPU all-reduces float32)");
  const auto dtype = bf16_compression ? torch::kBFloat16 : torch::kFloat32;
  const int64_t element_bytes = bf16_compression ? 2 : 4;
  // Reverse order: the last layers' gradients are produced first by backward.
  std::vector<std::vector<size_t>> groups(1);
  int64_t bytes = 0;
  for (size_t k = parameters.size(); k-- > 0;) {
    const auto& p = parameters[k];
    if (p.scalar_type() != torch::kFloat32 || p.device() != device)
      throw InternalError(fmt::format("GradientSynchronizer: parameter {} is not float32 on {}", k, device.str()));
    if (!groups.back().empty() && bytes + p.numel() * element_bytes > bucket_bytes) {
      groups.emplace_back();
      bytes = 0;
    }
    g.slots.push_back({p, static_cast<int64_t>(groups.size() - 1), bytes / element_bytes, false, 0});
    groups.back().push_back(g.slots.size() - 1);
    bytes += p.numel() * element_bytes;
  }
  for (auto& members : groups) {
    Impl::Bucket b;
    int64_t elements = 0;
    for (size_t s : members) elements += g.slots[s].parameter.numel();
    b.buffer = torch::zeros({elements}, torch::TensorOptions().dtype(dtype).device(device));
    b.slots = members;
    g.stats.bytes_per_step += elements * element_bytes;
    g.buckets.push_back(std::move(b));
  }
  g.stats.buckets = static_cast<int64_t>(g.buckets.size());
  for (size_t i = 0; i < g.slots.size(); ++i) {
    Impl* impl = impl_.get();
    g.slots[i].hook = g.slots[i].parameter.register_hook([impl, i](const at::Tensor& grad) { impl->on_gradient(i, grad); });
  }
}

GradientSynchronizer::~GradientSynchronizer() {
  for (auto& s : impl_->slots) {
    try {
      s.parameter.remove_hook(s.hook);
    } catch (...) {
    }
  }
}

const GradientSyncStats& GradientSynchronizer::stats() const { return impl_->stats; }

void GradientSynchronizer::begin_step() {
  auto& g = *impl_;
  std::lock_guard<std::mutex> lock(g.mutex);
  for (auto& s : g.slots) s.ready = false;
  for (auto& b : g.buckets) {
    b.ready = 0;
    b.launched = false;
  }
  g.next_to_launch = 0;
}

void GradientSynchronizer::finish() {
  auto& g = *impl_;
  const auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    // Parameters that got no gradient this step (unused) contribute zeros, so every rank still
    // launches every bucket in the same order.
    for (auto& s : g.slots) {
      if (s.ready) continue;
      auto& b = g.buckets[static_cast<size_t>(s.bucket)];
      if (b.launched) continue;
      b.buffer.narrow(0, s.offset, s.parameter.numel()).zero_();
      s.ready = true;
      ++b.ready;
    }
    g.launch_ready_buckets();
  }
  const double world = static_cast<double>(g.group->world_size());
  torch::NoGradGuard no_grad;
  for (auto& b : g.buckets) {
    b.pending.wait();
    auto averaged = b.buffer.to(torch::kFloat32).div_(world);
    for (size_t si : b.slots) {
      auto& s = g.slots[si];
      auto value = averaged.narrow(0, s.offset, s.parameter.numel()).view(s.parameter.sizes());
      auto& grad = s.parameter.mutable_grad();
      if (grad.defined()) grad.copy_(value);
      else grad = value.clone();
    }
  }
  g.stats.exposed_wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void broadcast_parameters(ProcessGroup& group, const std::vector<at::Tensor>& parameters, int root) {
  if (parameters.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> flat_parts;
  for (const auto& p : parameters) flat_parts.push_back(p.detach().reshape({-1}));
  auto flat = torch::cat(flat_parts);
  group.broadcast(flat, root);
  int64_t offset = 0;
  for (const auto& p : parameters) {
    p.detach().copy_(flat.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

}  // namespace facetrain::dist
