// Property tests with fixed seeds: thousands of random payloads and random filters. Every
// filter must give the same matches (1) from a naive reference evaluator written plainly here,
// (2) from payload checks, (3) from a collection without payload indexes and (4) from one with
// an index on every field, closed and reopened from its folder so that every index is read back
// from the segment files; and every cardinality estimate must hold the true count.
#include "core/engine/filter_checker.hpp"
#include "support/engine.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

namespace vdb {
namespace {

constexpr int kPoints = 1200;
#ifdef VDB_TEST_REDUCED
constexpr int kFilters =
    300; // the sanitizer build runs unoptimized: the same property, fewer cases
#else
constexpr int kFilters = 1500;
#endif

const std::vector<std::string> kKeywords{"a", "b", "c", "d", "e", "f"};
const std::vector<std::string> kWords{"red", "green", "blue", "fast", "slow", "big", "small"};
const std::vector<std::string> kUuids{"550e8400-e29b-41d4-a716-446655440000",
                                      "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                      "6ba7b811-9dad-11d1-80b4-00c04fd430c8"};
const std::vector<std::string> kDays{"2024-01-01T00:00:00Z", "2024-01-02T12:00:00Z",
                                     "2024-01-03",           "2024-01-04T08:30:00+02:00",
                                     "2024-01-05 23:59:59",  "not a date"};

class Random {
public:
  explicit Random(unsigned seed) : gen_(seed) {}
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(gen_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen_); }
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen_);
  }
  template <class T> const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))];
  }

private:
  std::mt19937 gen_;
};

// ---- random payloads ------------------------------------------------------------------------

Json random_scalar(Random& r) {
  switch (r.below(5)) {
  case 0:
    return r.pick(kKeywords);
  case 1:
    return r.below(10);
  case 2:
    return r.uniform(0, 10);
  case 3:
    return r.chance(0.5);
  default:
    return nullptr;
  }
}

Json random_payload(Random& r) {
  Json p = Json::object();
  if (r.chance(0.85)) { // keyword, sometimes several, sometimes another type
    p["kw"] = r.chance(0.2)   ? Json::array({r.pick(kKeywords), r.pick(kKeywords)})
              : r.chance(0.1) ? random_scalar(r)
                              : Json(r.pick(kKeywords));
  }
  if (r.chance(0.85)) {
    p["num"] = r.chance(0.15)   ? Json::array({r.below(20), r.below(20)})
               : r.chance(0.05) ? Json(r.uniform(0, 20))
                                : Json(r.below(20));
  }
  if (r.chance(0.8)) {
    p["flt"] = r.chance(0.3) ? Json(r.below(10)) : Json(r.uniform(0, 10));
  }
  if (r.chance(0.7)) {
    p["flag"] = r.chance(0.9) ? Json(r.chance(0.5)) : Json(nullptr);
  }
  if (r.chance(0.6)) {
    Json tags = Json::array();
    for (int i = r.below(4); i > 0; --i) {
      tags.push_back(r.chance(0.9) ? Json(r.pick(kKeywords)) : Json(nullptr));
    }
    p["tags"] = tags;
  }
  if (r.chance(0.7)) {
    p["when"] = r.pick(kDays);
  }
  if (r.chance(0.7)) {
    std::string text;
    for (int i = 1 + r.below(4); i > 0; --i) {
      std::string w = r.pick(kWords);
      if (r.chance(0.2)) {
        w[0] = static_cast<char>(std::toupper(w[0]));
      }
      text += w + (r.chance(0.3) ? ", " : " ");
    }
    p["text"] = text;
  }
  if (r.chance(0.6)) {
    p["geo"] = Json{{"lon", r.uniform(-10, 10)}, {"lat", r.uniform(40, 60)}};
  }
  if (r.chance(0.6)) {
    std::string u = r.pick(kUuids);
    if (r.chance(0.1)) {
      std::transform(u.begin(), u.end(), u.begin(),
                     [](unsigned char c) { return std::toupper(c); });
    }
    p["uid"] = u;
  }
  if (r.chance(0.5)) {
    Json items = Json::array();
    for (int i = r.below(3); i >= 0; --i) {
      items.push_back(Json{{"x", r.below(5)}, {"y", r.pick(kKeywords)}});
    }
    p["items"] = items;
  }
  return p;
}

// ---- random filters, as JSON --------------------------------------------------------------

