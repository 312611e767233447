// A lower bound for the parser benchmark (issue 8), not an agent: the least work any program
// must do to turn the reference workload (bench/gen_postfix_log.py, ../shared/bench's generator)
// into the agent's hop events, written for speed alone. It reads the file in 256 KiB blocks, cuts
// lines, parses the RFC 3164 header (with an hour cache), keys each line by host, instance and
// queue id in a flat hash map, keeps client, message-id and sender, and for each delivery line
// builds the model::HopEvent the spool and the collector take, with its event id
// (model::ComputeEventId, SHA-256). It does NOT do what the agent also must: other timestamp
// forms, the other ~60 kinds of Postfix lines, bounces, expansions, tracking headers, queue-id
// reuse checks, skip counters, validation, text repair, checkpoints. It trusts its input: a
// malformed line may be misread, never crash (all reads are bounds-checked).
//
//   postfix_floor_bench LOG [MODE]   one thread; prints lines, events, seconds, CPU seconds
//     MODE --lines-only   read and cut lines, nothing else (our own loop's wc -l)
//          --no-events    and parse and correlate, but build no events
//          --no-ids       and build the events, without their ids
//          --view-ids     no HopEvent: each delivery's event id alone, its SHA-256 key built
//                         from views into the line and the message (the least output an event
//                         can have: the id the collector needs; what a design with events that
//                         borrow their strings would pay)
//          (none)         all of it, with model::ComputeEventId per event
//
// Its CPU time halved is the least wall time two cores could take to make these events by any
// design that reads lines byte by byte as this does; bench/README.md compares it with the goal
// "within 3x of wc -l" (issue 8).
#include <sys/resource.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/model/hop_event.h"

// The low-level SHA-256 calls, as model::ComputeEventId makes them (see there).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace {

using mtrk::model::HopEvent;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Message {
  std::string host, instance, queue_id, client, message_id, sender;
  absl::Time first_seen;
};

// Short distances: an inline loop beats a call to memchr.
const char* Until(const char* p, const char* end, char c) {
  while (p < end && *p != c) ++p;
  return p;
}

bool StartsWith(const char* p, const char* end, std::string_view s) {
  return static_cast<size_t>(end - p) >= s.size() && std::memcmp(p, s.data(), s.size()) == 0;
}

enum class Mode { kLinesOnly, kNoEvents, kNoIds, kViewIds, kAll };

class Floor {
 public:
  explicit Floor(Mode mode) : mode_(mode) { events_.reserve(kDrainEvery); }

  void Line(const char* p, const char* end) {
    ++lines_;
    if (mode_ == Mode::kLinesOnly) return;
    if (end - p < 20 || p[15] != ' ') return;
    // "Mmm dd hh:mm:ss ": the hour is converted once per hour of log.
    const int64_t hour_key =
        (static_cast<int64_t>(p[0]) << 40) | (static_cast<int64_t>(p[1]) << 32) |
        (static_cast<int64_t>(p[2]) << 24) | (static_cast<int64_t>(p[4]) << 16) |
        (static_cast<int64_t>(p[5]) << 8) | ((p[7] - '0') * 10 + (p[8] - '0'));
    if (hour_key != hour_key_) HourOf(p, hour_key);
    const absl::Time time = hour_start_ + absl::Seconds(((p[10] - '0') * 10 + (p[11] - '0')) * 60 +
                                                        (p[13] - '0') * 10 + (p[14] - '0'));
    const char* host = p + 16;
    const char* host_end = Until(host, end, ' ');
    if (host_end == end) return;
    const char* prog = host_end + 1;
    const char* prog_end = Until(prog, end, '[');
    const char* colon = Until(prog_end, end, ':');
    if (colon + 2 >= end) return;
    const char* text = colon + 2;
    const std::string_view program(prog, static_cast<size_t>(prog_end - prog));
    const std::string_view instance = program.substr(0, program.find('/'));
    // "QUEUEID: rest"
    const char* qid_end = text;
    while (qid_end < end &&
           ((*qid_end >= '0' && *qid_end <= '9') || (*qid_end >= 'A' && *qid_end <= 'Z') ||
            (*qid_end >= 'a' && *qid_end <= 'z'))) {
      ++qid_end;
    }
    if (qid_end == text || qid_end + 2 > end || qid_end[0] != ':' || qid_end[1] != ' ') return;
    const std::string_view qid(text, static_cast<size_t>(qid_end - text));
    const char* rest = qid_end + 2;
    const std::string_view hostv(host, static_cast<size_t>(host_end - host));
    if (StartsWith(rest, end, "client=")) {
      auto m = std::make_unique<Message>();
      m->host.assign(hostv);
      m->instance.assign(instance);
      m->queue_id.assign(qid);
      m->client.assign(rest + 7, end);
      m->first_seen = time;
      const std::string_view key = m->queue_id;
      open_.insert_or_assign(key, std::move(m));
      return;
    }
    const auto it = open_.find(qid);
    if (it == open_.end() || it->second->host != hostv || it->second->instance != instance) return;
    Message& m = *it->second;
    if (StartsWith(rest, end, "message-id=")) {
      m.message_id.assign(rest + 11, end);
    } else if (StartsWith(rest, end, "from=<")) {
      m.sender.assign(rest + 6, Until(rest + 6, end, '>'));
    } else if (StartsWith(rest, end, "to=<")) {
      if (mode_ == Mode::kNoEvents) {
        ++events_out_;
      } else {
        Delivery(m, rest + 4, end, time);
      }
    } else if (StartsWith(rest, end, "removed")) {
      open_.erase(it);
    }
  }

