#pragma once
// The encoding name Redis gives a value (OBJECT ENCODING, DEBUG OBJECT):
// int, embstr, raw, listpack, quicklist, intset, hashtable, skiplist, stream.

#include <string_view>

#include "storage/entry.h"

namespace sluice::storage {

std::string_view EncodingName(const Entry& entry);

}  // namespace sluice::storage
