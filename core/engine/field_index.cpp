#include "core/engine/field_index.hpp"

#include "core/engine/bitmap_builder.hpp"
#include "core/engine/encoding.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <type_traits>

namespace vdb {
namespace {

// The union of many posting lists in one pass (roaring's lazy many-way OR), much faster than
// OR-ing them one by one when there are thousands (a wide range over distinct values).
Bitmap union_all(std::vector<const Bitmap*>& parts) {
  if (parts.empty()) {
    return Bitmap();
  }
  if (parts.size() == 1) {
    return *parts.front();
  }
  return Bitmap::fastunion(parts.size(), parts.data());
}

// ---- the values of posting lists in files ----

void put_key(ByteWriter& w, const std::string& k) { w.put_bytes(k); }
void put_key(ByteWriter& w, std::int64_t k) { w.put(k); }
void put_key(ByteWriter& w, double k) { w.put(k); }
void put_key(ByteWriter& w, bool k) { w.put<std::uint8_t>(k ? 1 : 0); }
void put_key(ByteWriter& w, const PointId::Uuid& k) { w.put_raw(k.data(), k.size()); }

template <class K> Expected<K> get_key(ByteReader& r) {
  if constexpr (std::is_same_v<K, std::string>) {
    auto bytes = r.get_bytes();
    VDB_TRY(bytes);
    return std::string(*bytes);
  } else if constexpr (std::is_same_v<K, bool>) {
    auto b = r.get<std::uint8_t>();
    VDB_TRY(b);
    if (*b > 1) {
      return r.corrupt("a boolean value is " + std::to_string(*b));
    }
    return *b == 1;
  } else if constexpr (std::is_same_v<K, PointId::Uuid>) {
    auto raw = r.get_raw(16);
    VDB_TRY(raw);
    PointId::Uuid out{};
    std::memcpy(out.data(), raw->data(), out.size());
    return out;
  } else {
    return r.get<K>();
  }
}

// A posting list or point set from a file: every offset below `slots`.
Expected<Bitmap> get_offsets(ByteReader& r, PointOffset slots) {
  auto bits = get_bitmap(r);
  VDB_TRY(bits);
  if (!bits->isEmpty() && bits->maximum() >= slots) {
    return r.corrupt("a point offset past the segment's " + std::to_string(slots) + " slots");
  }
  return bits;
}

// ---------------------------------------------------------------------------------------------
// Storage shared by every index type: posting lists by value, each point's values (to remove
// them), the points with a stored value and the points with some other non-null value.

template <class K> class PostingIndex : public FieldIndex {
public:
  /// A match of one value is that value's posting.
  bool filter_is_lookup(const FieldCondition& condition) const noexcept override {
    return std::holds_alternative<MatchValue>(condition.test);
  }
  void set(PointOffset offset, const std::vector<const Json*>& values) override {
    remove(offset);
    std::vector<K> keys;
    bool other = false;
    bool other_number = false;
    for (const Json* v : values) {
      if (v->is_null()) {
        continue;
      }
      if (auto k = extract(*v)) {
        keys.push_back(std::move(*k));
      } else {
        other = true;
        other_number = other_number || v->is_number();
      }
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const auto& k : keys) {
      postings_[k].add(offset);
      added(k);
    }
    if (other) {
      other_.add(offset);
    }
    if (other_number) {
      other_numbers_.add(offset);
    }
    if (!keys.empty()) {
      indexed_.add(offset);
      stored_values_ += keys.size();
      max_values_per_point_ = std::max(max_values_per_point_, keys.size());
      if (values_.size() <= offset) {
        values_.resize(static_cast<std::size_t>(offset) + 1);
      }
      values_[offset] = std::move(keys);
    }
    changed();
  }

  void remove(PointOffset offset) override {
    other_.remove(offset);
    other_numbers_.remove(offset);
    if (!indexed_.contains(offset)) {
      return;
    }
    indexed_.remove(offset);
    std::vector<K>& keys = values_[offset];
    for (const auto& k : keys) {
      auto it = postings_.find(k);
      it->second.remove(offset);
      if (it->second.isEmpty()) {
        postings_.erase(it);
      }
      removed(k);
    }
    stored_values_ -= keys.size();
    keys.clear();
    keys.shrink_to_fit();
  }

  std::uint64_t indexed_points() const noexcept override { return indexed_.cardinality(); }
  std::uint64_t distinct_values() const noexcept override { return postings_.size(); }

  std::vector<Bitmap> blocks(std::uint64_t bucket) const override {
    std::vector<Bitmap> out;
    for (const auto& [k, p] : postings_) {
      if (p.cardinality() >= bucket) { // smaller values are left out: copy only the others
        out.push_back(p);
      }
    }
    return out;
  }

  // The posting lists in value order and the two "other value" sets; each point's values and
  // the set of indexed points are rebuilt from the postings.
  void save(ByteWriter& w) const override {
    w.put<std::uint64_t>(postings_.size());
    for (const auto& [k, p] : postings_) {
      put_key(w, k);
      put_bitmap(w, p);
    }
    put_bitmap(w, other_);
    put_bitmap(w, other_numbers_);
  }

  Status load(ByteReader& r, PointOffset slots) override {
    auto n = r.get<std::uint64_t>();
    VDB_TRY(n);
    if (*n > r.left() / 9) {
      return r.corrupt("an impossible number of values (" + std::to_string(*n) + ")");
    }
    std::vector<const Bitmap*> parts;
    for (std::uint64_t i = 0; i < *n; ++i) {
      auto k = get_key<K>(r);
      VDB_TRY(k);
      if (!postings_.empty() && !(postings_.rbegin()->first < *k)) {
        return r.corrupt("payload index values out of order");
      }
      auto p = get_offsets(r, slots);
      VDB_TRY(p);
      if (p->isEmpty()) {
        return r.corrupt("an empty posting list");
      }
      const Bitmap& posting = postings_.emplace_hint(postings_.end(), *k, std::move(*p))->second;
      if (values_.size() <= posting.maximum()) {
        values_.resize(static_cast<std::size_t>(posting.maximum()) + 1);
      }
      for (const PointOffset offset : posting) {
        values_[offset].push_back(*k); // in value order: each point's values come out sorted
      }
      stored_values_ += posting.cardinality();
      parts.push_back(&posting);
    }
    indexed_ = union_all(parts);
    for (const auto& v : values_) {
      max_values_per_point_ = std::max(max_values_per_point_, v.size());
    }
    auto other = get_offsets(r, slots);
    VDB_TRY(other);
    auto other_numbers = get_offsets(r, slots);
    VDB_TRY(other_numbers);
    if (!other_numbers->isSubset(*other)) {
      return r.corrupt("other numbers outside the other values");
    }
    other_ = std::move(*other);
    other_numbers_ = std::move(*other_numbers);
    loaded();
    return {};
  }

protected:
  /// After load(): derived data is rebuilt.
  virtual void loaded() {}
  /// The key a payload value is stored under, or nothing for a value this index does not store.
  virtual std::optional<K> extract(const Json& v) const = 0;
  virtual void added(const K& /*key*/) {}
  virtual void removed(const K& /*key*/) {}
  virtual void changed() {}

  /// The stored values of a point (sorted), empty when it has none.
  const std::vector<K>& values_of(PointOffset offset) const {
    static const std::vector<K> kNone;
    return offset < values_.size() ? values_[offset] : kNone;
  }
  /// Whether the point holds `key` (its values are sorted).
  bool holds(PointOffset offset, const K& key) const {
    const auto& v = values_of(offset);
    return std::binary_search(v.begin(), v.end(), key);
  }
  bool any_in(PointOffset offset, const std::vector<K>& keys) const {
    const auto& v = values_of(offset);
    return std::any_of(v.begin(), v.end(),
                       [&](const K& k) { return std::binary_search(keys.begin(), keys.end(), k); });
  }
  bool any_outside(PointOffset offset, const std::vector<K>& keys) const {
    const auto& v = values_of(offset);
    return other_.contains(offset) || std::any_of(v.begin(), v.end(), [&](const K& k) {
             return !std::binary_search(keys.begin(), keys.end(), k);
           });
  }

  const Bitmap* posting(const K& k) const {
    const auto it = postings_.find(k);
    return it == postings_.end() ? nullptr : &it->second;
  }
  std::uint64_t posting_size(const K& k) const {
    const Bitmap* p = posting(k);
    return p == nullptr ? 0 : p->cardinality();
  }
  Bitmap union_of(const std::vector<K>& keys) const {
    std::vector<const Bitmap*> parts;
    for (const K& k : keys) {
      if (const Bitmap* p = posting(k)) {
        parts.push_back(p);
      }
    }
    return union_all(parts);
  }
  // Points with a stored value outside `keys` (sorted), or with a value of another type.
  Bitmap except_of(const std::vector<K>& keys) const {
    std::vector<const Bitmap*> parts{&other_};
    for (const auto& [k, p] : postings_) {
      if (!std::binary_search(keys.begin(), keys.end(), k)) {
        parts.push_back(&p);
      }
    }
    return union_all(parts);
  }
  CardinalityEstimate estimate_any(const std::vector<K>& keys) const {
    std::uint64_t min = 0;
    std::uint64_t sum = 0;
    for (const K& k : keys) {
      const std::uint64_t n = posting_size(k);
      min = std::max(min, n);
      sum += n;
    }
    const std::uint64_t max = std::min(sum, indexed_points());
    return {min, max, max};
  }
  CardinalityEstimate estimate_except(const std::vector<K>& keys) const {
    const std::uint64_t all = (indexed_ | other_).cardinality();
    std::uint64_t in_set = 0;
    for (const K& k : keys) {
      in_set += posting_size(k);
    }
    const std::uint64_t min = in_set >= all ? 0 : all - in_set;
    return {min, min, all};
  }

  std::map<K, Bitmap> postings_;
  std::vector<std::vector<K>> values_; // by offset
  Bitmap indexed_;                     // points with a stored value
  Bitmap other_;                       // points with a non-null value this index does not store
  Bitmap other_numbers_;               // ... of which a number
  std::uint64_t stored_values_ = 0;
  std::size_t max_values_per_point_ = 0; // grows only: an upper bound
};

// ---------------------------------------------------------------------------------------------
// Ordered values (integer, float, datetime): ranges over the posting map and an equi-depth
// histogram, kept exact under every change, for estimates.

template <class K> class RangeIndex : public PostingIndex<K> {
public:
  std::vector<Bitmap> blocks(std::uint64_t bucket) const override {
    std::vector<Bitmap> out;
    Bitmap run;
    for (const auto& [k, p] : this->postings_) {
      run |= p;
      if (run.cardinality() >= bucket) {
        out.push_back(std::move(run));
        run = Bitmap();
      }
    }
    if (!run.isEmpty()) {
      out.push_back(std::move(run));
    }
    return out;
  }

protected:
  using Base = PostingIndex<K>;

  template <class B> static bool in(const Bounds<B>& b, const K& k) {
    return b.contains(static_cast<B>(k));
  }

  // The closed interval [low, high] a range can reach, as B.
  template <class B> static std::pair<B, B> reach(const Bounds<B>& b) {
    B low = std::numeric_limits<B>::lowest();
    B high = std::numeric_limits<B>::max();
    if (b.gt) {
      low = std::max(low, *b.gt);
    }
    if (b.gte) {
      low = std::max(low, *b.gte);
    }
    if (b.lt) {
      high = std::min(high, *b.lt);
    }
    if (b.lte) {
      high = std::min(high, *b.lte);
    }
    return {low, high};
  }

  // The first posting a range can hold.
  template <class B> auto first_in(const Bounds<B>& b) const {
    const B low = reach(b).first;
    if constexpr (std::is_integral_v<K> && std::is_floating_point_v<B>) {
      if (!(low > static_cast<B>(std::numeric_limits<K>::lowest()))) {
        return this->postings_.begin();
      }
      if (low >= static_cast<B>(std::numeric_limits<K>::max())) {
        return this->postings_.end();
      }
      return this->postings_.lower_bound(static_cast<K>(std::floor(low)));
    } else {
      return this->postings_.lower_bound(static_cast<K>(low));
    }
  }

  template <class B> Bitmap range(const Bounds<B>& b) const {
    const auto [low, high] = reach(b);
    if (const std::vector<Entry>* flat = sorted(b)) {
      // One binary search, then a contiguous run of (value, offset) pairs.
      auto it = std::partition_point(flat->begin(), flat->end(), [low = low](const Entry& e) {
        return static_cast<B>(e.value) < low;
      });
      BitmapBuilder out(this->universe());
      for (; it != flat->end() && !(static_cast<B>(it->value) > high); ++it) {
        if (in(b, it->value)) {
          out.add(it->offset);
        }
      }
      return out.build();
    }
    std::vector<const Bitmap*> parts;
    for (auto it = first_in(b); it != this->postings_.end(); ++it) {
      if (static_cast<B>(it->first) > high) {
        break;
      }
      if (in(b, it->first)) {
        parts.push_back(&it->second);
      }
    }
    return union_all(parts);
  }

  template <class B> bool any_in_range(const Bounds<B>& b, PointOffset offset) const {
    if (offset < single_.size() && single_[offset].count <= 1) {
      // Most points hold one value: read it from the flat array, not the per-point vector.
      return single_[offset].count == 1 && in(b, single_[offset].value);
    }
    const auto& v = this->values_of(offset);
    return std::any_of(v.begin(), v.end(), [&](const K& k) { return in(b, k); });
  }

  template <class B> CardinalityEstimate estimate_range(const Bounds<B>& b) const {
    if (this->postings_.empty()) {
      return CardinalityEstimate::exact(0);
    }
    const std::pair<B, B> reached = reach(b);
    const B low = reached.first; // not a structured binding: the lambdas below capture it
    const B high = reached.second;
    std::uint64_t inside = 0;
    std::uint64_t partial = 0;
    const std::size_t last = counts_.size() - 1;
    // Adds bucket i's values to `inside` (returns true) when the range holds all of them.
    const auto count = [&](std::size_t i) {
      const K lo = i == 0 ? this->postings_.begin()->first : uppers_[i - 1];
      const K hi = i == last ? this->postings_.rbegin()->first : uppers_[i];
      if (in(b, lo) && in(b, hi)) {
        inside += counts_[i];
        return true;
      }
      if (!(static_cast<B>(hi) < low) && !(static_cast<B>(lo) > high)) {
        partial += counts_[i];
      }
      return false;
    };
    count(0);
    if (last != 0) {
      count(last);
    }
    // The middle buckets' bounds are uppers_, in order: the ones a range overlaps are one run,
    // found by two binary searches, and the ones it holds whole are one run inside that, found
    // by walking in from both ends. (The outer two buckets may reach past uppers_.)
    if (last > 1) {
      const auto begin = uppers_.begin();
      std::size_t from = static_cast<std::size_t>(
          std::partition_point(begin + 1, begin + static_cast<std::ptrdiff_t>(last),
                               [&](const K& hi) { return static_cast<B>(hi) < low; }) -
          begin);
      std::size_t to =
          1 + static_cast<std::size_t>(
                  std::partition_point(begin + static_cast<std::ptrdiff_t>(from - 1),
                                       begin + static_cast<std::ptrdiff_t>(last - 1),
                                       [&](const K& lo) { return !(static_cast<B>(lo) > high); }) -
                  begin);
      while (from < to && !count(from)) {
        ++from;
      }
      while (to > from + 1 && !count(to - 1)) {
        --to;
      }
      for (std::size_t i = from + 1; i + 1 < to; ++i) {
        inside += counts_[i];
      }
    }
    const std::uint64_t points = this->indexed_points();
    const std::size_t per_point = std::max<std::size_t>(1, this->max_values_per_point_);
    const double avg =
        points == 0 ? 1.0 : static_cast<double>(this->stored_values_) / static_cast<double>(points);
    const std::uint64_t min = (inside + per_point - 1) / per_point;
    const std::uint64_t max = std::min(points, inside + partial);
    const auto expected = static_cast<std::uint64_t>(
        std::llround((static_cast<double>(inside) + static_cast<double>(partial) / 2) / avg));
    return {min, std::clamp(expected, min, max), max};
  }

  void set(PointOffset offset, const std::vector<const Json*>& values) override {
    Base::set(offset, values);
    remember(offset);
  }
  std::pair<const char*, std::size_t> check_data() const noexcept override {
    return {reinterpret_cast<const char*>(single_.data()), sizeof(Single)};
  }
  void remove(PointOffset offset) override {
    Base::remove(offset);
    remember(offset);
  }

  void added(const K& k) override {
    fresh_.store(false, std::memory_order_relaxed);
    if (!counts_.empty()) {
      ++counts_[bucket(k)];
    }
  }
  void removed(const K& k) override {
    fresh_.store(false, std::memory_order_relaxed);
    if (!counts_.empty()) {
      --counts_[bucket(k)];
    }
  }
  void loaded() override {
    single_.resize(this->values_.size());
    for (std::size_t offset = 0; offset < single_.size(); ++offset) {
      remember(static_cast<PointOffset>(offset));
    }
    rebuild();
  }
  // Rebuilds the buckets when one holds more than twice its share.
  void changed() override {
    const std::uint64_t share = this->stored_values_ / kBuckets + 16;
    if (counts_.empty() || std::any_of(counts_.begin(), counts_.end(),
                                       [&](std::uint64_t c) { return c > 2 * share; })) {
      rebuild();
    }
  }

private:
  static constexpr std::size_t kBuckets = 64;

  struct Entry {
    K value;
    PointOffset offset;
  };
  struct Single {
    K value{};
    std::uint32_t count = 0; // values the point holds; `value` is its value when 1
  };

  PointOffset universe() const { return static_cast<PointOffset>(single_.size()); }

  void remember(PointOffset offset) {
    if (single_.size() <= offset) {
      single_.resize(static_cast<std::size_t>(offset) + 1);
    }
    const auto& v = this->values_of(offset);
    single_[offset] = {v.size() == 1 ? v.front() : K{}, static_cast<std::uint32_t>(v.size())};
  }

  // Every stored (value, offset) pair sorted by value, rebuilt by the first range after a
  // change; or nothing when the index changed and the range is narrow enough that walking its
  // postings costs less than a rebuild. Readers share the index (the collection's shared lock),
  // so the rebuild takes a mutex of its own.
  template <class B> const std::vector<Entry>* sorted(const Bounds<B>& b) const {
    if (fresh_.load(std::memory_order_acquire)) {
      return &flat_;
    }
    const CardinalityEstimate e = estimate_range(b);
    if (e.max * 8 < this->stored_values_) {
      return nullptr;
    }
    std::lock_guard lock(flat_mutex_);
    if (!fresh_.load(std::memory_order_relaxed)) {
      flat_.clear();
      flat_.reserve(this->stored_values_);
      for (const auto& [k, p] : this->postings_) {
        for (const PointOffset offset : p) {
          flat_.push_back({k, offset});
        }
      }
      fresh_.store(true, std::memory_order_release);
    }
    return &flat_;
  }

  std::size_t bucket(const K& k) const {
    return static_cast<std::size_t>(std::lower_bound(uppers_.begin(), uppers_.end(), k) -
                                    uppers_.begin());
  }

  void rebuild() {
    uppers_.clear();
    counts_.assign(1, 0);
    const std::uint64_t target = std::max<std::uint64_t>(1, this->stored_values_ / kBuckets);
    for (const auto& [k, p] : this->postings_) {
      if (counts_.back() >= target && counts_.size() < kBuckets) {
        uppers_.push_back(previous_);
        counts_.push_back(0);
      }
      counts_.back() += p.cardinality();
      previous_ = k;
    }
  }

  std::vector<Single> single_; // by offset
  mutable std::mutex flat_mutex_;
  mutable std::vector<Entry> flat_;
  mutable std::atomic<bool> fresh_{false}; // flat_ holds every posting
  std::vector<K> uppers_;                  // bucket i holds values in (uppers_[i-1], uppers_[i]]
  std::vector<std::uint64_t> counts_;      // stored values per bucket
  K previous_{};
};

// ---------------------------------------------------------------------------------------------

class KeywordIndex final : public PostingIndex<std::string> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::keyword; }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* s = std::get_if<std::string>(&m->value)) {
        const Bitmap* p = posting(*s);
        return p == nullptr ? Bitmap() : *p;
      }
    } else if (const auto* any = strings(c, true)) {
      return union_of(*any);
    } else if (const auto* except = strings(c, false)) {
      return except_of(*except);
    }
    return std::nullopt;
  }

  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* s = std::get_if<std::string>(&m->value)) {
        return CardinalityEstimate::exact(posting_size(*s));
      }
    } else if (const auto* any = strings(c, true)) {
      return estimate_any(*any);
    } else if (const auto* except = strings(c, false)) {
      return estimate_except(*except);
    }
    return std::nullopt;
  }

  std::optional<bool> check(const FieldCondition& c, PointOffset offset) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* s = std::get_if<std::string>(&m->value)) {
        return holds(offset, *s);
      }
    } else if (const auto* any = strings(c, true)) {
      return any_in(offset, *any);
    } else if (const auto* except = strings(c, false)) {
      return any_outside(offset, *except);
    }
    return std::nullopt;
  }

