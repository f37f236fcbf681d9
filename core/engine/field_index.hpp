// A payload index on one field (key path): posting lists as roaring bitmaps of point offsets,
// plus what each index type needs to answer its conditions (ordered values and a histogram for
// ranges, tokens for text, a grid for geo). An index answers a condition exactly or declines
// (std::nullopt), and the caller then checks payloads: results never depend on which indexes
// exist.
#pragma once

#include "core/common/error.hpp"
#include "core/engine/cardinality.hpp"
#include "core/engine/filter.hpp"
#include "core/storage/codec.hpp"

#include <roaring/roaring.hh>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vdb {

/// The `field_schema` of a payload index, as Qdrant names them.
enum class PayloadFieldType { keyword, integer, float_number, boolean, uuid, datetime, text, geo };

/// "keyword", "integer", "float", "bool", "uuid", "datetime", "text", "geo".
const char* to_string(PayloadFieldType type) noexcept;
/// Parses the names above; errors name `field`.
Expected<PayloadFieldType> parse_payload_field_type(std::string_view text,
                                                    std::string_view field = "field_schema");

/// Offsets of points inside a collection (dense, from 0).
using PointOffset = std::uint32_t;
using Bitmap = Roaring;

class FieldIndex {
public:
  virtual ~FieldIndex() = default;
  FieldIndex() = default;
  FieldIndex(const FieldIndex&) = delete;
  FieldIndex& operator=(const FieldIndex&) = delete;

  virtual PayloadFieldType type() const noexcept = 0;

  /// Indexes the values the field's key reaches in a point's payload (replacing what the point
  /// had). Values of other types are remembered only as "has another value".
  virtual void set(PointOffset offset, const std::vector<const Json*>& values) = 0;
  /// Forgets the point.
  virtual void remove(PointOffset offset) = 0;

  /// The points matching `condition` exactly, or nothing when this index cannot serve it (a
  /// condition of another kind, or values the index could not store that might match).
  virtual std::optional<Bitmap> filter(const FieldCondition& condition) const = 0;
  /// An estimate for the conditions filter() serves; nothing for the others.
  virtual std::optional<CardinalityEstimate> estimate(const FieldCondition& condition) const = 0;
  /// Whether filter() answers `condition` with a bitmap the index holds (a match of one value:
  /// its posting), so that it costs a copy rather than a build however many points it holds.
  virtual bool filter_is_lookup(const FieldCondition& condition) const noexcept {
    (void)condition;
    return false;
  }
  /// Whether the point at `offset` matches `condition`, read from the index's own copy of the
  /// point's values (O(values of the point)), or nothing when this index cannot tell exactly.
  /// Gives the same answers as filter(): plans use it instead of building a large bitmap.
  virtual std::optional<bool> check(const FieldCondition& condition, PointOffset offset) const {
    (void)condition, (void)offset;
    return std::nullopt;
  }

  /// Where check() reads a point's data: the base of an array indexed by offset and the size of
  /// one entry, so a search can prefetch it; {nullptr, 0} when there is no such array.
  virtual std::pair<const char*, std::size_t> check_data() const noexcept { return {nullptr, 0}; }

  /// Groups of points that share a value, for the graph's payload-aware links: one per
  /// keyword, uuid or bool value held by at least `bucket` points; for numbers, runs of
  /// consecutive values holding at least `bucket` points each (the last run may hold fewer).
  /// Full-text and geo indexes give none.
  virtual std::vector<Bitmap> blocks(std::uint64_t bucket) const {
    (void)bucket;
    return {};
  }

  /// Points with at least one value this index stores.
  virtual std::uint64_t indexed_points() const noexcept = 0;
  /// Distinct stored values (keywords, numbers, tokens, points on the map).
  virtual std::uint64_t distinct_values() const noexcept = 0;

  /// The index's own data (posting lists by value, or geo points by offset), for the
  /// segment's points file; what load() rebuilds from it (per-point arrays, histograms, grid
  /// cells) costs a pass over the postings, not a pass over the payloads.
  virtual void save(ByteWriter& w) const = 0;
  /// Fills this empty index from save()'s bytes, checking every offset against `slots`, the
  /// order of the values and their ranges: a corrupt file is refused, never half-loaded.
  virtual Status load(ByteReader& r, PointOffset slots) = 0;
};

std::unique_ptr<FieldIndex> make_field_index(PayloadFieldType type);

} // namespace vdb
