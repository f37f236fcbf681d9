#include "protocol/server.hpp"

#include "protocol/convert.hpp"

#include <capnp/ez-rpc.h>
#include <kj/async.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace vdb {

bool keys_equal(const std::string& a, const std::string& b) noexcept {
  // Every byte of the longer key is read whatever the contents; differences accumulate.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

namespace {

using wire::put_error;

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

/// Answers a call with an error found while decoding it.
template <class Context> kj::Promise<void> refuse(Context& context, const Error& error) {
  put_error(error, context.getResults().initError());
  return kj::READY_NOW;
}

/// Starts a Service request and fills the call's results when the actors answer.
template <class T, class Context, class Start, class Fill>
kj::Promise<void> bridge(Context context, Start&& start, Fill&& fill) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<Expected<T>>();
  auto fulfiller = std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<Expected<T>>>>(
      kj::mv(paf.fulfiller));
  start([fulfiller](Expected<T> value) { (*fulfiller)->fulfill(kj::mv(value)); });
  return paf.promise.then([context, fill = std::forward<Fill>(fill)](Expected<T>&& value) mutable {
    auto results = context.getResults();
    if (!value.ok()) {
      put_error(value.error(), results.initError());
      return;
    }
    results.initError().setCode(rpc::Error::Code::OK);
    fill(results, *value);
  });
}

template <class Results> void put_write(Results& results, const WriteResult& w) {
  auto out = results.initResult();
  out.setOperationId(w.operation_id);
  out.setCompleted(w.completed);
}

class DatabaseImpl final : public rpc::Database::Server {
public:
  DatabaseImpl(Service& service, bool read_only) : service_(service), read_only_(read_only) {}

  kj::Promise<void> createCollection(CreateCollectionContext context) override {
    if (read_only_) {
      return refuse(context, denied("createCollection"));
    }
    auto p = context.getParams();
    auto config = wire::get_json(p.getConfig(), "config");
    if (!config) {
      return refuse(context, config.error());
    }
    return bridge<bool>(
        context, [&](auto reply) { service_.create_collection(text(p.getName()), *config, reply); },
        [](auto&, bool) {});
  }

  kj::Promise<void> deleteCollection(DeleteCollectionContext context) override {
    if (read_only_) {
      return refuse(context, denied("deleteCollection"));
    }
    const std::string name = text(context.getParams().getName());
    return bridge<bool>(
        context, [&](auto reply) { service_.delete_collection(name, reply); }, [](auto&, bool) {});
  }

  kj::Promise<void> listCollections(ListCollectionsContext context) override {
    return bridge<std::vector<std::string>>(
        context, [&](auto reply) { service_.list_collections(reply); },
        [](auto& results, const std::vector<std::string>& names) {
          auto out = results.initNames(static_cast<unsigned>(names.size()));
          for (unsigned i = 0; i < names.size(); ++i) {
            out.set(i, names[i]);
          }
        });
  }

  kj::Promise<void> collectionInfo(CollectionInfoContext context) override {
    const std::string name = text(context.getParams().getName());
    return bridge<Json>(
        context, [&](auto reply) { service_.collection_info(name, reply); },
        [](auto& results, const Json& info) { results.setInfo(wire::put_json(info)); });
  }

  kj::Promise<void> upsert(UpsertContext context) override {
    if (read_only_) {
      return refuse(context, denied("upsert"));
    }
    auto p = context.getParams();
    auto points = wire::get_points(p.getPoints(), "points");
    if (!points) {
      return refuse(context, points.error());
    }
    return write(context, [&](auto reply) {
      service_.upsert(text(p.getCollection()), std::move(*points), p.getWait(), reply);
    });
  }

  kj::Promise<void> deletePoints(DeletePointsContext context) override {
    if (read_only_) {
      return refuse(context, denied("deletePoints"));
    }
    auto p = context.getParams();
    auto selector = wire::get_selector(p.getSelector(), "selector");
    if (!selector) {
      return refuse(context, selector.error());
    }
    return write(context, [&](auto reply) {
      service_.delete_points(text(p.getCollection()), *selector, p.getWait(), reply);
    });
  }

  kj::Promise<void> setPayload(SetPayloadContext context) override {
    if (read_only_) {
      return refuse(context, denied("setPayload"));
    }
    auto p = context.getParams();
    auto payload = wire::get_json(p.getPayload(), "payload");
    if (!payload) {
      return refuse(context, payload.error());
    }
    auto selector = wire::get_selector(p.getSelector(), "selector");
    if (!selector) {
      return refuse(context, selector.error());
    }
    std::optional<std::string> key;
    if (p.getKey().size() != 0) {
      key = text(p.getKey());
    }
    return write(context, [&](auto reply) {
      service_.set_payload(text(p.getCollection()), std::move(*payload), *selector, key,
                           p.getWait(), reply);
    });
  }

  kj::Promise<void> overwritePayload(OverwritePayloadContext context) override {
    if (read_only_) {
      return refuse(context, denied("overwritePayload"));
    }
    auto p = context.getParams();
    auto payload = wire::get_json(p.getPayload(), "payload");
    if (!payload) {
      return refuse(context, payload.error());
    }
    auto selector = wire::get_selector(p.getSelector(), "selector");
    if (!selector) {
      return refuse(context, selector.error());
    }
    return write(context, [&](auto reply) {
      service_.overwrite_payload(text(p.getCollection()), std::move(*payload), *selector,
                                 p.getWait(), reply);
    });
  }

  kj::Promise<void> deletePayload(DeletePayloadContext context) override {
    if (read_only_) {
      return refuse(context, denied("deletePayload"));
    }
    auto p = context.getParams();
    std::vector<std::string> keys;
    for (const auto key : p.getKeys()) {
      keys.push_back(text(key));
    }
    auto selector = wire::get_selector(p.getSelector(), "selector");
    if (!selector) {
      return refuse(context, selector.error());
    }
    return write(context, [&](auto reply) {
      service_.delete_payload(text(p.getCollection()), keys, *selector, p.getWait(), reply);
    });
  }

  kj::Promise<void> clearPayload(ClearPayloadContext context) override {
    if (read_only_) {
      return refuse(context, denied("clearPayload"));
    }
    auto p = context.getParams();
    auto selector = wire::get_selector(p.getSelector(), "selector");
    if (!selector) {
      return refuse(context, selector.error());
    }
    return write(context, [&](auto reply) {
      service_.clear_payload(text(p.getCollection()), *selector, p.getWait(), reply);
    });
  }

  kj::Promise<void> updateVectors(UpdateVectorsContext context) override {
    if (read_only_) {
      return refuse(context, denied("updateVectors"));
    }
    auto p = context.getParams();
    auto points = wire::get_point_vectors(p.getPoints(), "points");
    if (!points) {
      return refuse(context, points.error());
    }
    return write(context, [&](auto reply) {
      service_.update_vectors(text(p.getCollection()), std::move(*points), p.getWait(), reply);
    });
  }

  kj::Promise<void> createPayloadIndex(CreatePayloadIndexContext context) override {
    if (read_only_) {
      return refuse(context, denied("createPayloadIndex"));
    }
    auto p = context.getParams();
    return write(context, [&](auto reply) {
      service_.create_payload_index(text(p.getCollection()), text(p.getField()),
                                    text(p.getSchema()), p.getWait(), reply);
    });
  }

  kj::Promise<void> deletePayloadIndex(DeletePayloadIndexContext context) override {
    if (read_only_) {
      return refuse(context, denied("deletePayloadIndex"));
    }
    auto p = context.getParams();
    return write(context, [&](auto reply) {
      service_.delete_payload_index(text(p.getCollection()), text(p.getField()), p.getWait(),
                                    reply);
    });
  }

  kj::Promise<void> retrieve(RetrieveContext context) override {
    auto p = context.getParams();
    auto ids = wire::get_ids(p.getIds(), "ids");
    if (!ids) {
      return refuse(context, ids.error());
    }
    auto with_payload = wire::get_payload_selector(p.getWithPayload(), "with_payload");
    if (!with_payload) {
      return refuse(context, with_payload.error());
    }
    return bridge<std::vector<Record>>(
        context,
        [&](auto reply) {
          service_.retrieve(text(p.getCollection()), std::move(*ids), std::move(*with_payload),
                            wire::get_vector_selector(p.getWithVector()), reply);
        },
        [](auto& results, const std::vector<Record>& records) {
          auto out = results.initPoints(static_cast<unsigned>(records.size()));
          for (unsigned i = 0; i < records.size(); ++i) {
            wire::put_record(records[i], out[i]);
          }
        });
  }

  kj::Promise<void> scroll(ScrollContext context) override {
    auto p = context.getParams();
    ScrollQuery q;
    auto filter = wire::get_optional_json(p.getFilter(), "filter");
    if (!filter) {
      return refuse(context, filter.error());
    }
    q.filter = std::move(*filter);
    q.limit = p.getLimit();
    if (p.getHasOffset()) {
      auto offset = wire::get_id(p.getOffset(), "offset");
      if (!offset) {
        return refuse(context, offset.error());
      }
      q.offset = *offset;
    }
    auto with_payload = wire::get_payload_selector(p.getWithPayload(), "with_payload");
    if (!with_payload) {
      return refuse(context, with_payload.error());
    }
    q.with_payload = std::move(*with_payload);
    q.with_vector = wire::get_vector_selector(p.getWithVector());
    return bridge<ScrollResult>(
        context, [&](auto reply) { service_.scroll(text(p.getCollection()), std::move(q), reply); },
        [](auto& results, const ScrollResult& page) {
          auto out = results.initPoints(static_cast<unsigned>(page.points.size()));
          for (unsigned i = 0; i < page.points.size(); ++i) {
            wire::put_record(page.points[i], out[i]);
          }
          if (page.next_page_offset) {
            results.setHasNext(true);
            wire::put_id(*page.next_page_offset, results.initNextOffset());
          }
        });
  }

  kj::Promise<void> count(CountContext context) override {
    auto p = context.getParams();
    auto filter = wire::get_optional_json(p.getFilter(), "filter");
    if (!filter) {
      return refuse(context, filter.error());
    }
    return bridge<std::uint64_t>(
        context,
        [&](auto reply) {
          service_.count(text(p.getCollection()), std::move(*filter), p.getExact(), reply);
        },
        [](auto& results, std::uint64_t n) { results.setCount(n); });
  }

  kj::Promise<void> search(SearchContext context) override {
    auto p = context.getParams();
    auto query = wire::get_query(p.getQuery(), "");
    if (!query) {
      return refuse(context, query.error());
    }
    return bridge<std::vector<ScoredPoint>>(
        context,
        [&](auto reply) { service_.search(text(p.getCollection()), std::move(*query), reply); },
        [](auto& results, const std::vector<ScoredPoint>& hits) { put_hits(hits, results); });
  }

  kj::Promise<void> searchBatch(SearchBatchContext context) override {
    auto p = context.getParams();
    std::vector<Query> queries;
    const auto in = p.getQueries();
    queries.reserve(in.size());
    for (unsigned i = 0; i < in.size(); ++i) {
      auto query = wire::get_query(in[i], "searches[" + std::to_string(i) + "].");
      if (!query) {
        return refuse(context, query.error());
      }
      queries.push_back(std::move(*query));
    }
    return bridge<std::vector<std::vector<ScoredPoint>>>(
        context,
        [&](auto reply) {
          service_.search_batch(text(p.getCollection()), std::move(queries), reply);
        },
        [](auto& results, const std::vector<std::vector<ScoredPoint>>& all) {
          auto out = results.initResults(static_cast<unsigned>(all.size()));
          for (unsigned i = 0; i < all.size(); ++i) {
            put_hits(all[i], out[i]);
          }
        });
  }

  kj::Promise<void> health(HealthContext context) override {
    return bridge<HealthInfo>(
        context, [&](auto reply) { service_.health(reply); },
        [](auto& results, const HealthInfo& h) {
          results.setVersion(h.version);
          results.setCollections(h.collections);
        });
  }

  kj::Promise<void> createSnapshot(CreateSnapshotContext context) override {
    if (read_only_) {
      return refuse(context, denied("createSnapshot"));
    }
    const std::string collection = text(context.getParams().getCollection());
    return bridge<SnapshotInfo>(
        context, [&](auto reply) { service_.create_snapshot(collection, reply); },
        [](auto& results, const SnapshotInfo& info) {
          put_snapshot(results.initSnapshot(), info);
        });
  }

  kj::Promise<void> listSnapshots(ListSnapshotsContext context) override {
    const std::string collection = text(context.getParams().getCollection());
    return bridge<std::vector<SnapshotInfo>>(
        context, [&](auto reply) { service_.list_snapshots(collection, reply); },
        [](auto& results, const std::vector<SnapshotInfo>& all) {
          auto out = results.initSnapshots(static_cast<unsigned>(all.size()));
          for (unsigned i = 0; i < all.size(); ++i) {
            put_snapshot(out[i], all[i]);
          }
        });
  }

  kj::Promise<void> deleteSnapshot(DeleteSnapshotContext context) override {
    if (read_only_) {
      return refuse(context, denied("deleteSnapshot"));
    }
    const std::string collection = text(context.getParams().getCollection());
    const std::string name = text(context.getParams().getName());
    return bridge<bool>(
        context, [&](auto reply) { service_.delete_snapshot(collection, name, reply); },
        [](auto&, bool) {});
  }

  kj::Promise<void> recoverSnapshot(RecoverSnapshotContext context) override {
    if (read_only_) {
      return refuse(context, denied("recoverSnapshot"));
    }
    const std::string collection = text(context.getParams().getCollection());
    const std::string name = text(context.getParams().getName());
    return bridge<bool>(
        context, [&](auto reply) { service_.recover_snapshot(collection, name, reply); },
        [](auto&, bool) {});
  }

private:
  static void put_snapshot(rpc::SnapshotDescription::Builder out, const SnapshotInfo& info) {
    out.setName(info.name);
    out.setSize(info.size);
    out.setCreationTime(info.creation_time);
  }

  static Error denied(const char* method) {
    return Error{Errc::permission_denied,
                 std::string(method) + ": the read-only API key may not write"};
  }

  template <class Builder> static void put_hits(const std::vector<ScoredPoint>& hits, Builder b) {
    auto out = b.initPoints(static_cast<unsigned>(hits.size()));
    for (unsigned i = 0; i < hits.size(); ++i) {
      wire::put_record(hits[i], out[i]);
    }
  }

  template <class Context, class Start> kj::Promise<void> write(Context& context, Start&& start) {
    return bridge<WriteResult>(context, std::forward<Start>(start),
                               [](auto& results, const WriteResult& w) { put_write(results, w); });
  }

  Service& service_;
  const bool read_only_;
};

class GateImpl final : public rpc::Gate::Server {
public:
  GateImpl(Service& service, std::string api_key, std::string read_only_key)
      : service_(service), api_key_(std::move(api_key)), read_only_key_(std::move(read_only_key)) {}

  kj::Promise<void> open(OpenContext context) override {
    const std::string key = text(context.getParams().getApiKey());
    auto results = context.getResults();
    // Both comparisons always run, so the time taken does not tell which key came close.
    const bool full = api_key_.empty() || keys_equal(key, api_key_);
    const bool read = !read_only_key_.empty() && keys_equal(key, read_only_key_);
    if (!full && !read) {
      put_error(Error{Errc::permission_denied, "api_key: wrong or missing API key"},
                results.initError());
      return kj::READY_NOW;
    }
    results.initError().setCode(rpc::Error::Code::OK);
    results.setReadOnly(!full);
    results.setDatabase(kj::heap<DatabaseImpl>(service_, !full));
    return kj::READY_NOW;
  }

private:
  Service& service_;
  const std::string api_key_;
  const std::string read_only_key_;
};

} // namespace

