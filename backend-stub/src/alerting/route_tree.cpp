// The routing tree flattened into arrays: nodes in depth-first order with their matchers,
// children and group_by labels as ranges of shared arrays, and every option resolved at
// compile time. The labels that matchers and group_by name are numbered ("slots"); a
// match looks each one up in the notification at most once, and runs each distinct
// (label, pattern) RE2 at most once, however many nodes repeat it; a pattern of plain
// words separated by '|' is compared word by word instead. Plain compares run
// before patterns within a node. Results are written into the caller's vector, reusing
// its strings.
#include "alerting/route_tree.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "fmt/format.h"
#include "re2/re2.h"

namespace warden::sink {
namespace {

using namespace std::chrono_literals;
using matcher_op = label_matcher::op;

// Root defaults (Alertmanager's, but repeat_interval: issues are not re-announced).
constexpr route_timers kRootTimers{30s, 5min, kNever};
constexpr std::string_view kEveryLabel = "...";
constexpr std::string_view kRootGroupBy = "issue";

// Slots and patterns whose results one match remembers; a tree with more (unheard of)
// looks the rest up each time they are needed.
constexpr std::size_t kCachedSlots = 64;
constexpr std::size_t kCachedPatterns = 64;
constexpr std::uint32_t kNoPattern = UINT32_MAX;

// A matcher ready to run: the label by slot, the pattern (=~, !~) by index.
struct compiled_matcher {
  std::uint32_t slot = 0;
  std::uint32_t pattern = kNoPattern;
  matcher_op how = matcher_op::eq;
  std::string value;  // =, !=
};

// A node of the tree, its lists as [begin, end) ranges of the compiled tree's arrays.
struct compiled_node {
  std::uint32_t matchers_begin = 0;
  std::uint32_t matchers_end = 0;
  std::uint32_t children_begin = 0;
  std::uint32_t children_end = 0;
  std::uint32_t group_by_begin = 0;  // slots, sorted by label
  std::uint32_t group_by_end = 0;
  bool continue_matching = false;
  bool group_by_all = false;
  std::string receiver;
  std::string route_key;
  route_timers timers;
};

// A distinct RE2 test: a label against a pattern. Patterns that are alternatives of
// plain words ("production|prod", most of them) are compared with the words instead.
struct compiled_pattern {
  std::uint32_t slot = 0;
  std::unique_ptr<const RE2> regex;
  std::vector<std::string> words;  // empty: run the regex
};

// The alternatives of `pattern` when each is a non-empty run of letters, digits, '_'
// and '-' (which stand for themselves in RE2), else none.
std::vector<std::string> plain_words(std::string_view pattern) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= pattern.size()) {
    const std::size_t bar = std::min(pattern.find('|', start), pattern.size());
    const std::string_view word = pattern.substr(start, bar - start);
    const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    });
    if (!plain) return {};
    words.emplace_back(word);
    start = bar + 1;
  }
  return words;
}

// Alertmanager's "reserved" characters: a label name with one is quoted in route keys.
bool is_reserved(char c) {
  return std::string_view{" \t\n\v\f\r{}!=~,\\\"'`"}.find(c) != std::string_view::npos;
}

// Appends `text` quoted as Go's strconv.Quote does for ASCII (Alertmanager's group keys
// use %q); bytes from 0x80 up are kept as they are.
void append_go_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
          out += fmt::format("\\x{:02x}", byte);
        } else {
          out += c;
        }
      }
    }
  }
  out += '"';
}

// Appends `text` escaped as OpenMetrics does (\, newline, "), quoted: how Alertmanager
// writes a matcher's value in route keys.
void append_open_metrics_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string_view op_text(matcher_op how) {
  switch (how) {
    case matcher_op::eq:
      return "=";
    case matcher_op::ne:
      return "!=";
    case matcher_op::matches:
      return "=~";
    case matcher_op::not_matches:
      return "!~";
  }
  return "?";
}

