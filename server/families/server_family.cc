// Server commands: COMMAND (generated from the command table), INFO, CONFIG,
// TIME, SAVE, BGSAVE, LASTSAVE and SHUTDOWN.

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "common/strings.h"
#include "persistence/rdb_value.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/blocking/blocking_registry.h"
#include "server/dispatch/command.h"
#include "server/dispatch/lock_planner.h"
#include "server/memory/evictor.h"
#include "server/process/allocator.h"
#include "server/process/rdb_load.h"
#include "server/process/server.h"
#include "server/process/snapshots.h"
#include "server/scripting/scripting.h"
#include "storage/clock.h"
#include "storage/encoding.h"
#include "storage/glob.h"
#include "storage/eviction.h"
#include "storage/string_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;

constexpr std::string_view kSluiceVersion = "0.1.0";
constexpr std::string_view kCompatibleRedisVersion = "7.2.4";

// ---- COMMAND ----------------------------------------------------------------

std::vector<std::string_view> FlagNames(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kWrite, "write"},
      {kReadOnly, "readonly"},
      {kDenyOom, "denyoom"},
      {kAdmin, "admin"},
      {kPubSub, "pubsub"},
      {kNoScript, "noscript"},
      {kBlocking, "blocking"},
      {kLoading, "loading"},
      {kStale, "stale"},
      {kSkipMonitor, "skip_monitor"},
      {kSkipSlowlog, "skip_slowlog"},
      {kFast, "fast"},
      {kNoAuth, "no_auth"},
      {kAllowBusy, "allow_busy"},
      {kNoMulti, "no_multi"},
      {kNoMandatoryKeys, "no_mandatory_keys"}};
  std::vector<std::string_view> out;
  for (auto [bit, name] : kNames) {
    if (flags & bit) out.push_back(name);
  }
  return out;
}

// A keynum key specification: the count at `c.keynum_at`, the keys after it.
void WriteKeySpecs(protocol::ReplySink& w, const CommandSpec& c) {
  if (c.keynum_at == 0) return w.ArrayHeader(0);
  w.ArrayHeader(1);
  w.MapHeader(4);
  w.Bulk("notes");
  w.Bulk("The keys are the script's: it decides how it uses them.");
  w.Bulk("flags");
  std::vector<std::string_view> flags = SplitNonEmpty(c.key_spec_flags, ' ');
  w.SetHeader(flags.size());
  for (std::string_view f : flags) w.SimpleString(f);
  w.Bulk("begin_search");
  w.MapHeader(2);
  w.Bulk("type");
  w.Bulk("index");
  w.Bulk("spec");
  w.MapHeader(1);
  w.Bulk("index");
  w.Integer(c.keynum_at);
  w.Bulk("find_keys");
  w.MapHeader(2);
  w.Bulk("type");
  w.Bulk("keynum");
  w.Bulk("spec");
  w.MapHeader(3);
  w.Bulk("keynumidx");
  w.Integer(0);
  w.Bulk("firstkey");
  w.Integer(1);
  w.Bulk("keystep");
  w.Integer(1);
}

void WriteCommandInfo(protocol::ReplySink& w, const CommandSpec& c) {
  w.ArrayHeader(10);
  w.Bulk(c.name);
  w.Integer(c.arity);
  auto flags = FlagNames(c.flags);
  if (c.keynum_at != 0) flags.push_back("movablekeys");
  w.SetHeader(flags.size());
  for (auto f : flags) w.SimpleString(f);
  w.Integer(c.first_key);
  w.Integer(c.last_key);
  w.Integer(c.key_step);
  std::vector<std::string_view> cats = SplitNonEmpty(c.acl_categories, ' ');
  w.SetHeader(cats.size());
  for (auto cat : cats) w.SimpleString(cat);
  w.ArrayHeader(0);  // tips
  WriteKeySpecs(w, c);
  w.ArrayHeader(c.subcommands.size());
  for (const auto& sub : c.subcommands) WriteCommandInfo(w, *sub);
}

void WriteCommandDocs(protocol::ReplySink& w, const CommandSpec& c) {
  const bool subs = !c.subcommands.empty();
  w.MapHeader(subs ? 5 : 4);
  w.Bulk("summary");
  w.Bulk(c.doc.summary);
  w.Bulk("since");
  w.Bulk(c.doc.since);
  w.Bulk("group");
  w.Bulk(c.doc.group);
  w.Bulk("complexity");
  w.Bulk(c.doc.complexity);
  if (subs) {
    w.Bulk("subcommands");
    w.MapHeader(c.subcommands.size());
    for (const auto& sub : c.subcommands) {
      w.Bulk(sub->name);
      WriteCommandDocs(w, *sub);
    }
  }
}