  void Drain() {
    events_out_ += events_.size();
    events_.clear();
  }

  uint64_t lines() const { return lines_; }
  uint64_t events() const { return events_out_ + events_.size(); }
  uint64_t id_fold() const { return id_fold_; }

 private:
  static constexpr size_t kDrainEvery = 4096;

  void HourOf(const char* p, int64_t key) {
    static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int month = 1;
    while (month <= 12 && std::memcmp(kMonths + 3 * (month - 1), p, 3) != 0) ++month;
    const int day = (p[4] == ' ' ? 0 : (p[4] - '0') * 10) + (p[5] - '0');
    hour_start_ = absl::FromCivil(
        absl::CivilHour(2026, month, day, (p[7] - '0') * 10 + (p[8] - '0')), absl::UTCTimeZone());
    hour_key_ = key;
  }

  // "rcpt>, relay=R, delay=..., delays=..., dsn=X.Y.Z, status=WORD (reply)": fields in order.
  void Delivery(const Message& m, const char* rcpt, const char* end, absl::Time time) {
    const char* rcpt_end = Until(rcpt, end, '>');
    const char *relay = end, *relay_end = end, *dsn = end, *dsn_end = end, *status = end,
               *status_end = end, *reply = end;
    const char* p = rcpt_end;
    while (p + 2 < end && p[1] == ',' && p[2] == ' ') {
      const char* key = p + 3;
      const char* eq = Until(key, end, '=');
      const char* value_end = Until(eq, end, ',');
      if (eq - key == 5 && std::memcmp(key, "relay", 5) == 0) {
        relay = eq - 5;
        relay_end = value_end;
      } else if (eq - key == 3 && std::memcmp(key, "dsn", 3) == 0) {
        dsn = eq - 3;
        dsn_end = value_end;
      } else if (eq - key == 6 && std::memcmp(key, "status", 6) == 0) {
        status = eq - 6;
        status_end = Until(eq, end, ' ');
        reply = Until(status_end, end, '(');
        break;
      }
      p = value_end - 1;
    }
    const std::string_view word(
        status == end ? end : status + 7,
        static_cast<size_t>(status_end - (status == end ? end : status + 7)));
    const mtrk::model::DsnAction action = word == "sent"       ? mtrk::model::DsnAction::kRelayed
                                          : word == "deferred" ? mtrk::model::DsnAction::kDelayed
                                                               : mtrk::model::DsnAction::kFailed;
    if (mode_ == Mode::kViewIds) {
      ViewId(m, std::string_view(rcpt, static_cast<size_t>(rcpt_end - rcpt)), action,
             relay == end ? std::string_view()
                          : std::string_view(relay + 6, static_cast<size_t>(relay_end - relay - 6)),
             dsn == end ? std::string_view()
                        : std::string_view(dsn + 4, static_cast<size_t>(dsn_end - dsn - 4)),
             time);
      return;
    }
    HopEvent& e = events_.emplace_back();
    e.reporting_host = m.host;
    e.mta_instance = m.instance;
    e.queue_id = m.queue_id;
    e.queue_first_seen = m.first_seen;
    e.message_id = m.message_id;
    e.sender = m.sender;
    e.client = m.client;
    e.final_recipient.assign(rcpt, rcpt_end);
    if (relay != end) e.relay.assign(relay + 6, relay_end);
    if (dsn != end) e.status.assign(dsn + 4, dsn_end);
    e.action = action;
    if (reply != end) e.diagnostic.assign(reply + 1, end - 1);
    e.last_attempt_time = time;
    e.event_time = time;
    if (mode_ == Mode::kAll) e.event_id = mtrk::model::ComputeEventId(e);
    if (events_.size() == kDrainEvery) Drain();
  }