protected:
  std::optional<std::string> extract(const Json& v) const override {
    if (v.is_string()) {
      return v.get<std::string>();
    }
    return std::nullopt;
  }

  // The string set of a `match: {any}` (any = true) or `match: {except}` condition.
  static const std::vector<std::string>* strings(const FieldCondition& c, bool any) {
    const AnyVariants* set = nullptr;
    if (const auto* m = std::get_if<MatchAny>(&c.test); m != nullptr && any) {
      set = &m->any;
    } else if (const auto* e = std::get_if<MatchExcept>(&c.test); e != nullptr && !any) {
      set = &e->except;
    }
    return set == nullptr ? nullptr : std::get_if<std::vector<std::string>>(set);
  }
};

// UUIDs in their canonical text form (lowercase, hyphenated) as 16 bytes. Other spellings of a
// UUID are other strings: matching compares text, as it does without an index.
class UuidIndex final : public PostingIndex<PointId::Uuid> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::uuid; }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    const auto keys = keys_of(c);
    if (!keys) {
      return std::nullopt;
    }
    return std::holds_alternative<MatchExcept>(c.test) ? except_of(*keys) : union_of(*keys);
  }
  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    const auto keys = keys_of(c);
    if (!keys) {
      return std::nullopt;
    }
    return std::holds_alternative<MatchExcept>(c.test) ? estimate_except(*keys)
                                                       : estimate_any(*keys);
  }

