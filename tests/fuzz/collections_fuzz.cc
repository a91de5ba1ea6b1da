// libFuzzer target for the packed and large collection encodings: the input
// is a program of operations, run at once on one container and on a simple
// model (std::vector, std::set, std::map), which must agree after every
// step. The first byte picks the container:
//   PackedList (small hashes, sets and sorted sets): inserts of strings,
//     integers and doubles anywhere, replaces, erases of runs, Find with a
//     stride, and walks in both directions;
//   IntSet: inserts and erases, ordered reads, width growth;
//   StrSet / StrMap (large sets and hashes): inserts, erases, lookups, scans
//     that must visit every member;
//   ZSet (large sorted sets): inserts and moves, erases, rank, seeks by
//     rank, score and lex, walks both ways, runs of increasing scores;
//   QuickList (large lists): pushes and pops at both ends, replaces,
//     inserts before and after, erases, trims of both ends, indexing from
//     either end and lent-node hand-backs, under a fill picked by the input;
//   Stream: appends with increasing IDs (values long enough to cross the
//     node byte limit), deletes of present and absent IDs, exact and
//     approximate MAXLEN / MINID trims with limits, ranges both ways with
//     counts, clones.
// Invariants: no crash or sanitizer report, the container matches the model,
// and each container's CheckConsistency() holds.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/types/intset.h"
#include "storage/types/packed.h"
#include "storage/types/quick_list.h"
#include "storage/types/str_set.h"
#include "storage/types/stream.h"
#include "storage/types/zset.h"

