#include "core/index/hnsw_graph.hpp"

#include "core/storage/codec.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <thread>

namespace vdb {

HnswGraph::HnswGraph(std::vector<const float*> vectors, VectorScorer scorer,
                     const HnswParams& params, bool own_links)
    : vectors_(std::move(vectors)), scorer_(scorer), params_(params),
      stride0_(1 + 2 * static_cast<std::size_t>(params.m)),
      stride_upper_(1 + static_cast<std::size_t>(params.m)),
      level0_(own_links ? vectors_.size() * stride0_ : 0), levels_(vectors_.size(), 0),
      visited_pool_(vectors_.size()) {
  if (own_links) {
    locks_ = std::make_unique<std::mutex[]>(vectors_.size());
  }
  find_layout();
  view_owned();
}

void HnswGraph::view_owned() noexcept {
  view_.level0 = level0_.data();
  view_.upper = upper_.data();
  view_.block_offsets = block_offsets_.empty() ? nullptr : block_offsets_.data();
  view_.block_links = block_links_.data();
  view_.block_count = block_links_.size();
}

std::size_t HnswGraph::link_bytes() const noexcept {
  const std::size_t offsets = view_.block_offsets != nullptr ? vectors_.size() + 1 : 0;
  return (vectors_.size() * stride0_ + view_.upper_lists * stride_upper_ + offsets +
          view_.block_count) *
         sizeof(std::uint32_t);
}

void HnswGraph::find_layout() {
  const std::size_t stride = scorer_.dim() * sizeof(float);
  const std::size_t n = vectors_.size();
  const auto address = [this](std::size_t i) {
    return reinterpret_cast<std::uintptr_t>(vectors_[i]);
  };
  // The chunk length: where two neighbouring nodes stop lying one stride apart. A node left out
  // (null) hides whether a chunk ends at it; then the table stays in use.
  std::size_t per_chunk = n;
  std::size_t previous = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (vectors_[i] == nullptr) {
      continue;
    }
    if (previous != n && address(i) != address(previous) + (i - previous) * stride) {
      if (i != previous + 1) {
        return;
      }
      per_chunk = i;
      break;
    }
    previous = i;
  }
  if (per_chunk < 2 || n > UINT32_MAX) {
    return;
  }
  std::vector<const char*> chunks((n + per_chunk - 1) / per_chunk, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    if (vectors_[i] == nullptr) {
      continue;
    }
    const std::size_t chunk = i / per_chunk;
    const char* first =
        reinterpret_cast<const char*>(vectors_[i]) - (i - chunk * per_chunk) * stride;
    if (chunks[chunk] == nullptr) {
      chunks[chunk] = first;
    } else if (chunks[chunk] != first) {
      return; // not one layout: the table stays in use
    }
  }
  layout_.chunks = std::move(chunks);
  layout_.per_chunk = per_chunk;
  layout_.magic = UINT64_MAX / per_chunk + 1; // exact for 32-bit nodes (Lemire et al., 2019)
  layout_.stride = stride;
}

bool HnswGraph::allocate_upper(bool own) {
  upper_first_.assign(levels_.size(), 0);
  std::uint64_t lists = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    upper_first_[i] = static_cast<std::uint32_t>(lists);
    lists += levels_[i];
    if (lists > UINT32_MAX) {
      return false; // drawn levels average 1 / (m - 1) lists a node: only a damaged file
    }
  }
  view_.upper_lists = static_cast<std::size_t>(lists);
  if (own) {
    upper_.assign(static_cast<std::size_t>(lists) * stride_upper_, 0);
    view_owned();
  }
  return true;
}