// One matcher as Alertmanager prints it: team="payments", "odd label"="x".
std::string matcher_text(const label_matcher& matcher) {
  std::string text;
  if (std::any_of(matcher.label.begin(), matcher.label.end(), is_reserved)) {
    append_go_quoted(text, matcher.label);
    text += op_text(matcher.how);
    append_go_quoted(text, matcher.value);
  } else {
    text += matcher.label;
    text += op_text(matcher.how);
    append_open_metrics_quoted(text, matcher.value);
  }
  return text;
}

// Alertmanager's matcher set string: {a="1",b=~"2"}, sorted by label, value, operator.
std::string matcher_set_text(const std::vector<label_matcher>& matchers) {
  std::vector<const label_matcher*> sorted;
  for (const label_matcher& matcher : matchers) sorted.push_back(&matcher);
  std::sort(sorted.begin(), sorted.end(),
            [](const label_matcher* left, const label_matcher* right) {
              return std::tie(left->label, left->value, left->how) <
                     std::tie(right->label, right->value, right->how);
            });
  std::string text = "{";
  for (std::size_t index = 0; index < sorted.size(); ++index) {
    if (index > 0) text += ',';
    text += matcher_text(*sorted[index]);
  }
  text += '}';
  return text;
}

// The options a node passes on to its children.
struct node_options {
  std::string receiver;
  bool group_by_all = false;
  std::vector<std::string> group_by;  // sorted, distinct
  route_timers timers;
};

// The whole tree.
struct compiled_tree {
  std::vector<compiled_node> nodes;  // depth-first, the root first
  std::vector<compiled_matcher> matchers;
  std::vector<std::uint32_t> children;   // node indices
  std::vector<std::uint32_t> group_by;   // slots
  std::vector<std::string> slot_labels;  // every label matchers and group_by name
  std::vector<compiled_pattern> patterns;
  bool groups_by_every_label = false;
};

// Builds the compiled tree node by node; remembers slots, patterns and keys as it goes.
class tree_builder {
 public:
  explicit tree_builder(compiled_tree& tree) : tree_(tree) {}

  // Adds `config` (the `index`-th child of the node keyed `parent_key`, or the root
  // when `parent` is null) and its subtree; returns the node's index.
  absl::StatusOr<std::uint32_t> add(const route_config& config, const node_options* parent,
                                    const std::string& parent_key, std::size_t index) {
    std::string key = parent == nullptr ? std::string{} : parent_key + '/';
    key += matcher_set_text(config.matchers);
    const std::string where = config.line > 0 ? fmt::format("route (line {})", config.line)
                                              : fmt::format("route {}", key);
    auto error = [&where](std::string_view what) {
      return absl::InvalidArgumentError(fmt::format("{}: {}", where, what));
    };
    if (!keys_.insert(key).second) {  // a sibling with the same matchers, say
      key += fmt::format("/{}", index);
      if (!keys_.insert(key).second) {
        return error(fmt::format("its route key {} is another route's too", key));
      }
    }

    node_options options = parent == nullptr ? root_options() : *parent;
    if (const absl::Status resolved = resolve(config, parent == nullptr, options); !resolved.ok()) {
      return error(std::string{resolved.message()});
    }

    const auto node_index = static_cast<std::uint32_t>(tree_.nodes.size());
    tree_.nodes.emplace_back();
    compiled_node node;
    node.continue_matching = config.continue_matching;
    node.group_by_all = options.group_by_all;
    tree_.groups_by_every_label = tree_.groups_by_every_label || options.group_by_all;
    node.receiver = options.receiver;
    node.timers = options.timers;
    node.matchers_begin = static_cast<std::uint32_t>(tree_.matchers.size());
    for (const label_matcher& matcher : config.matchers) {
      absl::StatusOr<compiled_matcher> compiled_one = compile_matcher(matcher);
      if (!compiled_one.ok()) {
        return error(fmt::format("matcher {}: {}", matcher_text(matcher),
                                 std::string{compiled_one.status().message()}));
      }
      tree_.matchers.push_back(*std::move(compiled_one));
    }
    node.matchers_end = static_cast<std::uint32_t>(tree_.matchers.size());
    // Plain compares before patterns: the node fails as cheaply as it can.
    std::stable_sort(tree_.matchers.begin() + node.matchers_begin, tree_.matchers.end(),
                     [](const compiled_matcher& left, const compiled_matcher& right) {
                       return left.pattern == kNoPattern && right.pattern != kNoPattern;
                     });
    node.group_by_begin = static_cast<std::uint32_t>(tree_.group_by.size());
    for (const std::string& label : options.group_by) tree_.group_by.push_back(slot_of(label));
    node.group_by_end = static_cast<std::uint32_t>(tree_.group_by.size());

    std::vector<std::uint32_t> children;
    for (std::size_t child = 0; child < config.routes.size(); ++child) {
      absl::StatusOr<std::uint32_t> added = add(config.routes[child], &options, key, child);
      if (!added.ok()) return added.status();
      children.push_back(*added);
    }
    node.children_begin = static_cast<std::uint32_t>(tree_.children.size());
    tree_.children.insert(tree_.children.end(), children.begin(), children.end());
    node.children_end = static_cast<std::uint32_t>(tree_.children.size());
    node.route_key = std::move(key);
    tree_.nodes[node_index] = std::move(node);
    return node_index;
  }