namespace {

using sluice::storage::IntSet;
using sluice::storage::PackedList;
using sluice::storage::QuickList;
using sluice::storage::Stream;
using sluice::storage::StreamEntryView;
using sluice::storage::StreamId;
using sluice::storage::StrMap;
using sluice::storage::StrSet;
using sluice::storage::ZSet;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Reads the program's bytes; past the end it yields zeros, so every program
// runs to completion.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t Bits(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | Byte();
    return v;
  }
  // A short string: sometimes a decimal integer (stored as an integer by
  // PackedList), sometimes raw bytes, sometimes long.
  std::string String() {
    const uint8_t kind = Byte();
    if (kind % 4 == 0) return std::to_string(static_cast<int64_t>(Bits(8)) >> (Byte() % 64));
    size_t len = kind % 4 == 1 ? Byte() % 8 : Byte() % 40;
    if (kind % 16 == 3) len = 60 + Byte() * 40;  // past the 1-byte length forms
    std::string s;
    for (size_t i = 0; i < len; ++i) s.push_back(static_cast<char>(i < 6 ? Byte() : 'a' + i % 26));
    return s;
  }
  double Double() {
    const uint8_t kind = Byte();
    switch (kind % 5) {
      case 0:
        return static_cast<double>(static_cast<int8_t>(Byte()));
      case 1:
        return std::ldexp(static_cast<double>(Bits(2)), -static_cast<int>(Byte() % 20));
      case 2:
        return kind & 0x80 ? INFINITY : -INFINITY;
      case 3:
        return kind & 0x80 ? 0.0 : -0.0;
      default: {
        const uint64_t bits = Bits(8);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return std::isnan(d) ? 1.5 : d;
      }
    }
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// ---- PackedList ---------------------------------------------------------

struct Element {
  bool is_double = false;
  std::string text;  // strings and integers, as AsString gives them
  double number = 0;
};

// A double may come back as an integer (integral values but -0.0 are kept
// as integers); then it must be exactly that integer.
bool Matches(const PackedList::Value& v, const Element& e) {
  std::string scratch;
  if (!e.is_double) return v.AsString(&scratch) == e.text;
  if (v.is_string() || v.AsDouble() != e.number) return false;
  return !v.is_int() || !std::signbit(e.number) || e.number != 0;
}

// The bytes Find compares an element by.
std::string TextOf(const PackedList::Value& v) {
  std::string scratch;
  return v.is_double() ? std::string() : std::string(v.AsString(&scratch));
}

void CheckList(const PackedList& list, const std::vector<Element>& model) {
  Check(list.size() == model.size());
  size_t i = 0;
  for (PackedList::Pos p = list.begin(); p != list.end(); p = list.Next(p)) {
    Check(i < model.size() && Matches(list.Get(p), model[i]));
    ++i;
  }
  Check(i == model.size());
  PackedList::Pos p = list.end();
  for (size_t j = model.size(); j > 0; --j) {
    p = list.Prev(p);
    Check(Matches(list.Get(p), model[j - 1]));
  }
  Check(list.CheckConsistency());
}

Element MakeElement(Input& in, PackedList& list, PackedList::Pos at, bool replace) {
  Element e;
  switch (in.Byte() % 3) {
    case 0: {
      e.text = in.String();
      if (replace) {
        list.ReplaceString(at, e.text);
      } else {
        list.InsertString(at, e.text);
      }
      break;
    }
    case 1: {
      const int64_t v = static_cast<int64_t>(in.Bits(8)) >> (in.Byte() % 64);
      e.text = std::to_string(v);
      if (replace) {
        list.ReplaceInt(at, v);
      } else {
        list.InsertInt(at, v);
      }
      break;
    }
    default: {
      const double d = in.Double();
      e.is_double = true;
      e.number = d;
      if (replace) {
        list.ReplaceDouble(at, d);
      } else {
        list.InsertDouble(at, d);
      }
    }
  }
  return e;
}

void FuzzPacked(Input& in) {
  PackedList list;
  std::vector<Element> model;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    const size_t index = model.empty() ? 0 : in.Byte() % (model.size() + 1);
    switch (op % 6) {
      case 0:
      case 1: {
        if (model.size() >= 2000) break;
        const PackedList::Pos at = list.At(static_cast<int64_t>(index));
        const Element e = MakeElement(in, list, index < model.size() ? at : list.end(), false);
        model.insert(model.begin() + static_cast<ptrdiff_t>(index), e);
        break;
      }
      case 2: {
        if (index >= model.size()) break;
        model[index] = MakeElement(in, list, list.At(static_cast<int64_t>(index)), true);
        break;
      }
      case 3: {
        if (index >= model.size()) break;
        const size_t count = 1 + in.Byte() % 4;
        list.Erase(list.At(static_cast<int64_t>(index)), count);
        const size_t end = std::min(model.size(), index + count);
        model.erase(model.begin() + static_cast<ptrdiff_t>(index),
                    model.begin() + static_cast<ptrdiff_t>(end));
        break;
      }
      case 4: {
        // Find with a stride, as hashes (skip 1) and sets (skip 0) use it.
        const size_t skip = in.Byte() % 2;
        const std::string s = index < model.size() && !model[index].is_double && in.Byte() % 2
                                  ? model[index].text
                                  : in.String();
        size_t expected = model.size();
        size_t i = 0;
        for (PackedList::Pos p = list.begin(); p != list.end(); p = list.Next(p), ++i) {
          if (i % (skip + 1) != 0) continue;
          const PackedList::Value v = list.Get(p);
          const bool match = model[i].is_double ? v.is_int() && TextOf(v) == s : model[i].text == s;
          if (match) {
            expected = i;
            break;
          }
        }
        const PackedList::Pos found = list.Find(s, list.begin(), skip);
        Check((found == list.end()) == (expected == model.size()));
        if (found != list.end()) Check(found == list.At(static_cast<int64_t>(expected)));
        break;
      }
      default:
        if (in.Byte() % 8 == 0) {
          list.Clear();
          model.clear();
        }
        if (!model.empty()) {
          const int64_t back = -1 - static_cast<int64_t>(in.Byte() % model.size());
          Check(Matches(list.Get(list.At(back)), model[model.size() + back]));
        }
    }
    if (op & 0x80) CheckList(list, model);
  }
  CheckList(list, model);
}

