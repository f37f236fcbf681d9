// A segment's files: what it writes at a checkpoint and how it comes back at start-up.
#include "core/common/log.hpp"
#include "core/engine/encoding.hpp"
#include "core/engine/engine_context.hpp"
#include "core/engine/segment.hpp"
#include "core/storage/files.hpp"

namespace vdb {
namespace {

constexpr std::string_view kVectorsMagic = "VDBVECTR";
constexpr std::string_view kGraphMagic = "VDBGRAPH";
constexpr std::uint32_t kFormat = 1;
// Graph files: format 1 led each array with its length, format 2 aligns the link arrays so a
// mapped file is read in place (see hnsw_graph.cpp).
constexpr std::uint32_t kGraphFormat = HnswGraph::kFormat;
constexpr std::string_view kPayloadsMagic = "VDBPAYLD";
constexpr std::string_view kPayloadsFile = "payloads.vdb";

// Where a segment's payloads are (points format 2 and later).
enum class PayloadsKept : std::uint8_t {
  inline_points = 0, // each payload in the points file
  payload_file = 1,  // "payloads.vdb", mapped; the points file holds the payloads changed since
};

// "payloads.vdb": u64 count | u64 end[count] (where each payload's CBOR ends, from the first
// payload's start) | the payloads' CBOR one after another (none for a null payload).
std::string payloads_body(const std::vector<Json>& payloads) {
  std::string blobs;
  std::vector<std::uint64_t> ends;
  ends.reserve(payloads.size());
  for (const Json& p : payloads) {
    if (!p.is_null()) {
      Json::to_cbor(p, blobs);
    }
    ends.push_back(blobs.size());
  }
  std::string out;
  out.reserve(8 + ends.size() * 8 + blobs.size());
  ByteWriter w(out);
  w.put<std::uint64_t>(ends.size());
  w.put_raw(ends.data(), ends.size() * sizeof(std::uint64_t));
  w.put_raw(blobs.data(), blobs.size());
  return out;
}

// Checks a mapped payload file against the segment's slot count.
Status check_payloads(const MappedFile& file, std::uint64_t slots, const std::string& name) {
  const std::string_view body = file.body();
  ByteReader r(body, name);
  auto count = r.get<std::uint64_t>();
  VDB_TRY(count);
  if (*count != slots || r.left() / 8 < slots) {
    return r.corrupt("holds " + std::to_string(*count) + " payloads, the segment " +
                     std::to_string(slots) + " points");
  }
  const char* ends = body.data() + 8;
  const std::uint64_t blobs = r.left() - slots * 8;
  std::uint64_t previous = 0;
  for (std::uint64_t i = 0; i < slots; ++i) {
    std::uint64_t end = 0;
    std::memcpy(&end, ends + i * 8, 8);
    if (end < previous || end > blobs) {
      return r.corrupt("payload " + std::to_string(i) + " ends outside the file");
    }
    previous = end;
  }
  if (previous != blobs) {
    return r.corrupt("trailing bytes after the payloads");
  }
  return {};
}

// How a column's vectors are kept on disk.
enum class Kept : std::uint8_t {
  inline_points = 0, // in the points file (an appendable segment)
  vector_file = 1,   // "vectors-<i>.vdb", read into RAM at start-up
  mmap_file = 2,     // "vectors-<i>.mmap", the mmap plugin's file
};

std::string vectors_file(std::size_t i) { return "vectors-" + std::to_string(i) + ".vdb"; }
std::string mmap_file(std::size_t i) { return "vectors-" + std::to_string(i) + ".mmap"; }
std::string graph_file(std::size_t i) { return "graph-" + std::to_string(i) + ".vdb"; }
std::string codes_file(std::size_t i) { return "codes-" + std::to_string(i) + ".vdb"; }
constexpr std::string_view kCodesMagic = "VDBCODES";
// Codes files: format 1 holds 7-bit codes (0..127), format 2 8-bit ones, format 3 8-bit codes
// of residuals (see scalar_quantizer.hpp).
constexpr std::uint32_t kCodesFormat = QuantizedVectors::kFormat;

} // namespace

std::string Segment::save_points() const {
  std::string out;
  ByteWriter w(out);
  w.put<std::uint64_t>(id_);
  w.put<std::uint8_t>(appendable_ ? 1 : 0);
  w.put<std::uint64_t>(ids_.size());
  for (const PointId& id : ids_) {
    put_id(w, id);
  }
  w.put_array(versions_.data(), versions_.size());
  put_bitmap(w, live_);
  if (payload_file_) {
    w.put(PayloadsKept::payload_file);
    std::vector<PointOffset> edited;
    edited.reserve(payload_edits_.size());
    for (const auto& [offset, payload] : payload_edits_) {
      edited.push_back(offset);
    }
    std::sort(edited.begin(), edited.end());
    w.put<std::uint64_t>(edited.size());
    for (const PointOffset offset : edited) {
      w.put<std::uint32_t>(offset);
      put_json(w, payload_edits_.at(offset));
    }
  } else {
    w.put(PayloadsKept::inline_points);
    for (std::size_t offset = 0; offset < payloads_.size(); ++offset) {
      put_json(w, payloads_[offset]);
    }
  }
  w.put<std::uint32_t>(static_cast<std::uint32_t>(columns_.size()));
  for (const auto& [name, column] : columns_) {
    w.put_bytes(name);
    put_bitmap(w, column.present);
    const Kept kept = appendable_      ? Kept::inline_points
                      : column.in_file ? Kept::mmap_file
                                       : Kept::vector_file;
    w.put<std::uint8_t>(static_cast<std::uint8_t>(kept));
    if (kept == Kept::inline_points) {
      const std::size_t dim = column.params.size;
      w.put<std::uint64_t>(ids_.size() * dim);
      for (std::size_t offset = 0; offset < ids_.size(); ++offset) {
        w.put_raw(column.pointers[offset], dim * sizeof(float));
      }
    }
  }
  payload_index_.save(w);
  return out;
}

Status Segment::save_immutable(const fs::path& dir) {
  if (appendable_) {
    return {};
  }
  if (!vectors_saved_) {
    std::size_t i = 0;
    for (auto& [name, column] : columns_) {
      if (column.in_file) {
        VDB_TRY(column.store->flush());
      } else {
        std::string body;
        ByteWriter w(body);
        const std::size_t dim = column.params.size;
        w.put<std::uint64_t>(ids_.size());
        w.put<std::uint64_t>(dim);
        body.reserve(16 + ids_.size() * dim * sizeof(float));
        for (std::size_t offset = 0; offset < ids_.size(); ++offset) {
          w.put_raw(column.pointers[offset], dim * sizeof(float));
        }
        VDB_TRY(write_checked_file(dir / vectors_file(i), kVectorsMagic, kFormat, body));
      }
      ++i;
    }
    vectors_saved_ = true;
  }
  if (!graphs_saved_) {
    std::size_t i = 0;
    for (const auto& [name, column] : columns_) {
      if (const auto it = graphs_.find(name); it != graphs_.end() && !it->second->mapped()) {
        std::string body;
        it->second->save(body);
        VDB_TRY(write_checked_file(dir / graph_file(i), kGraphMagic, kGraphFormat, body));
      }
      if (columns_.at(name).quantized && !columns_.at(name).quantized->mapped()) {
        std::string body;
        columns_.at(name).quantized->save(body);
        VDB_TRY(write_checked_file(dir / codes_file(i), kCodesMagic, kCodesFormat, body));
      }
      ++i;
    }
    graphs_saved_ = true;
  }
  return {};
}

Expected<std::unique_ptr<Segment>> Segment::load(const fs::path& dir, std::string_view points,
                                                 std::uint32_t version, std::string what,
                                                 const CollectionConfig& config,
                                                 const EngineContext& context) {
  ByteReader r(points, std::move(what));
  auto id = r.get<std::uint64_t>();
  auto appendable = r.get<std::uint8_t>();
  auto slots = r.get<std::uint64_t>();
  if (!slots) {
    return slots.error();
  }
  if (*slots > std::numeric_limits<PointOffset>::max() || *slots > r.left() / 9) {
    return r.corrupt("an impossible number of point slots (" + std::to_string(*slots) + ")");
  }
  std::unique_ptr<Segment> s(new Segment(*id, context));
  s->appendable_ = *appendable != 0;
  s->ids_.reserve(*slots);
  for (std::uint64_t i = 0; i < *slots; ++i) {
    auto pid = get_id(r);
    VDB_TRY(pid);
    s->ids_.push_back(*pid);
  }
  VDB_TRY(r.get_array(s->versions_, *slots));
  auto live = get_bitmap(r);
  VDB_TRY(live);
  s->live_ = std::move(*live);
  if (s->versions_.size() != *slots || (!s->live_.isEmpty() && s->live_.maximum() >= *slots)) {
    return r.corrupt("the versions or the live set do not match the point slots");
  }
  auto kept_payloads = PayloadsKept::inline_points;
  if (version >= 2) {
    auto kept = r.get<std::uint8_t>();
    VDB_TRY(kept);
    if (*kept > static_cast<std::uint8_t>(PayloadsKept::payload_file)) {
      return r.corrupt("unknown payload placement " + std::to_string(*kept));
    }
    kept_payloads = static_cast<PayloadsKept>(*kept);
  }
  if (kept_payloads == PayloadsKept::payload_file) {
    const fs::path path = dir / kPayloadsFile;
    auto file = MappedFile::open(path, kPayloadsMagic, kFormat);
    VDB_TRY(file);
    VDB_TRY(check_payloads(**file, *slots, path.string()));
    s->payload_file_ = std::move(*file);
    auto edits = r.get<std::uint64_t>();
    VDB_TRY(edits);
    if (*edits > *slots) {
      return r.corrupt("more payload changes than points");
    }
    for (std::uint64_t i = 0; i < *edits; ++i) {
      auto offset = r.get<std::uint32_t>();
      VDB_TRY(offset);
      auto payload = get_json(r);
      VDB_TRY(payload);
      if (*offset >= *slots) {
        return r.corrupt("a payload change past the last point");
      }
      s->payload_edits_[*offset] = std::move(*payload);
    }
  } else {
    s->payloads_.reserve(*slots);
    for (std::uint64_t i = 0; i < *slots; ++i) {
      auto payload = get_json(r);
      VDB_TRY(payload);
      s->payloads_.push_back(std::move(*payload));
    }
  }
  for (const PointOffset offset : s->live_) {
    if (s->appendable_ && !s->offsets_.emplace(s->ids_[offset], offset).second) {
      return r.corrupt("point " + s->ids_[offset].to_string() + " is live twice");
    }
    if (!s->appendable_) {
      s->sorted_offsets_.push_back(offset);
    }
  }
  std::sort(s->sorted_offsets_.begin(), s->sorted_offsets_.end(),
            [&](PointOffset a, PointOffset b) { return s->ids_[a] < s->ids_[b]; });
  const auto twice =
      std::adjacent_find(s->sorted_offsets_.begin(), s->sorted_offsets_.end(),
                         [&](PointOffset a, PointOffset b) { return s->ids_[a] == s->ids_[b]; });
  if (twice != s->sorted_offsets_.end()) {
    return r.corrupt("point " + s->ids_[*twice].to_string() + " is live twice");
  }
  auto columns = r.get<std::uint32_t>();
  VDB_TRY(columns);
  if (*columns != config.vectors.size()) {
    return r.corrupt("the segment has " + std::to_string(*columns) +
                     " vectors, the collection's configuration " +
                     std::to_string(config.vectors.size()));
  }
  std::size_t i = 0;
  for (const auto& [name, params] : config.vectors) {
    auto stored_name = r.get_bytes();
    VDB_TRY(stored_name);
    if (*stored_name != name) {
      return r.corrupt("vector '" + std::string(*stored_name) + "' is not in the configuration");
    }
    auto present = get_bitmap(r);
    VDB_TRY(present);
    auto kept = r.get<std::uint8_t>();
    VDB_TRY(kept);
    VectorColumn column{params,
                        params.hnsw_config.value_or(config.hnsw_config),
                        nullptr,
                        std::move(*present),
                        {},
                        false,
                        params.quantization_config ? params.quantization_config
                                                   : config.quantization_config,
                        nullptr};
    const std::uint64_t record_size = static_cast<std::uint64_t>(params.size) * sizeof(float);
    std::string file_bytes;
    std::string_view raw; // the vectors of every slot, when they are read into RAM
    if (*kept == static_cast<std::uint8_t>(Kept::mmap_file)) {
      if (!context.mmap_storage) {
        return r.corrupt("vectors are in an mmap file but no mmap storage plugin is loaded");
      }
      RecordStoreOptions options;
      options.path = (dir / mmap_file(i)).string();
      options.record_size = record_size;
      options.create = false;
      auto store = RecordStore::open(context.mmap_storage, options);
      VDB_TRY(store);
      if ((*store)->count() < *slots) {
        return r.corrupt(options.path + " holds " + std::to_string((*store)->count()) +
                         " vectors, the segment " + std::to_string(*slots));
      }
      column.store = std::move(*store);
      column.in_file = true;
    } else {
      if (*kept == static_cast<std::uint8_t>(Kept::inline_points)) {
        auto n = r.get<std::uint64_t>();
        VDB_TRY(n);
        if (*n != *slots * params.size) {
          return r.corrupt("vector data of the wrong size");
        }
        auto bytes = r.get_raw(*n * sizeof(float));
        VDB_TRY(bytes);
        raw = *bytes;
      } else if (*kept == static_cast<std::uint8_t>(Kept::vector_file)) {
        auto body = read_checked_file(dir / vectors_file(i), kVectorsMagic, kFormat);
        VDB_TRY(body);
        file_bytes = std::move(*body);
        ByteReader v(file_bytes, (dir / vectors_file(i)).string());
        auto count = v.get<std::uint64_t>();
        auto dim = v.get<std::uint64_t>();
        if (!dim || *count != *slots || *dim != params.size || v.left() != *slots * record_size) {
          return v.corrupt("does not match its segment's points and dimension");
        }
        raw = std::string_view(file_bytes).substr(16);
      } else {
        return r.corrupt("unknown vector placement " + std::to_string(*kept));
      }
      RecordStoreOptions options;
      options.record_size = record_size;
      auto store = RecordStore::open(context.vector_storage, options);
      VDB_TRY(store);
      if (*slots != 0) {
        VDB_TRY((*store)->append(raw.data(), *slots));
      }
      column.store = std::move(*store);
    }
    column.pointers.resize(*slots);
    for (std::uint64_t offset = 0; offset < *slots; ++offset) {
      auto record = column.store->get(offset);
      VDB_TRY(record);
      column.pointers[offset] = static_cast<const float*>(*record);
    }
    if (!column.present.isEmpty() && column.present.maximum() >= *slots) {
      return r.corrupt("vector '" + name + "' is present past the last slot");
    }
    s->columns_.emplace(name, std::move(column));
    ++i;
  }
  if (version >= 2) {
    VDB_TRY(s->payload_index_.load(r, static_cast<PointOffset>(*slots)));
  }
  if (!r.done()) {
    return r.corrupt("trailing bytes after the segment");
  }
  // Graphs: a sealed segment's, when it had one.
  i = 0;
  for (const auto& [name, column] : s->columns_) {
    const fs::path path = dir / graph_file(i++);
    if (s->appendable_ || !fs::exists(path)) {
      continue;
    }
    if (column.hnsw.on_disk) {
      auto graph = s->map_graph(path, column);
      VDB_TRY(graph);
      s->graphs_[name] = std::move(*graph);
    } else {
      std::uint32_t format = 0;
      auto body = read_checked_file(path, kGraphMagic, kGraphFormat, &format);
      VDB_TRY(body);
      auto graph =
          HnswGraph::load(*body, column.pointers, s->scorer(column), path.string(), format);
      VDB_TRY(graph);
      s->graphs_[name] = std::move(*graph);
    }
    // Its quantized codes, when the vector is quantized: mapped when they follow vectors kept
    // in files, read into RAM otherwise.
    const fs::path codes_path = dir / codes_file(i - 1);
    if (column.quantization && fs::exists(codes_path)) {
      const Metric metric = s->scorer(column).metric();
      if (codes_in_file(column)) {
        auto quantized = map_codes(codes_path, *slots, column, metric);
        VDB_TRY(quantized);
        s->columns_.at(name).quantized = std::move(*quantized);
      } else {
        std::uint32_t format = 0;
        auto codes = read_checked_file(codes_path, kCodesMagic, kCodesFormat, &format);
        VDB_TRY(codes);
        auto quantized = QuantizedVectors::load(*codes, *slots, column.params.size, metric, format,
                                                codes_path.string());
        VDB_TRY(quantized);
        s->columns_.at(name).quantized = std::move(*quantized);
      }
    }
  }
  s->vectors_saved_ = !s->appendable_;
  s->graphs_saved_ = true;
  return s;
}

Expected<std::unique_ptr<QuantizedVectors>> Segment::map_codes(const fs::path& path,
                                                               std::size_t count,
                                                               const VectorColumn& column,
                                                               Metric metric) {
  auto file = MappedFile::open(path, kCodesMagic, kCodesFormat);
  VDB_TRY(file);
  std::shared_ptr<const MappedFile> owner = std::move(*file);
  auto codes = QuantizedVectors::load(owner->body(), count, column.params.size, metric,
                                      owner->version(), path.string(), owner);
  owner->release(); // the check above read every code: let those pages go
  return codes;
}

Expected<std::unique_ptr<HnswGraph>> Segment::map_graph(const fs::path& path,
                                                        const VectorColumn& column) const {
  auto file = MappedFile::open(path, kGraphMagic, kGraphFormat);
  VDB_TRY(file);
  std::shared_ptr<const MappedFile> owner = std::move(*file);
  auto graph = HnswGraph::load(owner->body(), column.pointers, scorer(column), path.string(),
                               owner->version(), owner);
  owner->release(); // the check above read every link: let those pages go
  return graph;
}

Status Segment::place_mapped(Built& built, const fs::path& dir) const {
  std::size_t i = 0;
  for (const auto& [name, column] : columns_) {
    const std::size_t index = i++;
    const auto graph = built.graphs.find(name);
    if (dir.empty() || graph == built.graphs.end() || !column.hnsw.on_disk) {
      continue;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return Error{Errc::io_error, "create " + dir.string() + ": " + ec.message()};
    }
    std::string body;
    graph->second->save(body);
    const fs::path path = dir / graph_file(index);
    VDB_TRY(write_checked_file(path, kGraphMagic, kGraphFormat, body));
    body = std::string();
    auto mapped = map_graph(path, column);
    VDB_TRY(mapped);
    graph->second = std::move(*mapped);
  }
  i = 0;
  for (const auto& [name, column] : columns_) {
    const auto it = built.codes.find(name);
    if (it != built.codes.end() && it->second && codes_in_file(column)) {
      std::string body;
      it->second->save(body);
      const fs::path path = dir / codes_file(i);
      VDB_TRY(write_checked_file(path, kCodesMagic, kCodesFormat, body));
      auto mapped = map_codes(path, it->second->size(), column, it->second->metric());
      VDB_TRY(mapped);
      it->second = std::move(*mapped);
    }
    ++i;
  }
  return {};
}

Status Segment::move_to_files(const fs::path& dir, const std::set<std::string>& names) {
  if (!context_.mmap_storage || names.empty()) {
    return {}; // nothing to move: no directory is made (dir is relative in a memory collection)
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error{Errc::io_error, "create " + dir.string() + ": " + ec.message()};
  }
  std::size_t i = 0;
  for (auto& [name, column] : columns_) {
    const std::size_t index = i++;
    if (column.in_file || names.count(name) == 0) {
      continue;
    }
    RecordStoreOptions options;
    options.path = (dir / mmap_file(index)).string();
    options.record_size = static_cast<std::uint64_t>(column.params.size) * sizeof(float);
    fs::remove(options.path, ec); // a file left by a build that never reached a checkpoint
    auto store = RecordStore::open(context_.mmap_storage, options);
    VDB_TRY(store);
    std::vector<const float*> pointers(ids_.size());
    for (std::size_t offset = 0; offset < ids_.size(); ++offset) {
      auto first = (*store)->append(column.pointers[offset]);
      VDB_TRY(first);
      auto record = (*store)->get(*first);
      VDB_TRY(record);
      pointers[offset] = static_cast<const float*>(*record);
    }
    column.store = std::move(*store);
    column.pointers = std::move(pointers);
    column.in_file = true;
  }
  vectors_saved_ = false;
  return {};
}

Status Segment::move_payloads_to_file(const fs::path& dir) {
  if (payload_file_ || appendable_) {
    return {};
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error{Errc::io_error, "create " + dir.string() + ": " + ec.message()};
  }
  const fs::path path = dir / kPayloadsFile;
  VDB_TRY(write_checked_file(path, kPayloadsMagic, kFormat, payloads_body(payloads_)));
  auto file = MappedFile::open(path, kPayloadsMagic, kFormat);
  VDB_TRY(file);
  payload_file_ = std::move(*file);
  payload_edits_.clear();
  std::vector<Json>().swap(payloads_);
  ++changes_; // the points file no longer holds the payloads
  return {};
}

std::uint64_t Segment::file_payload_bytes() const noexcept {
  return payload_file_ ? payload_file_->size() : 0;
}

PayloadRef Segment::payload_at(PointOffset offset) const {
  // An empty payload is kept as null (an empty object would cost a map on the heap per point).
  static const Json kEmpty = Json::object();
  const auto shown = [](const Json& stored) {
    return PayloadRef(stored.is_null() ? &kEmpty : &stored);
  };
  if (!payload_file_) {
    return shown(payloads_[offset]);
  }
  if (!payload_edits_.empty()) {
    if (const auto it = payload_edits_.find(offset); it != payload_edits_.end()) {
      return shown(it->second);
    }
  }
  // Checked at open: the count is the segment's slots and every end lies inside the file.
  const std::string_view body = payload_file_->body();
  const char* ends = body.data() + 8;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  if (offset > 0) {
    std::memcpy(&begin, ends + (static_cast<std::size_t>(offset) - 1) * 8, 8);
  }
  std::memcpy(&end, ends + static_cast<std::size_t>(offset) * 8, 8);
  if (begin == end) {
    return PayloadRef(&kEmpty);
  }
  const char* blobs = ends + ids_.size() * 8;
  Json value = Json::from_cbor(blobs + begin, blobs + end, true, false);
  if (value.is_discarded()) { // the checksum held at open: not a disk error, a bug
    log::error("segment " + std::to_string(id_) + ": the payload at offset " +
               std::to_string(offset) + " does not decode");
    return PayloadRef(Json());
  }
  return PayloadRef(std::move(value));
}

std::uint64_t Segment::file_vector_bytes() const noexcept {
  std::uint64_t bytes = 0;
  for (const auto& [name, column] : columns_) {
    if (column.in_file) {
      bytes += static_cast<std::uint64_t>(ids_.size()) * column.params.size * sizeof(float);
    }
  }
  return bytes;
}

} // namespace vdb
