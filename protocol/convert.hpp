// Translation between the Cap'n Proto messages of protocol/vdb.capnp and the API's C++ types,
// both ways. Everything read from a message is checked here and fails with invalid_argument
// naming the field (JSON text that does not parse, a UUID that is not one, a union left unset);
// the meaning of values (dimensions, NaN, limits) is checked by the engine.
#pragma once

#include "core/actors/api.hpp"
#include "protocol/vdb.capnp.h"

#include <string>

namespace vdb::wire {

// ---- errors: one table says which codes travel as values and which as exceptions ----------

/// How an Errc crosses the wire.
struct ErrorRoute {
  bool as_value;                 ///< an expected outcome: Error in the result
  rpc::Error::Code code;         ///< when as_value
  kj::Exception::Type exception; ///< when not
};
ErrorRoute route(Errc code) noexcept;

/// The Error a client reports for an exception from the server or the connection.
Error from_exception(const kj::Exception& e);
/// Writes `error` into a result, or throws the kj::Exception the table names.
void put_error(const Error& error, rpc::Error::Builder out);
/// The Status a result's error carries.
Status get_error(rpc::Error::Reader in);

// ---- values -------------------------------------------------------------------------------

Expected<Json> get_json(capnp::Text::Reader text, const std::string& field);
/// Empty text: no value.
Expected<std::optional<Json>> get_optional_json(capnp::Text::Reader text, const std::string& field);
std::string put_json(const Json& json);

Expected<PointId> get_id(rpc::PointId::Reader in, const std::string& field);
void put_id(const PointId& id, rpc::PointId::Builder out);
Expected<std::vector<PointId>> get_ids(capnp::List<rpc::PointId>::Reader in,
                                       const std::string& field);
void put_ids(const std::vector<PointId>& ids, capnp::List<rpc::PointId>::Builder out);

std::vector<float> get_floats(capnp::List<float>::Reader in);
void put_floats(const std::vector<float>& v, capnp::List<float>::Builder out);

Expected<NamedVectors> get_vectors(capnp::List<rpc::NamedVector>::Reader in,
                                   const std::string& field);
void put_vectors(const NamedVectors& vectors, rpc::Record::Builder out);
void put_vectors(const NamedVectors& vectors, rpc::Point::Builder out);

Expected<std::vector<PointStruct>> get_points(capnp::List<rpc::Point>::Reader in,
                                              const std::string& field);
Expected<std::vector<PointVectors>> get_point_vectors(capnp::List<rpc::Point>::Reader in,
                                                      const std::string& field);
void put_point(const PointStruct& point, rpc::Point::Builder out);

Expected<Selector> get_selector(rpc::Selector::Reader in, const std::string& field);
void put_selector(const Selector& selector, rpc::Selector::Builder out);

Expected<PayloadSelector> get_payload_selector(rpc::PayloadSelector::Reader in,
                                               const std::string& field);
void put_payload_selector(const PayloadSelector& selector, rpc::PayloadSelector::Builder out);
VectorSelector get_vector_selector(rpc::VectorSelector::Reader in);
void put_vector_selector(const VectorSelector& selector, rpc::VectorSelector::Builder out);

Expected<Query> get_query(rpc::Query::Reader in, const std::string& field);
void put_query(const Query& query, rpc::Query::Builder out);

void put_record(const Record& record, rpc::Record::Builder out);
void put_record(const ScoredPoint& point, rpc::Record::Builder out);
Expected<Record> get_record(rpc::Record::Reader in, const std::string& field);
Expected<ScoredPoint> get_scored(rpc::Record::Reader in, const std::string& field);

} // namespace vdb::wire
