#include "tools/vdb/cli.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace vdb::cli {

const char* const kUsage =
    R"(usage: vdb [--host H] [--port P] [--api-key K] [--json] [--no-progress] COMMAND

Collections
  vdb collections list
  vdb collections create NAME --size N [--distance Cosine|Euclid|Dot|Manhattan] [--config JSON]
  vdb collections describe NAME
  vdb collections delete NAME
Points
  vdb import COLLECTION FILE [--format fvecs|jsonl|csv] [--batch N] [--start-id N] [--vector NAME]
  vdb search COLLECTION (--vector 0.1,0.2,... | --vector-file FILE) [--limit N] [--filter JSON]
             [--with-payload] [--with-vector] [--ef N] [--exact] [--using NAME]
             [--oversampling X] [--rescore] [--ignore-quantization]
  vdb scroll COLLECTION [--limit N] [--offset ID] [--filter JSON]
  vdb count COLLECTION [--filter JSON] [--approximate]
  vdb retrieve COLLECTION ID [ID ...]
  vdb delete COLLECTION (ID [ID ...] | --filter JSON)
Payload indexes
  vdb index create COLLECTION FIELD SCHEMA     (keyword integer float bool uuid datetime text geo)
  vdb index drop COLLECTION FIELD
Service
  vdb health
Snapshots
  vdb snapshot create COLLECTION
  vdb snapshot list COLLECTION
  vdb snapshot delete COLLECTION NAME
  vdb snapshot recover COLLECTION NAME          (NAME, or OTHER_COLLECTION/NAME)

Import formats: fvecs (ids from --start-id), JSONL ({"id", "vector", "payload"} per line), CSV
(a header; columns "id" and "vector" (numbers separated by spaces or ';'); other columns become
payload fields). Results are tables; --json prints JSON for scripts.
)";

namespace {

constexpr const char* kUsagePrefix = "usage: ";

/// A mistake in the command line, found before anything is sent: exit code 2.
Error usage(const std::string& message) {
  return Error{Errc::invalid_argument, kUsagePrefix + message};
}

// ---- argument helpers ---------------------------------------------------------------------

class Args {
public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}

  /// The next positional argument, or a usage error naming `what`.
  Expected<std::string> positional(const std::string& what) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i].rfind("--", 0) != 0) {
        std::string v = args_[i];
        args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i));
        return v;
      }
      if (takes_value(args_[i])) {
        ++i;
      }
    }
    return usage("missing " + what);
  }
  /// Every remaining positional argument.
  std::vector<std::string> rest() {
    std::vector<std::string> out;
    while (true) {
      auto v = positional("");
      if (!v) {
        return out;
      }
      out.push_back(*v);
    }
  }
  std::optional<std::string> value(const std::string& flag) {
    for (std::size_t i = 0; i + 1 < args_.size(); ++i) {
      if (args_[i] == flag) {
        std::string v = args_[i + 1];
        args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i),
                    args_.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        return v;
      }
    }
    return std::nullopt;
  }
  bool flag(const std::string& name) {
    const auto it = std::find(args_.begin(), args_.end(), name);
    if (it == args_.end()) {
      return false;
    }
    args_.erase(it);
    return true;
  }
  /// Fails on anything not consumed.
  Status done() const {
    if (!args_.empty()) {
      return usage("unexpected argument '" + args_.front() + "'");
    }
    return {};
  }

private:
  static bool takes_value(const std::string& a) {
    static const char* const kValued[] = {"--size",   "--distance",    "--config", "--format",
                                          "--batch",  "--start-id",    "--vector", "--vector-file",
                                          "--limit",  "--filter",      "--ef",     "--using",
                                          "--offset", "--oversampling"};
    return std::any_of(std::begin(kValued), std::end(kValued),
                       [&](const char* v) { return a == v; });
  }
  std::vector<std::string> args_;
};

Expected<std::uint64_t> number(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(text, &used);
    if (used == text.size() && text[0] != '-') {
      return static_cast<std::uint64_t>(v);
    }
  } catch (const std::exception&) {
  }
  return usage(what + ": '" + text + "' is not a non-negative integer");
}

