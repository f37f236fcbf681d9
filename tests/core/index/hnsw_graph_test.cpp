// HNSW against brute force on a fixed-seed clustered set: recall@10, with and without filters,
// and the graph's structural promises (link caps, no self links).
#include "core/index/hnsw_graph.hpp"
#include "support/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <set>

namespace vdb {
namespace {

constexpr std::size_t kGraphDim = 32;

struct Data {
  std::vector<float> base;
  std::vector<float> queries;
  std::size_t n = 0;
};

// n points around 20 cluster centres, and queries drawn the same way.
Data clustered(std::size_t n, std::size_t queries, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(20 * kGraphDim);
  for (float& x : centres) {
    x = normal(gen) * 3;
  }
  Data d;
  d.n = n;
  const auto draw = [&](std::vector<float>& out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t c = gen() % 20;
      for (std::size_t j = 0; j < kGraphDim; ++j) {
        out.push_back(centres[c * kGraphDim + j] + normal(gen));
      }
    }
  };
  draw(d.base, n);
  draw(d.queries, queries);
  return d;
}

template <class Accept>
std::vector<std::uint32_t> brute_force(const Data& d, const VectorScorer& scorer, const float* q,
                                       std::size_t k, Accept accept) {
  std::vector<Neighbor> all;
  for (std::uint32_t i = 0; i < d.n; ++i) {
    if (accept(i)) {
      all.push_back({scorer(q, &d.base[i * kGraphDim]), i});
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) {
    out.push_back(all[i].id);
  }
  return out;
}

double recall(const std::vector<Neighbor>& got, const std::vector<std::uint32_t>& truth) {
  std::set<std::uint32_t> want(truth.begin(), truth.end());
  std::size_t hit = 0;
  for (const Neighbor& n : got) {
    hit += want.count(n.id);
  }
  return truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
}

class HnswRecall : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswRecall, ReachesRecallAt10AgainstBruteForce) {
  Data d = clustered(5000, 100, 11);
  if (GetParam() == Metric::dot) {
    // Dot is tested as Cosine uses it: on unit vectors (inner-product search on unnormalised
    // vectors is not a metric space, and no graph index promises recall there).
    for (auto* data : {&d.base, &d.queries}) {
      for (std::size_t i = 0; i < data->size(); i += kGraphDim) {
        float norm = 0;
        for (std::size_t j = 0; j < kGraphDim; ++j) {
          norm += (*data)[i + j] * (*data)[i + j];
        }
        for (std::size_t j = 0; j < kGraphDim; ++j) {
          (*data)[i + j] /= std::sqrt(norm);
        }
      }
    }
  }
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, GetParam(), kGraphDim);
  std::vector<const float*> vectors;
  for (std::size_t i = 0; i < d.n; ++i) {
    vectors.push_back(&d.base[i * kGraphDim]);
  }
  HnswParams params;
  params.threads = 2;
  auto graph = HnswGraph::build(vectors, scorer, params);
  ASSERT_EQ(graph->nodes(), d.n);
  for (std::uint32_t i = 0; i < d.n; i += 97) {
    const auto links = graph->links(i, 0);
    EXPECT_LE(links.size(), 2U * params.m);
    EXPECT_GE(links.size(), 1U);
    EXPECT_EQ(std::count(links.begin(), links.end(), i), 0);
  }
  double total = 0;
  double filtered = 0;
  std::vector<Neighbor> out;
  for (std::size_t q = 0; q < 100; ++q) {
    const float* query = &d.queries[q * kGraphDim];
    graph->search(
        query, 10, 64, [](std::uint32_t) { return true; }, out);
    total += recall(out, brute_force(d, scorer, query, 10, [](std::uint32_t) { return true; }));
    // A filter keeping one point in five; refused points still route the search.
    const auto fifth = [](std::uint32_t i) { return i % 5 == 0; };
    graph->search(query, 10, 64, fifth, out);
    for (const Neighbor& n : out) {
      ASSERT_EQ(n.id % 5, 0U);
    }
    filtered += recall(out, brute_force(d, scorer, query, 10, fifth));
  }
  EXPECT_GE(total / 100, 0.95);
  EXPECT_GE(filtered / 100, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecall,
                         ::testing::Values(Metric::dot, Metric::l2sq, Metric::l1),
                         [](const auto& info) {
                           return info.param == Metric::dot    ? std::string("dot")
                                  : info.param == Metric::l2sq ? std::string("l2sq")
                                                               : std::string("l1");
                         });

TEST(HnswGraph, LeavesOutNullVectorsAndHandlesTinyGraphs) {
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, Metric::l2sq, 2);
  const std::vector<float> v{0, 0, 1, 0, 0, 1};
  auto empty = HnswGraph::build({nullptr, nullptr}, scorer, {});
  std::vector<Neighbor> out;
  empty->search(
      v.data(), 3, 10, [](std::uint32_t) { return true; }, out);
  EXPECT_TRUE(out.empty());
  auto two = HnswGraph::build({&v[0], nullptr, &v[4]}, scorer, {});
  EXPECT_EQ(two->nodes(), 2U);
  two->search(
      &v[4], 3, 10, [](std::uint32_t) { return true; }, out);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].id, 2U);
  EXPECT_EQ(out[1].id, 0U);
}

