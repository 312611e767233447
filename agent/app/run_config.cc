#include "agent/app/run_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

namespace mtrk::agent::app {
namespace {

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", why));
}

absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return Bad(key, "not a scalar");
  return n.Scalar();
}

// One section: every key must be known.
template <typename F>
absl::Status Section(const YAML::Node& root, const std::string& name, F&& on_key) {
  const YAML::Node section = root[name];
  if (!section) return absl::OkStatus();
  if (!section.IsMap()) return Bad(name, "not a mapping");
  for (const auto& kv : section) {
    const std::string key = kv.first.as<std::string>();
    if (absl::Status s = on_key(absl::StrCat(name, ".", key), key, kv.second); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status StringList(const YAML::Node& n, const std::string& key,
                        std::vector<std::string>* out) {
  if (!n.IsSequence()) return Bad(key, "not a list");
  out->clear();
  for (const auto& item : n) {
    if (!item.IsScalar() || item.Scalar().empty()) return Bad(key, "empty or non-scalar item");
    out->push_back(item.Scalar());
  }
  return absl::OkStatus();
}

absl::Status ParseInto(const YAML::Node& root, RunConfig* c) {
  if (!root.IsMap()) return Bad("(top)", "not a mapping");
  for (const auto& kv : root) {
    const std::string k = kv.first.as<std::string>();
    if (k != "collector" && k != "log" && k != "postfix" && k != "spool" && k != "metrics") {
      return Bad(k, "unknown section");
    }
  }
  const auto str = [](std::string* out) {
    return [out](const std::string& key, const YAML::Node& n) -> absl::Status {
      absl::StatusOr<std::string> v = Scalar(n, key);
      if (!v.ok()) return v.status();
      *out = *v;
      return absl::OkStatus();
    };
  };
  const auto dur = [](absl::Duration* out) {
    return [out](const std::string& key, const YAML::Node& n) -> absl::Status {
      absl::StatusOr<std::string> v = Scalar(n, key);
      if (!v.ok()) return v.status();
      absl::StatusOr<absl::Duration> d = ParseDurationText(*v);
      if (!d.ok()) return Bad(key, std::string(d.status().message()));
      *out = *d;
      return absl::OkStatus();
    };
  };
  const auto size = [](uint64_t* out) {
    return [out](const std::string& key, const YAML::Node& n) -> absl::Status {
      absl::StatusOr<std::string> v = Scalar(n, key);
      if (!v.ok()) return v.status();
      absl::StatusOr<uint64_t> s = ParseSizeText(*v);
      if (!s.ok()) return Bad(key, std::string(s.status().message()));
      *out = *s;
      return absl::OkStatus();
    };
  };
  uint64_t batch = c->batch_events;
  absl::Status s = Section(
      root, "collector",
      [&](const std::string& full, const std::string& key, const YAML::Node& n) -> absl::Status {
        if (key == "address") return str(&c->collector)(full, n);
        if (key == "ca_file") return str(&c->ca_file)(full, n);
        if (key == "cert_file") return str(&c->cert_file)(full, n);
        if (key == "key_file") return str(&c->key_file)(full, n);
        if (key == "batch_events") return size(&batch)(full, n);
        if (key == "deadline") return dur(&c->deadline)(full, n);
        if (key == "initial_backoff") return dur(&c->initial_backoff)(full, n);
        if (key == "max_backoff") return dur(&c->max_backoff)(full, n);
        return Bad(full, "unknown key");
      });
  if (!s.ok()) return s;
  if (batch == 0 || batch > 10000) return Bad("collector.batch_events", "must be 1..10000");
  c->batch_events = static_cast<uint32_t>(batch);
  s = Section(
      root, "log",
      [&](const std::string& full, const std::string& key, const YAML::Node& n) -> absl::Status {
        if (key == "path") return str(&c->log_path)(full, n);
        if (key == "rotated") return StringList(n, full, &c->rotated);
        if (key == "timezone") {
          if (absl::Status st = str(&c->timezone)(full, n); !st.ok()) return st;
          if (!absl::LoadTimeZone(c->timezone, &c->zone)) return Bad(full, "unknown zone");
          return absl::OkStatus();
        }
        if (key == "max_line_bytes") return size(&c->max_line_bytes)(full, n);
        if (key == "poll_interval") return dur(&c->poll_interval)(full, n);
        if (key == "rotate_grace") return dur(&c->rotate_grace)(full, n);
        if (key == "inotify") {
          absl::StatusOr<std::string> v = Scalar(n, full);
          if (!v.ok()) return v.status();
          if (!absl::SimpleAtob(*v, &c->inotify)) return Bad(full, "not true or false");
          return absl::OkStatus();
        }
        return Bad(full, "unknown key");
      });
  if (!s.ok()) return s;
  s = Section(
      root, "postfix",
      [&](const std::string& full, const std::string& key, const YAML::Node& n) -> absl::Status {
        if (key == "reporting_mta") return str(&c->reporting_mta)(full, n);
        if (key == "tracked_next_hops") {
          if (absl::Status st = StringList(n, full, &c->tracked_next_hops); !st.ok()) return st;
          for (std::string& h : c->tracked_next_hops) h = absl::AsciiStrToLower(h);
          return absl::OkStatus();
        }
        if (key == "max_queue_lifetime") return dur(&c->max_queue_lifetime)(full, n);
        if (key == "idle_eviction") return dur(&c->idle_eviction)(full, n);
        return Bad(full, "unknown key");
      });
  if (!s.ok()) return s;
  s = Section(
      root, "spool",
      [&](const std::string& full, const std::string& key, const YAML::Node& n) -> absl::Status {
        if (key == "path") return str(&c->spool_path)(full, n);
        if (key == "max_bytes") return size(&c->spool_max_bytes)(full, n);
        if (key == "commit_interval") return dur(&c->commit_interval)(full, n);
        return Bad(full, "unknown key");
      });
  if (!s.ok()) return s;
  return Section(
      root, "metrics",
      [&](const std::string& full, const std::string& key, const YAML::Node& n) -> absl::Status {
        if (key == "listen") return str(&c->metrics_listen)(full, n);
        return Bad(full, "unknown key");
      });
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationText(const std::string& s) {
  if (absl::EndsWith(s, "d")) {
    int64_t days = 0;
    if (!absl::SimpleAtoi(s.substr(0, s.size() - 1), &days) || days < 0) {
      return absl::InvalidArgumentError(absl::StrCat("not a duration: '", s, "'"));
    }
    return absl::Hours(24 * days);
  }
  absl::Duration d;
  if (!absl::ParseDuration(s, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("not a duration like 30s: '", s, "'"));
  }
  return d;
}

absl::StatusOr<uint64_t> ParseSizeText(const std::string& s) {
  static const struct {
    const char* suffix;
    uint64_t factor;
  } kUnits[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
                {"kB", 1000},        {"MB", 1000000},     {"GB", 1000000000},  {"B", 1}};
  for (const auto& u : kUnits) {
    if (absl::EndsWith(s, u.suffix)) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(s.substr(0, s.size() - strlen(u.suffix)), &n)) break;
      return n * u.factor;
    }
  }
  uint64_t n = 0;
  if (absl::SimpleAtoi(s, &n)) return n;
  return absl::InvalidArgumentError(absl::StrCat("not a size like 64MiB: '", s, "'"));
}

absl::StatusOr<RunConfig> ParseRunConfig(const std::string& yaml) {
  RunConfig config;
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (root.IsNull()) return config;
    if (absl::Status s = ParseInto(root, &config); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
  return config;
}

absl::StatusOr<RunConfig> LoadRunConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in.is_open()) return absl::NotFoundError(absl::StrCat("config: cannot open ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<RunConfig> config = ParseRunConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::StatusOr<std::vector<std::string>> ApplyOverrides(std::span<const std::string> args,
                                                        RunConfig* config) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); absl::StartsWith(name, "--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    std::string* target = nullptr;
    uint64_t* size_target = nullptr;
    if (name == "--collector") {
      target = &config->collector;
    } else if (name == "--log-path") {
      target = &config->log_path;
    } else if (name == "--spool-path") {
      target = &config->spool_path;
    } else if (name == "--metrics-listen") {
      target = &config->metrics_listen;
    } else if (name == "--spool-max-bytes") {
      size_target = &config->spool_max_bytes;
    } else {
      rest.push_back(args[i]);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(name + " needs a value");
      value = args[++i];
    }
    if (target != nullptr) {
      *target = value;
    } else {
      absl::StatusOr<uint64_t> n = ParseSizeText(value);
      if (!n.ok())
        return absl::InvalidArgumentError(absl::StrCat(name, ": ", n.status().message()));
      *size_target = *n;
    }
  }
  return rest;
}

absl::Status ValidateRunConfig(const RunConfig& c, bool need_log) {
  if (c.collector.empty()) return Bad("collector.address", "required");
  if (need_log && c.log_path.empty()) return Bad("log.path", "required");
  if (c.spool_path.empty()) return Bad("spool.path", "required");
  if (!c.cert_file.empty() != !c.key_file.empty()) {
    return Bad("collector.cert_file", "cert_file and key_file go together");
  }
  if (!c.cert_file.empty() && c.ca_file.empty()) return Bad("collector.ca_file", "required");
  if (c.spool_max_bytes < (1 << 16)) return Bad("spool.max_bytes", "at least 64KiB");
  return absl::OkStatus();
}

std::string DefaultsYaml() {
  const RunConfig d;
  return absl::StrCat(
      "# mtrk-agent defaults (mtrk-agent --print-defaults)\n"
      "collector:\n"
      "  address: \"\"            # host:port, required\n"
      "  ca_file: \"\"            # TLS: CA of the collector's certificate\n"
      "  cert_file: \"\"          # TLS: client certificate (mutual TLS)\n"
      "  key_file: \"\"\n"
      "  batch_events: ",
      d.batch_events, "\n", "  deadline: ", absl::FormatDuration(d.deadline), "\n",
      "  initial_backoff: ", absl::FormatDuration(d.initial_backoff), "\n",
      "  max_backoff: ", absl::FormatDuration(d.max_backoff), "\n",
      "log:\n"
      "  path: \"\"               # required for `run`\n"
      "  rotated: []             # besides <path>.N, <path>-DATE... in its directory\n"
      "  timezone: ",
      d.timezone, "\n", "  max_line_bytes: ", d.max_line_bytes, "\n",
      "  poll_interval: ", absl::FormatDuration(d.poll_interval), "\n",
      "  rotate_grace: ", absl::FormatDuration(d.rotate_grace), "\n",
      "  inotify: ", d.inotify ? "true" : "false", "\n",
      "postfix:\n"
      "  reporting_mta: \"\"      # default: each line's syslog host\n"
      "  tracked_next_hops: []\n"
      "  max_queue_lifetime: 5d\n"
      "  idle_eviction: ",
      absl::FormatDuration(d.idle_eviction), "\n",
      "spool:\n"
      "  path: ",
      d.spool_path, "\n",
      "  max_bytes: 1GiB\n"
      "  commit_interval: ",
      absl::FormatDuration(d.commit_interval), "\n",
      "metrics:\n"
      "  listen: \"\"             # host:port of /metrics; empty: off\n");
}

}  // namespace mtrk::agent::app