 private:
  // Applies the options `config` sets to `options` (its parent's, or the root's
  // defaults when `is_root`), and checks the result.
  static absl::Status resolve(const route_config& config, bool is_root, node_options& options) {
    auto invalid = [](const char* what) { return absl::InvalidArgumentError(what); };
    if (is_root && !config.matchers.empty()) {
      return invalid("the root route takes every notification and has no matchers");
    }
    if (is_root && config.receiver.empty()) return invalid("the root route needs a receiver");
    if (!config.receiver.empty()) options.receiver = config.receiver;
    if (config.group_by.has_value()) {
      const std::vector<std::string>& labels = *config.group_by;
      const bool every = std::find(labels.begin(), labels.end(), kEveryLabel) != labels.end();
      if (every && labels.size() > 1) {
        return invalid("group_by \"...\" (every label) cannot be combined with other labels");
      }
      options.group_by_all = every;
      options.group_by.clear();
      if (!every) {
        const std::set<std::string> sorted(labels.begin(), labels.end());
        options.group_by.assign(sorted.begin(), sorted.end());
      }
    }
    route_timers& timers = options.timers;
    timers.group_wait = config.group_wait.value_or(timers.group_wait);
    timers.group_interval = config.group_interval.value_or(timers.group_interval);
    timers.repeat_interval = config.repeat_interval.value_or(timers.repeat_interval);
    if (timers.group_wait.count() < 0) return invalid("group_wait must not be negative");
    if (timers.group_interval.count() <= 0) return invalid("group_interval must be positive");
    if (timers.repeat_interval.count() <= 0) {
      return invalid("repeat_interval must be positive (or never)");
    }
    return absl::OkStatus();
  }

  static node_options root_options() {
    node_options options;
    options.group_by = {std::string{kRootGroupBy}};
    options.timers = kRootTimers;
    return options;
  }

  std::uint32_t slot_of(const std::string& label) {
    const auto next = static_cast<std::uint32_t>(tree_.slot_labels.size());
    const auto [found, added] = slots_.try_emplace(label, next);
    if (added) tree_.slot_labels.push_back(label);
    return found->second;
  }

  absl::StatusOr<compiled_matcher> compile_matcher(const label_matcher& matcher) {
    compiled_matcher compiled;
    compiled.slot = slot_of(matcher.label);
    compiled.how = matcher.how;
    if (matcher.how == matcher_op::eq || matcher.how == matcher_op::ne) {
      compiled.value = matcher.value;
      return compiled;
    }
    const auto [found, added] =
        patterns_.try_emplace(std::make_pair(compiled.slot, matcher.value),
                              static_cast<std::uint32_t>(tree_.patterns.size()));
    if (added) {
      RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_unique<const RE2>(matcher.value, options);
      if (!regex->ok()) {
        patterns_.erase(found);
        return absl::InvalidArgumentError(fmt::format("bad RE2 pattern: {}", regex->error()));
      }
      tree_.patterns.push_back({compiled.slot, std::move(regex), plain_words(matcher.value)});
    }
    compiled.pattern = found->second;
    return compiled;
  }

