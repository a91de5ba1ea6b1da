#include "server/scripting/functions.h"

#include <utility>

#include "common/strings.h"

namespace sluice::server {

std::string FunctionLibraries::CollisionLocked(const Library& lib, std::string_view except) const {
  for (const FunctionInfo& f : lib.functions) {
    auto it = functions_.find(AsciiLower(f.name));
    if (it != functions_.end() && it->second->name != except) {
      return StrCat("ERR Function ", f.name, " already exists");
    }
  }
  return "";
}

uint64_t FunctionLibraries::AddLocked(Library lib) {
  const uint64_t id = next_id_++;
  lib.id = id;
  auto ptr = std::make_shared<const Library>(std::move(lib));
  for (const FunctionInfo& f : ptr->functions) functions_[AsciiLower(f.name)] = ptr;
  libraries_[ptr->name] = std::move(ptr);
  return id;
}

void FunctionLibraries::RemoveLocked(const std::string& name) {
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return;
  for (const FunctionInfo& f : it->second->functions) functions_.erase(AsciiLower(f.name));
  libraries_.erase(it);
}

std::string FunctionLibraries::Load(Library lib, bool replace, uint64_t* id) {
  std::lock_guard lock(mu_);
  const bool exists = libraries_.contains(lib.name);
  if (exists && !replace) return StrCat("ERR Library '", lib.name, "' already exists");
  std::string error = CollisionLocked(lib, exists ? std::string_view(lib.name) : "");
  if (!error.empty()) return error;
  if (exists) RemoveLocked(lib.name);
  *id = AddLocked(std::move(lib));
  ChangedLocked();
  return "";
}

std::string FunctionLibraries::Restore(std::vector<Library> libs, RestorePolicy policy) {
  std::lock_guard lock(mu_);
  if (policy == RestorePolicy::kFlush) {
    libraries_.clear();
    functions_.clear();
  } else {
    // Check everything before changing anything: all or none.
    for (const Library& lib : libs) {
      const bool exists = libraries_.contains(lib.name);
      if (exists && policy == RestorePolicy::kAppend) {
        return StrCat("ERR Library ", lib.name, " already exists");
      }
    }
    for (const Library& lib : libs) {
      // Under REPLACE a function may move from a replaced library; it may
      // not take one from a library that stays.
      for (const FunctionInfo& f : lib.functions) {
        auto it = functions_.find(AsciiLower(f.name));
        if (it == functions_.end()) continue;
        bool replaced = false;
        if (policy == RestorePolicy::kReplace) {
          for (const Library& other : libs) replaced |= other.name == it->second->name;
        }
        if (!replaced) return StrCat("ERR Function ", f.name, " already exists");
      }
    }
    for (const Library& lib : libs) RemoveLocked(lib.name);
  }
  for (Library& lib : libs) AddLocked(std::move(lib));
  ChangedLocked();
  return "";
}

bool FunctionLibraries::Delete(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return false;
  RemoveLocked(it->first);
  ChangedLocked();
  return true;
}

void FunctionLibraries::Flush() {
  std::lock_guard lock(mu_);
  libraries_.clear();
  functions_.clear();
  ChangedLocked();
}

FunctionLibraries::LibraryPtr FunctionLibraries::FindFunction(std::string_view name,
                                                              size_t* index) const {
  const std::string key = AsciiLower(name);
  std::lock_guard lock(mu_);
  auto it = functions_.find(key);
  if (it == functions_.end()) return nullptr;
  const std::vector<FunctionInfo>& fns = it->second->functions;
  for (size_t i = 0; i < fns.size(); ++i) {
    if (AsciiLower(fns[i].name) == key) {
      *index = i;
      return it->second;
    }
  }
  return nullptr;
}

std::vector<FunctionLibraries::LibraryPtr> FunctionLibraries::All() const {
  std::lock_guard lock(mu_);
  std::vector<LibraryPtr> out;
  out.reserve(libraries_.size());
  for (const auto& [name, lib] : libraries_) out.push_back(lib);
  return out;
}

bool FunctionLibraries::HasLibrary(std::string_view name) const {
  std::lock_guard lock(mu_);
  return libraries_.find(name) != libraries_.end();
}

size_t FunctionLibraries::library_count() const {
  std::lock_guard lock(mu_);
  return libraries_.size();
}

size_t FunctionLibraries::function_count() const {
  std::lock_guard lock(mu_);
  return functions_.size();
}

size_t FunctionLibraries::memory_bytes() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [name, lib] : libraries_) {
    n += sizeof(Library) + lib->name.size() + lib->code.size();
    for (const FunctionInfo& f : lib->functions) {
      n += sizeof(FunctionInfo) + f.name.size() + (f.description ? f.description->size() : 0);
    }
  }
  return n;
}

}  // namespace sluice::server