protected:
  std::optional<PointId::Uuid> extract(const Json& v) const override {
    if (!v.is_string()) {
      return std::nullopt;
    }
    return canonical(v.get_ref<const std::string&>());
  }

private:
  static std::optional<PointId::Uuid> canonical(const std::string& s) {
    auto id = PointId::parse_uuid(s);
    if (!id || id->to_string() != s) {
      return std::nullopt;
    }
    return id->uuid();
  }

  // The sorted keys of a match on strings; nothing when a string is not a canonical UUID (then
  // the condition needs the text comparison of a payload check), except for `except`, where a
  // string that is no stored UUID simply excludes nothing stored.
  static std::optional<std::vector<PointId::Uuid>> keys_of(const FieldCondition& c) {
    std::vector<std::string> strings;
    bool except = false;
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      const auto* s = std::get_if<std::string>(&m->value);
      if (s == nullptr) {
        return std::nullopt;
      }
      strings.push_back(*s);
    } else if (const auto* any = std::get_if<MatchAny>(&c.test)) {
      const auto* s = std::get_if<std::vector<std::string>>(&any->any);
      if (s == nullptr) {
        return std::nullopt;
      }
      strings = *s;
    } else if (const auto* e = std::get_if<MatchExcept>(&c.test)) {
      const auto* s = std::get_if<std::vector<std::string>>(&e->except);
      if (s == nullptr) {
        return std::nullopt;
      }
      strings = *s;
      except = true;
    } else {
      return std::nullopt;
    }
    std::vector<PointId::Uuid> keys;
    for (const std::string& s : strings) {
      if (auto k = canonical(s)) {
        keys.push_back(*k);
      } else if (!except) {
        return std::nullopt;
      }
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }
};

