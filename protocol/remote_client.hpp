// vdb::RemoteClient: the API of core/actors/api.hpp over Cap'n Proto RPC to a vdbd. The same
// interface as the embedded vdb::Database, so code and tests run against either.
//
// The connection lives on a thread of its own (a kj event loop); calls from any thread are
// handed to it and block until the answer arrives. Errors the server answers as values come
// back as the same Error codes; a lost connection or a server-side failure is unavailable or
// internal.
#pragma once

#include "core/actors/api.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vdb {

struct RemoteOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6334;
  std::string api_key;
  std::size_t max_message_bytes = 32U << 20;
};

class RemoteClient final : public Client {
public:
  /// Connects and opens the database with the key; permission_denied when the key is wrong,
  /// unavailable when nothing answers.
  static Expected<std::unique_ptr<RemoteClient>> connect(const RemoteOptions& options);
  ~RemoteClient() override;

  /// Whether the key only allows reads.
  bool read_only() const noexcept;

  // The default arguments repeat Client's, so calls read the same through either type.
  Status create_collection(const std::string& name, const Json& config) override;
  Status delete_collection(const std::string& name) override;
  Expected<std::vector<std::string>> list_collections() override;
  Expected<Json> collection_info(const std::string& name) override;

  Expected<WriteResult> upsert(const std::string& collection, std::vector<PointStruct> points,
                               bool wait = true) override;
  Expected<WriteResult> delete_points(const std::string& collection, const Selector& selector,
                                      bool wait = true) override;
  Expected<WriteResult> set_payload(const std::string& collection, const Json& payload,
                                    const Selector& selector,
                                    const std::optional<std::string>& key = std::nullopt,
                                    bool wait = true) override;
  Expected<WriteResult> overwrite_payload(const std::string& collection, const Json& payload,
                                          const Selector& selector, bool wait = true) override;
  Expected<WriteResult> delete_payload(const std::string& collection,
                                       const std::vector<std::string>& keys,
                                       const Selector& selector, bool wait = true) override;
  Expected<WriteResult> clear_payload(const std::string& collection, const Selector& selector,
                                      bool wait = true) override;
  Expected<WriteResult> update_vectors(const std::string& collection,
                                       std::vector<PointVectors> points, bool wait = true) override;
  Expected<WriteResult> create_payload_index(const std::string& collection,
                                             const std::string& field, const std::string& schema,
                                             bool wait = true) override;
  Expected<WriteResult> delete_payload_index(const std::string& collection,
                                             const std::string& field, bool wait = true) override;

  Expected<std::vector<Record>> retrieve(const std::string& collection,
                                         const std::vector<PointId>& ids,
                                         const PayloadSelector& with_payload,
                                         const VectorSelector& with_vector) override;
  Expected<ScrollResult> scroll(const std::string& collection, const ScrollQuery& query) override;
  Expected<std::uint64_t> count(const std::string& collection,
                                const std::optional<Json>& filter = std::nullopt,
                                bool exact = true) override;
  Expected<std::vector<ScoredPoint>> search(const std::string& collection,
                                            const Query& query) override;
  Expected<std::vector<std::vector<ScoredPoint>>>
  search_batch(const std::string& collection, const std::vector<Query>& queries) override;
  Expected<HealthInfo> health() override;

  Expected<SnapshotInfo> create_snapshot(const std::string& collection) override;
  Expected<std::vector<SnapshotInfo>> list_snapshots(const std::string& collection) override;
  Status delete_snapshot(const std::string& collection, const std::string& name) override;
  Status recover_snapshot(const std::string& collection, const std::string& name) override;

  class Impl;

private:
  explicit RemoteClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace vdb
