#pragma once
// The catalogue of Redis error texts that clients match on. Every reply error
// sluice sends comes from here or is built by one of the functions below, so
// the exact wording lives in one place.

#include <string>
#include <string_view>

namespace sluice::protocol::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kHashNotInteger = "ERR hash value is not an integer";
inline constexpr std::string_view kHashNotFloat = "ERR hash value is not a float";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kIncrFloatNaN = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kInvalidExpire = "ERR invalid expire time in '%s' command";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kSameObject = "ERR source and destination objects are the same";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kLoading = "LOADING Redis is loading the dataset in memory";
inline constexpr std::string_view kOom =
    "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kBusyScript =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
// The same while the busy script is a function (FCALL).
inline constexpr std::string_view kBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kAuthNotConfigured =
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?";
inline constexpr std::string_view kNoProto = "NOPROTO unsupported protocol version";
inline constexpr std::string_view kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kOffsetOutOfRange = "ERR offset is out of range";
inline constexpr std::string_view kNegativeCount = "ERR value is out of range, must be positive";
inline constexpr std::string_view kMaxClients = "ERR max number of clients reached";
// Writes after a failed background save (stop-writes-on-bgsave-error).
inline constexpr std::string_view kMisconf =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";

// A client's argument as Redis's error messages show it: up to its first NUL
// byte (Redis formats them as C strings). Use it wherever an error quotes input.
inline std::string_view UserText(std::string_view arg) { return arg.substr(0, arg.find('\0')); }

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ", where
// `args` are the arguments after the name. As in Redis, the name is cut to 128
// bytes and the quoted arguments stop once they reach 128 bytes together.
std::string UnknownCommand(std::string_view name, const std::string_view* args, size_t nargs);
// "ERR unknown subcommand 'foo'. Try CONFIG HELP." (`sub` cut to 128 bytes,
// `command` upper-cased).
std::string UnknownSubcommand(std::string_view command, std::string_view sub);
// "ERR wrong number of arguments for 'get' command" (name lower-cased, as given
// for subcommands: "config|get").
std::string WrongArity(std::string_view name);
// "ERR invalid expire time in 'set' command" (name lower-cased).
std::string InvalidExpire(std::string_view command);

}  // namespace sluice::protocol::errors
