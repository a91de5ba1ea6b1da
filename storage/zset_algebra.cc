#include "storage/zset_algebra.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "storage/set_ops.h"

namespace sluice::storage {
namespace {

// An input read as scored members: a sorted set as it is, a set with every
// member scoring 1, an absent key as empty.
class Source {
 public:
  explicit Source(const Entry* entry) : entry_(entry) {}

  size_t size() const {
    if (entry_ == nullptr) return 0;
    return is_set() ? SetView(entry_).size() : ZSetView(entry_).size();
  }
  bool Score(std::string_view member, double* score) const {
    if (entry_ == nullptr) return false;
    if (!is_set()) return ZSetView(entry_).Score(member, score);
    if (!SetView(entry_).Contains(member)) return false;
    *score = 1;
    return true;
  }
  // visit(std::string_view member, double score); sorted sets in order.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    if (entry_ == nullptr) return;
    if (!is_set()) return ZSetView(entry_).ForEach(visit);
    SetView(entry_).ForEach([&](std::string_view m) { visit(m, 1.0); });
  }
  bool is_set() const { return entry_->type() == ValueType::kSet; }

 private:
  const Entry* entry_;
};

double Weighted(double score, double weight) {
  const double v = score * weight;
  return std::isnan(v) ? 0 : v;
}

void Aggregate(double* total, double v, ZAggregate aggregate) {
  switch (aggregate) {
    case ZAggregate::kSum:
      *total += v;
      if (std::isnan(*total)) *total = 0;  // inf + -inf
      return;
    case ZAggregate::kMin:
      *total = std::min(*total, v);
      return;
    case ZAggregate::kMax:
      *total = std::max(*total, v);
      return;
  }
}

void SortByScore(std::vector<ScoredMember>* items) {
  std::sort(items->begin(), items->end(), [](const ScoredMember& a, const ScoredMember& b) {
    return a.second < b.second || (a.second == b.second && a.first < b.first);
  });
}

}  // namespace

Result<const Entry*> FindAlgebraInput(Shard& shard, std::string_view key, int64_t now_ms) {
  const Entry* e = shard.FindForRead(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kZset && e->type() != ValueType::kSet) {
    return {Status::kWrongType, nullptr};
  }
  return {Status::kOk, e};
}

std::vector<ScoredMember> ZSetUnion(std::span<const ZAlgebraInput> inputs, ZAggregate aggregate) {
  size_t largest = 0;
  for (const ZAlgebraInput& in : inputs) largest = std::max(largest, Source(in.entry).size());
  absl::flat_hash_map<std::string, double> totals;
  totals.reserve(largest);
  for (const ZAlgebraInput& in : inputs) {
    Source(in.entry).ForEach([&](std::string_view m, double score) {
      const double v = Weighted(score, in.weight);
      auto it = totals.find(absl::string_view(m.data(), m.size()));
      if (it == totals.end()) {
        totals.emplace(std::string(m), v);
      } else {
        Aggregate(&it->second, v, aggregate);
      }
    });
  }
  std::vector<ScoredMember> out;
  out.reserve(totals.size());
  for (auto& [member, score] : totals) out.emplace_back(member, score);
  SortByScore(&out);
  return out;
}

std::vector<ScoredMember> ZSetIntersection(std::span<const ZAlgebraInput> inputs,
                                           ZAggregate aggregate) {
  std::vector<ScoredMember> out;
  std::vector<ZAlgebraInput> sorted(inputs.begin(), inputs.end());
  for (const ZAlgebraInput& in : sorted) {
    if (Source(in.entry).size() == 0) return out;
  }
  // The smallest input drives; the others are probed.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ZAlgebraInput& a, const ZAlgebraInput& b) {
                     return Source(a.entry).size() < Source(b.entry).size();
                   });
  Source(sorted[0].entry).ForEach([&](std::string_view m, double score) {
    double total = Weighted(score, sorted[0].weight);
    for (size_t i = 1; i < sorted.size(); ++i) {
      double other;
      if (!Source(sorted[i].entry).Score(m, &other)) return;
      Aggregate(&total, Weighted(other, sorted[i].weight), aggregate);
    }
    out.emplace_back(std::string(m), total);
  });
  SortByScore(&out);
  return out;
}

std::vector<ScoredMember> ZSetDifference(std::span<const Entry* const> inputs) {
  std::vector<ScoredMember> out;
  if (inputs.empty() || inputs[0] == nullptr) return out;
  const Source first(inputs[0]);
  first.ForEach([&](std::string_view m, double score) {
    double ignored;
    for (size_t i = 1; i < inputs.size(); ++i) {
      if (Source(inputs[i]).Score(m, &ignored)) return;
    }
    out.emplace_back(std::string(m), score);
  });
  if (first.is_set()) SortByScore(&out);  // a sorted set's walk is in order already
  return out;
}

size_t ZSetIntersectionCard(std::span<const Entry* const> inputs, size_t limit) {
  std::vector<const Entry*> sorted(inputs.begin(), inputs.end());
  for (const Entry* e : sorted) {
    if (Source(e).size() == 0) return 0;
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return Source(a).size() < Source(b).size();
  });
  size_t count = 0;
  bool done = false;
  Source(sorted[0]).ForEach([&](std::string_view m, double) {
    if (done) return;
    double ignored;
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (!Source(sorted[i]).Score(m, &ignored)) return;
    }
    ++count;
    done = limit > 0 && count >= limit;
  });
  return count;
}

}  // namespace sluice::storage