std::unique_ptr<HnswGraph> HnswGraph::build(std::vector<const float*> vectors, VectorScorer scorer,
                                            const HnswParams& params,
                                            std::atomic<std::size_t>* progress,
                                            const std::atomic<bool>* cancel) {
  HnswParams p = params;
  p.m = std::max<std::uint32_t>(p.m, 2);
  p.ef_construct = std::max(p.ef_construct, p.m);
  std::unique_ptr<HnswGraph> graph(new HnswGraph(std::move(vectors), scorer, p));
  HnswGraph& g = *graph;

  // Levels first, from one seeded generator, so they do not depend on the thread schedule.
  std::mt19937_64 gen(p.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double mult = 1.0 / std::log(static_cast<double>(p.m));
  std::vector<std::uint32_t> order;
  std::uint64_t lists = 0; // the levels average 1 / (m - 1) upper lists a node
  for (std::uint32_t i = 0; i < g.vectors_.size(); ++i) {
    if (g.vectors_[i] == nullptr) {
      continue;
    }
    const double u = std::max(uniform(gen), 1e-12);
    int level = std::min(static_cast<int>(-std::log(u) * mult), 31);
    level = lists + static_cast<std::uint64_t>(level) > UINT32_MAX ? 0 : level;
    lists += static_cast<std::uint64_t>(level);
    g.levels_[i] = static_cast<std::uint8_t>(level);
    order.push_back(i);
  }
  g.allocate_upper(); // cannot fail: the levels were kept below 2^32 lists
  g.nodes_ = order.size();
  if (order.empty()) {
    return graph;
  }

  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    VisitedSet visited(g.vectors_.size());
    std::vector<Neighbor> scratch;
    for (std::size_t i = next.fetch_add(1); i < order.size(); i = next.fetch_add(1)) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        return;
      }
      visited.clear();
      g.insert(order[i], visited, scratch);
      if (progress != nullptr) {
        progress->fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  // The first node alone: it becomes the entry point.
  {
    VisitedSet visited(g.vectors_.size());
    std::vector<Neighbor> scratch;
    g.insert(order[next.fetch_add(1)], visited, scratch);
    if (progress != nullptr) {
      progress->fetch_add(1, std::memory_order_relaxed);
    }
  }
  std::size_t threads = p.threads != 0 ? p.threads : std::thread::hardware_concurrency();
  threads = std::max<std::size_t>(1, std::min(threads, order.size() / 64 + 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (std::thread& t : pool) {
    t.join();
  }
  g.locks_.reset();
  return graph;
}

std::unique_ptr<HnswGraph> HnswGraph::build_unlinked(std::vector<const float*> vectors,
                                                     VectorScorer scorer,
                                                     const HnswParams& params) {
  HnswParams p = params;
  p.m = 2; // the smallest lists: they stay empty
  std::unique_ptr<HnswGraph> graph(new HnswGraph(std::move(vectors), scorer, p));
  HnswGraph& g = *graph;
  g.allocate_upper(); // every node on level 0
  for (std::uint32_t i = 0; i < g.vectors_.size(); ++i) {
    if (g.vectors_[i] != nullptr) {
      g.entry_ = g.entry_ == kNone ? i : g.entry_;
      ++g.nodes_;
    }
  }
  g.max_level_ = g.entry_ == kNone ? -1 : 0;
  g.locks_.reset();
  return graph;
}

std::uint32_t HnswGraph::greedy(const float* query, std::uint32_t entry, int from_level,
                                int to_level, bool locked) const {
  std::uint32_t current = entry;
  float best = scorer_(query, vector(current));
  std::uint32_t buffer[1024];
  for (int level = from_level; level > to_level; --level) {
    bool moved = true;
    while (moved) {
      moved = false;
      std::uint32_t count = 0;
      {
        std::unique_lock<std::mutex> lock;
        if (locked) {
          lock = std::unique_lock<std::mutex>(locks_[current]);
        }
        const std::uint32_t* links = links_at(current, level);
        count = links[0];
        std::copy(links + 1, links + 1 + count, buffer);
      }
      for (std::uint32_t j = 0; j < count; ++j) {
        const float d = scorer_(query, vector(buffer[j]));
        if (d < best) {
          best = d;
          current = buffer[j];
          moved = true;
        }
      }
    }
  }
  return current;
}

// The ef closest nodes to `query` on `level` from `entry`, closest first (building: locked).
void HnswGraph::search_layer(const float* query, std::uint32_t entry, int level, std::size_t ef,
                             VisitedSet& visited, std::vector<Neighbor>& result) const {
  std::vector<Neighbor> candidates;
  result.clear();
  const auto closer_first = [](const Neighbor& a, const Neighbor& b) { return b < a; };
  visited.clear();
  visited.mark(entry);
  const Neighbor first{scorer_(query, vector(entry)), entry};
  candidates.push_back(first);
  result.push_back(first);
  std::uint32_t buffer[1024];
  const float* pointers[1024];
  float distances[1024];
  while (!candidates.empty()) {
    const Neighbor current = candidates.front();
    if (current.distance > result.front().distance && result.size() >= ef) {
      break;
    }
    std::pop_heap(candidates.begin(), candidates.end(), closer_first);
    candidates.pop_back();
    std::uint32_t count = 0;
    {
      std::lock_guard lock(locks_[current.id]);
      const std::uint32_t* links = links_at(current.id, level);
      count = links[0];
      std::copy(links + 1, links + 1 + count, buffer);
    }
    // Score every unvisited neighbour in one gather call (the kernel prefetches ahead).
    std::uint32_t fresh = 0;
    for (std::uint32_t j = 0; j < count; ++j) {
      if (!visited.test_and_mark(buffer[j])) {
        buffer[fresh] = buffer[j];
        pointers[fresh] = vector(buffer[j]);
        ++fresh;
      }
    }
    scorer_.gather(query, pointers, fresh, distances);
    for (std::uint32_t j = 0; j < fresh; ++j) {
      const std::uint32_t n = buffer[j];
      const float d = distances[j];
      if (result.size() < ef || d < result.front().distance) {
        candidates.push_back({d, n});
        std::push_heap(candidates.begin(), candidates.end(), closer_first);
        result.push_back({d, n});
        std::push_heap(result.begin(), result.end());
        if (result.size() > ef) {
          std::pop_heap(result.begin(), result.end());
          result.pop_back();
        }
      }
    }
    if (!candidates.empty()) {
      prefetch_links(candidates.front().id, level);
    }
  }
  std::sort_heap(result.begin(), result.end());
}

// Keeps at most m of `candidates` (sorted closest first) by the HNSW heuristic: a candidate is
// kept when it is closer to the base node than to every candidate kept before it, which spreads
// links over directions instead of clustering them.
void HnswGraph::select_neighbors(std::vector<Neighbor>& candidates, std::size_t m) const {
  if (candidates.size() <= m) {
    return;
  }
  std::vector<Neighbor> kept;
  kept.reserve(m);
  for (const Neighbor& c : candidates) {
    if (kept.size() >= m) {
      break;
    }
    bool good = true;
    for (const Neighbor& k : kept) {
      if (scorer_(vector(c.id), vector(k.id)) < c.distance) {
        good = false;
        break;
      }
    }
    if (good) {
      kept.push_back(c);
    }
  }
  candidates = std::move(kept);
}

void HnswGraph::connect(std::uint32_t node, std::uint32_t neighbor, int level) {
  std::lock_guard lock(locks_[neighbor]);
  std::uint32_t* links = links_at(neighbor, level);
  const std::uint32_t cap = max_links(level);
  if (links[0] < cap) {
    links[++links[0]] = node;
    return;
  }
  // Full: choose again among the old links and the new node.
  std::vector<Neighbor> candidates;
  candidates.reserve(cap + 1);
  const float* base = vector(neighbor);
  candidates.push_back({scorer_(base, vector(node)), node});
  for (std::uint32_t j = 1; j <= links[0]; ++j) {
    candidates.push_back({scorer_(base, vector(links[j])), links[j]});
  }
  std::sort(candidates.begin(), candidates.end());
  select_neighbors(candidates, cap);
  links[0] = static_cast<std::uint32_t>(candidates.size());
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    links[j + 1] = candidates[j].id;
  }
}

void HnswGraph::insert(std::uint32_t node, VisitedSet& visited, std::vector<Neighbor>& scratch) {
  const int level = levels_[node];
  const float* query = vector(node);
  std::unique_lock<std::mutex> entry_lock(entry_mutex_);
  if (entry_ == kNone) {
    entry_ = node;
    max_level_ = level;
    return;
  }
  const std::uint32_t entry = entry_;
  const int top = max_level_;
  // A node above the current top keeps the entry lock for its whole insert, so no other node
  // can become the entry meanwhile (as hnswlib does); the others release it at once.
  if (level <= top) {
    entry_lock.unlock();
  }
  std::uint32_t current = greedy(query, entry, top, level, true);
  for (int l = std::min(level, top); l >= 0; --l) {
    search_layer(query, current, l, params_.ef_construct, visited, scratch);
    current = scratch.front().id;
    scratch.erase(std::remove_if(scratch.begin(), scratch.end(),
                                 [node](const Neighbor& n) { return n.id == node; }),
                  scratch.end());
    select_neighbors(scratch, params_.m);
    {
      std::lock_guard lock(locks_[node]);
      std::uint32_t* links = links_at(node, l);
      links[0] = static_cast<std::uint32_t>(scratch.size());
      for (std::size_t j = 0; j < scratch.size(); ++j) {
        links[j + 1] = scratch[j].id;
      }
    }
    for (const Neighbor& n : scratch) {
      connect(node, n.id, l);
    }
  }
  if (level > top) {
    entry_ = node;
    max_level_ = level;
  }
}

std::vector<std::uint32_t> HnswGraph::links(std::uint32_t node, int level) const {
  if (level > levels_[node] || vectors_[node] == nullptr) {
    return {};
  }
  const std::uint32_t* l = links_at(node, level);
  return std::vector<std::uint32_t>(l + 1, l + 1 + l[0]);
}

std::size_t HnswGraph::add_block_links(const std::vector<std::vector<std::uint32_t>>& blocks,
                                       std::uint32_t m, const std::atomic<bool>* cancel) {
  const std::size_t n = vectors_.size();
  std::vector<std::vector<std::uint32_t>> added(n);
  std::vector<std::uint32_t> stamp(n, 0); // stamp[i] == b + 1: node i is in block b
  std::size_t linked = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      return linked;
    }
    const std::vector<std::uint32_t>& block = blocks[b];
    const auto mark = static_cast<std::uint32_t>(b + 1);
    for (const std::uint32_t node : block) {
      stamp[node] = mark;
    }
    // In-block links the main graph already has, over at most 256 nodes spread over the block.
    const std::size_t step = std::max<std::size_t>(1, block.size() / 256);
    std::size_t sampled = 0;
    std::size_t inside = 0;
    for (std::size_t i = 0; i < block.size(); i += step) {
      const std::uint32_t* links = links_at(block[i], 0);
      ++sampled;
      for (std::uint32_t j = 1; j <= links[0]; ++j) {
        inside += stamp[links[j]] == mark ? 1 : 0;
      }
    }
    if (block.size() < 2 || inside >= static_cast<std::size_t>(m) * sampled) {
      continue;
    }
    std::vector<const float*> vectors(block.size());
    for (std::size_t i = 0; i < block.size(); ++i) {
      vectors[i] = vector(block[i]);
    }
    HnswParams params = params_;
    params.m = m;
    params.seed = params_.seed + b + 1;
    const std::unique_ptr<HnswGraph> sub =
        build(std::move(vectors), scorer_, params, nullptr, cancel);
    for (std::uint32_t i = 0; i < block.size(); ++i) {
      const std::uint32_t node = block[i];
      const std::uint32_t* own = links_at(node, 0);
      const std::uint32_t* theirs = sub->links_at(i, 0);
      std::vector<std::uint32_t>& extra = added[node];
      for (std::uint32_t j = 1; j <= theirs[0]; ++j) {
        const std::uint32_t target = block[theirs[j]];
        if (std::find(own + 1, own + 1 + own[0], target) == own + 1 + own[0] &&
            std::find(extra.begin(), extra.end(), target) == extra.end()) {
          extra.push_back(target);
        }
      }
    }
    ++linked;
  }
  if (linked == 0) {
    return 0;
  }
  block_offsets_.assign(n + 1, 0);
  block_links_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (block_links_.size() + added[i].size() > std::numeric_limits<std::uint32_t>::max()) {
      added[i].clear(); // beyond what 32-bit offsets reach: the remaining nodes go without
    }
    block_links_.insert(block_links_.end(), added[i].begin(), added[i].end());
    block_offsets_[i + 1] = static_cast<std::uint32_t>(block_links_.size());
  }
  block_links_.shrink_to_fit();
  view_owned();
  return linked;
}