Json bounds(Random& r, double lo, double hi, bool integers) {
  Json b = Json::object();
  const auto value = [&]() {
    return integers ? Json(r.below(static_cast<int>(hi))) : Json(r.uniform(lo, hi));
  };
  if (r.chance(0.6)) {
    b[r.chance(0.5) ? "gt" : "gte"] = value();
  }
  if (b.empty() || r.chance(0.5)) {
    b[r.chance(0.5) ? "lt" : "lte"] = value();
  }
  return b;
}

Json random_condition(Random& r, int depth);

Json random_filter(Random& r, int depth) {
  Json f = Json::object();
  const auto clause = [&](int max) {
    Json list = Json::array();
    for (int i = 1 + r.below(max); i > 0; --i) {
      list.push_back(random_condition(r, depth));
    }
    return list;
  };
  if (r.chance(0.7)) {
    f["must"] = clause(3);
  }
  if (r.chance(0.35)) {
    f["should"] = clause(3);
  }
  if (r.chance(0.3)) {
    f["must_not"] = clause(2);
  }
  if (r.chance(0.15)) {
    Json conditions = clause(4);
    f["min_should"] = Json{{"conditions", conditions},
                           {"min_count", r.below(static_cast<int>(conditions.size()) + 1)}};
  }
  return f;
}

Json random_condition(Random& r, int depth) {
  if (depth < 3 && r.chance(0.12)) {
    return random_filter(r, depth + 1);
  }
  switch (r.below(17)) {
  case 0:
    return Json{{"key", "kw"}, {"match", {{"value", r.pick(kKeywords)}}}};
  case 1:
    return Json{{"key", r.chance(0.5) ? "kw" : "tags"},
                {"match", {{"any", Json::array({r.pick(kKeywords), r.pick(kKeywords)})}}}};
  case 2:
    return Json{
        {"key", r.chance(0.5) ? "kw" : "tags"},
        {"match",
         {{"except", Json::array({r.pick(kKeywords), r.pick(kKeywords), r.pick(kKeywords)})}}}};
  case 3:
    return Json{{"key", "num"}, {"match", {{"value", r.below(20)}}}};
  case 4:
    return Json{
        {"key", "num"},
        {"match", {{r.chance(0.5) ? "any" : "except", Json::array({r.below(20), r.below(20)})}}}};
  case 5:
    return Json{{"key", r.chance(0.5) ? "num" : "flt"}, {"range", bounds(r, 0, 20, r.chance(0.5))}};
  case 6:
    return Json{{"key", "flag"}, {"match", {{"value", r.chance(0.5)}}}};
  case 7: {
    Json b = Json::object();
    const std::string& day = r.pick(kDays);
    b[r.chance(0.5) ? "gte" : "gt"] = day == "not a date" ? kDays[1] : day;
    if (r.chance(0.5)) {
      b["lt"] = "2024-01-04T12:00:00Z";
    }
    return Json{{"key", "when"}, {"range", b}};
  }
  case 8:
    return Json{
        {"key", "text"},
        {"match", {{"text", r.pick(kWords) + (r.chance(0.5) ? " " + r.pick(kWords) : "")}}}};
  case 9:
    return Json{{"key", "geo"},
                {"geo_radius",
                 {{"center", {{"lon", r.uniform(-10, 10)}, {"lat", r.uniform(40, 60)}}},
                  {"radius", r.uniform(1e4, 8e5)}}}};
  case 10: {
    const double lon = r.uniform(-10, 8);
    const double lat = r.uniform(42, 60);
    return Json{
        {"key", "geo"},
        {"geo_bounding_box",
         {{"top_left", {{"lon", lon}, {"lat", lat}}},
          {"bottom_right", {{"lon", lon + r.uniform(0, 10)}, {"lat", lat - r.uniform(0, 10)}}}}}};
  }
  case 11:
    return Json{{"key", "uid"}, {"match", {{"value", r.pick(kUuids)}}}};
  case 12:
    return Json{{"key", r.chance(0.5) ? "tags" : "kw"}, {"values_count", bounds(r, 0, 4, true)}};
  case 13:
    return Json{
        {r.chance(0.5) ? "is_empty" : "is_null", Json{{"key", r.chance(0.5) ? "flag" : "tags"}}}};
  case 14:
    return Json{{"has_id", Json::array({r.below(kPoints), r.below(kPoints), r.below(kPoints)})}};
  case 15: {
    Json inner = Json{
        {"must", Json::array({Json{{"key", "x"}, {"range", bounds(r, 0, 5, true)}},
                              Json{{"key", "y"}, {"match", {{"value", r.pick(kKeywords)}}}}})}};
    return Json{{"nested", {{"key", "items"}, {"filter", inner}}}};
  }
  default:
    return Json{{"key", "items[].y"}, {"match", {{"value", r.pick(kKeywords)}}}};
  }
}