Expected<Json> json_arg(const std::string& text, const std::string& what) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return usage(what + ": not valid JSON");
  }
  return j;
}

Expected<std::vector<float>> floats(const std::string& text, const std::string& what) {
  std::vector<float> out;
  std::string item;
  std::string normalized = text;
  std::replace(normalized.begin(), normalized.end(), ';', ',');
  std::replace(normalized.begin(), normalized.end(), ' ', ',');
  std::stringstream in(normalized);
  while (std::getline(in, item, ',')) {
    if (item.empty()) {
      continue;
    }
    char* end = nullptr;
    const float v = std::strtof(item.c_str(), &end);
    if (end == item.c_str() || *end != '\0') {
      return usage(what + ": '" + item + "' is not a number");
    }
    out.push_back(v);
  }
  if (out.empty()) {
    return usage(what + ": no numbers");
  }
  return out;
}

Expected<PointId> id_arg(const std::string& text) {
  if (auto n = number(text, "id")) {
    return PointId::from_number(*n);
  }
  auto uuid = PointId::parse_uuid(text);
  if (!uuid) {
    return usage("'" + text + "' is neither an integer id nor a UUID");
  }
  return *uuid;
}

std::optional<Json> optional_filter(Args& a, Status& status) {
  if (auto text = a.value("--filter")) {
    auto j = json_arg(*text, "--filter");
    if (!j) {
      status = j.status();
      return std::nullopt;
    }
    return *j;
  }
  return std::nullopt;
}

// ---- output -------------------------------------------------------------------------------

std::string vector_text(const std::vector<float>& v) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < v.size() && i < 8; ++i) {
    s << (i ? ", " : "") << v[i];
  }
  if (v.size() > 8) {
    s << ", ... (" << v.size() << ")";
  }
  s << ']';
  return s.str();
}

void table(std::ostream& out, const std::vector<std::string>& header,
           const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) {
      width[c] = std::max(width[c], std::min<std::size_t>(r[c].size(), 60));
    }
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string cell = cells[c].size() > 60 ? cells[c].substr(0, 57) + "..." : cells[c];
      out << (c ? "  " : "") << std::left << std::setw(static_cast<int>(width[c])) << cell;
    }
    out << '\n';
  };
  line(header);
  std::vector<std::string> rule;
  rule.reserve(width.size());
  for (std::size_t w : width) {
    rule.emplace_back(w, '-');
  }
  line(rule);
  for (const auto& r : rows) {
    line(r);
  }
}

