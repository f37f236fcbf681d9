#include "protocol/convert.hpp"

#include <cstring>

namespace vdb::wire {
namespace {

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

} // namespace

// ---- errors --------------------------------------------------------------------------------

namespace {

using C = rpc::Error::Code;
using X = kj::Exception::Type;

// How every Errc crosses the wire, both ways: expected outcomes as a value in the result,
// failures of the infrastructure as a Cap'n Proto exception of the matching type.
struct Route {
  Errc code;
  ErrorRoute wire;
};
constexpr Route kRoutes[] = {
    {Errc::ok, {true, C::OK, X::FAILED}},
    {Errc::invalid_argument, {true, C::INVALID_ARGUMENT, X::FAILED}},
    {Errc::not_found, {true, C::NOT_FOUND, X::FAILED}},
    {Errc::already_exists, {true, C::ALREADY_EXISTS, X::FAILED}},
    {Errc::out_of_range, {true, C::OUT_OF_RANGE, X::FAILED}},
    {Errc::unsupported, {true, C::UNSUPPORTED, X::UNIMPLEMENTED}},
    {Errc::permission_denied, {true, C::PERMISSION_DENIED, X::FAILED}},
    {Errc::deadline_exceeded, {true, C::DEADLINE_EXCEEDED, X::OVERLOADED}},
    {Errc::unavailable, {false, C::OK, X::DISCONNECTED}},
    {Errc::out_of_memory, {false, C::OK, X::OVERLOADED}},
    {Errc::io_error, {false, C::OK, X::FAILED}},
    {Errc::no_space, {false, C::OK, X::FAILED}},
    {Errc::corrupt, {false, C::OK, X::FAILED}},
    {Errc::internal, {false, C::OK, X::FAILED}},
};

} // namespace

ErrorRoute route(Errc code) noexcept {
  for (const Route& r : kRoutes) {
    if (r.code == code) {
      return r.wire;
    }
  }
  return {false, C::OK, X::FAILED};
}

Error from_exception(const kj::Exception& e) {
  const std::string what = e.getDescription().cStr();
  switch (e.getType()) {
  case X::DISCONNECTED: // the server is stopping, or the connection is gone
  case X::OVERLOADED:
    return Error{Errc::unavailable, "vdbd: " + what};
  case X::UNIMPLEMENTED:
    return Error{Errc::unsupported, "vdbd: " + what};
  case X::FAILED:
    break;
  }
  return Error{Errc::internal, "vdbd: " + what};
}

void put_error(const Error& error, rpc::Error::Builder out) {
  const ErrorRoute r = route(error.code);
  if (!r.as_value) {
    throw kj::Exception(r.exception, __FILE__, __LINE__,
                        kj::str(to_string(error.code), ": ", error.message.c_str()));
  }
  out.setCode(r.code);
  out.setMessage(error.message);
  // Messages name the field first ("points[3] (id 7): ..."): the field is what precedes ": ".
  if (error.code == Errc::invalid_argument) {
    const auto colon = error.message.find(": ");
    if (colon != std::string::npos) {
      out.setField(error.message.substr(0, colon));
    }
  }
}

Status get_error(rpc::Error::Reader in) {
  if (in.getCode() == C::OK) {
    return {};
  }
  for (const Route& r : kRoutes) {
    if (r.wire.as_value && r.wire.code == in.getCode()) {
      return Status(r.code, text(in.getMessage()));
    }
  }
  // A code from a newer server.
  return Status(Errc::internal, text(in.getMessage()));
}

// ---- values --------------------------------------------------------------------------------

Expected<Json> get_json(capnp::Text::Reader t, const std::string& field) {
  Json j = Json::parse(t.begin(), t.end(), nullptr, false);
  if (j.is_discarded()) {
    return invalid(field, "is not valid JSON");
  }
  return j;
}

Expected<std::optional<Json>> get_optional_json(capnp::Text::Reader t, const std::string& field) {
  if (t.size() == 0) {
    return std::optional<Json>();
  }
  auto j = get_json(t, field);
  VDB_TRY(j);
  return std::optional<Json>(std::move(*j));
}

std::string put_json(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Expected<PointId> get_id(rpc::PointId::Reader in, const std::string& field) {
  if (in.isUuid()) {
    return PointId::parse_uuid(text(in.getUuid()), field);
  }
  return PointId::from_number(in.getNum());
}

void put_id(const PointId& id, rpc::PointId::Builder out) {
  if (id.is_uuid()) {
    out.setUuid(id.to_string());
  } else {
    out.setNum(id.number());
  }
}

Expected<std::vector<PointId>> get_ids(capnp::List<rpc::PointId>::Reader in,
                                       const std::string& field) {
  std::vector<PointId> out;
  out.reserve(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    auto id = get_id(in[i], field + "[" + std::to_string(i) + "]");
    VDB_TRY(id);
    out.push_back(*id);
  }
  return out;
}

void put_ids(const std::vector<PointId>& ids, capnp::List<rpc::PointId>::Builder out) {
  for (unsigned i = 0; i < ids.size(); ++i) {
    put_id(ids[i], out[i]);
  }
}

std::vector<float> get_floats(capnp::List<float>::Reader in) {
  // A List(Float32) is stored as packed little-endian floats: copy the bytes at once.
  std::vector<float> out(in.size());
  if (out.empty()) {
    return out; // memcpy to the null data() of an empty vector is undefined
  }
  const auto bytes = capnp::AnyList::Reader(in).getRawBytes();
  if (bytes.size() == out.size() * sizeof(float)) {
    std::memcpy(out.data(), bytes.begin(), bytes.size());
  } else {
    for (unsigned i = 0; i < in.size(); ++i) {
      out[i] = in[i];
    }
  }
  return out;
}

void put_floats(const std::vector<float>& v, capnp::List<float>::Builder out) {
  for (unsigned i = 0; i < v.size(); ++i) {
    out.set(i, v[i]);
  }
}

Expected<NamedVectors> get_vectors(capnp::List<rpc::NamedVector>::Reader in,
                                   const std::string& field) {
  NamedVectors out;
  for (unsigned i = 0; i < in.size(); ++i) {
    std::string name = text(in[i].getName());
    if (out.count(name) != 0) {
      return invalid(field + "[" + std::to_string(i) + "]", "vector '" + name + "' is given twice");
    }
    out.emplace(std::move(name), get_floats(in[i].getData()));
  }
  return out;
}

namespace {
template <class Builder> void put_named(const NamedVectors& vectors, Builder out) {
  auto list = out.initVectors(static_cast<unsigned>(vectors.size()));
  unsigned i = 0;
  for (const auto& [name, v] : vectors) {
    list[i].setName(name);
    put_floats(v, list[i].initData(static_cast<unsigned>(v.size())));
    ++i;
  }
}
} // namespace

void put_vectors(const NamedVectors& vectors, rpc::Record::Builder out) { put_named(vectors, out); }
void put_vectors(const NamedVectors& vectors, rpc::Point::Builder out) { put_named(vectors, out); }

namespace {
// A point's id and vectors, the part every point list shares.
Expected<PointVectors> get_id_and_vectors(rpc::Point::Reader in, const std::string& at) {
  auto id = get_id(in.getId(), at + ".id");
  VDB_TRY(id);
  auto vectors = get_vectors(in.getVectors(), at + ".vectors");
  VDB_TRY(vectors);
  return PointVectors{*id, std::move(*vectors)};
}
} // namespace

Expected<std::vector<PointStruct>> get_points(capnp::List<rpc::Point>::Reader in,
                                              const std::string& field) {
  std::vector<PointStruct> out;
  out.reserve(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    auto point = get_id_and_vectors(in[i], at);
    VDB_TRY(point);
    auto payload = get_optional_json(in[i].getPayload(), at + ".payload");
    VDB_TRY(payload);
    out.push_back(PointStruct{point->id, std::move(point->vectors),
                              payload->has_value() ? std::move(**payload) : Json::object()});
  }
  return out;
}

Expected<std::vector<PointVectors>> get_point_vectors(capnp::List<rpc::Point>::Reader in,
                                                      const std::string& field) {
  std::vector<PointVectors> out;
  out.reserve(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    auto point = get_id_and_vectors(in[i], field + "[" + std::to_string(i) + "]");
    VDB_TRY(point);
    out.push_back(std::move(*point));
  }
  return out;
}

void put_point(const PointStruct& point, rpc::Point::Builder out) {
  put_id(point.id, out.initId());
  put_vectors(point.vectors, out);
  out.setPayload(put_json(point.payload));
}

Expected<Selector> get_selector(rpc::Selector::Reader in, const std::string& field) {
  if (in.isFilter()) {
    auto filter = get_json(in.getFilter(), field + ".filter");
    VDB_TRY(filter);
    return Selector::matching(std::move(*filter));
  }
  auto ids = get_ids(in.getIds(), field + ".ids");
  VDB_TRY(ids);
  return Selector::of(std::move(*ids));
}

void put_selector(const Selector& selector, rpc::Selector::Builder out) {
  if (selector.filter) {
    out.setFilter(put_json(*selector.filter));
  } else {
    put_ids(selector.ids, out.initIds(static_cast<unsigned>(selector.ids.size())));
  }
}

namespace {
Expected<std::vector<JsonPath>> get_paths(capnp::List<capnp::Text>::Reader in,
                                          const std::string& field) {
  std::vector<JsonPath> out;
  for (unsigned i = 0; i < in.size(); ++i) {
    auto path = JsonPath::parse(text(in[i]));
    if (!path) {
      return invalid(field + "[" + std::to_string(i) + "]", path.error().message);
    }
    out.push_back(std::move(*path));
  }
  return out;
}

void put_paths(const std::vector<JsonPath>& paths, capnp::List<capnp::Text>::Builder out) {
  for (unsigned i = 0; i < paths.size(); ++i) {
    out.set(i, paths[i].to_string());
  }
}
} // namespace

Expected<PayloadSelector> get_payload_selector(rpc::PayloadSelector::Reader in,
                                               const std::string& field) {
  switch (in.which()) {
  case rpc::PayloadSelector::ALL:
    return PayloadSelector::all();
  case rpc::PayloadSelector::NONE:
    return PayloadSelector::none();
  case rpc::PayloadSelector::INCLUDE: {
    auto keys = get_paths(in.getInclude(), field + ".include");
    VDB_TRY(keys);
    return PayloadSelector{PayloadSelector::Mode::include, std::move(*keys)};
  }
  case rpc::PayloadSelector::EXCLUDE: {
    auto keys = get_paths(in.getExclude(), field + ".exclude");
    VDB_TRY(keys);
    return PayloadSelector{PayloadSelector::Mode::exclude, std::move(*keys)};
  }
  }
  return invalid(field, "unknown kind of payload selector");
}

void put_payload_selector(const PayloadSelector& selector, rpc::PayloadSelector::Builder out) {
  const auto n = static_cast<unsigned>(selector.keys.size());
  switch (selector.mode) {
  case PayloadSelector::Mode::all:
    out.setAll();
    break;
  case PayloadSelector::Mode::none:
    out.setNone();
    break;
  case PayloadSelector::Mode::include:
    put_paths(selector.keys, out.initInclude(n));
    break;
  case PayloadSelector::Mode::exclude:
    put_paths(selector.keys, out.initExclude(n));
    break;
  }
}

VectorSelector get_vector_selector(rpc::VectorSelector::Reader in) {
  switch (in.which()) {
  case rpc::VectorSelector::ALL:
    return VectorSelector::every();
  case rpc::VectorSelector::NAMES: {
    VectorSelector out;
    for (const auto name : in.getNames()) {
      out.names.push_back(text(name));
    }
    return out;
  }
  case rpc::VectorSelector::NONE:
    break;
  }
  return VectorSelector::none();
}

void put_vector_selector(const VectorSelector& selector, rpc::VectorSelector::Builder out) {
  if (selector.all) {
    out.setAll();
  } else if (!selector.names.empty()) {
    auto names = out.initNames(static_cast<unsigned>(selector.names.size()));
    for (unsigned i = 0; i < selector.names.size(); ++i) {
      names.set(i, selector.names[i]);
    }
  } else {
    out.setNone();
  }
}

Expected<Query> get_query(rpc::Query::Reader in, const std::string& field) {
  Query q;
  q.vector_name = text(in.getVectorName());
  q.vector = get_floats(in.getVector());
  q.limit = in.getLimit();
  q.offset = in.getOffset();
  auto filter = get_optional_json(in.getFilter(), field + "filter");
  VDB_TRY(filter);
  q.filter = std::move(*filter);
  if (in.getHasScoreThreshold()) {
    q.score_threshold = in.getScoreThreshold();
  }
  auto with_payload = get_payload_selector(in.getWithPayload(), field + "with_payload");
  VDB_TRY(with_payload);
  q.with_payload = std::move(*with_payload);
  q.with_vector = get_vector_selector(in.getWithVector());
  q.hnsw_ef = in.getHnswEf();
  q.exact = in.getExact();
  q.indexed_only = in.getIndexedOnly();
  if (in.hasQuantization()) {
    const auto quantization = in.getQuantization();
    q.quantization.ignore = quantization.getIgnore();
    if (quantization.getHasRescore()) {
      q.quantization.rescore = quantization.getRescore();
    }
    q.quantization.oversampling = quantization.getOversampling();
  }
  return q;
}

void put_query(const Query& q, rpc::Query::Builder out) {
  out.setVectorName(q.vector_name);
  put_floats(q.vector, out.initVector(static_cast<unsigned>(q.vector.size())));
  out.setLimit(static_cast<std::uint32_t>(std::min<std::size_t>(q.limit, UINT32_MAX)));
  out.setOffset(static_cast<std::uint32_t>(std::min<std::size_t>(q.offset, UINT32_MAX)));
  if (q.filter) {
    out.setFilter(put_json(*q.filter));
  }
  if (q.score_threshold) {
    out.setHasScoreThreshold(true);
    out.setScoreThreshold(*q.score_threshold);
  }
  put_payload_selector(q.with_payload, out.initWithPayload());
  put_vector_selector(q.with_vector, out.initWithVector());
  out.setHnswEf(static_cast<std::uint32_t>(std::min<std::size_t>(q.hnsw_ef, UINT32_MAX)));
  out.setExact(q.exact);
  out.setIndexedOnly(q.indexed_only);
  auto quantization = out.initQuantization();
  quantization.setIgnore(q.quantization.ignore);
  quantization.setHasRescore(q.quantization.rescore.has_value());
  quantization.setRescore(q.quantization.rescore.value_or(false));
  quantization.setOversampling(q.quantization.oversampling);
}

namespace {
template <class R> void put_common(const R& r, rpc::Record::Builder out) {
  put_id(r.id, out.initId());
  out.setVersion(r.version);
  if (r.payload) {
    out.setHasPayload(true);
    out.setPayload(put_json(*r.payload));
  }
  put_vectors(r.vectors, out);
}

template <class R> Status get_common(rpc::Record::Reader in, const std::string& field, R& out) {
  auto id = get_id(in.getId(), field + ".id");
  VDB_TRY(id);
  out.id = *id;
  out.version = in.getVersion();
  if (in.getHasPayload()) {
    auto payload = get_json(in.getPayload(), field + ".payload");
    VDB_TRY(payload);
    out.payload = std::move(*payload);
  }
  auto vectors = get_vectors(in.getVectors(), field + ".vectors");
  VDB_TRY(vectors);
  out.vectors = std::move(*vectors);
  return {};
}
} // namespace

void put_record(const Record& record, rpc::Record::Builder out) { put_common(record, out); }

void put_record(const ScoredPoint& point, rpc::Record::Builder out) {
  put_common(point, out);
  out.setScore(point.score);
}

Expected<Record> get_record(rpc::Record::Reader in, const std::string& field) {
  Record out;
  VDB_TRY(get_common(in, field, out));
  return out;
}

Expected<ScoredPoint> get_scored(rpc::Record::Reader in, const std::string& field) {
  ScoredPoint out;
  VDB_TRY(get_common(in, field, out));
  out.score = in.getScore();
  return out;
}

} // namespace vdb::wire