class RpcServer::Impl {
public:
  std::thread thread;
  std::mutex mutex;
  std::condition_variable ready;
  bool started = false;
  std::string failure;
  std::uint16_t port = 0;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop;
};

Expected<std::unique_ptr<RpcServer>> RpcServer::start(Service& service,
                                                      const RpcServerOptions& options) {
  std::unique_ptr<RpcServer> server(new RpcServer());
  server->impl_ = std::make_unique<Impl>();
  Impl* impl = server->impl_.get();
  impl->thread = std::thread([impl, &service, options] {
    try {
      capnp::ReaderOptions reader;
      reader.traversalLimitInWords = std::max<std::size_t>(1, options.max_message_bytes / 8);
      reader.nestingLimit = 64;
      capnp::EzRpcServer rpc(
          kj::heap<GateImpl>(service, options.api_key, options.read_only_api_key),
          options.host.c_str(), options.port, reader);
      auto& wait = rpc.getWaitScope();
      const unsigned port = rpc.getPort().wait(wait);
      auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
      {
        std::lock_guard lock(impl->mutex);
        impl->port = static_cast<std::uint16_t>(port);
        impl->stop = kj::mv(stop.fulfiller);
        impl->started = true;
      }
      impl->ready.notify_all();
      stop.promise.wait(wait);
    } catch (const kj::Exception& e) {
      std::lock_guard lock(impl->mutex);
      impl->failure = e.getDescription().cStr();
      impl->started = true;
      impl->ready.notify_all();
    }
  });
  std::unique_lock lock(impl->mutex);
  impl->ready.wait(lock, [impl] { return impl->started; });
  if (!impl->failure.empty()) {
    lock.unlock();
    impl->thread.join();
    return Error{Errc::io_error, "service.host/service.rpc_port: cannot serve on " + options.host +
                                     ":" + std::to_string(options.port) + ": " + impl->failure};
  }
  server->port_ = impl->port;
  return server;
}

void RpcServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) {
    return;
  }
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stop) {
      impl_->stop->fulfill();
    }
  }
  impl_->thread.join();
}

RpcServer::~RpcServer() { stop(); }

} // namespace vdb
