#include "tools/bench/vdb_bench/vdb_index.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace vdb::bench {

VdbIndex::~VdbIndex() {
  collection_.reset();
  catalog_.reset();
  if (!folder_.empty()) {
    std::error_code ec;
    fs::remove_all(folder_, ec);
  }
}

void VdbIndex::build(const Dataset& d, const BuildParams& params) {
  dim_ = d.dim;
  EngineContext context = context_;
  context.limits.max_batch_size = d.size();
  context.limits.max_search_limit = 100'000;
  fs::path storage;
  if (graph_on_disk_ && folder_.empty()) {
    std::string pattern = (fs::temp_directory_path() / "vdb-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary folder for " + name());
    }
    folder_ = pattern;
  }
  if (graph_on_disk_) {
    collection_.reset();
    catalog_.reset();
    storage = fs::path(folder_) / std::to_string(builds_++);
  }
  catalog_ = std::make_unique<Catalog>(context, CollectionConfig{}, storage);
  // One segment over everything: sealed as soon as it holds data (indexing_threshold 1 KB),
  // never merged with another.
  Json body{{"vectors",
             {{"size", d.dim}, {"distance", d.metric == BenchMetric::l2 ? "Euclid" : "Cosine"}}},
            {"hnsw_config",
             {{"m", params.m},
              {"ef_construct", params.ef_construct},
              {"max_indexing_threads", params.threads}}},
            {"optimizers_config", {{"indexing_threshold", 1}, {"default_segment_number", 1}}}};
  if (params.payload_m) {
    body["hnsw_config"]["payload_m"] = *params.payload_m;
  }
  if (graph_on_disk_) {
    body["hnsw_config"]["on_disk"] = true;
  }
  if (int8_.enabled) {
    body["quantization_config"] = {
        {"scalar", {{"type", "int8"}, {"quantile", int8_.quantile}, {"always_ram", true}}}};
  }
  if (Status s = catalog_->create_collection("bench", body); !s.ok()) {
    throw std::runtime_error(s.message());
  }
  collection_ = *catalog_->get("bench");
  const bool payloads = params.payloads && !d.n_field.empty();
  const bool tenants = params.tenants && !d.tenant.empty();
  const auto index = [&](const char* key, PayloadFieldType type) {
    auto made = collection_->create_payload_index(*JsonPath::parse(key), type);
    if (!made) {
      throw std::runtime_error(made.error().message);
    }
  };
  if (payloads) {
    index("n", PayloadFieldType::integer);
    index("cpos", PayloadFieldType::integer);
  }
  if (tenants) {
    index("tenant", PayloadFieldType::keyword);
  }
  std::vector<PointStruct> points;
  points.reserve(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    Json payload = payloads ? Json{{"n", d.n_field[i]}, {"cpos", d.cpos_field[i]}} : Json::object();
    if (tenants) {
      payload["tenant"] = tenant_value(d.tenant[i]);
    }
    points.push_back(PointStruct{PointId::from_number(i),
                                 {{"", std::vector<float>(d.vector(i), d.vector(i) + d.dim)}},
                                 std::move(payload)});
  }
  auto done = collection_->upsert(std::move(points));
  if (!done) {
    throw std::runtime_error(done.error().message);
  }
  if (Status s = collection_->optimize_now(); !s.ok()) {
    throw std::runtime_error(s.message());
  }
}

void VdbIndex::run(const float* query, std::size_t k, const Filter* filter, std::uint32_t* out) {
  SearchRequest request;
  request.vector.assign(query, query + dim_);
  request.limit = k;
  request.hnsw_ef = ef_;
  request.filter = filter;
  if (int8_.enabled) {
    request.quantization.rescore = int8_.rescore;
    request.quantization.oversampling = int8_.oversampling;
  }
  auto hits = collection_->search(request);
  std::fill(out, out + k, UINT32_MAX);
  if (!hits) {
    throw std::runtime_error(hits.error().message);
  }
  for (std::size_t i = 0; i < hits->size() && i < k; ++i) {
    out[i] = static_cast<std::uint32_t>((*hits)[i].id.number());
  }
}

void VdbIndex::search(const float* query, std::size_t k, std::uint32_t* out) {
  run(query, k, nullptr, out);
}

bool VdbIndex::search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                               std::uint32_t* out) {
  run(query, k, filter.filter, out);
  return true;
}

void ExactSubset::build(const Dataset& d, const BuildParams& /*params*/) { data_ = &d; }

void ExactSubset::search(const float* query, std::size_t k, std::uint32_t* out) {
  std::vector<std::uint32_t> all(data_->size());
  for (std::uint32_t i = 0; i < all.size(); ++i) {
    all[i] = i;
  }
  QueryFilter everything;
  everything.ids = &all;
  search_filtered(query, k, everything, out);
}

bool ExactSubset::search_filtered(const float* query, std::size_t k, const QueryFilter& filter,
                                  std::uint32_t* out) {
  const std::vector<std::uint32_t>& ids = *filter.ids;
  pointers_.resize(ids.size());
  scores_.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    pointers_[i] = data_->vector(ids[i]);
  }
  const bool l2 = data_->metric == BenchMetric::l2;
  const Status s =
      l2 ? backend_.l2sq_gather(query, pointers_.data(), ids.size(), data_->dim, scores_.data())
         : backend_.dot_gather(query, pointers_.data(), ids.size(), data_->dim, scores_.data());
  if (!s.ok()) {
    throw std::runtime_error(s.message());
  }
  ranked_.clear();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ranked_.emplace_back(l2 ? scores_[i] : -scores_[i], ids[i]);
  }
  const std::size_t take = std::min(k, ranked_.size());
  std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(take),
                    ranked_.end());
  std::fill(out, out + k, UINT32_MAX);
  for (std::size_t i = 0; i < take; ++i) {
    out[i] = ranked_[i].second;
  }
  return true;
}

} // namespace vdb::bench
