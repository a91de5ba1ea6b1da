#include "server/process/config.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/parser.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/glob.h"

namespace sluice::server {
namespace {

// One configuration parameter: how to print it and how to set it from its
// arguments. `mutable_at_runtime` says whether CONFIG SET may change it.
struct Param {
  std::string_view name;
  bool mutable_at_runtime;
  std::string (*get)(const Config&);
  absl::Status (*set)(Config&, const std::vector<std::string>&);
  // CONFIG SET changes it only as enable-protected-configs allows.
  bool protected_config = false;
};

absl::Status IntArg(const std::vector<std::string>& v, int64_t lo, int64_t hi, int* out) {
  std::optional<int64_t> parsed = v.size() == 1 ? protocol::ParseInt64(v[0]) : std::nullopt;
  if (!parsed) {
    return absl::InvalidArgumentError("argument couldn't be parsed into an integer");
  }
  const int64_t n = *parsed;
  if (n < lo || n > hi) {
    return absl::InvalidArgumentError(
        StrCat("argument must be between ", lo, " and ", hi, " inclusive"));
  }
  *out = static_cast<int>(n);
  return absl::OkStatus();
}

absl::Status OneArg(const std::vector<std::string>& v) {
  if (v.size() != 1) return absl::InvalidArgumentError("wrong number of arguments");
  return absl::OkStatus();
}

constexpr int kIntMax = 2147483647;

absl::Status YesNoArg(const std::vector<std::string>& v, bool* out) {
  if (absl::Status s = OneArg(v); !s.ok()) return s;
  if (protocol::EqualsIgnoreCase(v[0], "yes")) {
    *out = true;
  } else if (protocol::EqualsIgnoreCase(v[0], "no")) {
    *out = false;
  } else {
    return absl::InvalidArgumentError("argument must be 'yes' or 'no'");
  }
  return absl::OkStatus();
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string ProtectedText(Config::Protected v) {
  switch (v) {
    case Config::Protected::kYes:
      return "yes";
    case Config::Protected::kLocal:
      return "local";
    case Config::Protected::kNo:
      break;
  }
  return "no";
}

// enable-protected-configs and enable-debug-command: no, yes or local.
absl::Status ProtectedArg(const std::vector<std::string>& v, Config::Protected* out) {
  if (v.size() != 1) return absl::InvalidArgumentError("wrong number of arguments");
  const std::string value = AsciiLower(v[0]);
  if (value == "yes") {
    *out = Config::Protected::kYes;
  } else if (value == "local") {
    *out = Config::Protected::kLocal;
  } else if (value == "no") {
    *out = Config::Protected::kNo;
  } else {
    return absl::InvalidArgumentError("argument(s) must be one of the following: no, yes, local");
  }
  return absl::OkStatus();
}

// `save`: the points as one argument (CONFIG SET, `save ""`) or as several
// (a config-file line). In a file or on the command line the first `save`
// replaces the defaults and later ones add to it; CONFIG SET replaces.
absl::Status SetSavePoints(Config& c, const std::vector<std::string>& v) {
  std::vector<SavePoint> points;
  const std::string text = StrJoin(v, " ");
  if (!ParseSavePoints(text, &points)) return absl::InvalidArgumentError("Invalid save parameters");
  if (c.save_points_from_directive) {
    c.save_points.insert(c.save_points.end(), points.begin(), points.end());
  } else {
    c.save_points = std::move(points);
  }
  return absl::OkStatus();
}

// A byte count as Redis writes them: digits with an optional unit, k/m/g
// (powers of 1000) or kb/mb/gb (powers of 1024), case-insensitive.
std::optional<uint64_t> ParseMemory(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;
  const std::string unit = AsciiLower(s.substr(digits));
  uint64_t mul = 1;
  if (unit.empty() || unit == "b") {
  } else if (unit == "k") {
    mul = 1000;
  } else if (unit == "kb") {
    mul = 1024;
  } else if (unit == "m") {
    mul = 1000 * 1000;
  } else if (unit == "mb") {
    mul = 1024 * 1024;
  } else if (unit == "g") {
    mul = 1000ull * 1000 * 1000;
  } else if (unit == "gb") {
    mul = 1024ull * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < digits; ++i) n = n * 10 + static_cast<uint64_t>(s[i] - '0');
  if (n > UINT64_MAX / mul) return std::nullopt;
  return n * mul;
}

// client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...]: the
// arguments may come as one space-separated string (CONFIG SET) or as words
// (config file). Classes not named keep their limits.
absl::Status SetOutputLimits(Config& c, const std::vector<std::string>& v) {
  std::vector<std::string_view> words;
  for (const auto& s : v) {
    for (auto w : SplitNonEmpty(s, ' ')) words.push_back(w);
  }
  if (words.empty() || words.size() % 4 != 0) {
    return absl::InvalidArgumentError("Wrong number of arguments in buffer limit configuration.");
  }
  OutputBufferLimit next[kClientClasses];
  std::copy(std::begin(c.output_limits), std::end(c.output_limits), next);
  for (size_t i = 0; i < words.size(); i += 4) {
    int cls;
    if (protocol::EqualsIgnoreCase(words[i], "normal")) {
      cls = static_cast<int>(ClientClass::kNormal);
    } else if (protocol::EqualsIgnoreCase(words[i], "replica") ||
               protocol::EqualsIgnoreCase(words[i], "slave")) {
      cls = static_cast<int>(ClientClass::kReplica);
    } else if (protocol::EqualsIgnoreCase(words[i], "pubsub")) {
      cls = static_cast<int>(ClientClass::kPubSub);
    } else {
      return absl::InvalidArgumentError(
          "Invalid client class specified in buffer limit configuration.");
    }
    auto hard = ParseMemory(words[i + 1]);
    auto soft = ParseMemory(words[i + 2]);
    auto secs = protocol::ParseInt64(words[i + 3]);
    if (!hard || !soft || !secs || *secs < 0) {
      return absl::InvalidArgumentError(
          "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    }
    next[cls] = OutputBufferLimit{*hard, *soft, *secs};
  }
  std::copy(std::begin(next), std::end(next), c.output_limits);
  return absl::OkStatus();
}

std::string OutputLimitsText(const Config& c) {
  static constexpr std::string_view kNames[] = {"normal", "slave", "pubsub"};
  std::string out;
  for (int i = 0; i < kClientClasses; ++i) {
    const OutputBufferLimit& l = c.output_limits[i];
    StrAppend(&out, i ? " " : "", kNames[i], " ", l.hard, " ", l.soft, " ", l.soft_seconds);
  }
  return out;
}

std::string BusyThresholdText(const Config& c) { return std::to_string(c.busy_reply_threshold_ms); }

absl::Status SetBusyThreshold(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, 0, kIntMax, &c.busy_reply_threshold_ms);
}

std::string HashEntriesText(const Config& c) { return std::to_string(c.hash_max_listpack_entries); }
absl::Status SetHashEntries(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, 0, kIntMax, &c.hash_max_listpack_entries);
}
std::string ZSetEntriesText(const Config& c) { return std::to_string(c.zset_max_listpack_entries); }
absl::Status SetZSetEntries(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, 0, kIntMax, &c.zset_max_listpack_entries);
}
std::string ZSetValueText(const Config& c) { return std::to_string(c.zset_max_listpack_value); }
absl::Status SetZSetValue(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, 0, kIntMax, &c.zset_max_listpack_value);
}
std::string ListSizeText(const Config& c) { return std::to_string(c.list_max_listpack_size); }
absl::Status SetListSize(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, -kIntMax - 1, kIntMax, &c.list_max_listpack_size);
}
std::string HashValueText(const Config& c) { return std::to_string(c.hash_max_listpack_value); }
absl::Status SetHashValue(Config& c, const std::vector<std::string>& v) {
  return IntArg(v, 0, kIntMax, &c.hash_max_listpack_value);
}