class BoolIndex final : public PostingIndex<bool> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::boolean; }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    const auto* b = value_of(c);
    if (b == nullptr) {
      return std::nullopt;
    }
    const Bitmap* p = posting(*b);
    return p == nullptr ? Bitmap() : *p;
  }
  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    const auto* b = value_of(c);
    if (b == nullptr) {
      return std::nullopt;
    }
    return CardinalityEstimate::exact(posting_size(*b));
  }

  std::optional<bool> check(const FieldCondition& c, PointOffset offset) const override {
    const auto* b = value_of(c);
    if (b == nullptr) {
      return std::nullopt;
    }
    return holds(offset, *b);
  }

protected:
  std::optional<bool> extract(const Json& v) const override {
    if (v.is_boolean()) {
      return v.get<bool>();
    }
    return std::nullopt;
  }

private:
  static const bool* value_of(const FieldCondition& c) {
    const auto* m = std::get_if<MatchValue>(&c.test);
    return m == nullptr ? nullptr : std::get_if<bool>(&m->value);
  }
};

// Integers that fit in 64 signed bits: match value/any/except and numeric ranges. A range is
// declined when some point holds a number this index does not store (a float, a huge unsigned).
class IntegerIndex final : public RangeIndex<std::int64_t> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::integer; }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* n = std::get_if<std::int64_t>(&m->value)) {
        const Bitmap* p = posting(*n);
        return p == nullptr ? Bitmap() : *p;
      }
    } else if (const auto* any = ints(c, true)) {
      return union_of(*any);
    } else if (const auto* except = ints(c, false)) {
      return except_of(*except);
    } else if (const auto* r = std::get_if<NumericRange>(&c.test)) {
      if (other_numbers_.isEmpty()) {
        return range(r->bounds);
      }
    }
    return std::nullopt;
  }

  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* n = std::get_if<std::int64_t>(&m->value)) {
        return CardinalityEstimate::exact(posting_size(*n));
      }
    } else if (const auto* any = ints(c, true)) {
      return estimate_any(*any);
    } else if (const auto* except = ints(c, false)) {
      return estimate_except(*except);
    } else if (const auto* r = std::get_if<NumericRange>(&c.test)) {
      if (other_numbers_.isEmpty()) {
        return estimate_range(r->bounds);
      }
    }
    return std::nullopt;
  }

  std::optional<bool> check(const FieldCondition& c, PointOffset offset) const override {
    if (const auto* m = std::get_if<MatchValue>(&c.test)) {
      if (const auto* n = std::get_if<std::int64_t>(&m->value)) {
        return holds(offset, *n);
      }
    } else if (const auto* any = ints(c, true)) {
      return any_in(offset, *any);
    } else if (const auto* except = ints(c, false)) {
      return any_outside(offset, *except);
    } else if (const auto* r = std::get_if<NumericRange>(&c.test)) {
      if (other_numbers_.isEmpty()) {
        return any_in_range(r->bounds, offset);
      }
    }
    return std::nullopt;
  }