  // The bytes model::ComputeEventId hashes for such an event (no original recipient), hashed
  // the same way; the hex form is left out, the digest is folded into id_fold_ so that it counts.
  void ViewId(const Message& m, std::string_view rcpt, mtrk::model::DsnAction action,
              std::string_view relay, std::string_view status, absl::Time time) {
    key_.clear();
    const auto field = [this](std::string_view v) {
      key_.append(v.data(), v.size());
      key_.push_back('\0');
    };
    const auto number = [&field](int64_t v) {  // decimal, as model::ComputeEventId writes it
      char digits[24];
      const std::to_chars_result r = std::to_chars(digits, digits + sizeof(digits), v);
      field(std::string_view(digits, static_cast<size_t>(r.ptr - digits)));
    };
    field(m.host);
    field(m.instance);
    field(m.queue_id);
    number(absl::ToUnixMicros(m.first_seen));
    field({});
    field(rcpt);
    number(static_cast<int>(action));
    field(status);
    number(absl::ToUnixMicros(time));
    field(relay);
    key_.push_back('0');
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, key_.data(), key_.size());
    SHA256_Final(digest, &ctx);
    uint64_t word;
    std::memcpy(&word, digest, sizeof(word));
    id_fold_ ^= word;
    ++events_out_;
  }

  const Mode mode_;
  std::string key_;
  uint64_t id_fold_ = 0;
  uint64_t lines_ = 0, events_out_ = 0;
  int64_t hour_key_ = -1;
  absl::Time hour_start_;
  absl::flat_hash_map<std::string_view, std::unique_ptr<Message>> open_;
  std::vector<HopEvent> events_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string_view flag = argc > 2 ? argv[2] : "";
  const Mode mode = flag == "--lines-only"  ? Mode::kLinesOnly
                    : flag == "--no-events" ? Mode::kNoEvents
                    : flag == "--no-ids"    ? Mode::kNoIds
                    : flag == "--view-ids"  ? Mode::kViewIds
                                            : Mode::kAll;
  if (argc < 2 || argc > 3 || (mode == Mode::kAll && !flag.empty())) {
    std::fprintf(stderr, "usage: %s LOG [--lines-only|--no-events|--no-ids|--view-ids]\n", argv[0]);
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds();
  Floor floor(mode);
  std::vector<char> buf(256 * 1024);
  size_t carried = 0;  // bytes of an unfinished line at the start of buf
  while (true) {
    const size_t got = std::fread(buf.data() + carried, 1, buf.size() - carried, f);
    const char* p = buf.data();
    const char* const end = buf.data() + carried + got;
    if (got == 0) {
      if (carried > 0) floor.Line(p, end);
      break;
    }
    while (true) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) break;
      floor.Line(p, nl);
      p = nl + 1;
    }
    carried = static_cast<size_t>(end - p);
    if (carried == buf.size()) carried = 0;  // a line longer than the buffer: dropped
    std::memmove(buf.data(), p, carried);
  }
  std::fclose(f);
  floor.Drain();
  std::printf("lines=%llu events=%llu id_fold=%016llx seconds=%.3f cpu_seconds=%.3f mode=%s\n",
              static_cast<unsigned long long>(floor.lines()),
              static_cast<unsigned long long>(floor.events()),
              static_cast<unsigned long long>(floor.id_fold()),
              absl::ToDoubleSeconds(absl::Now() - start), CpuSeconds() - cpu_start,
              flag.empty() ? "all" : flag.data() + 2);
  return 0;
}
