// Status propagation macros, as in abseil-based codebases (absl has none public in 20220623).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MTRK_STATUS_CONCAT_INNER_(x, y) x##y
#define MTRK_STATUS_CONCAT_(x, y) MTRK_STATUS_CONCAT_INNER_(x, y)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define MTRK_RETURN_IF_ERROR(expr)               \
  do {                                           \
    const ::absl::Status mtrk_status_ = (expr);  \
    if (!mtrk_status_.ok()) return mtrk_status_; \
  } while (0)

// MTRK_ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its status if not OK,
// else moves its value into `lhs` (which may be a declaration).
#define MTRK_ASSIGN_OR_RETURN(lhs, expr) \
  MTRK_ASSIGN_OR_RETURN_IMPL_(MTRK_STATUS_CONCAT_(mtrk_statusor_, __LINE__), lhs, expr)
#define MTRK_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()
