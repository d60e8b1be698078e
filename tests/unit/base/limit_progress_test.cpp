#include "facetrain/base/limit_progress.h"

#include <catch2/catch.hpp>

using facetrain::limit_progress;

TEST_CASE("progress follows --max-steps alone", "[unit][train]") {
  const auto p = limit_progress(250, 1000, 30.0, 0);
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.25));
  CHECK(p->limit == "steps");
}

TEST_CASE("progress follows --max-time alone (no step limit)", "[unit][train]") {
  const auto p = limit_progress(12345, 0, 90.0, 360.0);
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.25));
  CHECK(p->limit == "time");
}

TEST_CASE("with both limits, progress follows the one that will stop the run first", "[unit][train]") {
  // 10 % of the steps but 60 % of the time: the clock ends this run.
  auto p = limit_progress(100, 1000, 36.0, 60.0);
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.6));
  CHECK(p->limit == "time");
  // 90 % of the steps, 20 % of the time: the steps end it.
  p = limit_progress(900, 1000, 12.0, 60.0);
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.9));
  CHECK(p->limit == "steps");
}

TEST_CASE("a resumed run starts at the steps it already has; the clock is this session's", "[unit][train]") {
  const auto p = limit_progress(500, 1000, 0.0, 3600.0);
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.5));
}

TEST_CASE("progress is clamped to [0, 1] and unknown without limits", "[unit][train]") {
  CHECK(limit_progress(1200, 1000, 0, 0)->fraction == Approx(1.0));
  CHECK(limit_progress(0, 0, 7200.0, 3600.0)->fraction == Approx(1.0));
  CHECK(limit_progress(0, 10, -1.0, 0)->fraction == Approx(0.0));
  CHECK_FALSE(limit_progress(50, 0, 10.0, 0).has_value());
}