// The graph finds a node's vector by computing its address when the vectors lie in one buffer or
// in chunks of equal length (a record store's layout), through its pointer table otherwise. The
// way must not change the graph or the answers: built on one thread, all three are the same.
TEST(HnswGraph, FindsVectorsByLayoutOrTableAlike) {
  const Data d = clustered(1500, 20, 5);
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, Metric::l2sq, kGraphDim);
  constexpr std::size_t kChunk = 256;
  std::vector<std::vector<float>> chunks;
  for (std::size_t first = 0; first < d.n; first += kChunk) {
    const std::size_t end = std::min(d.n, first + kChunk);
    chunks.emplace_back(d.base.begin() + static_cast<std::ptrdiff_t>(first * kGraphDim),
                        d.base.begin() + static_cast<std::ptrdiff_t>(end * kGraphDim));
  }
  std::vector<std::vector<float>> apart; // each vector in a buffer of its own
  std::vector<const float*> flat;
  std::vector<const float*> chunked;
  std::vector<const float*> table;
  for (std::size_t i = 0; i < d.n; ++i) {
    apart.emplace_back(d.base.begin() + static_cast<std::ptrdiff_t>(i * kGraphDim),
                       d.base.begin() + static_cast<std::ptrdiff_t>((i + 1) * kGraphDim));
  }
  for (std::size_t i = 0; i < d.n; ++i) {
    flat.push_back(&d.base[i * kGraphDim]);
    chunked.push_back(&chunks[i / kChunk][(i % kChunk) * kGraphDim]);
    table.push_back(apart[i].data());
  }
  // A node left out inside a chunk keeps the layout; one where a chunk begins hides where the
  // chunks end, and the table is used.
  flat[700] = chunked[700] = table[700] = nullptr;
  std::vector<const float*> gap_at_boundary = chunked;
  gap_at_boundary[kChunk] = nullptr;

  HnswParams params;
  params.threads = 1;
  const auto a = HnswGraph::build(flat, scorer, params);
  const auto b = HnswGraph::build(chunked, scorer, params);
  const auto c = HnswGraph::build(table, scorer, params);
  EXPECT_TRUE(a->computes_addresses());
  EXPECT_TRUE(b->computes_addresses());
  EXPECT_FALSE(c->computes_addresses());
  EXPECT_FALSE(HnswGraph::build(gap_at_boundary, scorer, params)->computes_addresses());
  for (std::uint32_t i = 0; i < d.n; ++i) {
    ASSERT_EQ(a->links(i, 0), b->links(i, 0)) << i;
    ASSERT_EQ(a->links(i, 0), c->links(i, 0)) << i;
  }
  std::vector<Neighbor> out_a;
  std::vector<Neighbor> out_b;
  std::vector<Neighbor> out_c;
  const auto all = [](std::uint32_t) { return true; };
  for (std::size_t q = 0; q < 20; ++q) {
    const float* query = &d.queries[q * kGraphDim];
    a->search(query, 10, 32, all, out_a);
    b->search(query, 10, 32, all, out_b);
    c->search(query, 10, 32, all, out_c);
    ASSERT_EQ(out_a.size(), 10U);
    for (std::size_t j = 0; j < out_a.size(); ++j) {
      EXPECT_EQ(out_a[j].id, out_b[j].id);
      EXPECT_EQ(out_a[j].id, out_c[j].id);
      EXPECT_EQ(out_a[j].distance, out_c[j].distance);
      EXPECT_NE(out_a[j].id, 700U);
    }
  }
}

