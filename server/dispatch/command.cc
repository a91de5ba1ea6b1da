#include "server/dispatch/command.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>

#include "server/blocking/blocking_registry.h"
#include "server/net/client_state.h"
#include "server/process/server.h"

namespace sluice::server {
namespace {

// Lower-cases a command name into a small stack buffer; names longer than the
// buffer are never valid commands.
bool Lower(std::string_view in, char* buf, size_t cap, std::string_view* out) {
  if (in.size() > cap) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;  // ASCII only, as Redis
  }
  *out = std::string_view(buf, in.size());
  return true;
}

}  // namespace

bool CommandContext::WantsKeyChange(uint32_t type) const { return server.WantsKeyChange(type); }

void CommandContext::KeyChanged(int db, uint32_t type, const char* event, std::string_view key) {
  ++dirty;
  if (!WantsKeyChange(type)) return;
  changes.push_back(KeyChange{db, type, event, std::string(key)});
}

bool CommandContext::Block(std::span<const std::string_view> keys, int64_t deadline_ms) {
  if (blocker == nullptr) return false;
  if (!client.blocked()) {
    server.blocking().Block(blocker, client.db(), keys, deadline_ms != 0);
    client.set_blocked(true);
    client.set_block_deadline_ms(deadline_ms);
  }
  client.set_wants_block(true);
  return true;
}

bool CommandContext::Retrying() const { return blocker != nullptr && client.blocked(); }

void CommandContext::KeyChanged(uint32_t type, const char* event, std::string_view key) {
  KeyChanged(client.db(), type, event, key);
}

const CommandSpec* CommandSpec::FindSubcommand(std::string_view sub) const {
  char buf[64];
  std::string_view lower;
  if (!Lower(sub, buf, sizeof(buf), &lower)) return nullptr;
  std::string full = name + "|" + std::string(lower);
  for (const auto& s : subcommands) {
    if (s->name == full) return s.get();
  }
  return nullptr;
}

CommandSpec& CommandTable::Add(CommandSpec spec) {
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  CommandSpec& ref = *owned;
  commands_[ref.name] = std::move(owned);
  return ref;
}

CommandSpec& CommandTable::AddSubcommand(CommandSpec& parent, CommandSpec sub) {
  sub.name = parent.name + "|" + sub.name;
  parent.subcommands.push_back(std::make_unique<CommandSpec>(std::move(sub)));
  return *parent.subcommands.back();
}

CommandTable::CommandTable() {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id.fetch_add(1, std::memory_order_relaxed);
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  // The last name this thread found, as the client spelled it: a pipeline
  // mostly repeats one command, and this skips lower-casing and hashing it.
  // (The table does not change once built.)
  struct Last {
    uint64_t table = 0;
    const CommandSpec* spec = nullptr;
    uint8_t size = 0;
    char name[23];
  };
  thread_local Last last;
  if (last.table == id_ && name.size() == last.size &&
      std::memcmp(name.data(), last.name, name.size()) == 0) {
    return last.spec;
  }
  char buf[64];
  std::string_view lower;
  if (!Lower(name, buf, sizeof(buf), &lower)) return nullptr;
  auto it = commands_.find(absl::string_view(lower.data(), lower.size()));
  if (it == commands_.end()) return nullptr;
  if (name.size() <= sizeof(last.name)) {
    last.table = id_;
    last.spec = it->second.get();
    last.size = static_cast<uint8_t>(name.size());
    std::memcpy(last.name, name.data(), name.size());
  }
  return it->second.get();
}

std::unique_ptr<CommandTable> BuildCommandTable() {
  auto table = std::make_unique<CommandTable>();
  RegisterStringFamily(*table);
  RegisterHashFamily(*table);
  RegisterSetFamily(*table);
  RegisterZSetFamily(*table);
  RegisterListFamily(*table);
  RegisterStreamFamily(*table);
  RegisterKeyFamily(*table);
  RegisterSortFamily(*table);
  RegisterConnectionFamily(*table);
  RegisterServerFamily(*table);
  RegisterPubSubFamily(*table);
  RegisterRateLimitFamily(*table);
  RegisterScriptFamily(*table);
  RegisterTransactionFamily(*table);
  return table;
}

}  // namespace sluice::server
