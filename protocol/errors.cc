#include "protocol/errors.h"

#include <algorithm>

namespace sluice::protocol::errors {
namespace {

// Redis quotes at most this many bytes of a command name, and of the
// arguments together, in an unknown-command error.
constexpr size_t kMaxQuoted = 128;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t nargs) {
  std::string quoted;
  for (size_t i = 0; i < nargs && quoted.size() < kMaxQuoted; ++i) {
    quoted += '\'';
    quoted += UserText(args[i]).substr(0, kMaxQuoted - quoted.size() + 1);
    quoted += "' ";
  }
  std::string out = "ERR unknown command '";
  out += UserText(name).substr(0, kMaxQuoted);
  out += "', with args beginning with: ";
  out += quoted;
  return out;
}

std::string UnknownSubcommand(std::string_view command, std::string_view sub) {
  std::string out = "ERR unknown subcommand '";
  out += UserText(sub).substr(0, kMaxQuoted);
  out += "'. Try ";
  out += Upper(command);
  out += " HELP.";
  return out;
}

std::string WrongArity(std::string_view name) {
  return "ERR wrong number of arguments for '" + Lower(name) + "' command";
}

std::string InvalidExpire(std::string_view command) {
  return "ERR invalid expire time in '" + Lower(command) + "' command";
}

}  // namespace sluice::protocol::errors