std::vector<std::uint32_t> HnswGraph::block_links(std::uint32_t node) const {
  if (view_.block_offsets == nullptr) {
    return {};
  }
  return std::vector<std::uint32_t>(view_.block_links + view_.block_offsets[node],
                                    view_.block_links + view_.block_offsets[node + 1]);
}

std::size_t HnswGraph::memory_bytes() const noexcept {
  return level0_.size_bytes() +
         (upper_first_.capacity() + upper_.capacity()) * sizeof(std::uint32_t) +
         levels_.capacity() + vectors_.capacity() * sizeof(const float*) +
         (block_offsets_.capacity() + block_links_.capacity()) * sizeof(std::uint32_t);
}

// Format 2:
//   u32 m | u32 ef_construct | u64 seed | u64 nodes (n) | u32 entry | i32 max level |
//   u8 present[n] | u8 levels[n] | zeros to a multiple of 4 bytes |
//   u32 layer 0[n * (2m + 1)] | u32 upper layers[lists * (m + 1)] (lists: the sum of the levels;
//   node by node, level 1 first) | u64 offsets (0, or n + 1 when payload-aware links were
//   considered) | u64 payload-aware links (count) | u32 offsets[] | u32 links[] |
//   u64 keys | each key: u64 length, bytes
// Format 1 held the same values, every array led by its u64 length, the upper layers one array
// per node and the payload-aware section only when present (files without it end earlier).
void HnswGraph::save(std::string& out) const {
  ByteWriter w(out);
  const std::size_t start = out.size();
  const std::size_t n = vectors_.size();
  w.put<std::uint32_t>(params_.m);
  w.put<std::uint32_t>(params_.ef_construct);
  w.put<std::uint64_t>(params_.seed);
  w.put<std::uint64_t>(n);
  w.put<std::uint32_t>(entry_);
  w.put<std::int32_t>(max_level_);
  std::vector<std::uint8_t> present(n);
  for (std::size_t i = 0; i < n; ++i) {
    present[i] = vectors_[i] != nullptr ? 1 : 0;
  }
  w.put_raw(present.data(), n);
  w.put_raw(levels_.data(), n);
  while ((out.size() - start) % sizeof(std::uint32_t) != 0) {
    w.put<std::uint8_t>(0);
  }
  w.put_raw(view_.level0, n * stride0_ * sizeof(std::uint32_t));
  w.put_raw(view_.upper, view_.upper_lists * stride_upper_ * sizeof(std::uint32_t));
  const bool blocks = view_.block_offsets != nullptr;
  w.put<std::uint64_t>(blocks ? n + 1 : 0);
  w.put<std::uint64_t>(view_.block_count);
  if (blocks) {
    w.put_raw(view_.block_offsets, (n + 1) * sizeof(std::uint32_t));
    w.put_raw(view_.block_links, view_.block_count * sizeof(std::uint32_t));
  }
  w.put<std::uint64_t>(block_keys_.size());
  for (const std::string& key : block_keys_) {
    w.put_bytes(key);
  }
}

