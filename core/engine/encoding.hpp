// Binary encoding of the engine's values for the files and log records VDB writes: point ids,
// JSON payloads (CBOR), roaring bitmaps (their portable format) and named vectors.
#pragma once

#include "core/engine/field_index.hpp"
#include "core/engine/point.hpp"
#include "core/storage/codec.hpp"

#include <string>

namespace vdb {

inline void put_id(ByteWriter& w, const PointId& id) {
  w.put<std::uint8_t>(id.is_uuid() ? 1 : 0);
  if (id.is_uuid()) {
    w.put_raw(id.uuid().data(), id.uuid().size());
  } else {
    w.put<std::uint64_t>(id.number());
  }
}

inline Expected<PointId> get_id(ByteReader& r) {
  auto kind = r.get<std::uint8_t>();
  VDB_TRY(kind);
  if (*kind == 0) {
    auto number = r.get<std::uint64_t>();
    VDB_TRY(number);
    return PointId::from_number(*number);
  }
  if (*kind != 1) {
    return r.corrupt("unknown point id kind " + std::to_string(*kind));
  }
  auto raw = r.get_raw(16);
  VDB_TRY(raw);
  PointId::Uuid uuid{};
  std::memcpy(uuid.data(), raw->data(), 16);
  return PointId::from_uuid(uuid);
}

inline void put_json(ByteWriter& w, const Json& value) {
  if (value.is_null()) {
    w.put<std::uint64_t>(0);
    return;
  }
  std::vector<std::uint8_t> cbor = Json::to_cbor(value);
  w.put_array(cbor.data(), cbor.size());
}

inline Expected<Json> get_json(ByteReader& r) {
  auto bytes = r.get_bytes();
  VDB_TRY(bytes);
  if (bytes->empty()) {
    return Json();
  }
  Json value = Json::from_cbor(bytes->begin(), bytes->end(), true, false);
  if (value.is_discarded()) {
    return r.corrupt("a payload is not valid CBOR");
  }
  return value;
}

inline void put_bitmap(ByteWriter& w, const Bitmap& bitmap) {
  std::string bytes(bitmap.getSizeInBytes(true), '\0');
  bitmap.write(bytes.data(), true);
  w.put_bytes(bytes);
}

inline Expected<Bitmap> get_bitmap(ByteReader& r) {
  auto bytes = r.get_bytes();
  VDB_TRY(bytes);
  try {
    Bitmap out = Bitmap::readSafe(bytes->data(), bytes->size());
    if (out.getSizeInBytes(true) != bytes->size()) {
      return r.corrupt("a bitmap's size does not match its bytes");
    }
    return out;
  } catch (const std::exception&) {
    return r.corrupt("a bitmap does not decode");
  }
}

inline void put_vectors(ByteWriter& w, const NamedVectors& vectors) {
  w.put<std::uint32_t>(static_cast<std::uint32_t>(vectors.size()));
  for (const auto& [name, v] : vectors) {
    w.put_bytes(name);
    w.put_array(v.data(), v.size());
  }
}

inline Expected<NamedVectors> get_vectors(ByteReader& r) {
  auto n = r.get<std::uint32_t>();
  VDB_TRY(n);
  NamedVectors out;
  for (std::uint32_t i = 0; i < *n; ++i) {
    auto name = r.get_bytes();
    VDB_TRY(name);
    std::vector<float>& v = out[std::string(*name)];
    VDB_TRY(r.get_array(v));
  }
  return out;
}

} // namespace vdb
