#include "protocol/remote_client.hpp"

#include "protocol/convert.hpp"

#include <capnp/ez-rpc.h>
#include <kj/async.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace vdb {

class RemoteClient::Impl {
public:
  std::thread thread;
  std::mutex mutex;
  std::condition_variable ready_cv;
  bool ready = false;
  Error failure{Errc::ok, ""};
  kj::Own<const kj::Executor> executor;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop;
  std::unique_ptr<rpc::Database::Client> database; // touched on the connection's thread only
  bool read_only = false;

  ~Impl() {
    if (stop) {
      stop->fulfill();
    }
    if (thread.joinable()) {
      thread.join();
    }
  }

  /// Runs `build` (which makes and fills a request) and `read` (which reads a response) on the
  /// connection's thread and waits for the answer.
  template <class T, class Build, class Read> Expected<T> call(Build&& build, Read&& read) {
    try {
      return executor->executeSync([&]() -> kj::Promise<Expected<T>> {
        auto request = build(*database);
        return request.send().then([&](auto&& response) -> Expected<T> {
          if (Status s = wire::get_error(response.getError()); !s.ok()) {
            return s.error();
          }
          return read(response);
        });
      });
    } catch (const kj::Exception& e) {
      return wire::from_exception(e);
    }
  }
};

namespace {

template <class Results> Expected<WriteResult> get_write(Results& r) {
  return WriteResult{r.getResult().getOperationId(), r.getResult().getCompleted()};
}

template <class List> Expected<std::vector<ScoredPoint>> get_hits(List in) {
  std::vector<ScoredPoint> out;
  out.reserve(in.size());
  for (unsigned i = 0; i < in.size(); ++i) {
    auto hit = wire::get_scored(in[i], "points[" + std::to_string(i) + "]");
    VDB_TRY(hit);
    out.push_back(std::move(*hit));
  }
  return out;
}

Status status_of(const Expected<bool>& done) { return done.ok() ? Status() : done.status(); }

} // namespace

Expected<std::unique_ptr<RemoteClient>> RemoteClient::connect(const RemoteOptions& options) {
  auto impl = std::make_unique<Impl>();
  Impl* raw = impl.get();
  raw->thread = std::thread([raw, options] {
    const auto fail = [raw](Error error) {
      std::lock_guard lock(raw->mutex);
      raw->failure = std::move(error);
      raw->ready = true;
      raw->ready_cv.notify_all();
    };
    try {
      capnp::ReaderOptions reader;
      reader.traversalLimitInWords = std::max<std::size_t>(1, options.max_message_bytes / 8);
      capnp::EzRpcClient client(options.host.c_str(), options.port, reader);
      auto& wait = client.getWaitScope();
      auto request = client.getMain<rpc::Gate>().openRequest();
      request.setApiKey(options.api_key);
      auto response = request.send().wait(wait);
      if (Status s = wire::get_error(response.getError()); !s.ok()) {
        fail(s.error());
        return;
      }
      raw->database = std::make_unique<rpc::Database::Client>(response.getDatabase());
      raw->read_only = response.getReadOnly();
      auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
      {
        std::lock_guard lock(raw->mutex);
        raw->executor = kj::getCurrentThreadExecutor().addRef();
        raw->stop = kj::mv(stop.fulfiller);
        raw->ready = true;
      }
      raw->ready_cv.notify_all();
      stop.promise.wait(wait);
      raw->database.reset();
    } catch (const kj::Exception& e) {
      raw->database.reset();
      Error error = wire::from_exception(e);
      error.message = "cannot reach vdbd at " + options.host + ":" + std::to_string(options.port) +
                      ": " + error.message;
      fail(std::move(error));
    }
  });
  {
    std::unique_lock lock(raw->mutex);
    raw->ready_cv.wait(lock, [raw] { return raw->ready; });
  }
  if (raw->failure.code != Errc::ok) {
    Error failure = raw->failure;
    raw->thread.join();
    return failure;
  }
  return std::unique_ptr<RemoteClient>(new RemoteClient(std::move(impl)));
}

RemoteClient::RemoteClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteClient::~RemoteClient() = default;

bool RemoteClient::read_only() const noexcept { return impl_->read_only; }

Status RemoteClient::create_collection(const std::string& name, const Json& config) {
  return status_of(impl_->call<bool>(
      [&](rpc::Database::Client& db) {
        auto r = db.createCollectionRequest();
        r.setName(name);
        r.setConfig(wire::put_json(config));
        return r;
      },
      [](auto&) -> Expected<bool> { return true; }));
}

Status RemoteClient::delete_collection(const std::string& name) {
  return status_of(impl_->call<bool>(
      [&](rpc::Database::Client& db) {
        auto r = db.deleteCollectionRequest();
        r.setName(name);
        return r;
      },
      [](auto&) -> Expected<bool> { return true; }));
}