protected:
  std::optional<std::int64_t> extract(const Json& v) const override { return integer_value(v); }

private:
  static const std::vector<std::int64_t>* ints(const FieldCondition& c, bool any) {
    const AnyVariants* set = nullptr;
    if (const auto* m = std::get_if<MatchAny>(&c.test); m != nullptr && any) {
      set = &m->any;
    } else if (const auto* e = std::get_if<MatchExcept>(&c.test); e != nullptr && !any) {
      set = &e->except;
    }
    return set == nullptr ? nullptr : std::get_if<std::vector<std::int64_t>>(set);
  }
};

// An index that serves one kind of range and nothing else.
template <class K, class RangeCondition> class RangeOnlyIndex : public RangeIndex<K> {
public:
  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    if (const auto* r = std::get_if<RangeCondition>(&c.test)) {
      return this->range(r->bounds);
    }
    return std::nullopt;
  }
  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    if (const auto* r = std::get_if<RangeCondition>(&c.test)) {
      return this->estimate_range(r->bounds);
    }
    return std::nullopt;
  }
  std::optional<bool> check(const FieldCondition& c, PointOffset offset) const override {
    if (const auto* r = std::get_if<RangeCondition>(&c.test)) {
      return this->any_in_range(r->bounds, offset);
    }
    return std::nullopt;
  }
};

