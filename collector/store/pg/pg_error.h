// Converts the libpqxx exception being handled into an absl::Status. This file and pg_error.cc
// are the only ones that know libpqxx's exception classes; every other pg/ file catches (...)
// and calls CurrentPgErrorToStatus, so no exception leaves the storage edge.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mtrk::collector::store {

// Call only inside a catch block. `what` says where ("append hop events"). Mapping:
//   broken_connection  -> Unavailable (connection lost; retry)
//   in_doubt_error     -> Unavailable (COMMIT may have happened; resending is safe)
//   transaction_rollback (serialization failure, deadlock) -> Aborted (retry the transaction)
//   data_exception (SQLSTATE class 22: a value the database refuses, e.g. a NUL byte or invalid
//                   UTF-8) -> InvalidArgument, so the sender does not retry a poison batch forever
//   other sql_error    -> Internal, with the SQLSTATE
//   anything else      -> Internal
absl::Status CurrentPgErrorToStatus(absl::string_view what);

// Call only inside a catch block: whether the exception says a row had no partition to go to
// (SQLSTATE 23514 "no partition of relation ... found for row"), i.e. retention dropped a day
// this process still believed existed.
bool CurrentPgErrorIsMissingPartition();

// Call only inside a catch block: whether the exception is a unique violation (SQLSTATE 23505),
// e.g. a resent event hitting hop_events' primary key.
bool CurrentPgErrorIsUniqueViolation();

}  // namespace mtrk::collector::store