// ---- the reference evaluator: each rule spelled out on plain JSON --------------------------

std::vector<Json> values_of(const Json& payload, const std::string& key) {
  std::vector<Json> out;
  const auto add = [&](const Json& v) {
    if (v.is_array()) {
      for (const Json& e : v) {
        out.push_back(e);
      }
    } else {
      out.push_back(v);
    }
  };
  if (key == "items[].y" || key == "items[].x") {
    if (payload.contains("items") && payload["items"].is_array()) {
      for (const Json& item : payload["items"]) {
        if (item.is_object() && item.contains(key.substr(8))) {
          add(item[key.substr(8)]);
        }
      }
    }
    return out;
  }
  if (payload.is_object() && payload.contains(key)) {
    add(payload[key]);
  }
  return out;
}

bool is_int(const Json& v) { return v.is_number_integer(); }

std::set<std::string> words_of(const std::vector<Json>& values) {
  std::set<std::string> words;
  for (const Json& v : values) {
    if (!v.is_string()) {
      continue;
    }
    std::string w;
    for (const char c : v.get<std::string>() + " ") {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!w.empty()) {
        words.insert(w);
        w.clear();
      }
    }
  }
  return words;
}

template <class T> bool in_bounds(const Json& b, T v, T (*read)(const Json&)) {
  if (b.contains("gt") && !(v > read(b["gt"])))
    return false;
  if (b.contains("gte") && !(v >= read(b["gte"])))
    return false;
  if (b.contains("lt") && !(v < read(b["lt"])))
    return false;
  if (b.contains("lte") && !(v <= read(b["lte"])))
    return false;
  return true;
}
double read_double(const Json& j) { return j.get<double>(); }
Timestamp read_time(const Json& j) { return *parse_datetime(j.get<std::string>()); }

bool reference(const Json& filter, std::uint64_t id, const Json& payload);

bool reference_condition(const Json& c, std::uint64_t id, const Json& payload) {
  if (c.contains("has_id")) {
    for (const Json& x : c["has_id"]) {
      if (x.get<std::uint64_t>() == id)
        return true;
    }
    return false;
  }
  if (c.contains("is_empty") || c.contains("is_null")) {
    const bool empty = c.contains("is_empty");
    const auto values =
        values_of(payload, c[empty ? "is_empty" : "is_null"]["key"].get<std::string>());
    int nulls = 0;
    for (const Json& v : values)
      nulls += v.is_null() ? 1 : 0;
    return empty ? nulls == static_cast<int>(values.size()) : nulls > 0;
  }
  if (c.contains("nested")) {
    for (const Json& item : values_of(payload, c["nested"]["key"].get<std::string>())) {
      if (item.is_object() && reference(c["nested"]["filter"], id, item))
        return true;
    }
    return false;
  }
  if (!c.contains("key")) {
    return reference(c, id, payload);
  }
  const auto values = values_of(payload, c["key"].get<std::string>());
  if (c.contains("values_count")) {
    std::uint64_t n = 0;
    for (const Json& v : values)
      n += v.is_null() ? 0 : 1;
    return in_bounds<double>(c["values_count"], static_cast<double>(n), read_double);
  }
  if (c.contains("match") && c["match"].contains("text")) {
    const auto have = words_of(values);
    for (const std::string& w : words_of({c["match"]["text"]})) {
      if (have.count(w) == 0)
        return false;
    }
    return true;
  }
  for (const Json& v : values) {
    if (c.contains("match")) {
      const Json& m = c["match"];
      if (m.contains("value")) {
        const Json& want = m["value"];
        if (want.is_string() && v.is_string() && v == want)
          return true;
        if (want.is_boolean() && v.is_boolean() && v == want)
          return true;
        if (is_int(want) && is_int(v) && v.get<std::int64_t>() == want.get<std::int64_t>())
          return true;
      } else if (m.contains("any")) {
        for (const Json& x : m["any"]) {
          if ((x.is_string() && v.is_string() && v == x) ||
              (is_int(x) && is_int(v) && v.get<std::int64_t>() == x.get<std::int64_t>()))
            return true;
        }
      } else if (m.contains("except")) {
        if (v.is_null())
          continue;
        const bool strings = m["except"].empty() || m["except"][0].is_string();
        if (strings != v.is_string() || (!strings && !is_int(v)))
          return true;
        bool listed = false;
        for (const Json& x : m["except"]) {
          listed = listed || (strings ? v == x : v.get<std::int64_t>() == x.get<std::int64_t>());
        }
        if (!listed)
          return true;
      }
    } else if (c.contains("range")) {
      const Json& b = c["range"];
      const bool datetime = b.begin()->is_string();
      if (datetime && v.is_string()) {
        const auto t = parse_datetime(v.get<std::string>());
        if (t && in_bounds<Timestamp>(b, *t, read_time))
          return true;
      } else if (!datetime && v.is_number() && in_bounds<double>(b, v.get<double>(), read_double)) {
        return true;
      }
    } else if (c.contains("geo_radius")) {
      if (v.is_object()) {
        const Json& g = c["geo_radius"];
        const GeoPoint p{v["lon"].get<double>(), v["lat"].get<double>()};
        const GeoPoint center{g["center"]["lon"].get<double>(), g["center"]["lat"].get<double>()};
        if (geo_distance_m(center, p) <= g["radius"].get<double>())
          return true;
      }
    } else if (c.contains("geo_bounding_box")) {
      if (v.is_object()) {
        const Json& g = c["geo_bounding_box"];
        const double lon = v["lon"].get<double>();
        const double lat = v["lat"].get<double>();
        if (lon >= g["top_left"]["lon"].get<double>() &&
            lon <= g["bottom_right"]["lon"].get<double>() &&
            lat <= g["top_left"]["lat"].get<double>() &&
            lat >= g["bottom_right"]["lat"].get<double>())
          return true;
      }
    }
  }
  return false;
}