template <class R>
void print_points(std::ostream& out, const Options& o, const std::vector<R>& points, bool scored) {
  if (o.json) {
    Json all = Json::array();
    for (const R& p : points) {
      all.push_back(to_json(p, false));
    }
    out << all.dump() << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const R& p : points) {
    std::vector<std::string> row{p.id.to_string()};
    if constexpr (std::is_same_v<R, ScoredPoint>) {
      std::ostringstream s;
      s << p.score;
      row.push_back(s.str());
    }
    row.push_back(p.payload ? p.payload->dump() : "");
    std::string vectors;
    for (const auto& [name, v] : p.vectors) {
      vectors += (name.empty() ? "" : name + "=") + vector_text(v) + " ";
    }
    row.push_back(vectors);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header{"id"};
  if (scored) {
    header.emplace_back("score");
  }
  header.emplace_back("payload");
  header.emplace_back("vector");
  table(out, header, rows);
}

void print_write(std::ostream& out, const Options& o, const WriteResult& w) {
  if (o.json) {
    out << Json{{"operation_id", w.operation_id},
                {"status", w.completed ? "completed" : "acknowledged"}}
               .dump()
        << '\n';
  } else {
    out << (w.completed ? "done" : "acknowledged") << " (operation " << w.operation_id << ")\n";
  }
}

// ---- import -------------------------------------------------------------------------------

class Progress {
public:
  Progress(std::ostream& err, bool on, std::uint64_t total) : err_(err), on_(on), total_(total) {}
  void update(std::uint64_t done) {
    if (!on_) {
      return;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double share = total_ == 0 ? 1.0 : std::min(1.0, double(done) / double(total_));
    const int filled = static_cast<int>(share * 30);
    err_ << "\r[" << std::string(static_cast<std::size_t>(filled), '=')
         << std::string(static_cast<std::size_t>(30 - filled), ' ') << "] " << std::setw(3)
         << static_cast<int>(share * 100) << "% " << done;
    if (total_ != 0) {
      err_ << "/" << total_;
    }
    err_ << " points, " << static_cast<std::uint64_t>(seconds > 0 ? double(done) / seconds : 0)
         << " points/s" << std::flush;
  }
  void finish() {
    if (on_) {
      err_ << '\n';
    }
  }

private:
  std::ostream& err_;
  bool on_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Reads points from a file, one batch at a time.
class Reader {
public:
  virtual ~Reader() = default;
  /// Up to `n` more points; an empty batch at the end.
  virtual Expected<std::vector<PointStruct>> next(std::size_t n) = 0;
  /// Points in the file when known up front, else 0.
  virtual std::uint64_t total() const { return 0; }
};

class FvecsReader final : public Reader {
public:
  FvecsReader(std::ifstream in, std::uint64_t first_id, std::string vector, std::uint64_t bytes)
      : in_(std::move(in)), id_(first_id), vector_(std::move(vector)) {
    std::int32_t dim = 0;
    if (in_.read(reinterpret_cast<char*>(&dim), 4) && dim > 0) {
      total_ = bytes / (4 + 4 * static_cast<std::uint64_t>(dim));
    }
    in_.seekg(0);
  }
  std::uint64_t total() const override { return total_; }
  Expected<std::vector<PointStruct>> next(std::size_t n) override {
    std::vector<PointStruct> out;
    while (out.size() < n) {
      std::int32_t dim = 0;
      if (!in_.read(reinterpret_cast<char*>(&dim), 4)) {
        break;
      }
      if (dim <= 0 || dim > 65536) {
        return usage("fvecs: vector " + std::to_string(id_) + " has dimension " +
                     std::to_string(dim));
      }
      std::vector<float> v(static_cast<std::size_t>(dim));
      if (!in_.read(reinterpret_cast<char*>(v.data()), 4 * static_cast<std::streamsize>(dim))) {
        return usage("fvecs: the file ends inside vector " + std::to_string(id_));
      }
      out.push_back(PointStruct{PointId::from_number(id_++), {{vector_, std::move(v)}}, {}});
    }
    return out;
  }

private:
  std::ifstream in_;
  std::uint64_t id_;
  std::string vector_;
  std::uint64_t total_ = 0;
};

class JsonlReader final : public Reader {
public:
  JsonlReader(std::ifstream in, std::string vector)
      : in_(std::move(in)), vector_(std::move(vector)) {}
  Expected<std::vector<PointStruct>> next(std::size_t n) override {
    std::vector<PointStruct> out;
    std::string line;
    while (out.size() < n && std::getline(in_, line)) {
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      const std::string at = "line " + std::to_string(line_);
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return usage(at + ": not a JSON object");
      }
      if (!j.contains("id")) {
        return usage(at + ": no \"id\"");
      }
      auto id = parse_point_id(j["id"], at + ".id");
      VDB_TRY(id);
      PointStruct p{*id, {}, j.value("payload", Json::object())};
      const Json& v = j.contains("vector") ? j["vector"] : j.value("vectors", Json());
      if (v.is_array()) {
        p.vectors[vector_] = v.get<std::vector<float>>();
      } else if (v.is_object()) {
        for (const auto& [name, values] : v.items()) {
          p.vectors[name] = values.get<std::vector<float>>();
        }
      } else {
        return usage(at + ": \"vector\" must be an array of numbers or an object of them");
      }
      out.push_back(std::move(p));
    }
    return out;
  }

private:
  std::ifstream in_;
  std::string vector_;
  std::uint64_t line_ = 0;
};

class CsvReader final : public Reader {
public:
  CsvReader(std::ifstream in, std::string vector)
      : in_(std::move(in)), vector_(std::move(vector)) {}
  Expected<std::vector<PointStruct>> next(std::size_t n) override {
    std::string line;
    if (header_.empty()) {
      if (!std::getline(in_, line)) {
        return std::vector<PointStruct>();
      }
      header_ = split(line);
      if (std::find(header_.begin(), header_.end(), "id") == header_.end() ||
          std::find(header_.begin(), header_.end(), "vector") == header_.end()) {
        return usage("csv: the header needs columns \"id\" and \"vector\"");
      }
      line_ = 1;
    }
    std::vector<PointStruct> out;
    while (out.size() < n && std::getline(in_, line)) {
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      const std::string at = "line " + std::to_string(line_);
      const auto cells = split(line);
      if (cells.size() != header_.size()) {
        return usage(at + ": " + std::to_string(cells.size()) + " columns, the header has " +
                     std::to_string(header_.size()));
      }
      PointStruct p;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        if (header_[c] == "id") {
          auto id = id_arg(cells[c]);
          if (!id) {
            return usage(at + ".id: " + id.error().message);
          }
          p.id = *id;
        } else if (header_[c] == "vector") {
          auto v = floats(cells[c], at + ".vector");
          VDB_TRY(v);
          p.vectors[vector_] = std::move(*v);
        } else {
          char* end = nullptr;
          const double d = std::strtod(cells[c].c_str(), &end);
          if (!cells[c].empty() && *end == '\0') {
            p.payload[header_[c]] = std::floor(d) == d && std::abs(d) < 9e15
                                        ? Json(static_cast<std::int64_t>(d))
                                        : Json(d);
          } else {
            p.payload[header_[c]] = cells[c];
          }
        }
      }
      out.push_back(std::move(p));
    }
    return out;
  }

private:
  // Comma-separated cells; a cell in double quotes may hold commas ("" is a quote).
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char ch = line[i];
      if (quoted) {
        if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          out.back() += '"';
          ++i;
        } else if (ch == '"') {
          quoted = false;
        } else {
          out.back() += ch;
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        out.emplace_back();
      } else if (ch != '\r') {
        out.back() += ch;
      }
    }
    return out;
  }
  std::ifstream in_;
  std::string vector_;
  std::vector<std::string> header_;
  std::uint64_t line_ = 0;
};