// Table rows sorted by name, so replies are stable.
std::vector<const CommandSpec*> SortedCommands(const CommandTable& table) {
  std::vector<const CommandSpec*> out;
  for (const auto& [name, spec] : table.all()) out.push_back(spec.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

// A command or "container|sub" name.
const CommandSpec* FindByFullName(const CommandTable& table, std::string_view name) {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return table.Find(name);
  const CommandSpec* parent = table.Find(name.substr(0, bar));
  return parent == nullptr ? nullptr : parent->FindSubcommand(name.substr(bar + 1));
}

void CmdCommand(CommandContext& ctx) {
  auto all = SortedCommands(ctx.server.commands());
  ctx.w.ArrayHeader(all.size());
  for (auto* c : all) WriteCommandInfo(ctx.w, *c);
}

void CmdCommandCount(CommandContext& ctx) {
  ctx.w.Integer(static_cast<int64_t>(ctx.server.commands().all().size()));
}

void CmdCommandInfo(CommandContext& ctx) {
  if (ctx.argc() == 2) return CmdCommand(ctx);
  ctx.w.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* c = FindByFullName(ctx.server.commands(), ctx.arg(i));
    if (c == nullptr) {
      ctx.w.Null();
    } else {
      WriteCommandInfo(ctx.w, *c);
    }
  }
}

void CmdCommandDocs(CommandContext& ctx) {
  std::vector<const CommandSpec*> found;
  if (ctx.argc() == 2) {
    found = SortedCommands(ctx.server.commands());
  } else {
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (const CommandSpec* c = FindByFullName(ctx.server.commands(), ctx.arg(i))) {
        found.push_back(c);
      }
    }
  }
  ctx.w.MapHeader(found.size());
  for (auto* c : found) {
    ctx.w.Bulk(c->name);
    WriteCommandDocs(ctx.w, *c);
  }
}

void CmdCommandList(CommandContext& ctx) {
  std::string_view pattern, category;
  if (ctx.argc() == 5 && EqualsIgnoreCase(ctx.arg(2), "FILTERBY")) {
    if (EqualsIgnoreCase(ctx.arg(3), "PATTERN")) {
      pattern = ctx.arg(4);
    } else if (EqualsIgnoreCase(ctx.arg(3), "ACLCAT")) {
      category = ctx.arg(4);
    } else if (EqualsIgnoreCase(ctx.arg(3), "MODULE")) {
      return ctx.w.ArrayHeader(0);
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  } else if (ctx.argc() != 2) {
    return ctx.w.Error(errors::kSyntax);
  }
  std::vector<std::string_view> names;
  auto consider = [&](const CommandSpec& c) {
    if (!pattern.empty() && !storage::GlobMatch(pattern, c.name, true)) return;
    if (!category.empty()) {
      bool in = false;
      for (auto cat : SplitNonEmpty(c.acl_categories, ' ')) {
        if (EqualsIgnoreCase(cat.substr(1), category)) in = true;
      }
      if (!in) return;
    }
    names.push_back(c.name);
  };
  for (auto* c : SortedCommands(ctx.server.commands())) {
    consider(*c);
    for (const auto& sub : c->subcommands) consider(*sub);
  }
  ctx.w.BulkArray(names);
}

void CmdCommandGetKeys(CommandContext& ctx) {
  const CommandSpec* c = ctx.server.commands().Find(ctx.arg(2));
  if (c == nullptr) return ctx.w.Error("ERR Invalid command specified");
  if (!c->CheckArity(ctx.argc() - 2)) {
    return ctx.w.Error("ERR Invalid number of arguments specified for command");
  }
  if (c->first_key == 0 && c->keys == nullptr) {
    return ctx.w.Error("ERR The command has no key arguments");
  }
  // The keys are those the lock planner finds, so numkeys commands (EVAL,
  // SINTERCARD, ZUNIONSTORE, ...) are answered from their own planners.
  protocol::CommandArgs sub;
  for (size_t i = 2; i < ctx.argc(); ++i) sub.Push(ctx.arg(i));
  LockPlan plan(ctx.server.keyspace(), ctx.client.db());
  PlanLocks(*c, sub, plan);
  std::vector<std::string_view> keys;
  // Whole-db needs have a null key; COPY and MOVE plan their key once per
  // database, so an argument already listed is skipped.
  for (const LockPlan::Need& need : plan.needs) {
    if (need.key.data() == nullptr) continue;
    const bool listed = std::any_of(
        keys.begin(), keys.end(), [&](std::string_view k) { return k.data() == need.key.data(); });
    if (!listed) keys.push_back(need.key);
  }
  ctx.w.BulkArray(keys);
}

void CmdCommandHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Describe every command.",
      "COUNT",
      "    Number of commands.",
      "INFO [<command-name> ...]",
      "    Describe the named commands (all when none).",
      "DOCS [<command-name> ...]",
      "    Documentation of the named commands (all when none).",
      "LIST [FILTERBY (ACLCAT <category> | PATTERN <pattern>)]",
      "    Command names.",
      "GETKEYS <full-command>",
      "    Key names of a full command.",
      "HELP",
      "    Print this help."};
  WriteHelp(ctx.w, kLines);
}