bool reference(const Json& filter, std::uint64_t id, const Json& payload) {
  const auto list = [](const Json& f, const char* k) {
    return f.contains(k) ? f[k] : Json::array();
  };
  for (const Json& c : list(filter, "must")) {
    if (!reference_condition(c, id, payload))
      return false;
  }
  for (const Json& c : list(filter, "must_not")) {
    if (reference_condition(c, id, payload))
      return false;
  }
  const Json should = list(filter, "should");
  if (!should.empty()) {
    bool any = false;
    for (const Json& c : should)
      any = any || reference_condition(c, id, payload);
    if (!any)
      return false;
  }
  if (filter.contains("min_should")) {
    std::uint64_t held = 0;
    for (const Json& c : filter["min_should"]["conditions"])
      held += reference_condition(c, id, payload) ? 1 : 0;
    if (held < filter["min_should"]["min_count"].get<std::uint64_t>())
      return false;
  }
  return true;
}

// ---- the property --------------------------------------------------------------------------

std::unique_ptr<Collection> make_collection(const EngineContext& context,
                                            const fs::path& dir = {}) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{2, Distance::dot, false, {}, {}};
  auto c = dir.empty() ? Collection::create("property", config, context)
                       : Collection::create("property", config, context, dir);
  EXPECT_TRUE(c.ok());
  return std::move(*c);
}

