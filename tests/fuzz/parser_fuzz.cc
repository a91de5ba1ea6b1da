// libFuzzer target for protocol::Parser. The first bytes of the input choose
// the limits, the authentication state and a seed for the fragment sizes; the
// rest is fed to one parser whole and to another in fragments, and both must
// agree. Invariants: no crash, consumed <= size, kNeedMore consumes all,
// kCommand never carries an empty command, and fragmentation never changes
// the outcome.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parser.h"

namespace {

using sluice::protocol::CommandArgs;
using sluice::protocol::ParserLimits;
using sluice::protocol::ParseStatus;

struct Outcome {
  std::vector<std::string> commands;  // Each command's arguments, joined.
  std::string error;
  bool failed = false;
};

void Check(bool condition) {
  if (!condition) std::abort();
}

// A tiny deterministic generator for fragment sizes.
class Fragments {
 public:
  explicit Fragments(uint64_t seed) : state_(seed | 1) {}
  size_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    // Mostly tiny fragments, sometimes large ones.
    return (state_ & 7) == 0 ? 1 + (state_ >> 8) % 4096 : 1 + (state_ >> 8) % 16;
  }

 private:
  uint64_t state_;
};

std::string Join(const CommandArgs& args) {
  std::string joined;
  for (size_t i = 0; i < args.size(); ++i) {
    joined += std::to_string(args[i].size());
    joined += ':';
    joined.append(args[i].data(), args[i].size());
  }
  return joined;
}

Outcome Run(std::string_view input, const ParserLimits& limits, bool authenticated,
            Fragments* fragments) {
  sluice::protocol::Parser parser(limits);
  parser.set_authenticated(authenticated);
  CommandArgs args;
  Outcome outcome;
  size_t offset = 0;
  while (offset < input.size()) {
    const size_t n = fragments == nullptr ? input.size() : fragments->Next();
    std::string_view piece = input.substr(offset, n);
    offset += piece.size();
    while (true) {
      size_t consumed = 0;
      const ParseStatus status = parser.Feed(piece, &consumed, &args);
      Check(consumed <= piece.size());
      if (status == ParseStatus::kError) {
        Check(!parser.error().empty());
        outcome.failed = true;
        outcome.error = parser.error();
        return outcome;
      }
      if (status == ParseStatus::kNeedMore) {
        Check(consumed == piece.size());
        break;
      }
      Check(!args.empty());
      // A multibulk command is bounded by the count and bulk limits, an
      // inline one by the line limit.
      const size_t max_args = std::max<size_t>(limits.max_multibulk_len, limits.max_inline_len);
      const size_t max_arg = std::max<size_t>(limits.max_bulk_len, limits.max_inline_len);
      Check(args.size() <= max_args);
      for (size_t i = 0; i < args.size(); ++i) Check(args[i].size() <= max_arg);
      outcome.commands.push_back(Join(args));
      piece.remove_prefix(consumed);
      if (piece.empty()) break;
    }
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const uint8_t mode = data[0];
  uint64_t seed = 0;
  for (int i = 1; i < 9; ++i) seed = (seed << 8) | data[i];
  const std::string_view input(reinterpret_cast<const char*>(data) + 9, size - 9);

  ParserLimits limits;
  limits.max_bulk_len = 64 + (mode & 3) * 1000;
  limits.max_multibulk_len = 16 + ((mode >> 2) & 3) * 100;
  limits.max_inline_len = 32 + ((mode >> 4) & 3) * 200;
  limits.unauth_max_multibulk_len = 4;
  limits.unauth_max_bulk_len = 32;
  const bool authenticated = (mode & 0x40) == 0;

  const Outcome whole = Run(input, limits, authenticated, nullptr);
  Fragments fragments(seed);
  const Outcome split = Run(input, limits, authenticated, &fragments);
  Check(whole.commands == split.commands);
  Check(whole.failed == split.failed);
  Check(whole.error == split.error);
  return 0;
}