// Distances that count what they score, for search_with.
struct CountingDistances {
  const VectorScorer* scorer;
  const Data* data;
  const float* query;
  std::size_t* scored;
  float to(std::uint32_t node) const {
    ++*scored;
    return (*scorer)(query, &data->base[node * kGraphDim]);
  }
  void prefetch(std::uint32_t) const {}
  bool look_ahead() const { return false; }
  void gather(const std::uint32_t* nodes, std::size_t n, float* out) const {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = to(nodes[i]);
    }
  }
};

// A search whose widen hook asks for a wider beam when it would end resumes with that beam: it
// finds what the wider search finds, for less than the narrow and the wide search together. A
// hook that keeps the beam leaves the narrow search's answer as it was.
TEST(HnswGraph, ResumingWithAWiderBeamFindsWhatTheWiderSearchFinds) {
  const Data d = clustered(3000, 40, 7);
  const EngineContext context = test::engine_context();
  const VectorScorer scorer(context.distance, Metric::l2sq, kGraphDim);
  std::vector<const float*> vectors;
  for (std::size_t i = 0; i < d.n; ++i) {
    vectors.push_back(&d.base[i * kGraphDim]);
  }
  HnswParams params;
  params.threads = 2;
  const auto graph = HnswGraph::build(vectors, scorer, params);
  std::size_t asked = 0;
  std::size_t factor = 6;
  const std::function<std::size_t(std::size_t)> widen = [&](std::size_t beam) {
    ++asked;
    EXPECT_EQ(beam, 10U);
    return beam * factor;
  };
  HnswGraph::SearchOptions widening;
  widening.widen = &widen;
  const auto third = [](std::uint32_t i) { return i % 3 == 0; };
  double recall_narrow = 0;
  double recall_resumed = 0;
  double recall_wide = 0;
  std::size_t scored_narrow = 0;
  std::size_t scored_resumed = 0;
  std::size_t scored_wide = 0;
  std::vector<Neighbor> narrow;
  std::vector<Neighbor> resumed;
  std::vector<Neighbor> wide;
  for (std::size_t q = 0; q < 40; ++q) {
    const float* query = &d.queries[q * kGraphDim];
    const auto truth = brute_force(d, scorer, query, 10, third);
    graph->search_with(CountingDistances{&scorer, &d, query, &scored_narrow}, 10, 10, third,
                       narrow);
    graph->search_with(CountingDistances{&scorer, &d, query, &scored_resumed}, 10, 10, third,
                       resumed, widening);
    graph->search_with(CountingDistances{&scorer, &d, query, &scored_wide}, 10, 60, third, wide);
    ASSERT_EQ(asked, q + 1);
    ASSERT_EQ(resumed.size(), 10U);
    for (std::size_t j = 0; j < resumed.size(); ++j) {
      EXPECT_TRUE(third(resumed[j].id));
      if (j > 0) {
        EXPECT_LE(resumed[j - 1].distance, resumed[j].distance);
      }
    }
    recall_narrow += recall(narrow, truth) / 40;
    recall_resumed += recall(resumed, truth) / 40;
    recall_wide += recall(wide, truth) / 40;
  }
  EXPECT_GT(recall_wide, recall_narrow) << "the wider beam should find more";
  EXPECT_GE(recall_resumed, recall_wide - 0.01) << recall_narrow;
  EXPECT_LT(scored_resumed, scored_narrow + scored_wide);
  EXPECT_LE(scored_resumed, scored_wide + scored_wide / 10);
  // A hook that keeps the beam: the narrow search, unchanged.
  factor = 1;
  asked = 0;
  std::vector<Neighbor> kept;
  for (std::size_t q = 0; q < 40; ++q) {
    const float* query = &d.queries[q * kGraphDim];
    graph->search(query, 10, 10, third, narrow);
    graph->search(query, 10, 10, third, kept, widening);
    ASSERT_EQ(kept.size(), narrow.size());
    for (std::size_t j = 0; j < kept.size(); ++j) {
      EXPECT_EQ(kept[j].id, narrow[j].id);
    }
  }
  EXPECT_EQ(asked, 40U);
}