  compiled_tree& tree_;
  std::map<std::string, std::uint32_t, std::less<>> slots_;
  std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> patterns_;
  std::set<std::string> keys_;
};

// The labels of one notification as the tree's matchers see them: each slot looked up
// once, each pattern run once.
class label_values {
 public:
  label_values(const notification_labels& labels, const compiled_tree& tree) noexcept
      : labels_(labels), tree_(tree) {}

  std::string_view of(std::uint32_t slot) {
    if (slot >= kCachedSlots) return labels_.find(tree_.slot_labels[slot]);
    const std::uint64_t bit = std::uint64_t{1} << slot;
    if ((known_slots_ & bit) == 0) {
      values_[slot] = labels_.find(tree_.slot_labels[slot]);
      known_slots_ |= bit;
    }
    return values_[slot];
  }

  bool matches(std::uint32_t pattern) {
    if (pattern >= kCachedPatterns) return run(pattern);
    const std::uint64_t bit = std::uint64_t{1} << pattern;
    if ((known_patterns_ & bit) == 0) {
      if (run(pattern)) matching_patterns_ |= bit;
      known_patterns_ |= bit;
    }
    return (matching_patterns_ & bit) != 0;
  }

  bool holds(const compiled_matcher& matcher) {
    switch (matcher.how) {
      case matcher_op::eq:
        return of(matcher.slot) == matcher.value;
      case matcher_op::ne:
        return of(matcher.slot) != matcher.value;
      case matcher_op::matches:
        return matches(matcher.pattern);
      case matcher_op::not_matches:
        return !matches(matcher.pattern);
    }
    return false;
  }

 private:
  bool run(std::uint32_t pattern) {
    const compiled_pattern& compiled = tree_.patterns[pattern];
    const std::string_view text = of(compiled.slot);
    if (!compiled.words.empty()) {
      return std::find(compiled.words.begin(), compiled.words.end(), text) != compiled.words.end();
    }
    return compiled.regex->Match(re2::StringPiece{text.data(), text.size()}, 0, text.size(),
                                 RE2::ANCHOR_BOTH, nullptr, 0);
  }

  const notification_labels& labels_;
  const compiled_tree& tree_;
  std::uint64_t known_slots_ = 0;
  std::uint64_t known_patterns_ = 0;
  std::uint64_t matching_patterns_ = 0;
  std::array<std::string_view, kCachedSlots> values_;
};

static_assert(kCachedSlots <= 64 && kCachedPatterns <= 64, "one bit per cached result");

// One match: walks the tree as Alertmanager's Route.Match and fills `out` in order.
class tree_walk {
 public:
  tree_walk(const compiled_tree& tree, const notification_labels& labels,
            std::vector<route_match>& out) noexcept
      : tree_(tree), labels_(labels), values_(labels, tree), out_(out) {}

  // Whether node `index` matches; if so, adds what it and its subtree take.
  bool visit(std::uint32_t index) {
    const compiled_node& node = tree_.nodes[index];
    for (std::uint32_t matcher = node.matchers_begin; matcher < node.matchers_end; ++matcher) {
      if (!values_.holds(tree_.matchers[matcher])) return false;
    }
    const std::size_t before = used_;
    for (std::uint32_t child = node.children_begin; child < node.children_end; ++child) {
      const std::uint32_t child_index = tree_.children[child];
      if (visit(child_index) && !tree_.nodes[child_index].continue_matching) break;
    }
    if (used_ == before) add(node);
    return true;
  }

  // Drops the elements of `out` this walk did not fill.
  void finish() { out_.erase(out_.begin() + static_cast<std::ptrdiff_t>(used_), out_.end()); }