// ---- INFO -------------------------------------------------------------------

std::string TwoDecimals(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return StrCat(n, "B");
  char buf[32];
  snprintf(buf, sizeof(buf), "%.2f%s", v, units[u]);
  return buf;
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void InfoServer(CommandContext& ctx, std::string& out) {
  utsname u;
  uname(&u);
  const int64_t now_us = storage::NowUs();
  const int64_t uptime = (ctx.now_ms - ctx.server.start_time_ms()) / 1000;
  const Config cfg = ctx.server.config().Snapshot();
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  exe[n > 0 ? n : 0] = '\0';
  StrAppend(&out, "# Server\r\n", "redis_version:", kCompatibleRedisVersion, "\r\n",
            "sluice_version:", kSluiceVersion, "\r\n", "redis_git_sha1:00000000\r\n",
            "redis_git_dirty:0\r\n", "redis_build_id:0\r\n", "redis_mode:standalone\r\n",
            "os:", u.sysname, " ", u.release, " ", u.machine, "\r\n", "arch_bits:64\r\n",
            "monotonic_clock:POSIX clock_gettime\r\n", "multiplexing_api:epoll\r\n",
            "gcc_version:", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__, "\r\n",
            "process_id:", getpid(), "\r\n", "process_supervised:no\r\n",
            "run_id:", ctx.server.run_id(), "\r\n", "tcp_port:", ctx.server.port(), "\r\n",
            "server_time_usec:", now_us, "\r\n", "uptime_in_seconds:", uptime, "\r\n",
            "uptime_in_days:", uptime / 86400, "\r\n", "hz:100\r\n", "configured_hz:100\r\n",
            "lru_clock:", (ctx.now_ms / 1000) & ((1 << 24) - 1), "\r\n", "executable:", exe, "\r\n",
            "config_file:", cfg.config_file, "\r\n",
            "io_threads_active:", ctx.server.thread_count() > 1 ? 1 : 0, "\r\n",
            "io_threads:", ctx.server.thread_count(), "\r\n");
}

void InfoClients(CommandContext& ctx, std::string& out) {
  const BlockingRegistry& blocking = ctx.server.blocking();
  StrAppend(&out, "# Clients\r\n",
            "connected_clients:", ctx.server.stats().connected_clients.load(), "\r\n",
            "cluster_connections:0\r\n", "maxclients:", ctx.server.config().maxclients(), "\r\n",
            "client_recent_max_input_buffer:0\r\n", "client_recent_max_output_buffer:0\r\n",
            "blocked_clients:", blocking.blocked_clients(), "\r\n", "tracking_clients:0\r\n",
            "clients_in_timeout_table:", blocking.clients_with_timeout(), "\r\n",
            "total_blocking_keys:", blocking.blocking_keys(), "\r\n",
            "total_blocking_keys_on_nokey:0\r\n");
}

void InfoMemory(CommandContext& ctx, std::string& out) {
  static std::atomic<uint64_t> peak{0};
  const uint64_t used = UsedMemoryExact();
  uint64_t p = peak.load();
  while (used > p && !peak.compare_exchange_weak(p, used)) {
  }
  p = std::max(p, used);
  const uint64_t rss = ResidentBytes();
  const storage::LazyFreer& freer = ctx.server.keyspace().lazy_freer();
  const Config cfg = ctx.server.config().Snapshot();
  StrAppend(&out, "# Memory\r\n", "used_memory:", used, "\r\n",
            "used_memory_human:", HumanBytes(used), "\r\n", "used_memory_rss:", rss, "\r\n",
            "used_memory_rss_human:", HumanBytes(rss), "\r\n", "used_memory_peak:", p, "\r\n",
            "used_memory_peak_human:", HumanBytes(p), "\r\n", "maxmemory:", cfg.maxmemory, "\r\n",
            "maxmemory_human:", HumanBytes(cfg.maxmemory), "\r\n",
            "maxmemory_policy:", storage::EvictionPolicyName(cfg.maxmemory_policy), "\r\n",
            "mem_fragmentation_ratio:",
            TwoDecimals(used ? static_cast<double>(rss) / static_cast<double>(used) : 0.0), "\r\n",
            "mem_not_counted_for_evict:0\r\n", "mem_allocator:", AllocatorName(), "\r\n",
            "lazyfree_pending_objects:", freer.pending_objects(), "\r\n",
            "lazyfreed_objects:", freer.freed_objects(), "\r\n");
  const ScriptEngine& scripts = ctx.server.scripts();
  StrAppend(&out, "number_of_cached_scripts:", scripts.cached_scripts(), "\r\n",
            "number_of_functions:", scripts.functions().function_count(), "\r\n",
            "number_of_libraries:", scripts.functions().library_count(), "\r\n",
            "used_memory_functions:", scripts.functions().memory_bytes(), "\r\n");
}

void InfoPersistence(CommandContext& ctx, std::string& out) {
  StrAppend(&out, "# Persistence\r\n", "loading:", ctx.server.loading() ? 1 : 0, "\r\n",
            "async_loading:0\r\n");
  ctx.server.snapshots().AppendInfo(&out);
  AppendLastLoadInfo(ctx.server, &out);
  StrAppend(&out, "aof_enabled:0\r\n", "aof_rewrite_in_progress:0\r\n",
            "aof_rewrite_scheduled:0\r\n", "aof_last_rewrite_time_sec:-1\r\n",
            "aof_current_rewrite_time_sec:-1\r\n", "aof_last_bgrewrite_status:ok\r\n",
            "aof_rewrites:0\r\n", "aof_rewrites_consecutive_failures:0\r\n",
            "aof_last_write_status:ok\r\n", "aof_last_cow_size:0\r\n",
            "module_fork_in_progress:0\r\n", "module_fork_last_cow_size:0\r\n");
  AppendLoadingProgressInfo(ctx.server, &out);
}

void InfoStats(CommandContext& ctx, std::string& out) {
  ServerStats& s = ctx.server.stats();
  storage::ShardStats ks = ctx.server.keyspace().TotalStats();
  const Server::ThreadTotals threads = ctx.server.SumThreadStats();
  StrAppend(&out, "# Stats\r\n", "total_connections_received:", s.total_connections_received.load(),
            "\r\n", "total_commands_processed:", threads.commands, "\r\n",
            "instantaneous_ops_per_sec:0\r\n", "total_net_input_bytes:", threads.net_input_bytes,
            "\r\n", "total_net_output_bytes:", threads.net_output_bytes, "\r\n",
            "rejected_connections:", s.rejected_connections.load(), "\r\n",
            "expired_keys:", ks.expired_keys, "\r\n",
            "evicted_keys:", ctx.server.evictor().evicted_keys(), "\r\n",
            "total_eviction_exceeded_time:", ctx.server.evictor().total_exceeded_ms(), "\r\n",
            "current_eviction_exceeded_time:", ctx.server.evictor().current_exceeded_ms(), "\r\n",
            "keyspace_hits:", ks.keyspace_hits, "\r\n", "keyspace_misses:", ks.keyspace_misses,
            "\r\n", "pubsub_channels:", ctx.server.pubsub().channel_count(false), "\r\n",
            "pubsub_patterns:", ctx.server.pubsub().pattern_count(), "\r\n",
            "pubsubshard_channels:", ctx.server.pubsub().channel_count(true), "\r\n",
            "client_output_buffer_limit_disconnections:",
            s.client_output_buffer_limit_disconnections.load(), "\r\n",
            "total_error_replies:", s.total_error_replies.load(), "\r\n");
  // sluice's own: the lock mode of scripts that touch undeclared keys
  // (docs/scripting.md).
  const ScriptEngine::LockModeStats sc = ctx.server.scripts().lock_mode_stats();
  StrAppend(&out, "sluice_script_whole_db_runs:", sc.whole_db_runs, "\r\n",
            "sluice_script_restarts:", sc.restarts, "\r\n", "sluice_script_learned:", sc.learned,
            "\r\n", "sluice_script_late_locks:", sc.late_locks, "\r\n",
            "sluice_script_late_lock_failures:", sc.late_lock_failures, "\r\n");
}

void InfoReplication(CommandContext& ctx, std::string& out) {
  StrAppend(&out, "# Replication\r\n", "role:master\r\n", "connected_slaves:0\r\n",
            "master_failover_state:no-failover\r\n", "master_replid:", ctx.server.run_id(), "\r\n",
            "master_repl_offset:0\r\n");
}

void InfoCpu(CommandContext&, std::string& out) {
  rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
             static_cast<long>(tv.tv_usec));
    return std::string(buf);
  };
  StrAppend(&out, "# CPU\r\n", "used_cpu_sys:", secs(self.ru_stime), "\r\n",
            "used_cpu_user:", secs(self.ru_utime), "\r\n",
            "used_cpu_sys_children:", secs(children.ru_stime), "\r\n",
            "used_cpu_user_children:", secs(children.ru_utime), "\r\n");
}

