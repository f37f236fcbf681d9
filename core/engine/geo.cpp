#include "core/engine/geo.hpp"

#include <cmath>

namespace vdb {

std::optional<GeoPoint> geo_point_of(const Json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  const auto lon = value.find("lon");
  const auto lat = value.find("lat");
  if (lon == value.end() || lat == value.end() || !lon->is_number() || !lat->is_number()) {
    return std::nullopt;
  }
  const GeoPoint p{lon->get<double>(), lat->get<double>()};
  if (!(p.lon >= -180.0 && p.lon <= 180.0 && p.lat >= -90.0 && p.lat <= 90.0)) {
    return std::nullopt;
  }
  return p;
}

double geo_distance_m(const GeoPoint& a, const GeoPoint& b) noexcept {
  constexpr double kEarthRadiusM = 6'371'008.8;
  constexpr double kRadians = M_PI / 180.0;
  const double dlat = (b.lat - a.lat) * kRadians;
  const double dlon = (b.lon - a.lon) * kRadians;
  const double s = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat * kRadians) * std::cos(b.lat * kRadians) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::sqrt(std::min(1.0, s)));
}

} // namespace vdb