const std::vector<Param>& Params() {
  static const std::vector<Param> params = {
      {"port", false, [](const Config& c) { return std::to_string(c.port); },
       [](Config& c, const std::vector<std::string>& v) { return IntArg(v, 0, 65535, &c.port); }},
      {"bind", false, [](const Config& c) { return StrJoin(c.bind, " "); },
       [](Config& c, const std::vector<std::string>& v) {
         std::vector<std::string> addrs;
         for (const auto& s : v) {
           for (auto part : SplitNonEmpty(s, ' ')) addrs.emplace_back(part);
         }
         if (addrs.empty()) return absl::InvalidArgumentError("bind needs at least one address");
         c.bind = std::move(addrs);
         return absl::OkStatus();
       }},
      {"io-threads", false, [](const Config& c) { return std::to_string(c.threads); },
       [](Config& c, const std::vector<std::string>& v) { return IntArg(v, 1, 128, &c.threads); }},
      {"databases", false, [](const Config& c) { return std::to_string(c.databases); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 1, 10000, &c.databases);
       }},
      {"shards", false, [](const Config& c) { return std::to_string(c.shards); },
       [](Config& c, const std::vector<std::string>& v) {
         absl::Status s = IntArg(v, 1, 65536, &c.shards);
         if (s.ok() && (c.shards & (c.shards - 1)) != 0) {
           return absl::InvalidArgumentError("argument must be a power of two");
         }
         return s;
       }},
      {"requirepass", true, [](const Config& c) { return c.requirepass; },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         c.requirepass = v[0];
         return absl::OkStatus();
       }},
      {"maxclients", true, [](const Config& c) { return std::to_string(c.maxclients); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 1, kIntMax, &c.maxclients);
       }},
      {"timeout", true, [](const Config& c) { return std::to_string(c.timeout); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.timeout);
       }},
      {"loglevel", true, [](const Config& c) { return std::string(LogLevelName(c.loglevel)); },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kVerbose,
                                                LogLevel::kNotice, LogLevel::kWarning,
                                                LogLevel::kNothing};
         for (LogLevel l : kLevels) {
           if (protocol::EqualsIgnoreCase(v[0], LogLevelName(l))) {
             c.loglevel = l;
             return absl::OkStatus();
           }
         }
         return absl::InvalidArgumentError(
             "argument(s) must be one of the following: debug, "
             "verbose, notice, warning, nothing");
       }},
      {"notify-keyspace-events", true,
       [](const Config& c) { return KeyspaceEventFlagsText(c.notify_keyspace_events); },
       [](Config& c, const std::vector<std::string>& v) {
         if (v.size() > 1) return absl::InvalidArgumentError("wrong number of arguments");
         auto flags = ParseKeyspaceEventFlags(v.empty() ? std::string_view() : v[0]);
         if (!flags) {
           return absl::InvalidArgumentError(
               "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
         }
         c.notify_keyspace_events = *flags;
         return absl::OkStatus();
       }},
      {"client-output-buffer-limit", true, OutputLimitsText, SetOutputLimits},
      // lua-time-limit is the older name of busy-reply-threshold.
      {"busy-reply-threshold", true, BusyThresholdText, SetBusyThreshold},
      {"lua-time-limit", true, BusyThresholdText, SetBusyThreshold},
      {"save", true, [](const Config& c) { return SavePointsText(c.save_points); },
       SetSavePoints},
      {"dir", true, [](const Config& c) { return c.dir; },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         c.dir = v[0];
         return absl::OkStatus();
       },
       true},
      {"enable-protected-configs", false,
       [](const Config& c) { return ProtectedText(c.enable_protected_configs); },
       [](Config& c, const std::vector<std::string>& v) {
         return ProtectedArg(v, &c.enable_protected_configs);
       }},
      {"enable-debug-command", false,
       [](const Config& c) { return ProtectedText(c.enable_debug_command); },
       [](Config& c, const std::vector<std::string>& v) {
         return ProtectedArg(v, &c.enable_debug_command);
       }},
      {"dbfilename", true, [](const Config& c) { return c.dbfilename; },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         if (v[0].empty() || v[0].find('/') != std::string::npos) {
           return absl::InvalidArgumentError("dbfilename can't be a path, just a filename");
         }
         c.dbfilename = v[0];
         return absl::OkStatus();
       },
       true},
      {"rdbcompression", true, [](const Config& c) { return YesNo(c.rdbcompression); },
       [](Config& c, const std::vector<std::string>& v) { return YesNoArg(v, &c.rdbcompression); }},
      {"rdbchecksum", false, [](const Config& c) { return YesNo(c.rdbchecksum); },
       [](Config& c, const std::vector<std::string>& v) { return YesNoArg(v, &c.rdbchecksum); }},
      {"stop-writes-on-bgsave-error", true,
       [](const Config& c) { return YesNo(c.stop_writes_on_bgsave_error); },
       [](Config& c, const std::vector<std::string>& v) {
         return YesNoArg(v, &c.stop_writes_on_bgsave_error);
       }},
      // Read-only values that clients commonly query; sluice has no
      // append-only file (docs/compatibility.md).
      {"appendonly", false, [](const Config&) { return std::string("no"); }, nullptr},
      {"maxmemory", true, [](const Config& c) { return std::to_string(c.maxmemory); },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         std::optional<uint64_t> bytes = ParseMemory(v[0]);
         if (!bytes || *bytes > static_cast<uint64_t>(INT64_MAX)) {
           return absl::InvalidArgumentError("argument must be a memory value");
         }
         c.maxmemory = *bytes;
         return absl::OkStatus();
       }},
      {"maxmemory-policy", true,
       [](const Config& c) { return std::string(storage::EvictionPolicyName(c.maxmemory_policy)); },
       [](Config& c, const std::vector<std::string>& v) {
         if (absl::Status s = OneArg(v); !s.ok()) return s;
         std::optional<storage::EvictionPolicy> p = storage::ParseEvictionPolicy(v[0]);
         if (!p) {
           return absl::InvalidArgumentError(
               "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
               "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
               "noeviction, allkeys-s3fifo");
         }
         c.maxmemory_policy = *p;
         return absl::OkStatus();
       }},
      {"maxmemory-samples", true,
       [](const Config& c) { return std::to_string(c.maxmemory_samples); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 1, 64, &c.maxmemory_samples);
       }},
      {"maxmemory-eviction-tenacity", true,
       [](const Config& c) { return std::to_string(c.maxmemory_eviction_tenacity); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, 100, &c.maxmemory_eviction_tenacity);
       }},
      {"lfu-log-factor", true, [](const Config& c) { return std::to_string(c.lfu_log_factor); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.lfu_log_factor);
       }},
      {"lfu-decay-time", true, [](const Config& c) { return std::to_string(c.lfu_decay_time); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.lfu_decay_time);
       }},
      // hash-max-ziplist-* are the names before Redis 7.
      {"hash-max-listpack-entries", true, HashEntriesText, SetHashEntries},
      {"hash-max-ziplist-entries", true, HashEntriesText, SetHashEntries},
      {"hash-max-listpack-value", true, HashValueText, SetHashValue},
      {"hash-max-ziplist-value", true, HashValueText, SetHashValue},
      {"set-max-intset-entries", true,
       [](const Config& c) { return std::to_string(c.set_max_intset_entries); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.set_max_intset_entries);
       }},
      {"set-max-listpack-entries", true,
       [](const Config& c) { return std::to_string(c.set_max_listpack_entries); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.set_max_listpack_entries);
       }},
      {"set-max-listpack-value", true,
       [](const Config& c) { return std::to_string(c.set_max_listpack_value); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.set_max_listpack_value);
       }},
      // zset-max-ziplist-* are the names before Redis 7.
      {"zset-max-listpack-entries", true, ZSetEntriesText, SetZSetEntries},
      {"zset-max-ziplist-entries", true, ZSetEntriesText, SetZSetEntries},
      {"zset-max-listpack-value", true, ZSetValueText, SetZSetValue},
      {"zset-max-ziplist-value", true, ZSetValueText, SetZSetValue},
      // list-max-ziplist-size is the name before Redis 7.
      {"list-max-listpack-size", true, ListSizeText, SetListSize},
      {"list-max-ziplist-size", true, ListSizeText, SetListSize},
      {"list-compress-depth", true,
       [](const Config& c) { return std::to_string(c.list_compress_depth); },
       [](Config& c, const std::vector<std::string>& v) {
         return IntArg(v, 0, kIntMax, &c.list_compress_depth);
       }},
      {"proto-max-bulk-len", false, [](const Config&) { return std::string("536870912"); },
       nullptr},
  };
  return params;
}

