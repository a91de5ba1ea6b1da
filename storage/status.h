#pragma once
// Results of storage operations. Storage knows no RESP: the server maps each
// Status to Redis's error text (protocol/errors.h) in one place.

#include <cstdint>
#include <utility>

namespace sluice::storage {

enum class Status : uint8_t {
  kOk,
  kNotFound,
  kWrongType,    // key holds a value of another type
  kNotInteger,   // stored value is not an integer (INCR on "abc")
  kNotFloat,     // stored value is not a float (INCRBYFLOAT on "abc")
  kOverflow,     // integer increment would overflow
  kNanOrInf,     // float increment would produce NaN or Infinity
  kTooLarge,     // result would exceed the 512 MB string limit
  kExists,       // condition (NX) not met because the key exists
  kHashValueNotInteger,  // HINCRBY on a field that is not an integer
  kHashValueNotFloat,    // HINCRBYFLOAT on a field that is not a float
};

template <typename T>
struct [[nodiscard]] Result {
  Status status = Status::kOk;
  T value{};
  bool ok() const { return status == Status::kOk; }
};

}  // namespace sluice::storage