// Twenty values scattered over the graph (node i holds value i % 20): 5% of the nodes each, so
// a node has about 1.6 links to nodes of its own value. Payload-aware links join each value's
// nodes, and a search among one value's matches only reaches its nearest ones.
class BlockLinks : public ::testing::Test {
protected:
  void SetUp() override {
    // No clusters: a value's nodes are spread evenly, so its nearest matches are not bunched.
    std::mt19937 gen(13);
    std::normal_distribution<float> normal;
    data_.n = 6000;
    data_.base.resize(data_.n * kGraphDim);
    data_.queries.resize(50 * kGraphDim);
    for (float& x : data_.base) {
      x = normal(gen);
    }
    for (float& x : data_.queries) {
      x = normal(gen);
    }
    for (std::size_t i = 0; i < data_.n; ++i) {
      vectors_.push_back(&data_.base[i * kGraphDim]);
    }
    blocks_.resize(20);
    for (std::uint32_t i = 0; i < data_.n; ++i) {
      blocks_[i % 20].push_back(i);
    }
    HnswParams params;
    params.threads = 2;
    graph_ = HnswGraph::build(vectors_, scorer_, params);
  }

  // Recall of matches-only searches filtered on one value; `from_block`: started from the
  // value's first 8 nodes instead of the entry point (a graph of block links only).
  double matches_only_recall(const HnswGraph& graph, std::size_t ef = 64,
                             bool from_block = false) const {
    HnswGraph::SearchOptions options;
    options.block_links = true;
    options.matches_only = true;
    double total = 0;
    std::vector<Neighbor> out;
    for (std::size_t q = 0; q < 50; ++q) {
      const float* query = &data_.queries[q * kGraphDim];
      const auto value = [q](std::uint32_t i) { return i % 20 == q % 20; };
      if (from_block) {
        options.starts = blocks_[q % 20].data();
        options.start_count = 8;
      }
      graph.search(query, 10, ef, value, out, options);
      for (const Neighbor& n : out) {
        EXPECT_TRUE(value(n.id)) << n.id;
      }
      total += recall(out, brute_force(data_, scorer_, query, 10, value));
    }
    return total / 50;
  }

  EngineContext context_ = test::engine_context();
  VectorScorer scorer_{context_.distance, Metric::l2sq, kGraphDim};
  Data data_;
  std::vector<const float*> vectors_;
  std::vector<std::vector<std::uint32_t>> blocks_;
  std::unique_ptr<HnswGraph> graph_;
};

TEST_F(BlockLinks, JoinEachValuesNodesAndReachItsNearestMatches) {
  // Without them, a search that stops scoring refused nodes is stranded among few matches.
  EXPECT_LT(matches_only_recall(*graph_, 20), 0.93); // measured 0.86
  ASSERT_EQ(graph_->add_block_links(blocks_, 8), 20U);
  EXPECT_GT(graph_->block_link_count(), data_.n);
  std::size_t sampled = 0;
  std::size_t linked = 0;
  for (std::uint32_t i = 0; i < data_.n; i += 37) {
    const auto extra = graph_->block_links(i);
    const auto own = graph_->links(i, 0);
    ++sampled;
    linked += extra.empty() ? 0 : 1; // empty when the node had every link of its block's graph
    EXPECT_LE(extra.size(), 16U);
    for (const std::uint32_t j : extra) {
      EXPECT_EQ(j % 20, i % 20) << "a link to another value";
      EXPECT_NE(j, i);
      EXPECT_EQ(std::count(own.begin(), own.end(), j), 0) << "a link the node already had";
    }
  }
  EXPECT_GE(linked * 10, sampled * 9);
  EXPECT_GE(matches_only_recall(*graph_, 20), 0.95); // measured 0.99
}

TEST_F(BlockLinks, SkipABlockTheGraphAlreadyConnects) {
  // Half the nodes: each already has more than 4 links into the block (half its own).
  std::vector<std::uint32_t> half;
  for (std::uint32_t i = 0; i < data_.n; i += 2) {
    half.push_back(i);
  }
  EXPECT_EQ(graph_->add_block_links({half}, 4), 0U);
  EXPECT_EQ(graph_->block_link_count(), 0U);
  EXPECT_TRUE(graph_->block_links(0).empty());
}

