// GoogleTest matchers for absl::Status / StatusOr (Debian's abseil 20220623 ships none).
#pragma once

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::test {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::mtrk::test::GetStatus(arg);
  if (!s.ok()) *result_listener << "status " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + testing::PrintToString(code)) {
  const absl::Status& s = ::mtrk::test::GetStatus(arg);
  *result_listener << "status " << s;
  return s.code() == code;
}

MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return testing::ExplainMatchResult(matcher, *arg, result_listener);
}

}  // namespace mtrk::test

#define MTRK_TEST_CONCAT_INNER_(x, y) x##y
#define MTRK_TEST_CONCAT_(x, y) MTRK_TEST_CONCAT_INNER_(x, y)
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::mtrk::test::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::mtrk::test::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(MTRK_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(statusor).value()
