// libFuzzer target: the request decoding path of vdbd. The input is read as a Cap'n Proto
// message (with the server's reader limits) holding the parameters of one of the calls that
// carry data (upsert, delete, set payload, update vectors, retrieve, scroll, count, search,
// batch search), chosen by the first byte. What decodes is applied to a small collection, as
// the server would: bad input must come back as an Error, never as a crash, a hang or a leak.
#include "core/engine/catalog.hpp"
#include "core/plugin_host/plugin_registry.hpp"
#include "protocol/convert.hpp"

#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>

namespace {

using namespace vdb;

struct World {
  PluginRegistry plugins;
  std::unique_ptr<Catalog> catalog;
  std::shared_ptr<Collection> collection;

  World() {
    if (!plugins.discover(VDB_PLUGIN_DIR, {}).ok()) {
      std::abort();
    }
    auto distance = plugins.choose_distance("scalar");
    if (!distance) {
      std::abort();
    }
    EngineLimits limits;
    limits.max_batch_size = 64;
    limits.max_search_limit = 100;
    limits.max_payload_bytes = 4096;
    limits.max_vector_dim = 64;
    limits.filter = FilterLimits{8, 64};
    EngineContext context{*distance, plugins.find(VDB_PLUGIN_STORAGE, "ram"), limits};
    context.background_optimizer = false;
    CollectionConfig defaults;
    catalog = std::make_unique<Catalog>(context, defaults);
    if (!catalog->create_collection("c", Json{{"vectors", {{"size", 4}, {"distance", "Cosine"}}}})
             .ok()) {
      std::abort();
    }
    collection = *catalog->get("c");
  }
};

World& world() {
  static World w;
  return w;
}

Expected<PointsSelector> selector_of(const Selector& s) {
  if (s.filter) {
    auto f = parse_filter(*s.filter, world().catalog->context().limits.filter, "filter");
    VDB_TRY(f);
    return PointsSelector{std::move(*f)};
  }
  return PointsSelector{s.ids};
}

void search(Query q) {
  q.hnsw_ef = std::min<std::size_t>(q.hnsw_ef, 1000);
  std::optional<Filter> filter;
  if (q.filter) {
    auto f = parse_filter(*q.filter, world().catalog->context().limits.filter, "filter");
    if (!f) {
      return;
    }
    filter = std::move(*f);
  }
  (void)world().collection->search(to_search_request(q, filter ? &*filter : nullptr));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9 || (size - 1) % 8 != 0) {
    return 0; // a Cap'n Proto message is whole words
  }
  const std::uint8_t kind = data[0];
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>((size - 1) / 8);
  std::memcpy(words.begin(), data + 1, size - 1);
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 1 << 16;
  options.nestingLimit = 64;
  // A fresh collection now and then, so a long run does not grow without bound.
  static std::uint64_t runs = 0;
  if (++runs % 2000 == 0) {
    World& w = world();
    (void)w.catalog->delete_collection("c");
    (void)w.catalog->create_collection("c",
                                       Json{{"vectors", {{"size", 4}, {"distance", "Cosine"}}}});
    w.collection = *w.catalog->get("c");
  }
  Collection& c = *world().collection;
  try {
    capnp::FlatArrayMessageReader message(words, options);
    switch (kind % 9) {
    case 0: {
      auto p = message.getRoot<rpc::Database::UpsertParams>();
      if (auto points = wire::get_points(p.getPoints(), "points")) {
        (void)c.upsert(std::move(*points));
      }
      break;
    }
    case 1: {
      auto p = message.getRoot<rpc::Database::DeletePointsParams>();
      if (auto s = wire::get_selector(p.getSelector(), "selector")) {
        if (auto points = selector_of(*s)) {
          (void)c.delete_points(*points);
        }
      }
      break;
    }
    case 2: {
      auto p = message.getRoot<rpc::Database::SetPayloadParams>();
      auto payload = wire::get_json(p.getPayload(), "payload");
      auto s = wire::get_selector(p.getSelector(), "selector");
      if (payload && s) {
        if (auto points = selector_of(*s)) {
          (void)c.set_payload(*payload, *points);
        }
      }
      break;
    }
    case 3: {
      auto p = message.getRoot<rpc::Database::UpdateVectorsParams>();
      if (auto points = wire::get_point_vectors(p.getPoints(), "points")) {
        (void)c.update_vectors(std::move(*points));
      }
      break;
    }
    case 4: {
      auto p = message.getRoot<rpc::Database::RetrieveParams>();
      auto ids = wire::get_ids(p.getIds(), "ids");
      auto with_payload = wire::get_payload_selector(p.getWithPayload(), "with_payload");
      if (ids && with_payload) {
        (void)c.retrieve(*ids, *with_payload, wire::get_vector_selector(p.getWithVector()));
      }
      break;
    }
    case 5: {
      auto p = message.getRoot<rpc::Database::ScrollParams>();
      auto filter = wire::get_optional_json(p.getFilter(), "filter");
      if (filter && *filter) {
        if (auto f = parse_filter(**filter, world().catalog->context().limits.filter)) {
          ScrollRequest r;
          r.filter = &*f;
          r.limit = std::min<std::uint32_t>(p.getLimit(), 100);
          (void)c.scroll(r);
        }
      }
      break;
    }
    case 6: {
      auto p = message.getRoot<rpc::Database::CountParams>();
      auto filter = wire::get_optional_json(p.getFilter(), "filter");
      if (filter && *filter) {
        if (auto f = parse_filter(**filter, world().catalog->context().limits.filter)) {
          (void)c.count(&*f, p.getExact());
        }
      }
      break;
    }
    case 7: {
      auto p = message.getRoot<rpc::Database::SearchParams>();
      if (auto q = wire::get_query(p.getQuery(), "")) {
        search(*q);
      }
      break;
    }
    default: {
      auto p = message.getRoot<rpc::Database::SearchBatchParams>();
      for (const auto q : p.getQueries()) {
        if (auto query = wire::get_query(q, "")) {
          search(*query);
        }
      }
      break;
    }
    }
  } catch (const kj::Exception&) {
    // A malformed message: the RPC layer answers such a call with an exception.
  }
  return 0;
}