// ---- commands -----------------------------------------------------------------------------

using Command = std::function<Status(Client&, const Options&, Args&, std::ostream&, std::ostream&)>;

Status collections(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto what = a.positional("a collections command (list, create, describe, delete)");
  VDB_TRY(what);
  if (*what == "list") {
    VDB_TRY(a.done());
    auto names = c.list_collections();
    VDB_TRY(names);
    if (o.json) {
      out << Json(*names).dump() << '\n';
    } else {
      for (const auto& n : *names) {
        out << n << '\n';
      }
    }
    return {};
  }
  auto name = a.positional("the collection name");
  VDB_TRY(name);
  if (*what == "create") {
    Json config = Json::object();
    if (auto text = a.value("--config")) {
      auto j = json_arg(*text, "--config");
      VDB_TRY(j);
      config = *j;
    }
    if (auto size = a.value("--size")) {
      auto n = number(*size, "--size");
      VDB_TRY(n);
      config["vectors"] = {{"size", *n}, {"distance", a.value("--distance").value_or("Cosine")}};
    } else if (!config.contains("vectors")) {
      return usage("collections create: give --size N (or --config with \"vectors\")");
    }
    VDB_TRY(a.done());
    VDB_TRY(c.create_collection(*name, config));
    out << (o.json ? "{\"status\":\"created\"}" : "created " + *name) << '\n';
    return {};
  }
  VDB_TRY(a.done());
  if (*what == "describe") {
    auto info = c.collection_info(*name);
    VDB_TRY(info);
    if (o.json) {
      out << info->dump() << '\n';
    } else {
      out << info->dump(2) << '\n';
    }
    return {};
  }
  if (*what == "delete") {
    VDB_TRY(c.delete_collection(*name));
    out << (o.json ? "{\"status\":\"deleted\"}" : "deleted " + *name) << '\n';
    return {};
  }
  return usage("unknown collections command '" + *what + "'");
}

