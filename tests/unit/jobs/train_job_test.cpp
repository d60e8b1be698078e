#include "facetrain/jobs/train_job.h"

#include <catch2/catch.hpp>

// Every rank of a data-parallel run reports the same totals: device_hours counts every rank's device
// (rank 0 used to count world_size devices, the others one).
TEST_CASE("a session's totals count every rank's device", "[unit][jobs]") {
  facetrain::TrainReport alone, rank0, rank1;
  facetrain::record_session(alone, 120, 20, 1800.0, 1);
  CHECK(alone.steps == 120);
  CHECK(alone.steps_this_session == 100);
  CHECK(alone.seconds == 1800.0);
  CHECK(alone.device_hours == Approx(0.5));
  facetrain::record_session(rank0, 120, 20, 1800.0, 4);
  facetrain::record_session(rank1, 120, 20, 1800.0, 4);
  CHECK(rank0.device_hours == Approx(2.0));
  CHECK(rank1.device_hours == rank0.device_hours);
}
