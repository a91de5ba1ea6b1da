#include "server/dispatch/script_scopes.h"

#include <mutex>

namespace sluice::server {

ScriptScopes::Scope ScriptScopes::GetSlow(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = scopes_.find(absl::string_view(id.data(), id.size()));
  return it == scopes_.end() ? Scope::kKeys : it->second;
}

bool ScriptScopes::Widen(std::string_view id, Scope scope) {
  if (scope == Scope::kKeys) return false;
  std::lock_guard lock(mu_);
  auto [it, inserted] = scopes_.try_emplace(std::string(id), scope);
  count_.store(scopes_.size(), std::memory_order_relaxed);
  if (inserted) return true;
  if (it->second >= scope) return false;
  it->second = scope;
  return true;
}

void ScriptScopes::Clear() {
  std::lock_guard lock(mu_);
  scopes_.clear();
  count_.store(0, std::memory_order_relaxed);
}

}  // namespace sluice::server