Status import(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream& err) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  auto path = a.positional("the file to import");
  VDB_TRY(path);
  std::string format = a.value("--format").value_or("");
  if (format.empty()) {
    const auto dot = path->rfind('.');
    format = dot == std::string::npos ? "" : path->substr(dot + 1);
  }
  std::uint64_t batch = 1000;
  if (auto b = a.value("--batch")) {
    auto n = number(*b, "--batch");
    VDB_TRY(n);
    batch = std::max<std::uint64_t>(1, *n);
  }
  std::uint64_t start = 0;
  if (auto s = a.value("--start-id")) {
    auto n = number(*s, "--start-id");
    VDB_TRY(n);
    start = *n;
  }
  const std::string vector = a.value("--vector").value_or("");
  VDB_TRY(a.done());
  std::ifstream in(*path, std::ios::binary | std::ios::ate);
  if (!in) {
    return Error{Errc::not_found, *path + ": cannot open"};
  }
  const auto bytes = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  std::unique_ptr<Reader> reader;
  if (format == "fvecs") {
    reader = std::make_unique<FvecsReader>(std::move(in), start, vector, bytes);
  } else if (format == "jsonl" || format == "json") {
    reader = std::make_unique<JsonlReader>(std::move(in), vector);
  } else if (format == "csv") {
    reader = std::make_unique<CsvReader>(std::move(in), vector);
  } else {
    return usage("--format: '" + format + "' is not fvecs, jsonl or csv");
  }
  Progress progress(err, o.progress, reader->total());
  std::uint64_t done = 0;
  while (true) {
    auto points = reader->next(batch);
    VDB_TRY(points);
    if (points->empty()) {
      break;
    }
    const std::size_t n = points->size();
    auto written = c.upsert(*collection, std::move(*points), true);
    if (!written) {
      progress.finish();
      return Error{written.error().code,
                   "after " + std::to_string(done) + " points: " + written.error().message};
    }
    done += n;
    progress.update(done);
  }
  progress.finish();
  out << (o.json ? Json{{"imported", done}}.dump() : "imported " + std::to_string(done) + " points")
      << '\n';
  return {};
}

Status search(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  Query q;
  if (auto v = a.value("--vector")) {
    auto f = floats(*v, "--vector");
    VDB_TRY(f);
    q.vector = std::move(*f);
  } else if (auto file = a.value("--vector-file")) {
    std::ifstream in(*file);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      return Error{Errc::not_found, *file + ": cannot open"};
    }
    Json j = Json::parse(text.str(), nullptr, false);
    if (!j.is_discarded() && j.is_array()) {
      q.vector = j.get<std::vector<float>>();
    } else {
      auto f = floats(text.str(), "--vector-file");
      VDB_TRY(f);
      q.vector = std::move(*f);
    }
  } else {
    return usage("search: give --vector or --vector-file");
  }
  if (auto l = a.value("--limit")) {
    auto n = number(*l, "--limit");
    VDB_TRY(n);
    q.limit = *n;
  }
  if (auto ef = a.value("--ef")) {
    auto n = number(*ef, "--ef");
    VDB_TRY(n);
    q.hnsw_ef = *n;
  }
  q.vector_name = a.value("--using").value_or("");
  Status s;
  q.filter = optional_filter(a, s);
  VDB_TRY(s);
  q.with_payload = a.flag("--with-payload") ? PayloadSelector::all() : PayloadSelector::none();
  q.with_vector = a.flag("--with-vector") ? VectorSelector::every() : VectorSelector::none();
  q.exact = a.flag("--exact");
  // Quantized collections (params.quantization, as in Qdrant); the server checks the range.
  if (auto x = a.value("--oversampling")) {
    auto f = floats(*x, "--oversampling");
    VDB_TRY(f);
    if (f->size() != 1) {
      return usage("--oversampling: give one number");
    }
    q.quantization.oversampling = f->front();
  }
  if (a.flag("--rescore")) {
    q.quantization.rescore = true;
  }
  q.quantization.ignore = a.flag("--ignore-quantization");
  VDB_TRY(a.done());
  auto hits = c.search(*collection, q);
  VDB_TRY(hits);
  print_points(out, o, *hits, true);
  return {};
}

