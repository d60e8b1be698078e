#pragma once
// Progress and machine-readable events flow from pipelines through this interface; the CLI decides
// whether they become a terminal bar, "Progress: N%" lines or JSON events (docs/design.md §5).
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace facetrain {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // A stage of work with `total` units (frames, steps); total < 0 when unknown.
  virtual void begin(std::string_view stage, int64_t total) = 0;
  // `done` units of the current stage are finished (absolute, not a delta).
  virtual void update(int64_t done) = 0;
  // As update(), for a stage whose end is not its unit count: `fraction` in [0, 1] is how far the
  // stage has come toward the limit that will stop it first, named by `limit` ("steps", "time"):
  // training under --max-time, with or without --max-steps (base/limit_progress.h).
  virtual void update_fraction(int64_t done, double fraction, std::string_view limit) {
    (void)fraction;
    (void)limit;
    update(done);
  }
  virtual void end() = 0;
  // A named event ("checkpoint", "preview", "warning", "done"...) with its fields.
  virtual void event(std::string_view name, const nlohmann::json& fields) = 0;
  // Set by SIGINT/SIGTERM handlers; long-running pipelines poll it and stop cleanly.
  bool stop_requested() const { return stop_requested_.load(std::memory_order_relaxed); }
  void request_stop() { stop_requested_.store(true, std::memory_order_relaxed); }

 private:
  std::atomic<bool> stop_requested_{false};
};

// Swallows everything: for library callers and tests that do not watch progress.
class NullProgress final : public ProgressSink {
 public:
  void begin(std::string_view, int64_t) override {}
  void update(int64_t) override {}
  void end() override {}
  void event(std::string_view, const nlohmann::json&) override {}
};

}  // namespace facetrain
