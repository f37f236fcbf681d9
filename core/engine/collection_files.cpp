// A collection on disk: its folder, log, checkpoints and start-up. See docs/storage.md.
//
//   <dir>/config.vdb                   the configuration (JSON), written once
//   <dir>/state.vdb                    the last checkpoint: its operation, the payload indexes
//                                      and the segments with their points-file generation
//   <dir>/wal/<first op>.wal           the log since (and around) that checkpoint
//   <dir>/segments/<id>/...            each segment's files (see segment.hpp)
#include "core/common/log.hpp"
#include "core/engine/collection.hpp"
#include "core/engine/encoding.hpp"
#include "core/storage/archive.hpp"
#include "core/storage/files.hpp"

#include <chrono>

namespace vdb {
namespace {

constexpr std::string_view kConfigMagic = "VDBCONFG";
constexpr std::string_view kStateMagic = "VDBSTATE";
constexpr std::string_view kPointsMagic = "VDBPOINT";
constexpr std::uint32_t kFormat = 1;
// Points files: 2 adds the segment's payload indexes (a version-1 file has none: they are
// built from the payloads at start-up and saved at the next checkpoint).
constexpr std::uint32_t kPointsFormat = 2;

std::string points_file(std::uint64_t generation) {
  return "points-" + std::to_string(generation) + ".vdb";
}

Error io(const std::string& what, const std::error_code& ec) {
  return Error{Errc::io_error, what + ": " + ec.message()};
}

struct State {
  std::uint64_t op = 0;
  std::uint64_t next_segment_id = 0;
  std::uint64_t generation = 0;
  std::vector<std::pair<JsonPath, PayloadFieldType>> fields;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> segments; // id, points generation
};

Expected<State> read_state(const fs::path& path) {
  auto body = read_checked_file(path, kStateMagic, kFormat);
  VDB_TRY(body);
  ByteReader r(*body, path.string());
  State state;
  auto op = r.get<std::uint64_t>();
  auto next = r.get<std::uint64_t>();
  auto generation = r.get<std::uint64_t>();
  auto fields = r.get<std::uint32_t>();
  VDB_TRY(fields);
  state.op = *op;
  state.next_segment_id = *next;
  state.generation = *generation;
  for (std::uint32_t i = 0; i < *fields; ++i) {
    auto key = r.get_bytes();
    VDB_TRY(key);
    auto type = r.get<std::uint8_t>();
    VDB_TRY(type);
    auto path = JsonPath::parse(*key);
    if (!path || *type > static_cast<std::uint8_t>(PayloadFieldType::geo)) {
      return r.corrupt("a payload index is unreadable");
    }
    state.fields.emplace_back(*path, static_cast<PayloadFieldType>(*type));
  }
  auto segments = r.get<std::uint32_t>();
  VDB_TRY(segments);
  for (std::uint32_t i = 0; i < *segments; ++i) {
    auto id = r.get<std::uint64_t>();
    auto gen = r.get<std::uint64_t>();
    VDB_TRY(gen);
    if (*id >= state.next_segment_id) {
      return r.corrupt("segment " + std::to_string(*id) + " is past the next segment id");
    }
    state.segments.emplace_back(*id, *gen);
  }
  if (state.segments.empty() || !r.done()) {
    return r.corrupt("no segments, or trailing bytes");
  }
  return state;
}

} // namespace

// ---- creating and opening ------------------------------------------------------------------

Status Collection::write_config() const {
  const std::string body = Json{{"name", name_}, {"config", to_json(config_)}}.dump();
  return write_checked_file(dir_ / "config.vdb", kConfigMagic, kFormat, body);
}

Expected<std::unique_ptr<Collection>> Collection::create(std::string name, CollectionConfig config,
                                                         const EngineContext& context,
                                                         const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    return Error{Errc::already_exists, "collection_name: the folder " + dir.string() +
                                           " already exists (a collection that failed to load?)"};
  }
  // The collection is built in a hidden folder and renamed into place once its configuration
  // is written: a crash never leaves a folder without one.
  fs::path building = dir.parent_path() / ("." + dir.filename().string() + ".creating");
  fs::remove_all(building, ec);
  fs::create_directories(building, ec);
  if (ec) {
    return io("create " + building.string(), ec);
  }
  EngineContext without_thread = context; // started below, once the folder is complete
  without_thread.background_optimizer = false;
  auto c = create(std::move(name), std::move(config), without_thread);
  VDB_TRY(c);
  Collection* raw = c->get();
  raw->dir_ = building;
  VDB_TRY(raw->write_config());
  fs::rename(building, dir, ec);
  if (ec) {
    return io("rename " + building.string(), ec);
  }
  VDB_TRY(sync_dir(dir.parent_path()));
  raw->dir_ = dir;
  auto wal = Wal::open(dir / "wal", 0, [](std::uint64_t, std::string_view) { return Status(); });
  VDB_TRY(wal);
  raw->wal_ = std::move(*wal);
  raw->wal_->set_capacity(std::uint64_t{raw->config_.wal_config.wal_capacity_mb} << 20);
  if (context.background_optimizer) {
    raw->optimizer_ = std::thread([raw] { raw->optimizer_loop(); });
  }
  VDB_TRY(raw->start_files());
  return c;
}

