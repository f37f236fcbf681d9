// Writes the seed corpus of vdb_fuzz_request: one well-formed message per kind of request
// (the first byte picks the kind), so the fuzzer starts from inputs that decode.
#include "protocol/convert.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

using namespace vdb;

void write(const std::string& dir, int kind, capnp::MallocMessageBuilder& message) {
  const auto words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  std::ofstream out(dir + "/seed-" + std::to_string(kind), std::ios::binary);
  out.put(static_cast<char>(kind));
  out.write(reinterpret_cast<const char*>(bytes.begin()),
            static_cast<std::streamsize>(bytes.size()));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vdb_fuzz_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const Json filter = {{"must",
                        {{{"key", "a"}, {"match", {{"value", "x"}}}},
                         {{"key", "n"}, {"range", {{"gte", 1}, {"lt", 5}}}}}},
                       {"should", {{{"has_id", {1, 2}}}}}};
  const PointStruct point{
      PointId::from_number(7), {{"", {0.1F, 0.2F, 0.3F, 0.4F}}}, {{"a", "x"}, {"n", 3}}};
  Query query;
  query.vector = {0.1F, 0.2F, 0.3F, 0.4F};
  query.filter = filter;
  query.with_payload = PayloadSelector::all();
  {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<rpc::Database::UpsertParams>();
    p.setCollection("c");
    wire::put_point(point, p.initPoints(1)[0]);
    write(dir, 0, m);
  }
  {
    capnp::MallocMessageBuilder m;
    wire::put_selector(Selector::matching(filter),
                       m.initRoot<rpc::Database::DeletePointsParams>().initSelector());
    write(dir, 1, m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<rpc::Database::SetPayloadParams>();
    p.setPayload(R"({"b": [1, 2, {"c": null}]})");
    wire::put_selector(Selector::of({PointId::from_number(7)}), p.initSelector());
    write(dir, 2, m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<rpc::Database::UpdateVectorsParams>();
    wire::put_point(point, p.initPoints(1)[0]);
    write(dir, 3, m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<rpc::Database::RetrieveParams>();
    wire::put_ids({PointId::from_number(7)}, p.initIds(1));
    wire::put_payload_selector(PayloadSelector{PayloadSelector::Mode::include, {}},
                               p.initWithPayload());
    write(dir, 4, m);
  }
  {
    capnp::MallocMessageBuilder m;
    m.initRoot<rpc::Database::ScrollParams>().setFilter(filter.dump());
    write(dir, 5, m);
  }
  {
    capnp::MallocMessageBuilder m;
    m.initRoot<rpc::Database::CountParams>().setFilter(filter.dump());
    write(dir, 6, m);
  }
  {
    capnp::MallocMessageBuilder m;
    wire::put_query(query, m.initRoot<rpc::Database::SearchParams>().initQuery());
    write(dir, 7, m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto list = m.initRoot<rpc::Database::SearchBatchParams>().initQueries(2);
    wire::put_query(query, list[0]);
    wire::put_query(query, list[1]);
    write(dir, 8, m);
  }
  return 0;
}