void InfoKeyspace(CommandContext& ctx, std::string& out) {
  StrAppend(&out, "# Keyspace\r\n");
  storage::Keyspace& ks = ctx.server.keyspace();
  for (size_t i = 0; i < ks.database_count(); ++i) {
    const size_t keys = ks.db(i).Size();
    if (keys == 0) continue;
    StrAppend(&out, "db", i, ":keys=", keys, ",expires=", ks.db(i).ExpiresCount(),
              ",avg_ttl=0\r\n");
  }
}

struct InfoSection {
  std::string_view name;
  void (*write)(CommandContext&, std::string&);
};

constexpr InfoSection kSections[] = {{"server", InfoServer}, {"clients", InfoClients},
                                     {"memory", InfoMemory}, {"persistence", InfoPersistence},
                                     {"stats", InfoStats},   {"replication", InfoReplication},
                                     {"cpu", InfoCpu},       {"keyspace", InfoKeyspace}};

void CmdInfo(CommandContext& ctx) {
  std::vector<bool> wanted(std::size(kSections), ctx.argc() == 1);
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "all") || EqualsIgnoreCase(a, "everything") ||
        EqualsIgnoreCase(a, "default")) {
      std::fill(wanted.begin(), wanted.end(), true);
      continue;
    }
    for (size_t s = 0; s < std::size(kSections); ++s) {
      if (EqualsIgnoreCase(a, kSections[s].name)) wanted[s] = true;
    }
  }
  std::string out;
  for (size_t s = 0; s < std::size(kSections); ++s) {
    if (!wanted[s]) continue;
    if (!out.empty()) out += "\r\n";
    kSections[s].write(ctx, out);
  }
  ctx.w.Verbatim("txt", out);
}