// Every number, as a double: numeric ranges.
class FloatIndex final : public RangeOnlyIndex<double, NumericRange> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::float_number; }

protected:
  std::optional<double> extract(const Json& v) const override {
    if (v.is_number()) {
      const double d = v.get<double>();
      if (!std::isnan(d)) {
        return d;
      }
    }
    return std::nullopt;
  }
};

// Strings that parse as datetimes, as microseconds: datetime ranges.
class DatetimeIndex final : public RangeOnlyIndex<Timestamp, DatetimeRange> {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::datetime; }

protected:
  std::optional<Timestamp> extract(const Json& v) const override {
    if (v.is_string()) {
      return parse_datetime(v.get_ref<const std::string&>());
    }
    return std::nullopt;
  }
};

// Full text: the words of every string value of a point (tokenize_words), one posting per word.
class TextIndex final : public FieldIndex {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::text; }

  void set(PointOffset offset, const std::vector<const Json*>& values) override {
    std::vector<const Json*> words;
    std::vector<Json> storage;
    for (const Json* v : values) {
      if (v->is_string()) {
        for (std::string& w : tokenize_words(v->get_ref<const std::string&>())) {
          storage.emplace_back(std::move(w));
        }
      }
    }
    words.reserve(storage.size());
    for (const Json& w : storage) {
      words.push_back(&w);
    }
    tokens_.set(offset, words);
  }
  void remove(PointOffset offset) override { tokens_.remove(offset); }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    const auto* text = std::get_if<MatchText>(&c.test);
    if (text == nullptr) {
      return std::nullopt;
    }
    Bitmap out;
    bool first = true;
    for (const std::string& t : text->tokens) {
      const FieldCondition word{c.key, MatchValue{t}};
      const Bitmap p = *tokens_.filter(word);
      if (first) {
        out = p;
        first = false;
      } else {
        out &= p;
      }
    }
    return out;
  }
  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    const auto* text = std::get_if<MatchText>(&c.test);
    if (text == nullptr) {
      return std::nullopt;
    }
    std::vector<CardinalityEstimate> parts;
    for (const std::string& t : text->tokens) {
      parts.push_back(*tokens_.estimate(FieldCondition{c.key, MatchValue{t}}));
    }
    return estimate_all(parts, tokens_.indexed_points());
  }
  std::uint64_t indexed_points() const noexcept override { return tokens_.indexed_points(); }
  std::uint64_t distinct_values() const noexcept override { return tokens_.distinct_values(); }
  void save(ByteWriter& w) const override { tokens_.save(w); }
  Status load(ByteReader& r, PointOffset slots) override { return tokens_.load(r, slots); }

