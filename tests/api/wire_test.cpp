// The error table of the RPC layer, both ways: every expected outcome survives the trip as the
// same code with its message and field; every infrastructure failure becomes the exception the
// table names, and the client maps that back.
#include "protocol/convert.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

namespace vdb {
namespace {

TEST(WireErrors, ExpectedOutcomesTravelAsValuesAndComeBackTheSame) {
  for (const Errc code :
       {Errc::invalid_argument, Errc::not_found, Errc::already_exists, Errc::out_of_range,
        Errc::unsupported, Errc::permission_denied, Errc::deadline_exceeded}) {
    capnp::MallocMessageBuilder message;
    auto out = message.initRoot<rpc::Error>();
    wire::put_error(Error{code, "points[3] (id 7): the vector has 3 numbers"}, out);
    const Status back = wire::get_error(out.asReader());
    EXPECT_EQ(back.code(), code) << to_string(code);
    EXPECT_EQ(back.message(), "points[3] (id 7): the vector has 3 numbers");
    if (code == Errc::invalid_argument) {
      EXPECT_EQ(std::string(out.getField().cStr()), "points[3] (id 7)");
    }
  }
}

TEST(WireErrors, InfrastructureFailuresBecomeExceptionsOfTheMatchingType) {
  const std::pair<Errc, Errc> cases[] = {
      {Errc::internal, Errc::internal},       {Errc::io_error, Errc::internal},
      {Errc::corrupt, Errc::internal},        {Errc::no_space, Errc::internal},
      {Errc::unavailable, Errc::unavailable}, {Errc::out_of_memory, Errc::unavailable}};
  for (const auto& [code, client_sees] : cases) {
    capnp::MallocMessageBuilder message;
    auto out = message.initRoot<rpc::Error>();
    try {
      wire::put_error(Error{code, "disk gone"}, out);
      ADD_FAILURE() << to_string(code) << " travelled as a value";
    } catch (const kj::Exception& e) {
      EXPECT_EQ(wire::route(code).exception, e.getType()) << to_string(code);
      EXPECT_EQ(wire::from_exception(e).code, client_sees) << to_string(code);
    }
  }
}

} // namespace
} // namespace vdb