// ---- CONFIG -----------------------------------------------------------------

void CmdConfigGet(CommandContext& ctx) {
  std::vector<std::pair<std::string, std::string>> found;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    for (auto& kv : ctx.server.config().Get(ctx.arg(i))) {
      if (std::find(found.begin(), found.end(), kv) == found.end()) found.push_back(kv);
    }
  }
  ctx.w.MapHeader(found.size());
  for (const auto& [k, v] : found) {
    ctx.w.Bulk(k);
    ctx.w.Bulk(v);
  }
}

void CmdConfigSet(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.w.Error(errors::kSyntax);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    pairs.emplace_back(AsciiLower(ctx.arg(i)), std::string(ctx.arg(i + 1)));
  }
  std::string error = ctx.server.config().Set(pairs, ctx.client.local());
  if (!error.empty()) return ctx.w.Error(error);
  ctx.w.Ok();
}

void CmdConfigResetStat(CommandContext& ctx) {
  ServerStats& s = ctx.server.stats();
  s.total_connections_received = 0;
  ctx.server.ResetThreadStats();
  s.rejected_connections = 0;
  s.total_error_replies = 0;
  s.client_output_buffer_limit_disconnections = 0;
  ctx.server.keyspace().ResetStats();
  ctx.server.evictor().ResetStats();
  ctx.w.Ok();
}

void CmdConfigRewrite(CommandContext& ctx) {
  ctx.w.Error("ERR CONFIG REWRITE is not supported by sluice; edit the configuration file");
}

void CmdConfigHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern> [<pattern> ...]",
      "    Parameters matching the glob patterns and their values.",
      "SET <parameter> <value> [<parameter> <value> ...]",
      "    Change parameters at run time.",
      "RESETSTAT",
      "    Reset the counters INFO prints.",
      "HELP",
      "    Print this help."};
  WriteHelp(ctx.w, kLines);
}

// ---- misc -------------------------------------------------------------------

void CmdTime(CommandContext& ctx) {
  const int64_t us = storage::NowUs();
  ctx.w.ArrayHeader(2);
  ctx.w.Bulk(StrCat(us / 1000000));
  ctx.w.Bulk(StrCat(us % 1000000));
}

// DEBUG <subcommand>: the part of Redis's DEBUG that tools and test suites
// use, allowed as enable-debug-command says (off by default, as in Redis 7).
// Subcommands parse their own arguments, so a wrong count is answered as an
// unknown subcommand, as Redis does.
void DebugHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ERROR <string>",
      "    Return a Redis protocol error with <string> as message. Useful for clients",
      "    unit tests to simulate Redis errors.",
      "LOG <message>",
      "    Write <message> to the server log.",
      "OBJECT <key>",
      "    Show low level info about `key` and associated value.",
      "POPULATE <count> [<prefix>] [<size>]",
      "    Create <count> string keys named key:<num>. If <prefix> is specified then",
      "    it is used instead of the 'key' prefix. These are not propagated to",
      "    replicas. Cluster slots are not respected so keys not belonging to the",
      "    current node can be created in cluster mode.",
      "SLEEP <seconds>",
      "    Stop the server for <seconds>. Decimals allowed.",
      "HELP",
      "    Print this help.",
  };
  WriteHelp(ctx.w, kLines);
}

