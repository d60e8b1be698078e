#include "facetrain/distributed/process_group.h"

#include "facetrain/base/error.h"
#include "facetrain/base/log.h"
#include "facetrain/distributed/c10d_backends.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

namespace facetrain::dist {
namespace {

using Milliseconds = std::chrono::milliseconds;
constexpr double kRollCallSeconds = 2.0;

Milliseconds to_ms(double seconds) { return Milliseconds(static_cast<int64_t>(seconds * 1000.0)); }

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

std::string first_line(const std::string& message) {
  const auto end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

bool is_loopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "::1";
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

struct ProcessGroup::Impl {
  LaunchEnvironment launch;
  bool cuda = false;
  double timeout_s = 600;
  std::string prefix;  // keys of this run (and torchrun restart)
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::atomic<bool> failed{false};

  std::string key(const std::string& name) const { return prefix + name; }
  std::string rendezvous() const { return fmt::format("{}:{}", launch.master_addr, launch.master_port); }

  // Waits until every rank's `name/<rank>` exists; names the missing ranks when timeout_s passes.
  void wait_for_all(const std::string& name, double seconds, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + to_ms(seconds);
    std::vector<int> missing;
    for (int r = 0; r < launch.world_size; ++r) missing.push_back(r);
    while (true) {
      std::vector<int> still;
      for (int r : missing)
        if (!store->check({key(fmt::format("{}/{}", name, r))})) still.push_back(r);
      missing.swap(still);
      if (missing.empty()) return;
      if (std::chrono::steady_clock::now() >= deadline)
        throw TemporaryError(fmt::format("rank(s) {} did not {} within {:g} s (rendezvous {}); run the same "
                                         "command again to retry", fmt::join(missing, ", "), what, seconds,
                                         rendezvous()));
      std::this_thread::sleep_for(Milliseconds(50));
    }
  }
};

struct PendingCollective::Impl {
  ProcessGroup* group = nullptr;
  c10::intrusive_ptr<c10d::Work> work;
  std::string operation;
};

PendingCollective::PendingCollective() = default;
PendingCollective::~PendingCollective() = default;
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&&) noexcept = default;

void PendingCollective::wait() {
  if (!impl_ || !impl_->work) return;
  try {
    impl_->work->wait();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    impl_->group->fail(impl_->operation, e.what());
  }
  impl_->work.reset();
}

ProcessGroup::ProcessGroup(const LaunchEnvironment& launch, bool cuda, double timeout_s) : impl_(std::make_unique<Impl>()) {
  auto& g = *impl_;
  g.launch = launch;
  g.cuda = cuda;
  g.timeout_s = timeout_s;
  g.prefix = fmt::format("facetrain/{}/", launch.restart_count);
  const bool server = launch.rank == 0 && !launch.use_agent_store;
  try {
    g.store = c10d_backends::make_tcp_store(launch.master_addr, launch.master_port, server, launch.world_size, to_ms(timeout_s));
  } catch (const std::exception& e) {
    throw TemporaryError(fmt::format("cannot {} the rendezvous {}: {}", server ? "serve" : "reach",
                                     g.rendezvous(), first_line(e.what())));
  }
  try {
    g.store->set(g.key(fmt::format("join/{}", launch.rank)), bytes(fmt::format("{} pid {}", this_host(), ::getpid())));
    g.wait_for_all("join", timeout_s, "join");
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw TemporaryError(fmt::format("rendezvous {} failed while ranks joined: {}", g.rendezvous(),
                                     first_line(e.what())));
  }
  // Collectives must give up early enough to leave time for the roll call within timeout_s.
  const double collective_s = std::max(1.0, timeout_s - kRollCallSeconds - 1.0);
  try {
    auto group_store = c10::make_intrusive<c10d::PrefixStore>(g.key("group/"), g.store);
    if (cuda) {
      g.backend = c10d_backends::make_nccl(group_store, launch.rank, launch.world_size, to_ms(collective_s));
    } else {
      const std::string bind = is_loopback(launch.master_addr) ? std::string("127.0.0.1") : this_host();
      g.backend = c10d_backends::make_gloo(group_store, launch.rank, launch.world_size, bind, to_ms(collective_s));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(cuda ? "creating the NCCL process group" : "creating the Gloo process group", e.what());
  }
  log_info("rank {} of {} joined the rendezvous {} ({}, launched by {})", launch.rank, launch.world_size, g.rendezvous(),
           backend_name(), launch.launcher);
}

ProcessGroup::~ProcessGroup() {
  if (impl_ && impl_->failed) {
    // A failed group may still have threads blocked on a dead or frozen peer: tearing it down could
    // hang, so it is abandoned (the process is about to exit).
    impl_->backend.release();
    impl_->store.release();
  }
}

int ProcessGroup::rank() const { return impl_->launch.rank; }
int ProcessGroup::world_size() const { return impl_->launch.world_size; }
double ProcessGroup::timeout_s() const { return impl_->timeout_s; }
std::string ProcessGroup::backend_name() const { return impl_->cuda ? "nccl" : "gloo"; }

void ProcessGroup::publish(const std::string& key, const std::string& value) {
  try {
    impl_->store->set(impl_->key(key), bytes(value));
  } catch (const std::exception& e) {
    fail(fmt::format("publishing '{}'", key), e.what());
  }
}

std::string ProcessGroup::fetch(const std::string& key, double timeout_s) {
  try {
    impl_->store->wait({impl_->key(key)}, to_ms(timeout_s));
    return text(impl_->store->get(impl_->key(key)));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(fmt::format("waiting for '{}'", key), e.what());
  }
}

std::vector<std::string> ProcessGroup::exchange(const std::string& key, const std::string& value) {
  auto& g = *impl_;
  try {
    g.store->set(g.key(fmt::format("{}/{}", key, g.launch.rank)), bytes(value));
    g.wait_for_all(key, g.timeout_s, fmt::format("publish '{}'", key).c_str());
    std::vector<std::string> values;
    for (int r = 0; r < g.launch.world_size; ++r) values.push_back(text(g.store->get(g.key(fmt::format("{}/{}", key, r)))));
    return values;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(fmt::format("exchanging '{}'", key), e.what());
  }
}

void ProcessGroup::broadcast(at::Tensor& tensor, int root) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  try {
    impl_->backend->broadcast(tensors, options)->wait();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("broadcast", e.what());
  }
}

PendingCollective ProcessGroup::allreduce_sum_async(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  PendingCollective pending;
  pending.impl_ = std::make_unique<PendingCollective::Impl>();
  pending.impl_->group = this;
  pending.impl_->operation = "all-reduce";
  try {
    pending.impl_->work = impl_->backend->allreduce(tensors, options);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("all-reduce", e.what());
  }
  return pending;
}

void ProcessGroup::allreduce_sum(at::Tensor& tensor) { allreduce_sum_async(tensor).wait(); }

void ProcessGroup::fail(const std::string& operation, const std::string& error) {
  auto& g = *impl_;
  g.failed = true;
  // Roll call: every survivor marks itself alive, then reads who else did. It runs on a detached
  // thread because a frozen rank 0 freezes the store it serves, and the store would block us.
  struct RollCall {
    std::promise<std::vector<int>> answered;
  };
  auto roll_call = std::make_shared<RollCall>();
  auto future = roll_call->answered.get_future();
  auto store = g.store;
  const std::string prefix = g.key("alive-after-failure/");
  const int rank = g.launch.rank, world = g.launch.world_size;
  std::thread([roll_call, store, prefix, rank, world] {
    try {
      store->set(prefix + std::to_string(rank), bytes("1"));
      std::this_thread::sleep_for(to_ms(kRollCallSeconds * 0.75));
      std::vector<int> alive;
      for (int r = 0; r < world; ++r)
        if (store->check({prefix + std::to_string(r)})) alive.push_back(r);
      roll_call->answered.set_value(alive);
    } catch (...) {
      try {
        roll_call->answered.set_exception(std::current_exception());
      } catch (...) {
      }
    }
  }).detach();
  std::string lost;
  if (future.wait_for(to_ms(kRollCallSeconds)) == std::future_status::ready) {
    try {
      const auto alive = future.get();
      std::vector<int> missing;
      for (int r = 0; r < world; ++r)
        if (std::find(alive.begin(), alive.end(), r) == alive.end()) missing.push_back(r);
      lost = missing.empty() ? std::string("no rank missed the roll call (a network fault?)")
                             : fmt::format("lost rank {}", fmt::join(missing, ", "));
    } catch (const std::exception&) {
      lost = "lost rank 0 (the rendezvous store it serves is gone)";
    }
  } else {
    lost = rank == 0 ? "lost a rank (the roll call did not finish)" : "lost rank 0 (the rendezvous store it serves does not answer)";
  }
  throw TemporaryError(fmt::format("{} failed: {} (within --dist-timeout {:g} s); the same command resumes "
                                   "from the last checkpoint. Cause: {}", operation, lost, g.timeout_s,
                                   first_line(error)));
}

}  // namespace facetrain::dist