private:
  KeywordIndex tokens_;
};

// Geo points on a grid of 1°×1° cells: a query gathers the cells its shape can touch and checks
// the exact distance or box on each candidate's points.
class GeoIndex final : public FieldIndex {
public:
  PayloadFieldType type() const noexcept override { return PayloadFieldType::geo; }

  void set(PointOffset offset, const std::vector<const Json*>& values) override {
    remove(offset);
    std::vector<GeoPoint> points;
    for (const Json* v : values) {
      if (auto p = geo_point_of(*v)) {
        points.push_back(*p);
      }
    }
    if (points.empty()) {
      return;
    }
    for (const GeoPoint& p : points) {
      cells_[cell_of(p)].add(offset);
    }
    indexed_.add(offset);
    if (points_.size() <= offset) {
      points_.resize(static_cast<std::size_t>(offset) + 1);
    }
    points_[offset] = std::move(points);
  }

  void remove(PointOffset offset) override {
    if (!indexed_.contains(offset)) {
      return;
    }
    indexed_.remove(offset);
    for (const GeoPoint& p : points_[offset]) {
      auto it = cells_.find(cell_of(p));
      if (it != cells_.end()) {
        it->second.remove(offset);
        if (it->second.isEmpty()) {
          cells_.erase(it);
        }
      }
    }
    points_[offset].clear();
    points_[offset].shrink_to_fit();
  }

  std::optional<Bitmap> filter(const FieldCondition& c) const override {
    if (const auto* r = std::get_if<GeoRadius>(&c.test)) {
      return exact(candidates(box_around(*r)), *r);
    }
    if (const auto* b = std::get_if<GeoBoundingBox>(&c.test)) {
      return exact(candidates(*b), *b);
    }
    return std::nullopt;
  }

  std::optional<CardinalityEstimate> estimate(const FieldCondition& c) const override {
    std::optional<Bitmap> candidates_of;
    if (const auto* r = std::get_if<GeoRadius>(&c.test)) {
      candidates_of = candidates(box_around(*r));
    } else if (const auto* b = std::get_if<GeoBoundingBox>(&c.test)) {
      candidates_of = candidates(*b);
    } else {
      return std::nullopt;
    }
    const std::uint64_t max = candidates_of->cardinality();
    return CardinalityEstimate{0, max / 2, max};
  }

  std::uint64_t indexed_points() const noexcept override { return indexed_.cardinality(); }
  std::uint64_t distinct_values() const noexcept override { return cells_.size(); }

  // The indexed points and each one's geo points; the grid is rebuilt from them.
  void save(ByteWriter& w) const override {
    put_bitmap(w, indexed_);
    for (const PointOffset offset : indexed_) {
      const auto& points = points_[offset];
      w.put<std::uint32_t>(static_cast<std::uint32_t>(points.size()));
      for (const GeoPoint& p : points) {
        w.put(p.lon);
        w.put(p.lat);
      }
    }
  }

  Status load(ByteReader& r, PointOffset slots) override {
    auto indexed = get_offsets(r, slots);
    VDB_TRY(indexed);
    if (!indexed->isEmpty()) {
      points_.resize(static_cast<std::size_t>(indexed->maximum()) + 1);
    }
    for (const PointOffset offset : *indexed) {
      auto n = r.get<std::uint32_t>();
      VDB_TRY(n);
      if (*n == 0 || *n > r.left() / 16) {
        return r.corrupt("a point with " + std::to_string(*n) + " geo points");
      }
      auto& points = points_[offset];
      for (std::uint32_t i = 0; i < *n; ++i) {
        auto lon = r.get<double>();
        auto lat = r.get<double>();
        VDB_TRY(lat);
        if (!(*lon >= -180.0 && *lon <= 180.0 && *lat >= -90.0 && *lat <= 90.0)) {
          return r.corrupt("a geo point off the map");
        }
        points.push_back(GeoPoint{*lon, *lat});
        cells_[cell_of(points.back())].add(offset);
      }
    }
    indexed_ = std::move(*indexed);
    return {};
  }

private:
  using Cell = std::pair<int, int>; // (floor(lat), floor(lon))

