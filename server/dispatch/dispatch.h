#pragma once
// Command resolution shared by every caller that runs commands from argument
// vectors: the connection loop, MULTI's queue and EXEC, and scripts.
//
// Stateless and thread-safe (the command table is read-only after start-up).

#include "protocol/parser.h"
#include "protocol/reply_writer.h"
#include "server/dispatch/command.h"

namespace sluice::server {

// Finds the row that runs `args`: looks the name up case-insensitively,
// checks its arity, and for a container command (CLIENT, CONFIG, ...) resolves
// the subcommand and checks that row's arity too. On failure writes Redis's
// error (unknown command, unknown subcommand, wrong number of arguments) to
// `w` and returns nullptr.
// REQUIRES: !args.empty().
const CommandSpec* ResolveCommand(const CommandTable& table, const protocol::CommandArgs& args,
                                  protocol::ReplyWriter& w);

}  // namespace sluice::server
