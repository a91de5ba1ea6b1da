#include "protocol/arg_reader.h"

#include "protocol/errors.h"

namespace sluice::protocol {

std::string_view ArgReader::Next() {
  if (pos_ >= args_.size()) {
    Fail(errors::kSyntax);
    return {};
  }
  return args_[pos_++];
}

bool ArgReader::NextIs(std::string_view word) {
  if (!HasNext() || !EqualsIgnoreCase(args_[pos_], word)) return false;
  ++pos_;
  return true;
}

int64_t ArgReader::NextInt(std::string_view error) {
  if (pos_ >= args_.size()) {
    Fail(errors::kSyntax);
    return 0;
  }
  const std::optional<int64_t> value = ParseInt64(args_[pos_++]);
  if (!value) {
    Fail(error.empty() ? errors::kNotInteger : error);
    return 0;
  }
  return *value;
}

double ArgReader::NextDouble(std::string_view error) {
  if (pos_ >= args_.size()) {
    Fail(errors::kSyntax);
    return 0;
  }
  const std::optional<double> value = ParseDouble(args_[pos_++]);
  if (!value) {
    Fail(error.empty() ? errors::kNotFloat : error);
    return 0;
  }
  return *value;
}

void ArgReader::Fail(std::string_view message) {
  if (!error_.empty()) return;
  // An empty message would read as success; record a syntax error instead.
  if (message.empty()) message = errors::kSyntax;
  error_.assign(message.data(), message.size());
}

}  // namespace sluice::protocol
