#include "server/dispatch/dispatch.h"

#include <string_view>
#include <vector>

#include "protocol/errors.h"

namespace sluice::server {

const CommandSpec* ResolveCommand(const CommandTable& table, const protocol::CommandArgs& args,
                                  protocol::ReplyWriter& w) {
  const CommandSpec* spec = table.Find(args[0]);
  if (spec == nullptr) {
    std::vector<std::string_view> rest;
    for (size_t i = 1; i < args.size(); ++i) rest.push_back(args[i]);
    w.Error(protocol::errors::UnknownCommand(args[0], rest.data(), rest.size()));
    return nullptr;
  }
  if (!spec->CheckArity(args.size())) {
    w.Error(protocol::errors::WrongArity(spec->name));
    return nullptr;
  }
  if (spec->subcommands.empty() || (args.size() < 2 && spec->handler != nullptr)) return spec;
  const CommandSpec* sub = spec->FindSubcommand(args[1]);
  if (sub == nullptr) {
    w.Error(protocol::errors::UnknownSubcommand(spec->name, args[1]));
    return nullptr;
  }
  if (!sub->CheckArity(args.size())) {
    w.Error(protocol::errors::WrongArity(sub->name));
    return nullptr;
  }
  return sub;
}

}  // namespace sluice::server