TEST(FilterProperty, EveryWayOfEvaluatingAgreesWithTheReference) {
  Random r(20261124);
  const EngineContext context = test::engine_context();
  auto plain = make_collection(context);
  test::TempDir tmp;
  auto indexed = make_collection(context, tmp.path() / "indexed");
  const std::vector<std::pair<const char*, PayloadFieldType>> indexes{
      {"kw", PayloadFieldType::keyword},   {"tags", PayloadFieldType::keyword},
      {"num", PayloadFieldType::integer},  {"flt", PayloadFieldType::float_number},
      {"flag", PayloadFieldType::boolean}, {"when", PayloadFieldType::datetime},
      {"text", PayloadFieldType::text},    {"geo", PayloadFieldType::geo},
      {"uid", PayloadFieldType::uuid},     {"items[].y", PayloadFieldType::keyword}};
  // Half the indexes before the data, half after (both fill paths).
  for (std::size_t i = 0; i < indexes.size(); i += 2) {
    ASSERT_TRUE(
        indexed->create_payload_index(*JsonPath::parse(indexes[i].first), indexes[i].second).ok());
  }
  std::vector<Json> payloads;
  std::vector<PointStruct> points;
  for (int i = 0; i < kPoints; ++i) {
    payloads.push_back(random_payload(r));
    points.push_back(PointStruct{PointId::from_number(static_cast<std::uint64_t>(i)),
                                 {{"", {1.0F, 0.0F}}},
                                 payloads.back()});
  }
  ASSERT_TRUE(plain->upsert(points).ok());
  ASSERT_TRUE(indexed->upsert(points).ok());
  for (std::size_t i = 1; i < indexes.size(); i += 2) {
    ASSERT_TRUE(
        indexed->create_payload_index(*JsonPath::parse(indexes[i].first), indexes[i].second).ok());
  }
  // Delete and rewrite some points, so indexes see removals and updates too.
  std::vector<PointId> gone;
  for (int i = 0; i < kPoints; i += 17) {
    gone.push_back(PointId::from_number(static_cast<std::uint64_t>(i)));
    payloads[static_cast<std::size_t>(i)] = nullptr;
  }
  ASSERT_TRUE(plain->delete_points(gone).ok());
  ASSERT_TRUE(indexed->delete_points(gone).ok());
  for (int i = 5; i < kPoints; i += 23) {
    if (payloads[static_cast<std::size_t>(i)].is_null())
      continue;
    Json fresh = random_payload(r);
    payloads[static_cast<std::size_t>(i)] = fresh;
    const std::vector<PointId> one{PointId::from_number(static_cast<std::uint64_t>(i))};
    ASSERT_TRUE(plain->overwrite_payload(fresh, one).ok());
    ASSERT_TRUE(indexed->overwrite_payload(fresh, one).ok());
  }
  // Closing writes a checkpoint; opening reads every index from it, building none.
  indexed.reset();
  auto reopened = Collection::open("property", tmp.path() / "indexed", context);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  indexed = std::move(*reopened);
  ASSERT_EQ(indexed->info().storage.payload_indexes_built_at_start, 0U);
  ASSERT_EQ(indexed->info().payload_schema.size(), indexes.size());

  std::uint64_t nonempty = 0;
  for (int f = 0; f < kFilters; ++f) {
    if (f % 50 == 25) { // writes between reads: indexes must not serve stale ranges
      const int i = 1 + 17 * static_cast<int>(r.below(kPoints / 17 - 1));
      Json fresh = random_payload(r);
      payloads[static_cast<std::size_t>(i)] = fresh;
      const std::vector<PointId> one{PointId::from_number(static_cast<std::uint64_t>(i))};
      ASSERT_TRUE(plain->overwrite_payload(fresh, one).ok());
      ASSERT_TRUE(indexed->overwrite_payload(fresh, one).ok());
    }
    const Json filter_json = random_filter(r, 1);
    auto filter = parse_filter(filter_json);
    ASSERT_TRUE(filter.ok()) << filter.error().message << "\n" << filter_json.dump();
    std::uint64_t expected = 0;
    for (int i = 0; i < kPoints; ++i) {
      const Json& payload = payloads[static_cast<std::size_t>(i)];
      if (payload.is_null())
        continue;
      const bool want = reference(filter_json, static_cast<std::uint64_t>(i), payload);
      expected += want ? 1 : 0;
      ASSERT_EQ(check_filter(*filter, PointId::from_number(static_cast<std::uint64_t>(i)), payload),
                want)
          << "point " << i << " " << payload.dump() << "\nfilter " << filter_json.dump();
    }
    nonempty += expected > 0 ? 1 : 0;
    ASSERT_EQ(*plain->count(&*filter), expected) << filter_json.dump();
    ASSERT_EQ(*indexed->count(&*filter), expected) << filter_json.dump();
    for (const Collection* c : {plain.get(), indexed.get()}) {
      const CardinalityEstimate e = c->estimate(*filter);
      ASSERT_LE(e.min, expected) << filter_json.dump();
      ASSERT_GE(e.max, expected) << filter_json.dump();
      ASSERT_LE(e.min, e.expected);
      ASSERT_LE(e.expected, e.max);
    }
    if (f % 10 == 0) { // scroll pages agree too
      ScrollRequest scroll;
      scroll.filter = &*filter;
      scroll.limit = 1 + static_cast<std::size_t>(r.below(50));
      scroll.with_payload = PayloadSelector::none();
      std::vector<PointId> a;
      std::vector<PointId> b;
      for (auto* out : {&a, &b}) {
        const Collection* c = out == &a ? plain.get() : indexed.get();
        scroll.offset.reset();
        do {
          auto page = c->scroll(scroll);
          ASSERT_TRUE(page.ok());
          for (const Record& rec : page->points)
            out->push_back(rec.id);
          scroll.offset = page->next_page_offset;
        } while (scroll.offset);
      }
      ASSERT_EQ(a.size(), expected);
      ASSERT_EQ(a, b);
      ASSERT_TRUE(std::is_sorted(a.begin(), a.end()));
    }
  }
  // The generator must produce filters that select something, or the test proves little.
  EXPECT_GT(nonempty, kFilters / 3);
}

} // namespace
} // namespace vdb
