#include "agent/app/line_batch_pipeline.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace mtrk::agent::app {

LineBatchPipeline::LineBatchPipeline(LinePipeline& pipeline, EventSink sink)
    : pipeline_(pipeline), sink_(std::move(sink)), filling_(std::make_unique<Batch>()) {
  filling_->bytes.reserve(kBatchBytes);
  worker_ = std::thread([this] { Work(); });
}

LineBatchPipeline::~LineBatchPipeline() {
  if (!finished_) StopWorker();
}

void LineBatchPipeline::Feed(absl::string_view raw, uint64_t position) {
  if (finished_) return;
  Batch* batch = filling_.get();
  if (batch->bytes.capacity() - batch->bytes.size() < raw.size()) {
    HandOver(raw.size());
    batch = filling_.get();
  }
  // Parse the copy, not `raw`: the parsed line's views must point into the batch.
  const size_t at = batch->bytes.size();
  batch->bytes.append(raw.data(), raw.size());  // within capacity: no reallocation
  // Parsed in place (most lines go on to the worker): no ParsedLine moves.
  LinePipeline::ParsedLine& parsed = batch->lines.emplace_back();
  if (!pipeline_.ParseLine(absl::string_view(batch->bytes.data() + at, raw.size()), position,
                           &parsed)) {
    batch->lines.pop_back();
    batch->bytes.resize(at);  // skipped (and counted): the worker needs nothing of it
  }
}

void LineBatchPipeline::FeedTooLong() { pipeline_.FeedTooLong(); }  // counters only

void LineBatchPipeline::Deliver(Batch& batch) {
  if (status_.ok()) {  // else stopped: nobody takes them
    if (events_.empty()) {
      events_.swap(batch.events);
    } else {
      events_.insert(events_.end(), std::make_move_iterator(batch.events.begin()),
                     std::make_move_iterator(batch.events.end()));
    }
  }
  batch.events.clear();
  batch.lines.clear();  // the views go before the bytes they point into
  batch.bytes.clear();
  if (status_.ok() && !events_.empty()) status_ = sink_(&events_, /*last=*/false);
}

void LineBatchPipeline::HandOver(size_t room) {
  std::unique_ptr<Batch> next;
  std::deque<std::unique_ptr<Batch>> done;
  {
    absl::MutexLock lock(&mu_);
    if (!filling_->lines.empty() && status_.ok()) {
      auto can_queue = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return queued_.size() < kQueuedBatches;
      };
      mu_.Await(absl::Condition(&can_queue));
      queued_.push_back(std::move(filling_));
    }
    done.swap(done_);
  }
  // The sink runs without the lock, so the worker goes on meanwhile.
  for (std::unique_ptr<Batch>& batch : done) {
    Deliver(*batch);
    if (next == nullptr) next = std::move(batch);  // emptied by Deliver: reuse its capacity
  }
  if (filling_ != nullptr) {  // not queued (no lines, or the sink failed): reuse it
    filling_->lines.clear();
    filling_->bytes.clear();
    next = std::move(filling_);
  }
  if (next == nullptr) next = std::make_unique<Batch>();
  next->bytes.reserve(std::max(room, kBatchBytes));  // empty: no view into it can move
  filling_ = std::move(next);
}

void LineBatchPipeline::Work() {
  while (true) {
    std::unique_ptr<Batch> batch;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queued_.empty() || closing_;
      };
      mu_.Await(absl::Condition(&has_work));
      if (queued_.empty()) return;  // closing, and all done
      batch = std::move(queued_.front());
      queued_.pop_front();
    }
    for (LinePipeline::ParsedLine& parsed : batch->lines) {
      pipeline_.CorrelateLine(parsed, &batch->events);
    }
    absl::MutexLock lock(&mu_);
    done_.push_back(std::move(batch));
  }
}

void LineBatchPipeline::StopWorker() {
  finished_ = true;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  worker_.join();
}

absl::Status LineBatchPipeline::Finish() {
  if (finished_) return status_;
  HandOver(0);  // queues the last, partly filled batch
  StopWorker();
  std::deque<std::unique_ptr<Batch>> done;
  {
    absl::MutexLock lock(&mu_);
    done.swap(done_);
  }
  for (std::unique_ptr<Batch>& batch : done) Deliver(*batch);
  if (status_.ok()) {
    pipeline_.Flush(&events_);
    status_ = sink_(&events_, /*last=*/true);
  }
  return status_;
}

}  // namespace mtrk::agent::app
