#include "collector/store/pg/pg_error.h"

#include <exception>
#include <pqxx/except>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace mtrk::collector::store {
namespace {

// libpqxx messages end in a newline (they are libpq's); keep log lines on one line.
absl::string_view Trimmed(const char* message) {
  return absl::StripTrailingAsciiWhitespace(absl::string_view(message));
}

}  // namespace

absl::Status CurrentPgErrorToStatus(absl::string_view what) {
  try {
    throw;  // rethrow the exception being handled, to classify it
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(what, ": connection lost: ", Trimmed(e.what())));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(
        absl::StrCat(what, ": commit outcome unknown: ", Trimmed(e.what())));
  } catch (const pqxx::transaction_rollback& e) {
    return absl::AbortedError(absl::StrCat(what, ": ", Trimmed(e.what())));
  } catch (const pqxx::data_exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": value refused (SQLSTATE ", e.sqlstate(), "): ", Trimmed(e.what())));
  } catch (const pqxx::sql_error& e) {
    // Class 57P (admin shutdown, e.g. pg_terminate_backend) and 08 arrive as sql_error when the
    // server says so before closing: the connection is gone either way.
    const std::string& state = e.sqlstate();
    if (absl::StartsWith(state, "57P") || absl::StartsWith(state, "08")) {
      return absl::UnavailableError(absl::StrCat(what, ": server closed the session (SQLSTATE ",
                                                 state, "): ", Trimmed(e.what())));
    }
    return absl::InternalError(absl::StrCat(what, ": SQLSTATE ", state, ": ", Trimmed(e.what())));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", Trimmed(e.what())));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, ": unknown exception"));
  }
}

bool CurrentPgErrorIsMissingPartition() {
  try {
    throw;
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate() == "23514" && absl::StrContains(e.what(), "no partition");
  } catch (...) {
    return false;
  }
}

bool CurrentPgErrorIsUniqueViolation() {
  try {
    throw;
  } catch (const pqxx::unique_violation&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace mtrk::collector::store
