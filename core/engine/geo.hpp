// Geographic points in payloads ({"lon": .., "lat": ..}) and the two shapes a filter can ask
// about: a circle (center and radius in meters) and a bounding box.
#pragma once

#include "core/engine/payload.hpp"

#include <optional>

namespace vdb {

struct GeoPoint {
  double lon = 0; ///< degrees, -180..180
  double lat = 0; ///< degrees, -90..90
};

/// The payload value as a geo point: an object with numeric `lon` in -180..180 and `lat` in
/// -90..90 (other keys are ignored). Anything else is not a geo point.
std::optional<GeoPoint> geo_point_of(const Json& value);

/// Great-circle distance in meters (haversine, mean Earth radius 6,371,008.8 m).
double geo_distance_m(const GeoPoint& a, const GeoPoint& b) noexcept;

struct GeoRadius {
  GeoPoint center;
  double radius_m = 0; ///< meters, >= 0
  /// Within `radius_m` of the center, the boundary included.
  bool contains(const GeoPoint& p) const noexcept { return geo_distance_m(center, p) <= radius_m; }
};

struct GeoBoundingBox {
  GeoPoint top_left;     ///< north-west corner
  GeoPoint bottom_right; ///< south-east corner
  /// Inside the box, the edges included. A box whose west edge lies east of its east edge
  /// crosses the antimeridian (top_left.lon > bottom_right.lon).
  bool contains(const GeoPoint& p) const noexcept {
    if (p.lat > top_left.lat || p.lat < bottom_right.lat) {
      return false;
    }
    if (top_left.lon <= bottom_right.lon) {
      return p.lon >= top_left.lon && p.lon <= bottom_right.lon;
    }
    return p.lon >= top_left.lon || p.lon <= bottom_right.lon;
  }
};

} // namespace vdb