// ---- IntSet -------------------------------------------------------------

void FuzzIntSet(Input& in) {
  IntSet set;
  std::set<int64_t> model;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    const int64_t v = static_cast<int64_t>(in.Bits(8)) >> (in.Byte() % 64);
    switch (op % 4) {
      case 0:
      case 1:
        if (model.size() < 4000) Check(set.Insert(v) == model.insert(v).second);
        break;
      case 2:
        Check(set.Erase(v) == (model.erase(v) == 1));
        break;
      default:
        Check(set.Contains(v) == model.contains(v));
    }
    Check(set.size() == model.size());
    if (op & 0x80) {
      size_t i = 0;
      for (int64_t m : model) Check(set.At(i++) == m);
    }
  }
  size_t i = 0;
  for (int64_t m : model) Check(set.At(i++) == m);
}

// ---- StrSet and StrMap --------------------------------------------------

void FuzzStrSet(Input& in) {
  StrSet set;
  StrMap map;
  std::set<std::string> model;
  std::map<std::string, std::string> map_model;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    const std::string s = in.String();
    switch (op % 5) {
      case 0:
      case 1:
        if (model.size() < 3000) Check(set.Insert(s) == model.insert(s).second);
        break;
      case 2:
        Check(set.Erase(s) == (model.erase(s) == 1));
        break;
      case 3: {
        const std::string value = in.String();
        if (map_model.size() < 3000) {
          Check(map.Set(s, value) == !map_model.contains(s));
          map_model[s] = value;
        }
        break;
      }
      default: {
        Check(map.Erase(s) == (map_model.erase(s) == 1));
        std::string_view got;
        const auto it = map_model.find(s);
        Check(map.Find(s, &got) == (it != map_model.end()));
      }
    }
    Check(set.Contains(s) == model.contains(s));
    Check(set.size() == model.size() && map.size() == map_model.size());
  }
  // A full scan visits every member at least once, and nothing else.
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = set.Scan(cursor, [&](std::string_view m) {
      Check(model.contains(std::string(m)));
      seen.emplace(m);
    });
  } while (cursor != 0);
  Check(seen == model);
  size_t fields = 0;
  map.ForEach([&](std::string_view f, std::string_view v) {
    const auto it = map_model.find(std::string(f));
    Check(it != map_model.end() && it->second == v);
    ++fields;
  });
  Check(fields == map_model.size());
  Check(set.CheckConsistency() && map.CheckConsistency());
}

// ---- ZSet ---------------------------------------------------------------

struct ZModel {
  std::map<std::string, double> scores;
  std::set<std::pair<double, std::string>> order;

  bool Insert(const std::string& m, double score) {
    auto it = scores.find(m);
    if (it != scores.end()) {
      if (it->second == score) return false;
      order.erase({it->second, m});
      it->second = score;
      order.insert({score, m});
      return false;
    }
    scores.emplace(m, score);
    order.insert({score, m});
    return true;
  }
  bool Erase(const std::string& m) {
    auto it = scores.find(m);
    if (it == scores.end()) return false;
    order.erase({it->second, m});
    scores.erase(it);
    return true;
  }
  const std::pair<double, std::string>& At(size_t rank) const {
    return *std::next(order.begin(), static_cast<ptrdiff_t>(rank));
  }
};

bool Same(const ZSet::Iterator& it, const std::pair<double, std::string>& e) {
  return it.valid() && it.member() == e.second && it.score() == e.first;
}

void CheckZSet(const ZSet& z, const ZModel& model) {
  Check(z.size() == model.scores.size());
  ZSet::Iterator it = z.begin();
  for (const auto& e : model.order) {
    Check(Same(it, e));
    it.Next();
  }
  Check(it == z.end());
  ZSet::Iterator back = z.end();
  for (auto e = model.order.rbegin(); e != model.order.rend(); ++e) {
    back.Prev();
    Check(Same(back, *e));
  }
  Check(z.CheckConsistency());
}