namespace {

// Reads `count` u32 values for a graph's link arrays: where they lie (`in_place`, and the bytes
// are aligned for it) or copied into `out`. Returns where they are.
Expected<const std::uint32_t*> read_links(ByteReader& r, std::size_t count, bool in_place,
                                          std::vector<std::uint32_t>& out) {
  if (count > r.left() / sizeof(std::uint32_t)) {
    return r.corrupt("a link array of " + std::to_string(count) + " entries does not fit");
  }
  auto raw = r.get_raw(count * sizeof(std::uint32_t));
  VDB_TRY(raw);
  if (in_place) {
    if (reinterpret_cast<std::uintptr_t>(raw->data()) % alignof(std::uint32_t) != 0) {
      return r.corrupt("a link array is not aligned in the mapped file");
    }
    return reinterpret_cast<const std::uint32_t*>(raw->data());
  }
  out.resize(count);
  if (count != 0) {
    std::memcpy(out.data(), raw->data(), raw->size());
  }
  return out.data();
}

} // namespace

Expected<std::unique_ptr<HnswGraph>>
HnswGraph::load(std::string_view bytes, std::vector<const float*> vectors, VectorScorer scorer,
                const std::string& what, std::uint32_t format, std::shared_ptr<const void> owner) {
  ByteReader r(bytes, what);
  if (format < 1 || format > kFormat) {
    return r.corrupt("unknown graph format " + std::to_string(format));
  }
  HnswParams params;
  auto m = r.get<std::uint32_t>();
  auto ef = r.get<std::uint32_t>();
  auto seed = r.get<std::uint64_t>();
  auto n = r.get<std::uint64_t>();
  auto entry = r.get<std::uint32_t>();
  auto max_level = r.get<std::int32_t>();
  if (!max_level) {
    return max_level.error();
  }
  if (*m < 2 || *m > 4096 || *n != vectors.size() || *max_level < -1 || *max_level > 31) {
    return r.corrupt("the graph's parameters do not match its segment (m " + std::to_string(*m) +
                     ", " + std::to_string(*n) + " nodes for " + std::to_string(vectors.size()) +
                     " points)");
  }
  params.m = *m;
  params.ef_construct = *ef;
  params.seed = *seed;
  std::vector<std::uint8_t> present;
  std::vector<std::uint8_t> levels;
  if (format == 1) {
    VDB_TRY(r.get_array(present, *n));
    VDB_TRY(r.get_array(levels, *n));
  } else {
    auto raw_present = r.get_raw(*n);
    VDB_TRY(raw_present);
    auto raw_levels = r.get_raw(*n);
    VDB_TRY(raw_levels);
    present.assign(raw_present->begin(), raw_present->end());
    levels.assign(raw_levels->begin(), raw_levels->end());
  }
  if (present.size() != *n || levels.size() != *n) {
    return r.corrupt("node tables of the wrong size");
  }
  std::size_t nodes = 0;
  for (std::size_t i = 0; i < *n; ++i) {
    if (present[i] == 0) {
      vectors[i] = nullptr;
    } else if (vectors[i] == nullptr) {
      return r.corrupt("node " + std::to_string(i) + " has no vector");
    } else {
      ++nodes;
    }
    if (levels[i] > 31 || static_cast<int>(levels[i]) > *max_level) {
      return r.corrupt("a node's level is above the graph's");
    }
  }
  const bool in_place = format == kFormat && owner != nullptr;
  std::unique_ptr<HnswGraph> graph(new HnswGraph(std::move(vectors), scorer, params, !in_place));
  HnswGraph& g = *graph;
  g.locks_.reset();
  g.nodes_ = nodes;
  g.entry_ = *entry;
  g.max_level_ = *max_level;
  if ((g.entry_ == kNone) != (nodes == 0) || (g.entry_ != kNone && g.entry_ >= *n)) {
    return r.corrupt("the entry point is out of range");
  }
  std::copy(levels.begin(), levels.end(), g.levels_.begin());
  if (!g.allocate_upper(!in_place)) {
    return r.corrupt("the upper layers hold more than 2^32 link lists");
  }
  const std::size_t level0_size = *n * g.stride0_;
  const std::size_t upper_size = g.view_.upper_lists * g.stride_upper_;
  std::uint64_t offsets = 0;
  std::uint64_t count = 0;
  bool keys_follow = format != 1; // format 1: only after the payload-aware section
  if (format == 1) {
    std::vector<std::uint32_t> level0;
    VDB_TRY(r.get_array(level0, level0_size));
    if (level0.size() != level0_size) {
      return r.corrupt("layer 0 has the wrong size");
    }
    std::copy(level0.begin(), level0.end(), g.level0_.data());
    std::vector<std::uint32_t> upper;
    for (std::uint32_t i = 0; i < *n; ++i) {
      const std::size_t size = static_cast<std::size_t>(levels[i]) * g.stride_upper_;
      if (size == 0) {
        continue;
      }
      upper.clear();
      VDB_TRY(r.get_array(upper, size));
      if (upper.size() != size) {
        return r.corrupt("an upper layer list has the wrong size");
      }
      std::copy(upper.begin(), upper.end(), g.links_at(i, 1));
    }
    if (!r.done()) { // the payload-aware section: the links' count, the two arrays, the keys
      keys_follow = true;
      auto links = r.get<std::uint64_t>();
      VDB_TRY(links);
      count = *links;
      VDB_TRY(r.get_array(g.block_offsets_, *n + 1));
      VDB_TRY(r.get_array(g.block_links_, count));
      offsets = g.block_offsets_.size();
      if (g.block_links_.size() != count) {
        return r.corrupt("the payload-aware link table has the wrong size");
      }
    }
    g.view_owned();
  } else {
    while (r.position() % sizeof(std::uint32_t) != 0) {
      VDB_TRY(r.get<std::uint8_t>());
    }
    std::vector<std::uint32_t> copy;
    auto level0 = read_links(r, level0_size, in_place, copy);
    VDB_TRY(level0);
    if (!in_place) {
      std::copy(copy.begin(), copy.end(), g.level0_.data());
    }
    auto upper = read_links(r, upper_size, in_place, g.upper_);
    VDB_TRY(upper);
    auto offsets_count = r.get<std::uint64_t>();
    auto links_count = r.get<std::uint64_t>();
    VDB_TRY(links_count);
    offsets = *offsets_count;
    count = *links_count;
    if ((offsets != 0 && offsets != *n + 1) || (offsets == 0 && count != 0)) {
      return r.corrupt("the payload-aware link table has the wrong size");
    }
    auto block_offsets = read_links(r, offsets, in_place, g.block_offsets_);
    VDB_TRY(block_offsets);
    auto block_links = read_links(r, count, in_place, g.block_links_);
    VDB_TRY(block_links);
    g.view_owned();
    if (in_place) {
      g.view_.level0 = *level0;
      g.view_.upper = *upper;
      g.view_.block_offsets = offsets != 0 ? *block_offsets : nullptr;
      g.view_.block_links = *block_links;
      g.view_.block_count = count;
      g.mapped_ = std::move(owner);
    }
  }

  // Every list within its cap and every link to a node of the graph, read where searches will.
  const auto check_list = [&](const std::uint32_t* list, std::uint32_t max) -> Status {
    if (list[0] > max) {
      return r.corrupt("a node has more links than m allows");
    }
    for (std::uint32_t j = 1; j <= list[0]; ++j) {
      if (list[j] >= *n || present[list[j]] == 0) {
        return r.corrupt("a link points outside the graph");
      }
    }
    return {};
  };
  const HnswGraph& view = g;
  for (std::uint32_t i = 0; i < *n; ++i) {
    for (int level = 0; level <= levels[i]; ++level) {
      VDB_TRY(check_list(view.links_at(i, level), g.max_links(level)));
    }
  }
  if (g.entry_ != kNone && g.levels_[g.entry_] != g.max_level_) {
    return r.corrupt("the entry point is not on the top level");
  }
  if (offsets != 0 || count != 0) {
    const std::uint32_t* table = g.view_.block_offsets;
    if (offsets != *n + 1 || table == nullptr || table[0] != 0 || table[*n] != count) {
      return r.corrupt("the payload-aware link table has the wrong size");
    }
    for (std::size_t i = 0; i < *n; ++i) {
      if (table[i + 1] < table[i] || (present[i] == 0 && table[i + 1] != table[i])) {
        return r.corrupt("the payload-aware link table is out of order");
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t link = g.view_.block_links[i];
      if (link >= *n || present[link] == 0) {
        return r.corrupt("a payload-aware link points outside the graph");
      }
    }
  }
  if (keys_follow) {
    auto keys = r.get<std::uint64_t>();
    VDB_TRY(keys);
    for (std::uint64_t i = 0; i < *keys; ++i) {
      auto key = r.get_bytes();
      VDB_TRY(key);
      g.block_keys_.emplace_back(*key);
    }
  }
  if (!r.done()) {
    return r.corrupt("trailing bytes after the graph");
  }
  return graph;
}

} // namespace vdb