// Redis's getPositiveLongFromObjectOrReply: a non-negative integer.
std::optional<int64_t> DebugCount(CommandContext& ctx, std::string_view arg) {
  std::optional<int64_t> v = protocol::ParseInt64(arg);
  if (!v || *v < 0) {
    ctx.w.Error("ERR value is out of range, must be positive");
    return std::nullopt;
  }
  return v;
}

// POPULATE count [prefix] [size]: keys prefix:0 .. prefix:count-1 holding
// "value:N" (cut or padded with zero bytes to `size` when it is given and not
// 0); a key that exists is left as it is. Like Redis: no keyspace events, not
// counted as changes for save points.
void DebugPopulate(CommandContext& ctx) {
  std::optional<int64_t> count = DebugCount(ctx, ctx.arg(2));
  if (!count) return;
  const std::string_view prefix = ctx.argc() >= 4 ? ctx.arg(3) : std::string_view("key");
  int64_t size = 0;
  if (ctx.argc() == 5) {
    std::optional<int64_t> v = DebugCount(ctx, ctx.arg(4));
    if (!v) return;
    size = *v;
  }
  storage::Database& db = ctx.server.keyspace().db(ctx.client.db());
  const storage::SetOptions options;
  std::string key(prefix);
  key.push_back(':');
  const size_t stem = key.size();
  std::string value;
  for (int64_t i = 0; i < *count; ++i) {
    key.resize(stem);
    key.append(std::to_string(i));
    storage::Shard& shard = db.ShardFor(key);
    if (shard.Find(key, ctx.now_ms) != nullptr) continue;
    value.assign("value:");
    value.append(std::to_string(i));
    if (size > 0) value.resize(static_cast<size_t>(size), '\0');
    (void)storage::SetString(shard, key, value, options, ctx.now_ms);
  }
  ctx.w.Ok();
}

// OBJECT key: Redis's line (address, refcount, encoding, serialized length,
// LRU clock and idle seconds); the quicklist details Redis adds for lists
// are left out.
void DebugObject(CommandContext& ctx) {
  storage::Shard& shard = ctx.server.keyspace().db(ctx.client.db()).ShardFor(ctx.arg(2));
  const storage::Entry* e = shard.Find(ctx.arg(2), ctx.now_ms);
  if (e == nullptr) return ctx.w.Error("ERR no such key");
  persistence::RdbWriteOptions options;
  options.compress = ctx.server.config().Snapshot().rdbcompression;
  std::string serialized;
  persistence::AppendRdbValue(*e, options, &serialized);
  const storage::EvictionPolicy policy =
      ctx.server.keyspace().eviction().policy.load(std::memory_order_relaxed);
  const int64_t idle_s = storage::ModeOf(policy) == storage::AccessMode::kLru
                             ? storage::LruIdleMs(e->access(), ctx.now_ms) / 1000
                             : 0;
  char address[32];
  std::snprintf(address, sizeof(address), "%p", static_cast<const void*>(e));
  ctx.w.SimpleString(StrCat("Value at:", address, " refcount:1 encoding:",
                            storage::EncodingName(*e), " serializedlength:", serialized.size() - 1,
                            " lru:", static_cast<int>(e->access()), " lru_seconds_idle:", idle_s));
}

// SLEEP seconds: this command's I/O thread stops for that long (Redis stops
// whole); a text that is not a number sleeps 0, as Redis's atof. Wakes early
// when the server shuts down.
void DebugSleep(CommandContext& ctx) {
  const std::string text(ctx.arg(2));
  const double seconds = std::strtod(text.c_str(), nullptr);
  if (seconds > 0 && std::isfinite(seconds)) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(std::min(seconds, 1e9)));
    while (!ctx.server.stopping() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(10), until - std::chrono::steady_clock::now()));
    }
  }
  ctx.w.Ok();
}