const Param* FindParam(std::string_view name) {
  for (const Param& p : Params()) {
    if (protocol::EqualsIgnoreCase(p.name, name)) return &p;
  }
  return nullptr;
}

// redis.conf directives that sluice accepts and ignores because they concern
// persistence or daemon management it does not do.
bool IsIgnoredDirective(std::string_view name) {
  static constexpr std::string_view kIgnored[] = {
      "appendonly", "protected-mode", "daemonize", "supervised", "pidfile",
      "logfile",    "tcp-keepalive",  "tcp-backlog", "hz"};
  for (auto n : kIgnored) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kVerbose:
      return "verbose";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNothing:
      return "nothing";
  }
  return "notice";
}

absl::Status ApplyDirective(Config& config, std::string_view name,
                            const std::vector<std::string>& values) {
  std::string lower = AsciiLower(name);
  if (lower == "threads") lower = "io-threads";
  if (IsIgnoredDirective(lower)) return absl::OkStatus();
  const Param* p = FindParam(lower);
  if (p == nullptr || p->set == nullptr) {
    return absl::InvalidArgumentError("Bad directive or wrong number of arguments");
  }
  absl::Status s = p->set(config, values);
  if (s.ok() && lower == "save") config.save_points_from_directive = true;
  return s;
}