  static Cell cell_of(const GeoPoint& p) {
    return {static_cast<int>(std::floor(p.lat)), static_cast<int>(std::floor(p.lon))};
  }

  // A box that holds the whole circle (all longitudes near a pole or for huge radii).
  static GeoBoundingBox box_around(const GeoRadius& r) {
    constexpr double kMetersPerDegree = 111'194.9; // along a meridian, at the mean radius
    const double dlat = r.radius_m / kMetersPerDegree + 1e-9;
    const double north = std::min(90.0, r.center.lat + dlat);
    const double south = std::max(-90.0, r.center.lat - dlat);
    const double widest = std::max(std::abs(north), std::abs(south));
    const double cos_lat = std::cos(widest * M_PI / 180.0);
    double dlon = 360.0;
    if (widest < 89.0 && cos_lat > 0) {
      dlon = dlat / cos_lat;
    }
    if (dlon >= 180.0) {
      return GeoBoundingBox{{-180.0, north}, {180.0, south}};
    }
    auto wrap = [](double lon) {
      return lon > 180.0 ? lon - 360.0 : lon < -180.0 ? lon + 360 : lon;
    };
    return GeoBoundingBox{{wrap(r.center.lon - dlon), north}, {wrap(r.center.lon + dlon), south}};
  }

  Bitmap candidates(const GeoBoundingBox& box) const {
    Bitmap out;
    const int lat_lo = static_cast<int>(std::floor(box.bottom_right.lat));
    const int lat_hi = static_cast<int>(std::floor(box.top_left.lat));
    for (auto it = cells_.lower_bound({lat_lo, std::numeric_limits<int>::min()});
         it != cells_.end() && it->first.first <= lat_hi; ++it) {
      const int lon = it->first.second;
      bool hit = false;
      if (box.top_left.lon <= box.bottom_right.lon) {
        hit = lon >= static_cast<int>(std::floor(box.top_left.lon)) &&
              lon <= static_cast<int>(std::floor(box.bottom_right.lon));
      } else {
        hit = lon >= static_cast<int>(std::floor(box.top_left.lon)) ||
              lon <= static_cast<int>(std::floor(box.bottom_right.lon));
      }
      if (hit) {
        out |= it->second;
      }
    }
    return out;
  }

  template <class Shape> Bitmap exact(const Bitmap& candidates, const Shape& shape) const {
    Bitmap out;
    for (const PointOffset offset : candidates) {
      const auto& points = points_[offset];
      if (std::any_of(points.begin(), points.end(),
                      [&](const GeoPoint& p) { return shape.contains(p); })) {
        out.add(offset);
      }
    }
    return out;
  }

  std::map<Cell, Bitmap> cells_;
  std::vector<std::vector<GeoPoint>> points_; // by offset
  Bitmap indexed_;
};

} // namespace

const char* to_string(PayloadFieldType type) noexcept {
  switch (type) {
  case PayloadFieldType::keyword:
    return "keyword";
  case PayloadFieldType::integer:
    return "integer";
  case PayloadFieldType::float_number:
    return "float";
  case PayloadFieldType::boolean:
    return "bool";
  case PayloadFieldType::uuid:
    return "uuid";
  case PayloadFieldType::datetime:
    return "datetime";
  case PayloadFieldType::text:
    return "text";
  case PayloadFieldType::geo:
    return "geo";
  }
  return "?";
}

Expected<PayloadFieldType> parse_payload_field_type(std::string_view text, std::string_view field) {
  for (const auto type :
       {PayloadFieldType::keyword, PayloadFieldType::integer, PayloadFieldType::float_number,
        PayloadFieldType::boolean, PayloadFieldType::uuid, PayloadFieldType::datetime,
        PayloadFieldType::text, PayloadFieldType::geo}) {
    if (text == to_string(type)) {
      return type;
    }
  }
  return invalid(field,
                 "unknown payload index type '" + std::string(text.substr(0, 64)) +
                     "' (expected keyword, integer, float, bool, uuid, datetime, text or geo)");
}

std::unique_ptr<FieldIndex> make_field_index(PayloadFieldType type) {
  switch (type) {
  case PayloadFieldType::keyword:
    return std::make_unique<KeywordIndex>();
  case PayloadFieldType::integer:
    return std::make_unique<IntegerIndex>();
  case PayloadFieldType::float_number:
    return std::make_unique<FloatIndex>();
  case PayloadFieldType::boolean:
    return std::make_unique<BoolIndex>();
  case PayloadFieldType::uuid:
    return std::make_unique<UuidIndex>();
  case PayloadFieldType::datetime:
    return std::make_unique<DatetimeIndex>();
  case PayloadFieldType::text:
    return std::make_unique<TextIndex>();
  case PayloadFieldType::geo:
    return std::make_unique<GeoIndex>();
  }
  return nullptr;
}

} // namespace vdb
