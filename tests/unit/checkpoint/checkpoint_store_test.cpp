#include "facetrain/base/atomic_file.h"
#include "facetrain/checkpoint/checkpoint_store.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using facetrain::CheckpointStore;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("facetrain_ckpt_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

void save_step(CheckpointStore& store, int64_t step) {
  store.save(step, {{"loss", 0.5}}, [&](const fs::path& dir) {
    facetrain::write_file_atomic(dir / "model.pt", std::string(1000, static_cast<char>('a' + step % 26)));
    facetrain::write_file_atomic(dir / "optimizer.pt", "optimizer state " + std::to_string(step));
  });
}

}  // namespace

TEST_CASE("checkpoints commit, verify and keep the newest N", "[unit][checkpoint]") {
  const auto dir = fresh_dir("keep");
  CheckpointStore store(dir, 2);
  for (int64_t step : {100, 200, 300}) save_step(store, step);
  CHECK_FALSE(fs::exists(dir / "step-00000100"));
  CHECK(fs::exists(dir / "step-00000200" / "COMPLETE"));
  CHECK(facetrain::read_file(dir / "latest") == "step-00000300\n");
  auto loaded = store.newest_valid();
  REQUIRE(loaded);
  CHECK(loaded->step == 300);
  CHECK(loaded->state["loss"] == 0.5);
  CHECK(loaded->state["files"].size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("a damaged newest checkpoint falls back to the previous one", "[unit][checkpoint]") {
  const std::string how = GENERATE(std::string("truncated"), std::string("zeroed"), std::string("bitflip"),
                                   std::string("no-complete"), std::string("state-edited"), std::string("missing-file"));
  CAPTURE(how);
  const auto dir = fresh_dir("damage");
  CheckpointStore store(dir, 3);
  save_step(store, 100);
  save_step(store, 200);
  const auto newest = dir / "step-00000200";
  const auto model = newest / "model.pt";
  if (how == "truncated") fs::resize_file(model, 10);
  if (how == "zeroed") std::ofstream(model, std::ios::binary) << std::string(1000, '\0');
  if (how == "bitflip") {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(500);
    f.put('a' ^ 0x01);
  }
  if (how == "no-complete") fs::remove(newest / "COMPLETE");
  if (how == "state-edited") std::ofstream(newest / "state.json", std::ios::app) << " ";
  if (how == "missing-file") fs::remove(newest / "optimizer.pt");
  CHECK_FALSE(CheckpointStore::verify(newest).empty());
  auto loaded = store.newest_valid();
  REQUIRE(loaded);
  CHECK(loaded->step == 100);
  fs::remove_all(dir);
}

TEST_CASE("SIGKILL at any phase of a checkpoint write leaves the previous one usable", "[unit][checkpoint][fault]") {
  const std::string phase = GENERATE(std::string("files"), std::string("state"), std::string("rename"),
                                     std::string("complete"), std::string("latest"));
  CAPTURE(phase);
  const auto dir = fresh_dir("kill");
  {
    CheckpointStore store(dir, 3);
    save_step(store, 100);
  }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::setenv("FACETRAIN_FAULT_CHECKPOINT_PHASE", phase.c_str(), 1);
    CheckpointStore store(dir, 3);
    save_step(store, 200);
    ::_exit(0);  // not reached: the fault point kills the process
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CheckpointStore store(dir, 3);
  auto loaded = store.newest_valid();
  REQUIRE(loaded);
  // Killed after COMPLETE was written, the new checkpoint is whole and is chosen; before, the old one.
  CHECK(loaded->step == ((phase == "complete" || phase == "latest") ? 200 : 100));
  CHECK(CheckpointStore::verify(dir / "step-00000100").empty());
  // The next save cleans up what the killed writer left behind.
  save_step(store, 300);
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
  fs::remove_all(dir);
}