std::string SavePointsText(const std::vector<SavePoint>& points) {
  std::string out;
  for (const SavePoint& p : points) {
    if (!out.empty()) out += ' ';
    out += StrCat(p.seconds, " ", p.changes);
  }
  return out;
}

bool ParseSavePoints(std::string_view text, std::vector<SavePoint>* points) {
  const std::vector<std::string_view> words = SplitNonEmpty(text, ' ');
  if (words.size() % 2 != 0) return false;
  points->clear();
  for (size_t i = 0; i < words.size(); i += 2) {
    std::optional<int64_t> seconds = protocol::ParseInt64(words[i]);
    std::optional<int64_t> changes = protocol::ParseInt64(words[i + 1]);
    if (!seconds || !changes || *seconds < 1 || *changes < 0) return false;
    points->push_back(SavePoint{*seconds, *changes});
  }
  return true;
}

absl::Status LoadConfigFile(Config& config, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("can't open config file '", path, "'"));
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view trimmed = StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    protocol::CommandArgs args;
    if (!protocol::SplitInlineArgs(trimmed, &args) || args.empty()) {
      return absl::InvalidArgumentError(
          StrCat(path, ":", lineno, ": '", trimmed, "': unbalanced quotes in configuration line"));
    }
    std::vector<std::string> values;
    for (size_t i = 1; i < args.size(); ++i) values.emplace_back(args[i]);
    if (absl::Status s = ApplyDirective(config, args[0], values); !s.ok()) {
      return absl::InvalidArgumentError(
          StrCat(path, ":", lineno, ": '", trimmed, "': ", std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status Finalize(Config& config) {
  // The snapshot directory, absolute, as CONFIG GET dir prints it; it must exist.
  char resolved[PATH_MAX];
  if (realpath(config.dir.c_str(), resolved) == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("Can't chdir to '", config.dir, "': ", std::strerror(errno)));
  }
  config.dir = resolved;
  // Directives add save points to each other; CONFIG SET save replaces them.
  config.save_points_from_directive = false;
  if (config.threads == 0) {
    config.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  if (config.shards == 0) {
    // Several shards per thread keeps lock contention and per-shard rehash
    // pauses small.
    int s = 16;
    while (s < config.threads * 16) s *= 2;
    config.shards = s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseCommandLine(int argc, const char* const* argv) {
  Config config;
  int i = 1;
  if (i < argc && std::string_view(argv[i]).substr(0, 2) != "--") {
    config.config_file = argv[i];
    if (absl::Status s = LoadConfigFile(config, config.config_file); !s.ok()) return s;
    ++i;
  }
  while (i < argc) {
    std::string_view opt = argv[i];
    if (opt.substr(0, 2) != "--" || opt.size() == 2) {
      return absl::InvalidArgumentError(
          StrCat("unexpected argument '", opt, "' (options look like --port 6379)"));
    }
    std::vector<std::string> values;
    int j = i + 1;
    while (j < argc && std::string_view(argv[j]).substr(0, 2) != "--")
      values.emplace_back(argv[j++]);
    if (absl::Status s = ApplyDirective(config, opt.substr(2), values); !s.ok()) {
      return absl::InvalidArgumentError(
          StrCat("bad option '", opt, " ", StrJoin(values, " "), "': ", std::string(s.message())));
    }
    i = j;
  }
  if (absl::Status s = Finalize(config); !s.ok()) return s;
  return config;
}

ServerConfig::ServerConfig(Config config) : config_(std::move(config)) { Mirror(); }

void ServerConfig::Mirror() {
  maxclients_.store(config_.maxclients);
  timeout_.store(config_.timeout);
  loglevel_.store(config_.loglevel);
  notify_keyspace_events_.store(config_.notify_keyspace_events);
  busy_reply_threshold_ms_.store(config_.busy_reply_threshold_ms);
  maxmemory_.store(config_.maxmemory);
  tenacity_.store(config_.maxmemory_eviction_tenacity);
  hash_max_listpack_entries_.store(config_.hash_max_listpack_entries);
  hash_max_listpack_value_.store(config_.hash_max_listpack_value);
  set_max_intset_entries_.store(config_.set_max_intset_entries);
  set_max_listpack_entries_.store(config_.set_max_listpack_entries);
  set_max_listpack_value_.store(config_.set_max_listpack_value);
  zset_max_listpack_entries_.store(config_.zset_max_listpack_entries);
  zset_max_listpack_value_.store(config_.zset_max_listpack_value);
  list_max_listpack_size_.store(config_.list_max_listpack_size);
  list_compress_depth_.store(config_.list_compress_depth);
  for (int i = 0; i < kClientClasses; ++i) {
    output_limits_[i].hard.store(config_.output_limits[i].hard);
    output_limits_[i].soft.store(config_.output_limits[i].soft);
    output_limits_[i].soft_seconds.store(config_.output_limits[i].soft_seconds);
  }
}

Config ServerConfig::Snapshot() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::string ServerConfig::requirepass() const {
  std::lock_guard lock(mu_);
  return config_.requirepass;
}

std::vector<std::pair<std::string, std::string>> ServerConfig::Get(std::string_view pattern) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  // A name without glob characters is echoed back as the client typed it.
  const bool literal = pattern.find_first_of("*?[\\") == std::string_view::npos;
  for (const Param& p : Params()) {
    if (storage::GlobMatch(pattern, p.name, /*nocase=*/true)) {
      out.emplace_back(literal ? std::string(pattern) : std::string(p.name), p.get(config_));
    }
  }
  return out;
}

std::string ServerConfig::Set(const std::vector<std::pair<std::string, std::string>>& pairs,
                              bool local_client) {
  std::string error = SetLocked(pairs, local_client);
  if (error.empty() && on_change_) on_change_(Snapshot());
  return error;
}

std::string ServerConfig::SetLocked(const std::vector<std::pair<std::string, std::string>>& pairs,
                                    bool local_client) {
  std::lock_guard lock(mu_);
  Config next = config_;
  std::vector<const Param*> seen;
  for (const auto& [name, value] : pairs) {
    const Param* p = FindParam(name);
    if (p == nullptr) {
      return StrCat("ERR Unknown option or number of arguments for CONFIG SET - '", name, "'");
    }
    auto fail = [&](const std::string& why) {
      return StrCat("ERR CONFIG SET failed (possibly related to argument '", name, "') - ", why);
    };
    for (const Param* s : seen) {
      if (s == p) return fail("duplicate parameter");
    }
    seen.push_back(p);
    if (!p->mutable_at_runtime || p->set == nullptr) return fail("can't set immutable config");
    if (p->protected_config) {
      const Config::Protected allow = config_.enable_protected_configs;
      if (allow == Config::Protected::kNo || (allow == Config::Protected::kLocal && !local_client)) {
        return fail("can't set protected config");
      }
    }
    if (absl::Status s = p->set(next, {value}); !s.ok()) return fail(std::string(s.message()));
    if (p->name == "dir") {
      // As Redis's chdir: the directory must exist; kept absolute.
      char resolved[PATH_MAX];
      if (realpath(next.dir.c_str(), resolved) == nullptr) return fail(std::strerror(errno));
      next.dir = resolved;
    }
  }
  config_ = std::move(next);
  Mirror();
  return "";
}

}  // namespace sluice::server