Expected<std::vector<std::string>> RemoteClient::list_collections() {
  return impl_->call<std::vector<std::string>>(
      [](rpc::Database::Client& db) { return db.listCollectionsRequest(); },
      [](auto& response) -> Expected<std::vector<std::string>> {
        std::vector<std::string> names;
        for (const auto name : response.getNames()) {
          names.emplace_back(name.cStr(), name.size());
        }
        return names;
      });
}

Expected<Json> RemoteClient::collection_info(const std::string& name) {
  return impl_->call<Json>(
      [&](rpc::Database::Client& db) {
        auto r = db.collectionInfoRequest();
        r.setName(name);
        return r;
      },
      [](auto& response) { return wire::get_json(response.getInfo(), "info"); });
}

Expected<WriteResult> RemoteClient::upsert(const std::string& collection,
                                           std::vector<PointStruct> points, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.upsertRequest();
        r.setCollection(collection);
        r.setWait(wait);
        auto list = r.initPoints(static_cast<unsigned>(points.size()));
        for (unsigned i = 0; i < points.size(); ++i) {
          wire::put_point(points[i], list[i]);
        }
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::delete_points(const std::string& collection,
                                                  const Selector& selector, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.deletePointsRequest();
        r.setCollection(collection);
        r.setWait(wait);
        wire::put_selector(selector, r.initSelector());
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::set_payload(const std::string& collection, const Json& payload,
                                                const Selector& selector,
                                                const std::optional<std::string>& key, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.setPayloadRequest();
        r.setCollection(collection);
        r.setPayload(wire::put_json(payload));
        wire::put_selector(selector, r.initSelector());
        if (key) {
          r.setKey(*key);
        }
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::overwrite_payload(const std::string& collection,
                                                      const Json& payload, const Selector& selector,
                                                      bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.overwritePayloadRequest();
        r.setCollection(collection);
        r.setPayload(wire::put_json(payload));
        wire::put_selector(selector, r.initSelector());
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::delete_payload(const std::string& collection,
                                                   const std::vector<std::string>& keys,
                                                   const Selector& selector, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.deletePayloadRequest();
        r.setCollection(collection);
        auto list = r.initKeys(static_cast<unsigned>(keys.size()));
        for (unsigned i = 0; i < keys.size(); ++i) {
          list.set(i, keys[i]);
        }
        wire::put_selector(selector, r.initSelector());
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::clear_payload(const std::string& collection,
                                                  const Selector& selector, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.clearPayloadRequest();
        r.setCollection(collection);
        wire::put_selector(selector, r.initSelector());
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::update_vectors(const std::string& collection,
                                                   std::vector<PointVectors> points, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.updateVectorsRequest();
        r.setCollection(collection);
        r.setWait(wait);
        auto list = r.initPoints(static_cast<unsigned>(points.size()));
        for (unsigned i = 0; i < points.size(); ++i) {
          wire::put_id(points[i].id, list[i].initId());
          wire::put_vectors(points[i].vectors, list[i]);
        }
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::create_payload_index(const std::string& collection,
                                                         const std::string& field,
                                                         const std::string& schema, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.createPayloadIndexRequest();
        r.setCollection(collection);
        r.setField(field);
        r.setSchema(schema);
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<WriteResult> RemoteClient::delete_payload_index(const std::string& collection,
                                                         const std::string& field, bool wait) {
  return impl_->call<WriteResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.deletePayloadIndexRequest();
        r.setCollection(collection);
        r.setField(field);
        r.setWait(wait);
        return r;
      },
      [](auto& response) { return get_write(response); });
}

Expected<std::vector<Record>> RemoteClient::retrieve(const std::string& collection,
                                                     const std::vector<PointId>& ids,
                                                     const PayloadSelector& with_payload,
                                                     const VectorSelector& with_vector) {
  return impl_->call<std::vector<Record>>(
      [&](rpc::Database::Client& db) {
        auto r = db.retrieveRequest();
        r.setCollection(collection);
        wire::put_ids(ids, r.initIds(static_cast<unsigned>(ids.size())));
        wire::put_payload_selector(with_payload, r.initWithPayload());
        wire::put_vector_selector(with_vector, r.initWithVector());
        return r;
      },
      [](auto& response) -> Expected<std::vector<Record>> {
        std::vector<Record> out;
        const auto points = response.getPoints();
        for (unsigned i = 0; i < points.size(); ++i) {
          auto record = wire::get_record(points[i], "points[" + std::to_string(i) + "]");
          VDB_TRY(record);
          out.push_back(std::move(*record));
        }
        return out;
      });
}

Expected<ScrollResult> RemoteClient::scroll(const std::string& collection,
                                            const ScrollQuery& query) {
  return impl_->call<ScrollResult>(
      [&](rpc::Database::Client& db) {
        auto r = db.scrollRequest();
        r.setCollection(collection);
        if (query.filter) {
          r.setFilter(wire::put_json(*query.filter));
        }
        r.setLimit(static_cast<std::uint32_t>(std::min<std::size_t>(query.limit, UINT32_MAX)));
        if (query.offset) {
          r.setHasOffset(true);
          wire::put_id(*query.offset, r.initOffset());
        }
        wire::put_payload_selector(query.with_payload, r.initWithPayload());
        wire::put_vector_selector(query.with_vector, r.initWithVector());
        return r;
      },
      [](auto& response) -> Expected<ScrollResult> {
        ScrollResult out;
        const auto points = response.getPoints();
        for (unsigned i = 0; i < points.size(); ++i) {
          auto record = wire::get_record(points[i], "points[" + std::to_string(i) + "]");
          VDB_TRY(record);
          out.points.push_back(std::move(*record));
        }
        if (response.getHasNext()) {
          auto next = wire::get_id(response.getNextOffset(), "next_page_offset");
          VDB_TRY(next);
          out.next_page_offset = *next;
        }
        return out;
      });
}

Expected<std::uint64_t> RemoteClient::count(const std::string& collection,
                                            const std::optional<Json>& filter, bool exact) {
  return impl_->call<std::uint64_t>(
      [&](rpc::Database::Client& db) {
        auto r = db.countRequest();
        r.setCollection(collection);
        if (filter) {
          r.setFilter(wire::put_json(*filter));
        }
        r.setExact(exact);
        return r;
      },
      [](auto& response) -> Expected<std::uint64_t> { return response.getCount(); });
}

Expected<std::vector<ScoredPoint>> RemoteClient::search(const std::string& collection,
                                                        const Query& query) {
  return impl_->call<std::vector<ScoredPoint>>(
      [&](rpc::Database::Client& db) {
        auto r = db.searchRequest();
        r.setCollection(collection);
        wire::put_query(query, r.initQuery());
        return r;
      },
      [](auto& response) { return get_hits(response.getPoints()); });
}

Expected<std::vector<std::vector<ScoredPoint>>>
RemoteClient::search_batch(const std::string& collection, const std::vector<Query>& queries) {
  return impl_->call<std::vector<std::vector<ScoredPoint>>>(
      [&](rpc::Database::Client& db) {
        auto r = db.searchBatchRequest();
        r.setCollection(collection);
        auto list = r.initQueries(static_cast<unsigned>(queries.size()));
        for (unsigned i = 0; i < queries.size(); ++i) {
          wire::put_query(queries[i], list[i]);
        }
        return r;
      },
      [](auto& response) -> Expected<std::vector<std::vector<ScoredPoint>>> {
        std::vector<std::vector<ScoredPoint>> out;
        for (const auto hits : response.getResults()) {
          auto one = get_hits(hits.getPoints());
          VDB_TRY(one);
          out.push_back(std::move(*one));
        }
        return out;
      });
}

Expected<HealthInfo> RemoteClient::health() {
  return impl_->call<HealthInfo>(
      [](rpc::Database::Client& db) { return db.healthRequest(); },
      [](auto& response) -> Expected<HealthInfo> {
        return HealthInfo{std::string(response.getVersion().cStr()), response.getCollections()};
      });
}

namespace {
SnapshotInfo snapshot_of(rpc::SnapshotDescription::Reader r) {
  return SnapshotInfo{std::string(r.getName().cStr()), r.getSize(),
                      std::string(r.getCreationTime().cStr())};
}
} // namespace

Expected<SnapshotInfo> RemoteClient::create_snapshot(const std::string& collection) {
  return impl_->call<SnapshotInfo>(
      [&](rpc::Database::Client& db) {
        auto r = db.createSnapshotRequest();
        r.setCollection(collection);
        return r;
      },
      [](auto& response) -> Expected<SnapshotInfo> { return snapshot_of(response.getSnapshot()); });
}

Expected<std::vector<SnapshotInfo>> RemoteClient::list_snapshots(const std::string& collection) {
  return impl_->call<std::vector<SnapshotInfo>>(
      [&](rpc::Database::Client& db) {
        auto r = db.listSnapshotsRequest();
        r.setCollection(collection);
        return r;
      },
      [](auto& response) -> Expected<std::vector<SnapshotInfo>> {
        std::vector<SnapshotInfo> out;
        for (const auto s : response.getSnapshots()) {
          out.push_back(snapshot_of(s));
        }
        return out;
      });
}

Status RemoteClient::delete_snapshot(const std::string& collection, const std::string& name) {
  return status_of(impl_->call<bool>(
      [&](rpc::Database::Client& db) {
        auto r = db.deleteSnapshotRequest();
        r.setCollection(collection);
        r.setName(name);
        return r;
      },
      [](auto&) -> Expected<bool> { return true; }));
}

Status RemoteClient::recover_snapshot(const std::string& collection, const std::string& name) {
  return status_of(impl_->call<bool>(
      [&](rpc::Database::Client& db) {
        auto r = db.recoverSnapshotRequest();
        r.setCollection(collection);
        r.setName(name);
        return r;
      },
      [](auto&) -> Expected<bool> { return true; }));
}

} // namespace vdb