Status scroll(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  ScrollQuery q;
  if (auto l = a.value("--limit")) {
    auto n = number(*l, "--limit");
    VDB_TRY(n);
    q.limit = *n;
  }
  if (auto off = a.value("--offset")) {
    auto id = id_arg(*off);
    VDB_TRY(id);
    q.offset = *id;
  }
  Status s;
  q.filter = optional_filter(a, s);
  VDB_TRY(s);
  VDB_TRY(a.done());
  auto page = c.scroll(*collection, q);
  VDB_TRY(page);
  if (o.json) {
    Json points = Json::array();
    for (const Record& r : page->points) {
      points.push_back(to_json(r, false));
    }
    out << Json{{"points", points},
                {"next_page_offset",
                 page->next_page_offset ? point_id_json(*page->next_page_offset) : Json()}}
               .dump()
        << '\n';
    return {};
  }
  print_points(out, o, page->points, false);
  if (page->next_page_offset) {
    out << "next page: --offset " << page->next_page_offset->to_string() << '\n';
  }
  return {};
}

Status count(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  Status s;
  auto filter = optional_filter(a, s);
  VDB_TRY(s);
  const bool approximate = a.flag("--approximate");
  VDB_TRY(a.done());
  auto n = c.count(*collection, filter, !approximate);
  VDB_TRY(n);
  out << (o.json ? Json{{"count", *n}}.dump() : std::to_string(*n)) << '\n';
  return {};
}

Status retrieve(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  std::vector<PointId> ids;
  for (const auto& text : a.rest()) {
    auto id = id_arg(text);
    VDB_TRY(id);
    ids.push_back(*id);
  }
  if (ids.empty()) {
    return usage("retrieve: give at least one id");
  }
  auto records = c.retrieve(*collection, ids, PayloadSelector::all(), VectorSelector::every());
  VDB_TRY(records);
  print_points(out, o, *records, false);
  return {};
}

Status remove(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  Status s;
  auto filter = optional_filter(a, s);
  VDB_TRY(s);
  Selector selector;
  if (filter) {
    selector = Selector::matching(*filter);
  } else {
    for (const auto& text : a.rest()) {
      auto id = id_arg(text);
      VDB_TRY(id);
      selector.ids.push_back(*id);
    }
    if (selector.ids.empty()) {
      return usage("delete: give ids or --filter");
    }
  }
  VDB_TRY(a.done());
  auto w = c.delete_points(*collection, selector, true);
  VDB_TRY(w);
  print_write(out, o, *w);
  return {};
}

Status index(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto what = a.positional("an index command (create, drop)");
  VDB_TRY(what);
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  auto field = a.positional("the field");
  VDB_TRY(field);
  Expected<WriteResult> w = Error{Errc::internal, ""};
  if (*what == "create") {
    auto schema = a.positional("the field schema");
    VDB_TRY(schema);
    VDB_TRY(a.done());
    w = c.create_payload_index(*collection, *field, *schema, true);
  } else if (*what == "drop") {
    VDB_TRY(a.done());
    w = c.delete_payload_index(*collection, *field, true);
  } else {
    return usage("unknown index command '" + *what + "'");
  }
  VDB_TRY(w);
  print_write(out, o, *w);
  return {};
}

Json snapshot_json(const SnapshotInfo& s) {
  return {{"name", s.name}, {"size", s.size}, {"creation_time", s.creation_time}};
}