Expected<std::unique_ptr<Collection>> Collection::open(std::string name, const fs::path& dir,
                                                       const EngineContext& context) {
  const auto started = std::chrono::steady_clock::now();
  auto body = read_checked_file(dir / "config.vdb", kConfigMagic, kFormat);
  VDB_TRY(body);
  const Json saved = Json::parse(*body, nullptr, false);
  if (saved.is_discarded() || !saved.contains("config")) {
    return Error{Errc::corrupt, (dir / "config.vdb").string() + ": not a configuration"};
  }
  auto config = parse_collection_config(saved["config"], {}, 65536);
  if (!config) {
    return Error{Errc::corrupt, (dir / "config.vdb").string() + ": " + config.error().message};
  }
  std::unique_ptr<Collection> c(new Collection(std::move(name), std::move(*config), context));
  c->dir_ = dir;
  std::error_code ec;
  if (fs::exists(dir / "state.vdb", ec)) {
    auto state = read_state(dir / "state.vdb");
    VDB_TRY(state);
    c->checkpoint_op_ = state->op;
    c->operation_ = state->op;
    c->next_segment_id_ = state->next_segment_id;
    c->generation_ = state->generation;
    c->indexed_fields_ = state->fields;
    for (const auto& [id, generation] : state->segments) {
      const fs::path seg_dir = c->segment_dir(id);
      std::uint32_t version = 0;
      auto points = read_checked_file(seg_dir / points_file(generation), kPointsMagic,
                                      kPointsFormat, &version);
      VDB_TRY(points);
      auto segment =
          Segment::load(seg_dir, *points, version, (seg_dir / points_file(generation)).string(),
                        c->config_, c->context_);
      VDB_TRY(segment);
      c->saved_[id] = Saved{(*segment)->changes(), generation};
      c->segments_.push_back(std::move(*segment));
    }
    for (const auto& segment : c->segments_) {
      // The state names the indexes: a segment's file may lack one (written by version 1, or
      // before the index existed) or hold one since dropped.
      std::set<std::string> wanted;
      for (const auto& field : c->indexed_fields_) {
        wanted.insert(field.first.to_string());
      }
      segment->retain_indexes(wanted);
      for (const auto& [key, type] : c->indexed_fields_) {
        c->indexes_built_at_start_ += segment->create_index(key, type) ? 1 : 0;
      }
    }
    if (Status s = c->in_id_order(nullptr, [](const PointId&, const Location&) { return true; });
        !s.ok()) {
      return Error{Errc::corrupt, dir.string() + ": " + s.message()};
    }
  }
  if (c->segments_.empty() || !c->segments_.back()->appendable()) {
    VDB_TRY(c->add_segment());
  }
  const std::uint64_t from = c->operation_;
  Wal::Recovered recovered;
  Collection* raw = c.get();
  auto wal = Wal::open(
      dir / "wal", c->checkpoint_op_,
      [raw](std::uint64_t op, std::string_view record) { return raw->replay(op, record); },
      &recovered);
  VDB_TRY(wal);
  c->wal_ = std::move(*wal);
  c->wal_->set_capacity(std::uint64_t{c->config_.wal_config.wal_capacity_mb} << 20);
  // Folders of segments no checkpoint names (a crash between building one and the next
  // checkpoint) go.
  std::set<std::string> kept;
  for (const auto& segment : c->segments_) {
    kept.insert(std::to_string(segment->id()));
  }
  for (const auto& entry : fs::directory_iterator(dir / "segments", ec)) {
    if (kept.count(entry.path().filename().string()) == 0) {
      fs::remove_all(entry.path(), ec);
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  log::info("collection " + c->name_ + ": " + std::to_string(c->live_points()) + " points in " +
            std::to_string(c->segments_.size()) + " segments from operation " +
            std::to_string(from) + ", " + std::to_string(recovered.replayed) +
            " log records replayed, " + std::to_string(c->indexes_built_at_start_) +
            " payload indexes built from payloads, in " + std::to_string(ms) + " ms" +
            (recovered.cut.empty() ? std::string() : "; the log was cut: " + recovered.cut));
  if (context.background_optimizer) {
    c->optimizer_ = std::thread([raw] { raw->optimizer_loop(); });
  }
  VDB_TRY(c->start_files());
  return c;
}

fs::path Collection::segment_dir(std::uint64_t id) const {
  return dir_ / "segments" / std::to_string(id);
}

std::set<std::string> Collection::file_vectors(std::uint64_t vector_bytes) const {
  std::set<std::string> out;
  if (dir_.empty() || !context_.mmap_storage) {
    return out;
  }
  const auto& threshold = config_.optimizers_config.memmap_threshold;
  const bool big = threshold && *threshold != 0 && vector_bytes > *threshold * 1024;
  for (const auto& [name, params] : config_.vectors) {
    if (big || params.on_disk) {
      out.insert(name);
    }
  }
  return out;
}

Status Collection::place_payloads(Segment& segment) const {
  if (dir_.empty() || !config_.on_disk_payload) {
    return {};
  }
  return segment.move_payloads_to_file(segment_dir(segment.id()));
}

// ---- the log -------------------------------------------------------------------------------

Status Collection::log(std::uint64_t op, const std::function<void(ByteWriter&)>& encode) {
  if (!wal_) {
    return {};
  }
  std::string body;
  ByteWriter w(body);
  encode(w);
  return wal_->append(op, body);
}

std::optional<std::string>
Collection::encode_ahead(const std::function<void(ByteWriter&)>& encode) const {
  {
    std::shared_lock lock(mutex_);
    if (!wal_) {
      return std::nullopt;
    }
  }
  std::string body;
  ByteWriter w(body);
  encode(w);
  return body;
}

Status Collection::log_encoded(std::uint64_t op, const std::optional<std::string>& body) {
  // No body: the collection was in memory when it was encoded (the log never comes back once
  // gone, so there is none now either). No log: the collection was dropped meanwhile.
  if (!body || !wal_) {
    return {};
  }
  return wal_->append(op, *body);
}

void Collection::when_durable(std::uint64_t operation_id, std::function<void(Status)> done) const {
  std::shared_ptr<Wal> wal;
  {
    std::shared_lock lock(mutex_);
    wal = wal_;
  }
  if (!wal) {
    done(Status());
    return;
  }
  wal->when_durable(operation_id, std::move(done));
}

Status Collection::wait_durable(std::uint64_t operation_id) const {
  std::shared_ptr<Wal> wal;
  {
    std::shared_lock lock(mutex_);
    wal = wal_;
  }
  return wal ? wal->wait_durable(operation_id) : Status();
}

namespace {
Expected<std::vector<PointId>> get_ids(ByteReader& r) {
  auto n = r.get<std::uint64_t>();
  VDB_TRY(n);
  if (*n > r.left() / 9) {
    return r.corrupt("more ids than bytes");
  }
  std::vector<PointId> ids;
  ids.reserve(*n);
  for (std::uint64_t i = 0; i < *n; ++i) {
    auto id = get_id(r);
    VDB_TRY(id);
    ids.push_back(*id);
  }
  return ids;
}
} // namespace

Status Collection::replay(std::uint64_t op, std::string_view body) {
  ByteReader r(body, "record");
  auto kind = r.get<std::uint8_t>();
  VDB_TRY(kind);
  const auto live = [&](const std::vector<PointId>& ids) {
    std::vector<Location> out;
    for (const PointId& id : ids) {
      if (const auto at = find(id)) {
        out.push_back(*at);
      }
    }
    return out;
  };
  switch (static_cast<LogOp>(*kind)) {
  case LogOp::upsert: {
    auto n = r.get<std::uint64_t>();
    VDB_TRY(n);
    std::vector<PointStruct> points;
    for (std::uint64_t i = 0; i < *n && r.left() != 0; ++i) {
      auto id = get_id(r);
      VDB_TRY(id);
      auto vectors = get_vectors(r);
      VDB_TRY(vectors);
      auto payload = get_json(r);
      VDB_TRY(payload);
      points.push_back(PointStruct{*id, std::move(*vectors), std::move(*payload)});
    }
    if (points.size() != *n) {
      return r.corrupt("fewer points than announced");
    }
    for (const PointStruct& p : points) {
      VDB_TRY(validate_vectors(p.vectors, "points", true));
    }
    VDB_TRY(apply_upsert(points, op));
    break;
  }
  case LogOp::delete_points: {
    auto ids = get_ids(r);
    VDB_TRY(ids);
    apply_delete(live(*ids));
    break;
  }
  case LogOp::set_payload:
  case LogOp::overwrite_payload:
  case LogOp::delete_payload:
  case LogOp::clear_payload: {
    PayloadEdit edit{static_cast<LogOp>(*kind), Json(), std::nullopt, {}};
    auto payload = get_json(r);
    VDB_TRY(payload);
    edit.payload = std::move(*payload);
    auto has_key = r.get<std::uint8_t>();
    auto key = r.get_bytes();
    VDB_TRY(key);
    if (*has_key != 0) {
      auto path = JsonPath::parse(*key);
      VDB_TRY(path);
      edit.key = *path;
    }
    auto keys = r.get<std::uint32_t>();
    VDB_TRY(keys);
    for (std::uint32_t i = 0; i < *keys; ++i) {
      auto text = r.get_bytes();
      VDB_TRY(text);
      auto path = JsonPath::parse(*text);
      VDB_TRY(path);
      edit.keys.push_back(*path);
    }
    auto ids = get_ids(r);
    VDB_TRY(ids);
    for (const Location& at : live(*ids)) {
      if (at.segment->version_at(at.offset) >= op) {
        continue;
      }
      Json payload_now = *at.segment->payload_at(at.offset);
      edit.apply(payload_now);
      at.segment->set_payload(at.offset, std::move(payload_now), op);
    }
    break;
  }
  case LogOp::update_vectors: {
    auto n = r.get<std::uint64_t>();
    VDB_TRY(n);
    std::vector<PointVectors> points;
    for (std::uint64_t i = 0; i < *n && r.left() != 0; ++i) {
      auto id = get_id(r);
      VDB_TRY(id);
      auto vectors = get_vectors(r);
      VDB_TRY(vectors);
      points.push_back(PointVectors{*id, std::move(*vectors)});
    }
    if (points.size() != *n) {
      return r.corrupt("fewer points than announced");
    }
    for (const PointVectors& p : points) {
      VDB_TRY(validate_vectors(p.vectors, "points", false));
    }
    VDB_TRY(apply_update_vectors(points, op));
    break;
  }
  case LogOp::create_index:
  case LogOp::delete_index: {
    auto key = r.get_bytes();
    VDB_TRY(key);
    auto path = JsonPath::parse(*key);
    VDB_TRY(path);
    if (static_cast<LogOp>(*kind) == LogOp::delete_index) {
      apply_delete_index(*path);
      break;
    }
    auto type = r.get<std::uint8_t>();
    VDB_TRY(type);
    if (*type > static_cast<std::uint8_t>(PayloadFieldType::geo)) {
      return r.corrupt("unknown payload index type");
    }
    apply_create_index(*path, static_cast<PayloadFieldType>(*type));
    break;
  }
  default:
    return r.corrupt("unknown operation kind " + std::to_string(*kind));
  }
  if (!r.done()) {
    return r.corrupt("trailing bytes");
  }
  operation_ = op;
  return {};
}

// ---- checkpoints ---------------------------------------------------------------------------

Status Collection::flush() {
  std::lock_guard steps(optimizer_mutex_);
  return checkpoint();
}

void Collection::checkpoint_if_due() {
  const auto interval = std::chrono::seconds(
      std::max<std::uint32_t>(1, config_.optimizers_config.flush_interval_sec));
  if (dir_.empty() || std::chrono::steady_clock::now() - last_checkpoint_ < interval) {
    return;
  }
  if (const Status s = checkpoint(); !s.ok()) {
    log::warn("collection " + name_ +
              ": checkpoint failed (the log keeps every write): " + s.message());
  }
}

Status Collection::checkpoint() {
  if (dir_.empty() || !wal_) {
    return {};
  }
  last_checkpoint_ = std::chrono::steady_clock::now();
  struct Job {
    Segment* segment;
    std::uint64_t generation;
    std::uint64_t changes;             // the segment's change count the files hold
    std::optional<std::string> points; // a new points file, when the segment changed
  };
  std::vector<Job> jobs;
  std::string state;
  std::uint64_t op = 0;
  {
    std::shared_lock lock(mutex_); // writers wait; readers go on
    op = operation_;
    bool changed = op != checkpoint_op_ || saved_.size() != segments_.size();
    for (const auto& segment : segments_) {
      const auto it = saved_.find(segment->id());
      changed = changed || it == saved_.end() || it->second.changes != segment->changes() ||
                !segment->immutable_saved();
    }
    if (!changed) {
      return {};
    }
    // From here the log's new file holds what comes after this checkpoint.
    VDB_TRY(wal_->rotate(op + 1));
    for (const auto& segment : segments_) {
      const auto it = saved_.find(segment->id());
      if (it != saved_.end() && it->second.changes == segment->changes()) {
        jobs.push_back(Job{segment.get(), it->second.generation, segment->changes(), std::nullopt});
      } else {
        jobs.push_back(
            Job{segment.get(), ++generation_, segment->changes(), segment->save_points()});
      }
    }
    ByteWriter w(state);
    w.put<std::uint64_t>(op);
    w.put<std::uint64_t>(next_segment_id_);
    w.put<std::uint64_t>(generation_);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(indexed_fields_.size()));
    for (const auto& [key, type] : indexed_fields_) {
      w.put_bytes(key.to_string());
      w.put(static_cast<std::uint8_t>(type));
    }
    w.put<std::uint32_t>(static_cast<std::uint32_t>(jobs.size()));
    for (const Job& job : jobs) {
      w.put<std::uint64_t>(job.segment->id());
      w.put<std::uint64_t>(job.generation);
    }
  }
  // Without the lock: segments stay (optimizer steps wait for this one), and what is written
  // here was copied above or never changes.
  std::error_code ec;
  std::map<std::uint64_t, Saved> saved;
  for (const Job& job : jobs) {
    const fs::path dir = segment_dir(job.segment->id());
    fs::create_directories(dir, ec);
    if (ec) {
      return io("create " + dir.string(), ec);
    }
    VDB_TRY(job.segment->save_immutable(dir));
    if (job.points) {
      VDB_TRY(write_checked_file(dir / points_file(job.generation), kPointsMagic, kPointsFormat,
                                 *job.points));
    }
    saved[job.segment->id()] = Saved{job.changes, job.generation};
  }
  VDB_TRY(write_checked_file(dir_ / "state.vdb", kStateMagic, kFormat, state));
  // The checkpoint is durable: what it replaced can go.
  saved_ = std::move(saved);
  checkpoint_op_ = op;
  VDB_TRY(wal_->remove_covered_files(op));
  for (const auto& entry : fs::directory_iterator(dir_ / "segments", ec)) {
    const std::string name = entry.path().filename().string();
    const auto it = std::find_if(jobs.begin(), jobs.end(), [&](const Job& job) {
      return std::to_string(job.segment->id()) == name;
    });
    if (it == jobs.end()) {
      fs::remove_all(entry.path(), ec);
      continue;
    }
    const std::string keep = points_file(it->generation);
    for (const auto& file : fs::directory_iterator(entry.path(), ec)) {
      const std::string f = file.path().filename().string();
      if (f.rfind("points-", 0) == 0 && f != keep) {
        fs::remove(file.path(), ec);
      }
    }
  }
  return {};
}

// ---- snapshots -----------------------------------------------------------------------------

Expected<std::uint64_t> Collection::snapshot(const fs::path& archive) {
  // Checkpoints and optimizer steps wait until the archive is written, so the files of this
  // checkpoint stay as they are; writes go on into the log and memory.
  std::lock_guard steps(optimizer_mutex_);
  if (dir_.empty()) {
    return Error{Errc::unsupported, "snapshot: collection '" + name_ +
                                        "' is kept in memory; snapshots need a data folder"};
  }
  VDB_TRY(checkpoint());
  std::vector<ArchiveEntry> entries{{"config.vdb", dir_ / "config.vdb"},
                                    {"state.vdb", dir_ / "state.vdb"}};
  if (!fs::exists(dir_ / "state.vdb")) {
    return Error{Errc::internal, "snapshot: no checkpoint to archive"};
  }
  for (const auto& [id, saved] : saved_) {
    const std::string seg = "segments/" + std::to_string(id);
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_ / seg, ec)) {
      const std::string f = entry.path().filename().string();
      const bool stale = f.rfind("points-", 0) == 0 && f != points_file(saved.generation);
      if (entry.is_regular_file() && entry.path().extension() != ".tmp" && !stale) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      entries.push_back({seg + "/" + f.filename().string(), f});
    }
  }
  return write_archive(archive, entries,
                       Json{{"kind", "vdb-collection-snapshot"},
                            {"collection", name_},
                            {"operation", checkpoint_op_.load()}});
}

// ---- the flusher ---------------------------------------------------------------------------

Status Collection::start_files() {
  flusher_ = std::thread([this] { flusher_loop(); });
  return {};
}

void Collection::flusher_loop() {
  const auto interval = std::chrono::seconds(
      std::max<std::uint32_t>(1, config_.optimizers_config.flush_interval_sec));
  std::unique_lock lock(flush_mutex_);
  while (!flush_stop_) {
    flush_wake_.wait_for(lock, interval, [this] { return flush_stop_; });
    if (flush_stop_) {
      break;
    }
    lock.unlock();
    if (const Status s = flush(); !s.ok()) {
      log::warn("collection " + name_ +
                ": checkpoint failed (the log keeps every write): " + s.message());
    }
    lock.lock();
  }
}

void Collection::detach() {
  {
    std::lock_guard lock(flush_mutex_);
    flush_stop_ = true;
  }
  flush_wake_.notify_all();
  if (flusher_.joinable() && flusher_.get_id() != std::this_thread::get_id()) {
    flusher_.join();
  }
  std::lock_guard steps(optimizer_mutex_);
  std::unique_lock lock(mutex_);
  wal_.reset();
  dir_.clear();
}

} // namespace vdb