void FuzzZSet(Input& in) {
  ZSet z;
  ZModel model;
  double run_score = 0;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    switch (op % 8) {
      case 0:
      case 1: {
        if (model.scores.size() >= 5000) break;
        const std::string m = in.String();
        const double score = in.Double();
        Check(z.Insert(m, score) == model.Insert(m, score));
        break;
      }
      case 2: {
        // A run of increasing scores at the end (timestamps), which fills
        // leaves completely.
        const size_t n = in.Byte();
        for (size_t i = 0; i < n && model.scores.size() < 5000; ++i) {
          run_score += 1;
          const std::string m = "run" + std::to_string(static_cast<int64_t>(run_score));
          Check(z.Insert(m, run_score) == model.Insert(m, run_score));
        }
        break;
      }
      case 3: {
        // Erase a present member (by rank) or an arbitrary string.
        std::string m;
        if (!model.order.empty() && in.Byte() % 4 != 0) {
          m = model.At(in.Bits(2) % model.order.size()).second;
        } else {
          m = in.String();
        }
        Check(z.Erase(m) == model.Erase(m));
        break;
      }
      case 4: {
        // Erase a range of ranks (ZREMRANGEBYRANK's pattern).
        if (model.order.empty()) break;
        const size_t first = in.Bits(2) % model.order.size();
        const size_t count = 1 + in.Byte() % 64;
        for (size_t i = 0; i < count && first < model.order.size(); ++i) {
          const std::string m = model.At(first).second;
          Check(z.AtRank(first).member() == m);
          Check(z.Erase(m) && model.Erase(m));
        }
        break;
      }
      case 5: {
        // Score and rank of a member.
        const std::string m = !model.order.empty() && in.Byte() % 2
                                  ? model.At(in.Bits(2) % model.order.size()).second
                                  : in.String();
        double score = 0;
        size_t rank = 0;
        const auto it = model.scores.find(m);
        Check(z.Score(m, &score) == (it != model.scores.end()));
        Check(z.Rank(m, &rank) == (it != model.scores.end()));
        if (it != model.scores.end()) {
          Check(score == it->second);
          const auto pos = model.order.find({it->second, m});
          Check(rank == static_cast<size_t>(std::distance(model.order.begin(), pos)));
          Check(Same(z.AtRank(rank), *pos));
        }
        break;
      }
      case 6: {
        // Seek by score (both bounds) and check the rank it reports.
        const double score = in.Double();
        const bool exclusive = in.Byte() % 2;
        size_t rank = 0;
        const ZSet::Iterator got = z.SeekScore(score, exclusive, &rank);
        auto want = model.order.begin();
        while (want != model.order.end() &&
               (exclusive ? want->first <= score : want->first < score)) {
          ++want;
        }
        Check(rank == static_cast<size_t>(std::distance(model.order.begin(), want)));
        Check(want == model.order.end() ? got == z.end() : Same(got, *want));
        break;
      }
      default: {
        // Seek by member bytes, meaningful when every score is equal: check
        // it against the first element of the order not before the bound
        // only in that case, and that it never crashes otherwise.
        const std::string m = in.String();
        const bool exclusive = in.Byte() % 2;
        size_t rank = 0;
        const ZSet::Iterator got = z.SeekLex(m, exclusive, &rank);
        const bool all_equal =
            model.order.empty() || model.order.begin()->first == model.order.rbegin()->first;
        if (all_equal) {
          auto want = model.order.begin();
          while (want != model.order.end() && (exclusive ? want->second <= m : want->second < m)) {
            ++want;
          }
          Check(rank == static_cast<size_t>(std::distance(model.order.begin(), want)));
          Check(want == model.order.end() ? got == z.end() : Same(got, *want));
        }
        Check(rank <= model.order.size());
      }
    }
    if (op & 0x80) CheckZSet(z, model);
  }
  CheckZSet(z, model);
  z.Clear();
  Check(z.empty() && z.CheckConsistency());
}

}  // namespace