TEST_F(BlockLinks, AreSavedAndLoadedWithTheGraph) {
  ASSERT_EQ(graph_->add_block_links(blocks_, 8), 20U);
  graph_->set_block_keys({"tenant"});
  std::string bytes;
  graph_->save(bytes);
  auto loaded = HnswGraph::load(bytes, vectors_, scorer_, "graph.vdb");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ((*loaded)->block_link_count(), graph_->block_link_count());
  EXPECT_EQ((*loaded)->block_keys(), std::vector<std::string>{"tenant"});
  for (std::uint32_t i = 0; i < data_.n; i += 101) {
    EXPECT_EQ((*loaded)->block_links(i), graph_->block_links(i));
  }
  EXPECT_GE(matches_only_recall(**loaded), 0.95);

  // The last link (before the key list: u64 count, u64 length, "tenant") pointing outside the
  // graph is refused, as is a file cut inside the link table.
  std::string bad = bytes;
  const std::size_t last = bad.size() - 8 - 8 - 6 - sizeof(std::uint32_t);
  const std::uint32_t outside = static_cast<std::uint32_t>(data_.n);
  std::memcpy(&bad[last], &outside, sizeof(outside));
  auto refused = HnswGraph::load(bad, vectors_, scorer_, "graph.vdb");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::corrupt);
  EXPECT_NE(refused.error().message.find("payload-aware link"), std::string::npos)
      << refused.error().message;
  auto cut = HnswGraph::load(std::string_view(bytes).substr(0, last), vectors_, scorer_, "g");
  EXPECT_FALSE(cut.ok());

  // A graph without blocks is saved as before and loads without links.
  auto plain = HnswGraph::build(vectors_, scorer_, {});
  std::string plain_bytes;
  plain->save(plain_bytes);
  auto plain_loaded = HnswGraph::load(plain_bytes, vectors_, scorer_, "graph.vdb");
  ASSERT_TRUE(plain_loaded.ok());
  EXPECT_EQ((*plain_loaded)->block_link_count(), 0U);
  EXPECT_TRUE((*plain_loaded)->block_keys().empty());
}

// A format 2 body rewritten as format 1 (every array led by its length, the upper layers one
// array a node), as graphs were saved before: the layout in hnsw_graph.cpp.
std::string as_format_1(const std::string& v2, std::uint32_t m) {
  std::size_t at = 0;
  const auto take = [&](std::size_t bytes) {
    std::string out = v2.substr(at, bytes);
    at += bytes;
    return out;
  };
  const auto u64 = [&] {
    std::uint64_t v = 0;
    std::memcpy(&v, v2.data() + at, 8);
    at += 8;
    return v;
  };
  const auto counted = [](std::uint64_t count, const std::string& bytes) {
    std::string out(8, '\0');
    std::memcpy(out.data(), &count, 8);
    return out + bytes;
  };
  std::string out = take(16);
  const std::uint64_t n = u64();
  out += v2.substr(16, 8) + take(8);
  const std::string present = take(n);
  const std::string levels = take(n);
  out += counted(n, present) + counted(n, levels);
  at += (4 - at % 4) % 4;
  const std::size_t stride0 = 2 * m + 1;
  out += counted(n * stride0, take(n * stride0 * 4));
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = static_cast<std::uint8_t>(levels[i]) * (m + 1);
    if (size != 0) {
      out += counted(size, take(size * 4));
    }
  }
  const std::uint64_t offsets = u64();
  const std::uint64_t links = u64();
  if (offsets != 0) {
    out += v2.substr(at - 8, 8);
    out += counted(offsets, take(offsets * 4));
    out += counted(links, take(links * 4));
    out += v2.substr(at); // the keys
  }
  return out;
}

