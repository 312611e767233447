// LineBatchPipeline: LinePipeline on two threads, for `mtrk-agent backfill` (and the parser
// benchmark). The caller's thread copies each line into the current batch and runs
// LinePipeline::ParseLine on the copy (syslog header, Postfix parser, skip counters); a worker
// thread runs CorrelateLine over each batch's parsed lines in input order (correlator, event ids,
// validation, idle eviction) and leaves the events in the batch; back on the caller's thread,
// finished batches are taken in order and their events given to a sink (shipping, and freeing
// the events, stay off the worker, which has the larger half of the work). One worker, batches
// in order both ways: the events, and their order, are those of LinePipeline::Feed on one
// thread.
//
// Batches, not lines, cross threads (a handover per line would cost more than parsing it). A
// batch owns a copy of its lines' bytes, and its ParsedLines view into that copy, so the caller
// may reuse its read buffer as soon as Feed returns; the views die with the batch's reuse, after
// the worker is done with them. At most kQueuedBatches wait for the worker, so the reader waits
// rather than grow memory.
//
// Not for tailing: checkpoints need the correlator's state in step with the lines read.
// Thread-compatible: Feed, FeedTooLong, Finish (and so the sink) run on the caller's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "agent/app/line_pipeline.h"
#include "common/model/hop_event.h"

namespace mtrk::agent::app {

class LineBatchPipeline {
 public:
  // Bytes of lines per batch: a few thousand lines, so the two handovers per batch cost nothing
  // measurable, while the queued batches stay small next to the correlator's state.
  static constexpr size_t kBatchBytes = 256 * 1024;
  static constexpr size_t kQueuedBatches = 4;

  // Runs on the caller's thread (within Feed and Finish) whenever a batch is done, with the events
  // derived so far, in order. It takes (erases) what it has dealt with; what it leaves is offered
  // again, with more, next time. `last`: the final call, from Finish, which must take all. A
  // non-OK status stops the pipeline: later lines are dropped, Finish returns it.
  using EventSink = std::function<absl::Status(std::vector<model::HopEvent>* events, bool last)>;

  // `pipeline` must outlive this and not be used by anyone else until Finish returns.
  LineBatchPipeline(LinePipeline& pipeline, EventSink sink);
  // Without Finish (an error ended the input): stops the worker, and neither flushes nor calls
  // the sink again.
  ~LineBatchPipeline();
  LineBatchPipeline(const LineBatchPipeline&) = delete;
  LineBatchPipeline& operator=(const LineBatchPipeline&) = delete;

  // As LinePipeline::Feed; `raw` is copied, so its buffer may be reused when Feed returns.
  void Feed(absl::string_view raw, uint64_t position);
  void FeedTooLong();
  // LinePipeline::SetYearReference, between lines: parsing runs on the caller's thread.
  void SetYearReference(absl::Time reference) { pipeline_.SetYearReference(reference); }
  // End of input: waits for the worker to finish the queued batches, flushes the LinePipeline
  // (emits every open message) and gives the remaining events to the sink. Returns the sink's
  // first error. Idempotent.
  absl::Status Finish();
  // False once the sink has failed: the caller may stop reading.
  bool ok() const { return status_.ok(); }

 private:
  struct Batch {
    std::string bytes;  // capacity fixed before the first line: appends never move the data
    std::vector<LinePipeline::ParsedLine> lines;  // views into `bytes`
    std::vector<model::HopEvent> events;          // the worker's output for these lines
  };

  // Queues the filling batch (waiting while the queue is full), gives the events of the batches
  // done so far to the sink, and takes an empty batch with room for at least `room` bytes.
  void HandOver(size_t room);
  // Moves a done batch's events to events_ and calls the sink; the batch is then empty.
  void Deliver(Batch& batch);
  void Work();
  // Lets the worker finish the queued batches and joins it.
  void StopWorker();

  LinePipeline& pipeline_;
  const EventSink sink_;
  // The caller's thread's:
  std::unique_ptr<Batch> filling_;
  std::vector<model::HopEvent> events_;  // what the sink has left
  absl::Status status_;                  // the sink's first error
  bool finished_ = false;

  absl::Mutex mu_;
  std::deque<std::unique_ptr<Batch>> queued_ ABSL_GUARDED_BY(mu_);  // for the worker
  std::deque<std::unique_ptr<Batch>> done_ ABSL_GUARDED_BY(mu_);    // in input order
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;  // last: starts after the members above exist
};

}  // namespace mtrk::agent::app