 private:
  void add(const compiled_node& node) {
    if (used_ == out_.size()) out_.emplace_back();
    route_match& match = out_[used_++];
    static_cast<route_timers&>(match) = node.timers;
    match.receiver.assign(node.receiver);
    match.route_key.assign(node.route_key);
    std::size_t count = 0;
    auto add_label = [&match, &count](std::string_view label, std::string_view value) {
      if (count == match.group_labels.size()) match.group_labels.emplace_back();
      match.group_labels[count].first.assign(label.data(), label.size());
      match.group_labels[count].second.assign(value.data(), value.size());
      ++count;
    };
    if (node.group_by_all) {
      const auto& entries = labels_.entries;
      for (auto entry = entries.begin(); entry != entries.end(); ++entry) {
        const bool first_of_label =
            std::none_of(entries.begin(), entry,
                         [&entry](const auto& earlier) { return earlier.first == entry->first; });
        if (!entry->second.empty() && first_of_label) add_label(entry->first, entry->second);
      }
      std::sort(match.group_labels.begin(),
                match.group_labels.begin() + static_cast<std::ptrdiff_t>(count),
                [](const auto& left, const auto& right) { return left.first < right.first; });
    } else {
      for (std::uint32_t label = node.group_by_begin; label < node.group_by_end; ++label) {
        const std::uint32_t slot = tree_.group_by[label];
        const std::string_view value = values_.of(slot);
        if (!value.empty()) add_label(tree_.slot_labels[slot], value);
      }
    }
    match.group_labels.erase(match.group_labels.begin() + static_cast<std::ptrdiff_t>(count),
                             match.group_labels.end());

    std::string& key = match.group_key;
    key.assign(node.route_key);
    key += ":{";
    for (std::size_t index = 0; index < count; ++index) {
      if (index > 0) key += ", ";
      key += match.group_labels[index].first;
      key += '=';
      append_go_quoted(key, match.group_labels[index].second);
    }
    key += '}';
  }

  const compiled_tree& tree_;
  const notification_labels& labels_;
  label_values values_;
  std::vector<route_match>& out_;
  std::size_t used_ = 0;
};

}  // namespace

struct route_tree::compiled {
  compiled_tree tree;
};

std::string_view notification_labels::find(std::string_view label) const noexcept {
  for (const auto& [name, value] : entries) {
    if (name == label) return value;
  }
  return {};
}

void notification_labels::set(std::string_view label, std::string_view value) {
  for (auto& [name, current] : entries) {
    if (name == label) {
      current.assign(value.data(), value.size());
      return;
    }
  }
  entries.emplace_back(std::string{label}, std::string{value});
}

absl::StatusOr<route_tree> route_tree::compile(const route_config& root) {
  auto result = std::make_unique<compiled>();
  tree_builder builder{result->tree};
  absl::StatusOr<std::uint32_t> added = builder.add(root, nullptr, std::string{}, 0);
  if (!added.ok()) return added.status();
  return route_tree{std::move(result)};
}

route_tree::route_tree(std::unique_ptr<const compiled> compiled_tree) noexcept
    : compiled_(std::move(compiled_tree)) {}
route_tree::route_tree(route_tree&&) noexcept = default;
route_tree& route_tree::operator=(route_tree&&) noexcept = default;
route_tree::~route_tree() = default;

void route_tree::match(const notification_labels& labels, std::vector<route_match>& out) const {
  if (compiled_ == nullptr) {  // moved from
    out.clear();
    return;
  }
  tree_walk walk{compiled_->tree, labels, out};
  walk.visit(0);
  walk.finish();
}

bool route_tree::reads_label(std::string_view label) const noexcept {
  if (compiled_ == nullptr) return false;
  const compiled_tree& tree = compiled_->tree;
  return tree.groups_by_every_label || std::find(tree.slot_labels.begin(), tree.slot_labels.end(),
                                                 label) != tree.slot_labels.end();
}

}  // namespace warden::sink