Status snapshot(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  auto what = a.positional("a snapshot command (create, list, delete, recover)");
  VDB_TRY(what);
  auto collection = a.positional("the collection");
  VDB_TRY(collection);
  if (*what == "create" || *what == "list") {
    VDB_TRY(a.done());
    std::vector<SnapshotInfo> all;
    if (*what == "create") {
      auto made = c.create_snapshot(*collection);
      VDB_TRY(made);
      all.push_back(*made);
    } else {
      auto listed = c.list_snapshots(*collection);
      VDB_TRY(listed);
      all = *listed;
    }
    if (o.json) {
      Json list = Json::array();
      for (const SnapshotInfo& s : all) {
        list.push_back(snapshot_json(s));
      }
      out << (*what == "create" ? list[0] : list).dump() << '\n';
      return {};
    }
    for (const SnapshotInfo& s : all) {
      out << s.name << "  " << s.size << " bytes  " << s.creation_time << '\n';
    }
    return {};
  }
  if (*what != "delete" && *what != "recover") {
    return usage("unknown snapshot command '" + *what + "'");
  }
  auto name = a.positional("the snapshot name");
  VDB_TRY(name);
  VDB_TRY(a.done());
  VDB_TRY(*what == "delete" ? c.delete_snapshot(*collection, *name)
                            : c.recover_snapshot(*collection, *name));
  if (o.json) {
    out << Json{{"status", "ok"}}.dump() << '\n';
  } else {
    out << (*what == "delete" ? "deleted " : "recovered ") << *collection << " <- " << *name
        << '\n';
  }
  return {};
}

Status health(Client& c, const Options& o, Args& a, std::ostream& out, std::ostream&) {
  VDB_TRY(a.done());
  auto h = c.health();
  VDB_TRY(h);
  if (o.json) {
    out << Json{{"version", h->version}, {"collections", h->collections}}.dump() << '\n';
  } else {
    out << "vdbd " << h->version << ", " << h->collections << " collection(s)\n";
  }
  return {};
}

} // namespace

Expected<Options> parse_options(std::vector<std::string>& args) {
  Options o;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](const char* name) -> Expected<std::string> {
      if (i + 1 >= args.size()) {
        return usage(std::string(name) + " needs a value");
      }
      return args[++i];
    };
    const bool global = rest.empty(); // options after the command belong to it
    if (global && a == "--host") {
      auto v = value("--host");
      VDB_TRY(v);
      o.host = *v;
    } else if (global && a == "--port") {
      auto v = value("--port");
      VDB_TRY(v);
      auto n = number(*v, "--port");
      VDB_TRY(n);
      if (*n == 0 || *n > 65535) {
        return usage("--port: must be in 1..65535");
      }
      o.port = static_cast<std::uint16_t>(*n);
    } else if (global && a == "--api-key") {
      auto v = value("--api-key");
      VDB_TRY(v);
      o.api_key = *v;
    } else if (global && a == "--json") {
      o.json = true;
    } else if (global && a == "--no-progress") {
      o.progress = false;
    } else {
      rest.push_back(a);
    }
  }
  args = std::move(rest);
  return o;
}

int run(Client& client, const Options& options, const std::vector<std::string>& args,
        std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  static const std::map<std::string, Command> kCommands = {
      {"collections", collections}, {"import", import},     {"search", search},
      {"scroll", scroll},           {"count", count},       {"retrieve", retrieve},
      {"delete", remove},           {"index", index},       {"health", health},
      {"snapshot", snapshot},       {"snapshots", snapshot}};
  const auto it = kCommands.find(args[0]);
  if (it == kCommands.end()) {
    err << "vdb: unknown command '" << args[0] << "'\n" << kUsage;
    return 2;
  }
  Args rest(std::vector<std::string>(args.begin() + 1, args.end()));
  const Status s = it->second(client, options, rest, out, err);
  if (s.ok()) {
    return 0;
  }
  if (options.json) {
    err << Json{{"error", to_string(s.code())}, {"message", s.message()}}.dump() << '\n';
  } else {
    err << "vdb: " << s.message() << '\n';
  }
  // Usage errors found before anything was sent exit with 2; the server's answers with 1.
  return s.message().rfind(kUsagePrefix, 0) == 0 ? 2 : 1;
}

} // namespace vdb::cli