std::vector<std::string> QuickItems(const QuickList& q) {
  std::vector<std::string> out;
  std::string scratch;
  for (QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) {
    out.emplace_back(q.Get(it).AsString(&scratch));
  }
  return out;
}

void FuzzQuickList(Input& in) {
  static constexpr int kFills[] = {-5, -2, -1, 1, 2, 3, 5, 16};
  QuickList::Node lent;
  QuickList q(kFills[in.Byte() % 8]);
  q.Lend(&lent);
  std::vector<std::string> model;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    const size_t n = model.size();
    const size_t at = n == 0 ? 0 : in.Byte() % n;
    switch (op % 10) {
      case 0: {
        const std::string v = in.String();
        q.PushBack(v);
        model.push_back(v);
        break;
      }
      case 1: {
        const std::string v = in.String();
        q.PushFront(v);
        model.insert(model.begin(), v);
        break;
      }
      case 2:
        if (n > 0) {
          q.PopFront();
          model.erase(model.begin());
        }
        break;
      case 3:
        if (n > 0) {
          q.PopBack();
          model.pop_back();
        }
        break;
      case 4:
        if (n > 0) {
          const std::string v = in.String();
          q.Replace(q.At(static_cast<int64_t>(at)), v);
          model[at] = v;
        }
        break;
      case 5:
        if (n > 0) {
          const bool after = (op & 0x10) != 0;
          const std::string v = in.String();
          q.Insert(q.At(static_cast<int64_t>(at)), v, after);
          model.insert(model.begin() + static_cast<std::ptrdiff_t>(at + (after ? 1 : 0)), v);
        }
        break;
      case 6:
        if (n > 0) {
          q.Erase(q.At(-1 - static_cast<int64_t>(at)));
          model.erase(model.end() - 1 - static_cast<std::ptrdiff_t>(at));
        }
        break;
      case 7: {
        const size_t front = in.Byte() % 8, back = in.Byte() % 8;
        q.EraseFront(front);
        model.erase(model.begin(),
                    model.begin() + static_cast<std::ptrdiff_t>(std::min(front, model.size())));
        q.EraseBack(back);
        model.erase(model.end() - static_cast<std::ptrdiff_t>(std::min(back, model.size())),
                    model.end());
        break;
      }
      case 8:
        if (n > 0) {
          std::string scratch;
          Check(q.Get(q.At(static_cast<int64_t>(at))).AsString(&scratch) == model[at]);
          Check(q.Get(q.At(-1 - static_cast<int64_t>(at))).AsString(&scratch) == model[n - 1 - at]);
        }
        Check(!q.At(static_cast<int64_t>(n)).valid());
        break;
      default:
        q.Unlend();
    }
    Check(q.size() == model.size());
    Check(q.CheckConsistency());
  }
  Check(QuickItems(q) == model);
  q.Unlend();
}

// ---- Stream -------------------------------------------------------------

using StreamModel = std::map<StreamId, std::vector<std::string>>;

std::vector<std::pair<StreamId, std::vector<std::string>>> StreamItems(const Stream& s,
                                                                       StreamId start, StreamId end,
                                                                       bool reverse, size_t count) {
  std::vector<std::pair<StreamId, std::vector<std::string>>> out;
  s.Range(start, end, reverse, count, [&](const StreamEntryView& e) {
    std::vector<std::string> fields;
    e.ForEachPair([&](std::string_view f, std::string_view v) {
      fields.emplace_back(f);
      fields.emplace_back(v);
    });
    Check(fields.size() == 2 * e.pairs());
    out.emplace_back(e.id(), std::move(fields));
    return true;
  });
  return out;
}

StreamId SomeId(Input& in, const StreamModel& model, StreamId last) {
  if (!model.empty() && (in.Byte() & 1)) {
    auto it = model.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(in.Byte() % model.size()));
    return it->first;
  }
  return {in.Byte() % (last.ms + 3), uint64_t{in.Byte()} % 4};
}

