// vdbd's edge: API keys (none, wrong, read-only, full), keys compared in constant time, and
// hostile bytes on the socket that must not bring the server down.
#include "protocol/remote_client.hpp"
#include "protocol/server.hpp"
#include "support/temp_dir.hpp"
#include "support/vdbd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

namespace vdb {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const Json kConfig = {{"vectors", {{"size", 2}, {"distance", "Cosine"}}}};

TEST(KeysEqual, ComparesWholeKeys) {
  EXPECT_TRUE(keys_equal("secret", "secret"));
  EXPECT_FALSE(keys_equal("secret", "secreT"));
  EXPECT_FALSE(keys_equal("secret", "secret2"));
  EXPECT_FALSE(keys_equal("", "secret"));
  EXPECT_TRUE(keys_equal("", ""));
}

class RpcEdge : public ::testing::Test {
protected:
  void start(std::vector<std::string> extra) {
    auto args = test::vdbd_args(dir_.path().string());
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<test::VdbdProcess>(args);
    port_ = server_->wait_listening(20s);
    ASSERT_NE(port_, 0) << server_->log();
  }
  Expected<std::unique_ptr<RemoteClient>> connect(const std::string& key) {
    return RemoteClient::connect(RemoteOptions{"127.0.0.1", port_, key, 32U << 20});
  }
  void TearDown() override {
    if (server_) {
      server_->signal(SIGTERM);
      EXPECT_EQ(server_->wait_exit(10s), 0) << server_->log();
    }
  }

  /// Writes raw bytes to the RPC port and closes the connection.
  void send_raw(const std::string& bytes) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    (void)!::write(fd, bytes.data(), bytes.size());
    ::usleep(20000);
    ::close(fd);
  }

  test::TempDir dir_;
  std::unique_ptr<test::VdbdProcess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(RpcEdge, WithAKeyConfiguredAClientWithoutItGetsNothing) {
  start({"--service.api_key=s3cret", "--service.read_only_api_key=reader"});
  for (const char* key : {"", "wrong", "s3cre", "s3cret!"}) {
    auto client = connect(key);
    ASSERT_FALSE(client.ok()) << key;
    EXPECT_EQ(client.error().code, Errc::permission_denied) << key;
  }
  auto admin = connect("s3cret");
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_FALSE((*admin)->read_only());
  ASSERT_TRUE((*admin)->create_collection("c", kConfig).ok());
  Client& db = **admin;
  ASSERT_TRUE(db.upsert("c", {PointStruct{PointId::from_number(1), {{"", {1, 0}}}, {}}}).ok());
}

TEST_F(RpcEdge, TheReadOnlyKeyReadsButEveryWriteIsRefused) {
  start({"--service.api_key=s3cret", "--service.read_only_api_key=reader"});
  {
    auto admin = connect("s3cret");
    ASSERT_TRUE(admin.ok());
    ASSERT_TRUE((*admin)->create_collection("c", kConfig).ok());
    Client& db = **admin;
    ASSERT_TRUE(db.upsert("c", {PointStruct{PointId::from_number(1), {{"", {1, 0}}}, {}}}).ok());
    ASSERT_TRUE(db.create_snapshot("c").ok()); // over RPC, into vdbd's snapshots_path
  }
  auto reader = connect("reader");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  Client& db = **reader;
  EXPECT_TRUE((*reader)->read_only());
  const Selector one = Selector::of({PointId::from_number(1)});
  EXPECT_EQ(db.create_collection("d", kConfig).code(), Errc::permission_denied);
  EXPECT_EQ(db.delete_collection("c").code(), Errc::permission_denied);
  EXPECT_EQ(db.upsert("c", {PointStruct{PointId::from_number(2), {{"", {0, 1}}}, {}}}).error().code,
            Errc::permission_denied);
  EXPECT_EQ(db.delete_points("c", one).error().code, Errc::permission_denied);
  EXPECT_EQ(db.set_payload("c", {{"a", 1}}, one).error().code, Errc::permission_denied);
  EXPECT_EQ(db.overwrite_payload("c", {{"a", 1}}, one).error().code, Errc::permission_denied);
  EXPECT_EQ(db.delete_payload("c", {"a"}, one).error().code, Errc::permission_denied);
  EXPECT_EQ(db.clear_payload("c", one).error().code, Errc::permission_denied);
  EXPECT_EQ(
      db.update_vectors("c", {PointVectors{PointId::from_number(1), {{"", {0, 1}}}}}).error().code,
      Errc::permission_denied);
  EXPECT_EQ(db.create_payload_index("c", "a", "keyword").error().code, Errc::permission_denied);
  EXPECT_EQ(db.delete_payload_index("c", "a").error().code, Errc::permission_denied);
  EXPECT_EQ(db.create_snapshot("c").error().code, Errc::permission_denied);
  auto snapshots = db.list_snapshots("c"); // listing is a read
  ASSERT_TRUE(snapshots.ok()) << snapshots.error().message;
  ASSERT_EQ(snapshots->size(), 1U);
  EXPECT_EQ(db.recover_snapshot("c", (*snapshots)[0].name).code(), Errc::permission_denied);
  EXPECT_EQ(db.delete_snapshot("c", (*snapshots)[0].name).code(), Errc::permission_denied);
  // Reads work, and nothing changed.
  EXPECT_EQ(*db.list_collections(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(*db.count("c", std::nullopt, true), 1U);
  Query q;
  q.vector = {1, 0};
  auto hits = db.search("c", q);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 1U);
}

TEST_F(RpcEdge, GarbageTruncatedAndOversizedMessagesDoNotBringItDown) {
  start({"--service.max_request_size_mb=1"});
  std::mt19937 gen(11);
  std::string garbage(64 * 1024, '\0');
  for (char& c : garbage) {
    c = static_cast<char>(gen());
  }
  send_raw(garbage);
  // A frame header announcing a huge message, then nothing.
  send_raw(std::string("\x00\x00\x00\x00\xff\xff\xff\x7f", 8));
  send_raw(std::string("\x00\x00\x00\x00\x10\x00\x00\x00\x01\x02", 10));

  auto client = connect("");
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->create_collection("c", kConfig).ok());
  // 2 MB of points: over the 1 MB limit. The server drops that connection, nothing else.
  std::vector<PointStruct> big;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    big.push_back(PointStruct{PointId::from_number(i),
                              {{"", {1, 2}}},
                              {{"pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}});
  }
  Client& db = **client;
  auto refused = db.upsert("c", std::move(big));
  EXPECT_FALSE(refused.ok());
  auto fresh = connect("");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message << "\n" << server_->log();
  EXPECT_EQ(*(*fresh)->count("c", std::nullopt, true), 0U) << refused.error().message;
  EXPECT_TRUE((*fresh)->health().ok());
}

} // namespace
} // namespace vdb