void CmdDebug(CommandContext& ctx) {
  const Config::Protected allow = ctx.server.config().Snapshot().enable_debug_command;
  if (allow == Config::Protected::kNo ||
      (allow == Config::Protected::kLocal && !ctx.client.local())) {
    return ctx.w.Error(
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
        "you can run it from a local connection, otherwise you need to set this option in the "
        "configuration file, and then restart the server.");
  }
  const std::string_view sub = ctx.arg(1);
  const size_t n = ctx.argc();
  if (EqualsIgnoreCase(sub, "help") && n == 2) return DebugHelp(ctx);
  if (EqualsIgnoreCase(sub, "populate") && n >= 3 && n <= 5) return DebugPopulate(ctx);
  if (EqualsIgnoreCase(sub, "object") && n == 3) return DebugObject(ctx);
  if (EqualsIgnoreCase(sub, "sleep") && n == 3) return DebugSleep(ctx);
  if (EqualsIgnoreCase(sub, "error") && n == 3) {
    // The caller's text as the error, on one line.
    std::string text(ctx.arg(2));
    std::replace(text.begin(), text.end(), '\r', ' ');
    std::replace(text.begin(), text.end(), '\n', ' ');
    return ctx.w.Error(text);
  }
  if (EqualsIgnoreCase(sub, "log") && n == 3) {
    ctx.server.Log(LogLevel::kWarning, StrCat("DEBUG LOG: ", ctx.arg(2)));
    return ctx.w.Ok();
  }
  ctx.w.Error(StrCat("ERR unknown subcommand or wrong number of arguments for '", sub,
                     "'. Try DEBUG HELP."));
}

// POPULATE writes across the selected database; OBJECT reads its key; the
// rest touch no shard (SLEEP holds no lock while it sleeps).
void PlanDebug(const protocol::CommandArgs& args, LockPlan& plan) {
  if (args.size() < 2) return;
  if (EqualsIgnoreCase(args[1], "populate")) {
    plan.AddDb(plan.db);
  } else if (EqualsIgnoreCase(args[1], "object") && args.size() == 3) {
    plan.AddKey(plan.db, args[2]);
  }
}

void CmdLastSave(CommandContext& ctx) { ctx.w.Integer(ctx.server.snapshots().last_save_s()); }

// ---- snapshots --------------------------------------------------------------

void CmdSave(CommandContext& ctx) {
  std::string error;
  if (!ctx.server.snapshots().SaveNow(&error)) return ctx.w.Error(error);
  ctx.w.Ok();
}

void CmdBgSave(CommandContext& ctx) {
  // SCHEDULE waits for another kind of background job (Redis: an AOF
  // rewrite); sluice has none, so it starts now or fails as plain BGSAVE.
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !EqualsIgnoreCase(ctx.arg(1), "SCHEDULE"))) {
    return ctx.w.Error(errors::kSyntax);
  }
  // Inside EXEC (the only way a queued BGSAVE runs) the save waits for the
  // transaction, whose later commands are then in it too (Redis schedules
  // it for after EXEC the same way).
  if (ctx.client.transaction().in_multi()) {
    if (!ctx.server.snapshots().ScheduleBackground()) {
      return ctx.w.Error("ERR Background save already in progress");
    }
    return ctx.w.SimpleString("Background saving scheduled");
  }
  if (!ctx.server.snapshots().StartBackground(/*shards_locked=*/true)) {
    return ctx.w.Error("ERR Background save already in progress");
  }
  ctx.w.SimpleString("Background saving started");
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. NOW has nothing to skip
// (no replicas to wait for); ABORT has no shutdown to abort.
void CmdShutdown(CommandContext& ctx) {
  bool nosave = false, save = false, force = false, abort = false;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "NOSAVE")) {
      nosave = true;
    } else if (EqualsIgnoreCase(a, "SAVE")) {
      save = true;
    } else if (EqualsIgnoreCase(a, "NOW")) {
    } else if (EqualsIgnoreCase(a, "FORCE")) {
      force = true;
    } else if (EqualsIgnoreCase(a, "ABORT")) {
      abort = true;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  if ((nosave && save) || (abort && ctx.argc() != 2)) return ctx.w.Error(errors::kSyntax);
  if (abort) return ctx.w.Error("ERR No shutdown in progress.");
  Snapshots& snapshots = ctx.server.snapshots();
  // Never while the start-up load runs (the data is partial), as Redis.
  const bool saving =
      !ctx.server.loading() && (save || (!nosave && snapshots.HasSavePoints()));
  // Saving needs every shard; a busy script holds some (Redis: only
  // SHUTDOWN NOSAVE is served while a script is busy).
  if (saving && ctx.server.scripts().BusyPastThreshold(ctx.now_ms)) {
    return ctx.w.Error(ctx.server.scripts().BusyError(ctx.now_ms));
  }
  ctx.server.Log(LogLevel::kWarning, "User requested shutdown...");
  if (!snapshots.SaveForShutdown(saving, force)) {
    return ctx.w.Error("ERR Errors trying to SHUTDOWN. Check logs.");
  }
  ctx.server.Shutdown();
}

constexpr FamilyRows Row("server");

}  // namespace