TEST_F(BlockLinks, AreReadInPlaceFromAMappedFileAndFromFormat1) {
  ASSERT_EQ(graph_->add_block_links(blocks_, 8), 20U);
  graph_->set_block_keys({"tenant"});
  std::string bytes;
  graph_->save(bytes);
  EXPECT_FALSE(graph_->mapped());
  EXPECT_EQ(graph_->mapped_bytes(), 0U);

  // The owner stands for a mapped file: the links are read from its bytes, not copied.
  auto file = std::make_shared<std::string>(bytes);
  auto mapped = HnswGraph::load(*file, vectors_, scorer_, "graph.vdb", HnswGraph::kFormat, file);
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  const HnswGraph& g = **mapped;
  EXPECT_TRUE(g.mapped());
  // Layer 0 (33 values a node at m 16) and the payload-aware links, at least, are in the file;
  // RAM keeps the node tables, far less.
  EXPECT_GE(g.mapped_bytes(), (data_.n * 33 + graph_->block_link_count()) * 4);
  EXPECT_LT(g.memory_bytes() * 4, graph_->memory_bytes());
  EXPECT_EQ(g.block_keys(), std::vector<std::string>{"tenant"});
  for (std::uint32_t i = 0; i < data_.n; i += 7) {
    ASSERT_EQ(g.links(i, 0), graph_->links(i, 0));
    ASSERT_EQ(g.block_links(i), graph_->block_links(i));
  }
  std::vector<Neighbor> want;
  std::vector<Neighbor> got;
  for (std::size_t q = 0; q < 20; ++q) {
    const float* query = &data_.queries[q * kGraphDim];
    graph_->search(
        query, 10, 40, [](std::uint32_t) { return true; }, want);
    g.search(
        query, 10, 40, [](std::uint32_t) { return true; }, got);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].id, want[j].id);
    }
  }
  EXPECT_GE(matches_only_recall(g), 0.95);
  // What it saves is what it was loaded from.
  std::string again;
  g.save(again);
  EXPECT_EQ(again, bytes);

  // Bytes that do not start at a multiple of 4 cannot be read in place.
  auto shifted = std::make_shared<std::string>(" " + bytes);
  auto refused = HnswGraph::load(std::string_view(*shifted).substr(1), vectors_, scorer_,
                                 "graph.vdb", HnswGraph::kFormat, shifted);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not aligned"), std::string::npos);

  // Format 1 is read into RAM, with or without an owner, and gives the same graph.
  const std::string old = as_format_1(bytes, 16);
  EXPECT_NE(old, bytes);
  for (const bool with_owner : {false, true}) {
    auto owner = std::make_shared<std::string>(old);
    auto loaded =
        HnswGraph::load(*owner, vectors_, scorer_, "graph.vdb", 1, with_owner ? owner : nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_FALSE((*loaded)->mapped());
    EXPECT_EQ((*loaded)->block_keys(), std::vector<std::string>{"tenant"});
    std::string saved;
    (*loaded)->save(saved);
    EXPECT_EQ(saved, bytes);
  }
  // A graph without blocks in format 1 ends after its upper layers.
  auto plain = HnswGraph::build(vectors_, scorer_, {});
  std::string plain_bytes;
  plain->save(plain_bytes);
  auto plain_old = HnswGraph::load(as_format_1(plain_bytes, 16), vectors_, scorer_, "g", 1);
  ASSERT_TRUE(plain_old.ok()) << plain_old.error().message;
  std::string plain_again;
  (*plain_old)->save(plain_again);
  EXPECT_EQ(plain_again, plain_bytes);
  EXPECT_FALSE(HnswGraph::load(plain_bytes, vectors_, scorer_, "g", 3).ok());
}

TEST_F(BlockLinks, AloneMakeAGraphPerValueSearchedFromGivenStarts) {
  // m = 0 with payload_m: no links over all nodes, a graph per value, entered at its matches.
  auto graph = HnswGraph::build_unlinked(vectors_, scorer_, {});
  EXPECT_EQ(graph->nodes(), data_.n);
  EXPECT_TRUE(graph->links(0, 0).empty());
  ASSERT_EQ(graph->add_block_links(blocks_, 8), 20U);
  EXPECT_GE(graph->block_link_count(), data_.n * 8);
  EXPECT_GE(matches_only_recall(*graph, 64, true), 0.95);
  // Saved and loaded like any graph, mapped or not.
  std::string bytes;
  graph->save(bytes);
  auto file = std::make_shared<std::string>(bytes);
  auto loaded = HnswGraph::load(*file, vectors_, scorer_, "graph.vdb", HnswGraph::kFormat, file);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ((*loaded)->block_link_count(), graph->block_link_count());
  EXPECT_EQ((*loaded)->block_links(5), graph->block_links(5));
}

} // namespace
} // namespace vdb
