#pragma once
// The function libraries of FUNCTION LOAD / RESTORE, server-wide.
//
// A library is its name, its code (the text FUNCTION LOAD was given, shebang
// included) and the functions it registered, each with its flags and
// description. Libraries are immutable once registered: a change (LOAD,
// REPLACE, DELETE, FLUSH, RESTORE) swaps whole libraries under the mutex and
// bumps the generation, so a reader holding a `std::shared_ptr<const
// Library>` keeps a consistent view. Each library gets an id that is never
// reused: an I/O thread's Lua state loads a library's code the first time it
// calls one of its functions and keeps it under that id, and drops what is no
// longer registered when it sees the generation move (scripting.cc).
//
// Library names are case-sensitive; function names are unique across all
// libraries, ignoring case (FCALL's lookup ignores case, as in Redis).
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::server {

// A function's flags (register_function's `flags`), in the order FUNCTION
// LIST shows them.
enum FunctionFlag : uint32_t {
  kFunctionNoWrites = 1u << 0,
  kFunctionAllowOom = 1u << 1,
  kFunctionAllowStale = 1u << 2,
  kFunctionNoCluster = 1u << 3,
  kFunctionAllowCrossSlotKeys = 1u << 4,
};
struct FunctionFlagName {
  FunctionFlag flag;
  std::string_view name;
};
inline constexpr FunctionFlagName kFunctionFlagNames[] = {
    {kFunctionNoWrites, "no-writes"},
    {kFunctionAllowOom, "allow-oom"},
    {kFunctionAllowStale, "allow-stale"},
    {kFunctionNoCluster, "no-cluster"},
    {kFunctionAllowCrossSlotKeys, "allow-cross-slot-keys"},
};

struct FunctionInfo {
  std::string name;
  std::optional<std::string> description;
  uint32_t flags = 0;
};

struct Library {
  uint64_t id = 0;  // set when registered
  std::string name;
  std::string code;
  std::vector<FunctionInfo> functions;
};

// How FUNCTION RESTORE merges a payload's libraries with the current ones.
enum class RestorePolicy { kAppend, kReplace, kFlush };

class FunctionLibraries {
 public:
  using LibraryPtr = std::shared_ptr<const Library>;

  // FUNCTION LOAD: registers `lib`; with `replace` a library of the same name
  // is replaced. Returns the error reply ("" on success); `*id` receives the
  // registered library's id.
  std::string Load(Library lib, bool replace, uint64_t* id);
  // FUNCTION RESTORE: registers every library of `libs` by `policy`, all or
  // none. `libs` must not repeat a library or function name (the caller
  // checked). Returns the error reply ("" on success).
  std::string Restore(std::vector<Library> libs, RestorePolicy policy);
  // FUNCTION DELETE: false when there is no such library.
  bool Delete(std::string_view name);
  // FUNCTION FLUSH.
  void Flush();

  // The library holding function `name` (any case) and the function's index
  // in it; nullptr when unknown.
  LibraryPtr FindFunction(std::string_view name, size_t* index) const;
  // Every library, by name.
  std::vector<LibraryPtr> All() const;
  bool HasLibrary(std::string_view name) const;

  // Changes with every registration change (readable without the lock).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  size_t library_count() const;
  size_t function_count() const;
  // The bytes of code and names held (INFO's used_memory_functions).
  size_t memory_bytes() const;

 private:
  // REQUIRES: mu_ held. The error for `lib`'s functions colliding with a
  // registered library other than `except` ("" when none collides).
  std::string CollisionLocked(const Library& lib, std::string_view except) const;
  uint64_t AddLocked(Library lib);  // returns its id
  void RemoveLocked(const std::string& name);
  void ChangedLocked() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  mutable std::mutex mu_;
  std::map<std::string, LibraryPtr, std::less<>> libraries_;
  // Lower-cased function name -> the library holding it.
  absl::flat_hash_map<std::string, LibraryPtr> functions_;
  uint64_t next_id_ = 1;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace sluice::server
