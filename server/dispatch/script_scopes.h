#pragma once
// Which scripts need more than their declared keys' shards.
//
// A script holds the shards of its declared keys. One that touches a key it
// did not declare, below a shard it already holds in the global lock order
// (or runs a whole-database command such as KEYS after touching keys), cannot
// lock it in order. The first time a script does that, the engine records
// here that it needs its whole database (or, when it had switched databases,
// every database), and the script's row planner (EVAL/EVALSHA: by the SHA-1 of
// its body; any other script runner: by its own identity string) asks here
// before each later run, so those runs take every shard of the scope up
// front. Scripts never recorded keep their narrow locks and pay one relaxed
// atomic load for the check.
//
// Thread-safe: every member may be called from any thread at any time.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace sluice::server {

class ScriptScopes {
 public:
  // Ordered: a scope only ever widens.
  enum class Scope : uint8_t {
    kKeys,     // the declared keys, plus undeclared ones that come in order
    kWholeDb,  // every shard of the database the script starts in
    kAllDbs,   // every shard of every database
  };

  // The scope recorded for `id`; kKeys when none (one relaxed load while
  // nothing is recorded).
  Scope Get(std::string_view id) const {
    if (count_.load(std::memory_order_relaxed) == 0) return Scope::kKeys;
    return GetSlow(id);
  }
  // Records that `id` needs at least `scope`; true when that widened it.
  bool Widen(std::string_view id, Scope scope);
  // Forgets every record (SCRIPT FLUSH).
  void Clear();
  // How many scripts have a recorded scope.
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  Scope GetSlow(std::string_view id) const;

  // Shared for lookups (every script run while some script has learned),
  // exclusive for the rare changes.
  mutable std::shared_mutex mu_;
  absl::flat_hash_map<std::string, Scope> scopes_;  // guarded by mu_
  std::atomic<size_t> count_{0};                    // scopes_.size()
};

}  // namespace sluice::server