void FuzzStream(Input& in) {
  Stream s;
  StreamModel model;
  StreamId last;
  while (!in.done()) {
    const uint8_t op = in.Byte();
    switch (op % 6) {
      case 0:
      case 1: {
        StreamId id = last;
        const uint8_t step = in.Byte();
        if (step % 4 == 0) {
          id = {last.ms + 1 + step / 4, uint64_t{in.Byte()} % 3};
        } else if (step % 4 == 1) {
          id = {last.ms, ~uint64_t{0} - in.Byte() % 2};  // near the sequence's end
        } else if (!id.Increment()) {
          break;
        }
        if (id <= last) break;  // Append requires a larger ID (and never 0-0)
        std::vector<std::string> fields;
        const size_t pairs = 1 + in.Byte() % 4;
        for (size_t i = 0; i < 2 * pairs; ++i) {
          std::string v = in.String();
          if ((op & 0x40) && i == 1) v.append(1000 + in.Byte() * 20, 'z');
          fields.push_back(std::move(v));
        }
        std::vector<std::string_view> views(fields.begin(), fields.end());
        s.Append(id, views);
        model[id] = std::move(fields);
        last = id;
        break;
      }
      case 2: {
        const StreamId id = SomeId(in, model, last);
        Check(s.Delete(id) == (model.erase(id) == 1));
        break;
      }
      case 3: {
        const size_t keep = in.Byte() % (model.size() + 4);
        const bool approx = (op & 0x10) != 0;
        const uint64_t limit = approx ? in.Byte() % 4 * 60 : 0;
        const size_t before = model.size();
        const size_t removed = s.TrimMaxLen(keep, approx, limit);
        Check(removed <= before);
        for (size_t i = 0; i < removed; ++i) model.erase(model.begin());
        if (!approx) Check(model.size() == std::min(keep, before));
        if (approx) Check(model.size() >= std::min(keep, before));
        break;
      }
      case 4: {
        const StreamId min = SomeId(in, model, last);
        const bool approx = (op & 0x10) != 0;
        const size_t removed = s.TrimMinId(min, approx, 0);
        size_t below = 0;
        for (auto it = model.begin(); it != model.end() && it->first < min; ++it) ++below;
        Check(approx ? removed <= below : removed == below);
        for (size_t i = 0; i < removed; ++i) model.erase(model.begin());
        break;
      }
      default: {
        StreamId a = SomeId(in, model, last), b = SomeId(in, model, last);
        if (b < a) std::swap(a, b);
        const bool reverse = (op & 0x10) != 0;
        const size_t count = in.Byte() % 8;
        std::vector<std::pair<StreamId, std::vector<std::string>>> want;
        for (auto it = model.lower_bound(a); it != model.end() && it->first <= b; ++it) {
          want.emplace_back(it->first, it->second);
        }
        if (reverse) std::reverse(want.begin(), want.end());
        if (count != 0 && want.size() > count) want.resize(count);
        Check(StreamItems(s, a, b, reverse, count) == want);
        if (op & 0x80) {
          const std::unique_ptr<Stream> copy = s.Clone();
          Check(copy->CheckConsistency());
          Check(StreamItems(*copy, StreamId::Min(), StreamId::Max(), false, 0) ==
                StreamItems(s, StreamId::Min(), StreamId::Max(), false, 0));
        }
      }
    }
    Check(s.size() == model.size());
    Check(s.CheckConsistency());
  }
  Check(StreamItems(s, StreamId::Min(), StreamId::Max(), false, 0).size() == model.size());
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Input in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      FuzzPacked(in);
      break;
    case 1:
      FuzzIntSet(in);
      break;
    case 2:
      FuzzStrSet(in);
      break;
    case 3:
      FuzzZSet(in);
      break;
    case 4:
      FuzzQuickList(in);
      break;
    default:
      FuzzStream(in);
  }
  return 0;
}