void RegisterServerFamily(CommandTable& t) {
  constexpr uint32_t kInfoFlags = kLoading | kStale;  // INFO locks shards (keyspace section)
  constexpr uint32_t kCommandFlags = kInfoFlags;
  CommandSpec& command =
      t.Add(Row("command", -1, kCommandFlags, CmdCommand, "Describe the server's commands.",
                "2.8.13", "O(N) where N is the total number of commands", "@slow @connection"));
  t.AddSubcommand(command, Row("count", 2, kCommandFlags, CmdCommandCount, "Number of commands.",
                               "2.8.13", "O(1)", "@slow @connection"));
  t.AddSubcommand(
      command,
      Row("info", -2, kCommandFlags, CmdCommandInfo, "Describe the named commands.", "2.8.13",
          "O(N) where N is the number of commands to look up", "@slow @connection"));
  t.AddSubcommand(
      command,
      Row("docs", -2, kCommandFlags, CmdCommandDocs, "Documentation of the named commands.",
          "7.0.0", "O(N) where N is the number of commands to look up", "@slow @connection"));
  t.AddSubcommand(command,
                  Row("list", -2, kCommandFlags, CmdCommandList, "List command names.", "7.0.0",
                      "O(N) where N is the total number of commands", "@slow @connection"));
  t.AddSubcommand(
      command, Row("getkeys", -3, kCommandFlags, CmdCommandGetKeys,
                   "Extract the key names of a full command.", "2.8.13",
                   "O(N) where N is the number of arguments to the command", "@slow @connection"));
  t.AddSubcommand(command,
                  Row("help", 2, kCommandFlags, CmdCommandHelp, "Show the COMMAND subcommands.",
                      "5.0.0", "O(1)", "@slow @connection"));
  // "command" with subcommands is dispatched by subcommand; plain COMMAND is
  // arity 1 and handled here because the container row keeps its handler.
  t.Add(Row("info", -1, kInfoFlags, CmdInfo, "Information and statistics about the server.",
            "1.0.0", "O(1)", "@slow @dangerous"));
  CommandSpec& config = t.Add(Row("config", -2, 0, nullptr, "Read and change configuration.",
                                  "2.0.0", "Depends on subcommand.", "@slow"));
  constexpr uint32_t kCfg = kAdmin | kNoScript | kLoading | kStale;
  t.AddSubcommand(
      config, Row("get", -3, kCfg, CmdConfigGet, "Values of the parameters matching glob patterns.",
                  "2.0.0", "O(N) when N is the number of configuration parameters provided",
                  "@admin @slow @dangerous"));
  t.AddSubcommand(
      config, Row("set", -4, kCfg, CmdConfigSet, "Change parameters at run time.", "2.0.0",
                  "O(N) when N is the number of parameters provided", "@admin @slow @dangerous"));
  t.AddSubcommand(config,
                  Row("resetstat", 2, kCfg, CmdConfigResetStat, "Reset the counters INFO prints.",
                      "2.0.0", "O(1)", "@admin @slow @dangerous"));
  t.AddSubcommand(config, Row("rewrite", 2, kCfg, CmdConfigRewrite,
                              "Write the running configuration to the file (unsupported).", "2.8.0",
                              "O(1)", "@admin @slow @dangerous"));
  t.AddSubcommand(config, Row("help", 2, kLoading | kStale, CmdConfigHelp,
                              "Show the CONFIG subcommands.", "5.0.0", "O(1)", "@slow"));
  t.Add(Row("time", 1, kLoading | kStale | kFast, CmdTime, "The server's clock.", "2.6.0", "O(1)",
            "@fast"));
  t.Add(Row("debug", -2, kAdmin | kNoScript, CmdDebug,
            "A container for debugging commands (off unless enable-debug-command allows).",
            "1.0.0", "Depends on subcommand.", "@admin @slow @dangerous"))
      .keys = PlanDebug;
  t.Add(Row("lastsave", 1, kLoading | kStale | kFast, CmdLastSave,
            "Unix time of the last successful save (the start time before any).", "1.0.0",
            "O(1)", "@admin @fast @dangerous"));
  t.Add(Row("save", 1, kAdmin | kNoScript | kNoMulti, CmdSave,
            "Write a snapshot of the dataset to disk, waiting for it.", "1.0.0",
            "O(N) where N is the total number of keys in all databases",
            "@admin @slow @dangerous"));
  // Every shard locked for the snapshot's instant (then the save runs on
  // its own thread, without them).
  t.Add(Row("bgsave", -1, kAdmin | kNoScript | kAllDbs, CmdBgSave,
            "Write a snapshot of the dataset to disk in the background.", "1.0.0",
            "O(1)", "@admin @slow @dangerous"));
  t.Add(Row("shutdown", -1, kAdmin | kNoScript | kLoading | kStale | kNoMulti | kAllowBusy,
            CmdShutdown, "Stop the server.", "1.0.0", "O(N) when saving",
            "@admin @slow @dangerous"));
}

}  // namespace sluice::server
