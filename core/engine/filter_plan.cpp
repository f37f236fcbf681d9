#include "core/engine/filter_plan.hpp"

#include "core/engine/filter_checker.hpp"

#include <algorithm>

namespace vdb {

FilterPlan FilterPlan::compile(const Filter* filter, const PayloadIndex& index,
                               const PointSource& source, Mode mode) {
  FilterPlan plan(index, source);
  plan.mode_ = mode;
  if (filter == nullptr || filter->empty()) {
    plan.all_ = true; // no copy of the live set: every live point matches
  } else {
    plan.root_ = plan.compile_filter(*filter);
  }
  // compile_filter sorted the bitmaps of `must` first, the smallest first.
  if (plan.root_.kind == Node::Kind::filter && !plan.root_.must.empty() &&
      plan.root_.must.front().kind == Node::Kind::bitmap) {
    plan.narrowest_must_ = 0;
  }
  return plan;
}

FilterPlan::Node FilterPlan::compile_condition(const Condition& condition) const {
  Node node;
  if (const auto* sub = std::get_if<std::shared_ptr<const Filter>>(&condition.value)) {
    return compile_filter(**sub);
  }
  if (const auto* field = std::get_if<FieldCondition>(&condition.value)) {
    if (const FieldIndex* index = index_->find(field->key)) {
      if (mode_ == Mode::checks) {
        // A large match set is cheaper to check per visited point than to build, unless the
        // index holds it already (one value's posting: a copy, cached, whose membership test
        // is cheaper than the check of the point's values).
        const auto estimate = index->estimate(*field);
        const std::uint64_t small =
            std::max<std::uint64_t>(4096, source_->live().cardinality() / 32);
        // check() answers for any offset or for none, so offset 0 tells whether it serves this.
        if (estimate && estimate->max > small && !index->filter_is_lookup(*field) &&
            index->check(*field, 0).has_value()) {
          node.kind = Node::Kind::index_check;
          node.condition = &condition;
          node.index = index;
          return node;
        }
      }
      if (auto bits = index_->filter(*field, *index, source_->live())) {
        node.shared = std::move(bits);
        return node;
      }
    }
  } else if (const auto* has_id = std::get_if<HasId>(&condition.value)) {
    for (const PointId& id : has_id->ids) {
      if (const auto offset = source_->offset_of(id)) {
        node.bits.add(*offset);
      }
    }
    return node;
  }
  node.kind = Node::Kind::condition;
  node.condition = &condition;
  return node;
}

FilterPlan::Node FilterPlan::compile_filter(const Filter& filter) const {
  Node node;
  node.kind = Node::Kind::filter;
  const auto each = [&](const std::vector<Condition>& in, std::vector<Node>& out) {
    out.reserve(in.size());
    for (const Condition& c : in) {
      out.push_back(compile_condition(c));
    }
  };
  each(filter.must, node.must);
  each(filter.should, node.should);
  each(filter.must_not, node.must_not);
  if (filter.min_should) {
    node.has_min_should = true;
    node.min_count = filter.min_should->min_count;
    each(filter.min_should->conditions, node.min_should);
  }
  fold(node, source_->live());
  // Cheap checks first: bitmaps before payload reads, smaller bitmaps first in `must`.
  const auto cost = [](const Node& n) {
    switch (n.kind) {
    case Node::Kind::bitmap:
      return 0;
    case Node::Kind::index_check:
      return 1;
    case Node::Kind::filter:
      return 2;
    case Node::Kind::condition:
      return 3;
    }
    return 3;
  };
  const auto order = [&cost](const Node& a, const Node& b) {
    if (a.kind != b.kind) {
      return cost(a) < cost(b);
    }
    return a.kind == Node::Kind::bitmap && a.set().cardinality() < b.set().cardinality();
  };
  // (stable_sort takes a heap buffer even for one element: most filters have one condition)
  for (std::vector<Node>* nodes : {&node.must, &node.must_not}) {
    if (nodes->size() > 1) {
      std::stable_sort(nodes->begin(), nodes->end(), order);
    }
  }
  return node;
}

// Turns a filter node whose children are all bitmaps into one bitmap.
bool FilterPlan::fold(Node& node, const Bitmap& live) {
  const auto all_bits = [](const std::vector<Node>& nodes) {
    return std::all_of(nodes.begin(), nodes.end(),
                       [](const Node& n) { return n.kind == Node::Kind::bitmap; });
  };
  if (!all_bits(node.must) || !all_bits(node.should) || !all_bits(node.must_not) ||
      !all_bits(node.min_should)) {
    return false;
  }
  if (node.must.size() == 1 && node.should.empty() && node.must_not.empty() &&
      !(node.has_min_should && node.min_count > 0)) {
    Node only = std::move(node.must.front()); // one bitmap (perhaps shared): nothing to compute
    node = std::move(only);
    return true;
  }
  // Every bitmap holds live points only, so a `must` starts from its smallest bitmap, not from
  // a copy of the live set.
  const auto smallest =
      std::min_element(node.must.begin(), node.must.end(), [](const Node& a, const Node& b) {
        return a.set().cardinality() < b.set().cardinality();
      });
  // The node is replaced below, so its smallest bitmap is taken, not copied when it can be.
  Bitmap out = smallest == node.must.end() ? live : smallest->take();
  for (auto it = node.must.begin(); it != node.must.end(); ++it) {
    if (it != smallest) {
      out &= it->set();
    }
  }
  for (const Node& n : node.must_not) {
    out -= n.set();
  }
  if (!node.should.empty()) {
    Bitmap any;
    for (const Node& n : node.should) {
      any |= n.set();
    }
    out &= any;
  }
  if (node.has_min_should && node.min_count > 0) {
    // at_least[j]: points where at least j of the conditions seen so far hold.
    std::vector<Bitmap> at_least(node.min_count + 1);
    at_least[0] = live;
    for (const Node& n : node.min_should) {
      for (std::size_t j = node.min_count; j >= 1; --j) {
        at_least[j] |= at_least[j - 1] & n.set();
      }
    }
    out &= at_least[node.min_count];
  }
  node = Node{};
  node.bits = std::move(out);
  return true;
}

std::pair<const char*, std::size_t> FilterPlan::check_data() const noexcept {
  const Node* first = &root_;
  if (first->kind == Node::Kind::filter && !first->must.empty()) {
    first = &first->must.front();
  }
  return first->kind == Node::Kind::index_check ? first->index->check_data()
                                                : std::pair<const char*, std::size_t>{nullptr, 0};
}

bool FilterPlan::matches(PointOffset offset) const { return all_ || matches(root_, offset); }

bool FilterPlan::matches(const Node& node, PointOffset offset) const {
  switch (node.kind) {
  case Node::Kind::bitmap:
    return node.set().contains(offset);
  case Node::Kind::condition:
    return check_condition(*node.condition, offset);
  case Node::Kind::index_check:
    return *node.index->check(std::get<FieldCondition>(node.condition->value), offset);
  case Node::Kind::filter:
    break;
  }
  for (const Node& n : node.must) {
    if (!matches(n, offset)) {
      return false;
    }
  }
  for (const Node& n : node.must_not) {
    if (matches(n, offset)) {
      return false;
    }
  }
  if (!node.should.empty() && std::none_of(node.should.begin(), node.should.end(),
                                           [&](const Node& n) { return matches(n, offset); })) {
    return false;
  }
  if (node.has_min_should) {
    std::size_t held = 0;
    const std::size_t n = node.min_should.size();
    for (std::size_t i = 0; i < n && held < node.min_count; ++i) {
      if (held + (n - i) < node.min_count) {
        return false;
      }
      held += matches(node.min_should[i], offset) ? 1 : 0;
    }
    return held >= node.min_count;
  }
  return true;
}

bool FilterPlan::check_condition(const Condition& condition, PointOffset offset) const {
  return vdb::check_condition(condition, source_->id_at(offset), *source_->payload_at(offset));
}

} // namespace vdb
