// Markdown to Atlassian Document Format: a small block and inline parser for the
// Markdown that ticket_text.cpp writes.
#include "targets/detail/adf.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "targets/detail/http_text.hpp"

namespace warden::sink::detail {
namespace {

// A piece of a paragraph: text with its marks, or a hard line break.
struct inline_node {
  bool hard_break = false;
  std::string text;
  bool strong = false;
  bool code = false;
  std::string href;  // a link mark when not empty
};

bool is_ascii_punctuation(char c) { return absl::ascii_ispunct(static_cast<unsigned char>(c)); }
bool is_space(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

// The length of the run of `c` at `at`.
std::size_t run_length(std::string_view text, std::size_t at, char c) {
  std::size_t end = at;
  while (end < text.size() && text[end] == c) ++end;
  return end - at;
}

// Where a run of exactly `length` backticks starts at or after `from` (closing a code
// span), or npos.
std::size_t find_backtick_run(std::string_view text, std::size_t from, std::size_t length) {
  for (std::size_t at = text.find('`', from); at != std::string_view::npos;) {
    const std::size_t run = run_length(text, at, '`');
    if (run == length) return at;
    at = text.find('`', at + run);
  }
  return std::string_view::npos;
}

// Where `delimiter` next stands in `text` from `from`, outside backslash escapes and
// code spans; npos when it does not.
std::size_t find_delimiter(std::string_view text, std::size_t from, std::string_view delimiter) {
  for (std::size_t at = from; at < text.size();) {
    if (text[at] == '\\') {
      at += 2;
    } else if (text.compare(at, delimiter.size(), delimiter) == 0) {
      return at;
    } else if (text[at] == '`') {
      const std::size_t run = run_length(text, at, '`');
      const std::size_t close = find_backtick_run(text, at + run, run);
      at = close == std::string_view::npos ? at + run : close + run;
    } else {
      ++at;
    }
  }
  return std::string_view::npos;
}

// Where the bracket that closes the one at `open` (`open_char`) is, counting nested
// pairs and skipping escapes; npos when none does.
std::size_t find_closing(std::string_view text, std::size_t open, char open_char, char close_char) {
  int depth = 0;
  for (std::size_t at = open; at < text.size(); ++at) {
    if (text[at] == '\\') {
      ++at;
    } else if (text[at] == open_char) {
      ++depth;
    } else if (text[at] == close_char && --depth == 0) {
      return at;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view text) {
  const absl::string_view trimmed =
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  return {trimmed.data(), trimmed.size()};
}

bool starts_with_url(std::string_view text) {
  return text.substr(0, 7) == "http://" || text.substr(0, 8) == "https://";
}

// Splits inline Markdown into text runs with their marks.
class inline_parser {
 public:
  std::vector<inline_node> parse(std::string_view text) {
    parse_into(text, false, "");
    return std::move(nodes_);
  }

 private:
  void add_text(std::string_view text, bool strong, bool code, const std::string& href) {
    if (text.empty()) return;
    if (!nodes_.empty() && !nodes_.back().hard_break && nodes_.back().strong == strong &&
        nodes_.back().code == code && nodes_.back().href == href) {
      nodes_.back().text += text;
      return;
    }
    nodes_.push_back({false, std::string(text), strong, code, href});
  }

  void add_hard_break() {
    if (!nodes_.empty() && !nodes_.back().hard_break)
      nodes_.push_back({true, "", false, false, ""});
  }

  // CommonMark's code span content: line breaks as spaces, one space stripped from each
  // end when both have one (and it is not all spaces).
  static std::string code_content(std::string_view text) {
    std::string out(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    if (out.size() >= 2 && out.front() == ' ' && out.back() == ' ' &&
        out.find_first_not_of(' ') != std::string::npos) {
      out = out.substr(1, out.size() - 2);
    }
    return out;
  }

  // Adds `text`, parsed, with the marks `strong` and `href` (a link when not empty).
  void parse_into(std::string_view text, bool strong, const std::string& href) {
    std::string pending;  // plain text not added yet
    for (std::size_t at = 0; at < text.size();) {
      const char c = text[at];
      if (c == '\\' && at + 1 < text.size() && is_ascii_punctuation(text[at + 1])) {
        pending += text[at + 1];
        at += 2;
        continue;
      }
      const std::size_t before = at;
      if (c == '\n' || (c == '\\' && at + 1 < text.size() && text[at + 1] == '\n')) {
        add_text(std::exchange(pending, {}), strong, false, href);
        add_hard_break();
        at += c == '\n' ? 1 : 2;
      } else if (c == '`') {
        parse_code(text, at, strong, href, pending);
      } else if (text.compare(at, 2, "**") == 0) {
        parse_strong(text, at, strong, href, pending);
      } else if (href.empty() && c == '[') {
        parse_link(text, at, strong, pending);
      } else if (href.empty() && (c == '<' || at == 0 || is_space(text[at - 1]))) {
        parse_url(text, at, strong, pending);
      }
      if (at == before) {  // no construct here: a character of text
        pending += c;
        ++at;
      }
    }
    add_text(pending, strong, false, href);
  }

  // A code span at `at` (or its opening backticks as text when nothing closes it).
  void parse_code(std::string_view text, std::size_t& at, bool strong, const std::string& href,
                  std::string& pending) {
    const std::size_t run = run_length(text, at, '`');
    const std::size_t close = find_backtick_run(text, at + run, run);
    if (close == std::string_view::npos) {
      pending.append(run, '`');
      at += run;
      return;
    }
    add_text(std::exchange(pending, {}), strong, false, href);
    add_text(code_content(text.substr(at + run, close - at - run)), false, true, href);
    at = close + run;
  }

  // **strong** at `at`; nothing when nothing closes it.
  void parse_strong(std::string_view text, std::size_t& at, bool strong, const std::string& href,
                    std::string& pending) {
    const std::size_t close = find_delimiter(text, at + 2, "**");
    if (close == std::string_view::npos || close == at + 2) return;
    add_text(std::exchange(pending, {}), strong, false, href);
    parse_into(text.substr(at + 2, close - at - 2), true, href);
    at = close + 2;
  }

  // [label](destination) at `at`; nothing when it is no link.
  void parse_link(std::string_view text, std::size_t& at, bool strong, std::string& pending) {
    const std::size_t label_end = find_closing(text, at, '[', ']');
    if (label_end == std::string_view::npos || label_end + 1 >= text.size() ||
        text[label_end + 1] != '(') {
      return;
    }
    const std::size_t destination_end = find_closing(text, label_end + 1, '(', ')');
    if (destination_end == std::string_view::npos) return;
    const std::string_view destination =
        trim(text.substr(label_end + 2, destination_end - label_end - 2));
    if (destination.empty()) return;
    add_text(std::exchange(pending, {}), strong, false, "");
    parse_into(text.substr(at + 1, label_end - at - 1), strong, std::string(destination));
    at = destination_end + 1;
  }

  // <http...> or a bare http(s) URL at `at` (its final punctuation left out), as a link
  // showing the URL; nothing when there is none.
  void parse_url(std::string_view text, std::size_t& at, bool strong, std::string& pending) {
    const std::string_view rest = text.substr(at);
    const bool bracketed = rest.front() == '<';
    const std::string_view candidate = rest.substr(bracketed ? 1 : 0);
    if (!starts_with_url(candidate)) return;
    std::size_t end = 0;
    while (end < candidate.size() && !is_space(candidate[end]) && candidate[end] != '<' &&
           candidate[end] != '>') {
      ++end;
    }
    if (bracketed && (end == candidate.size() || candidate[end] != '>')) return;
    while (!bracketed && end > 0 &&
           std::string_view{".,;:!?)'\""}.find(candidate[end - 1]) != std::string_view::npos) {
      --end;
    }
    const std::string url(candidate.substr(0, end));
    add_text(std::exchange(pending, {}), strong, false, "");
    add_text(url, strong, false, url);
    at += end + (bracketed ? 2 : 0);
  }

  std::vector<inline_node> nodes_;
};

void write_type(json_writer& out, std::string_view type) { write_member(out, "type", type); }

void write_mark(json_writer& out, std::string_view type) {
  out.StartObject();
  write_type(out, type);
  out.EndObject();
}

// A paragraph's inline content as its "content" array.
void write_inline(json_writer& out, const std::vector<inline_node>& nodes) {
  write_string(out, "content");
  out.StartArray();
  for (const inline_node& node : nodes) {
    out.StartObject();
    if (node.hard_break) {
      write_type(out, "hardBreak");
      out.EndObject();
      continue;
    }
    write_type(out, "text");
    write_member(out, "text", node.text);
    if (node.strong || node.code || !node.href.empty()) {
      write_string(out, "marks");
      out.StartArray();
      // ADF allows code with link only; ticket text never puts code in strong anyway.
      if (node.code) {
        write_mark(out, "code");
      } else if (node.strong) {
        write_mark(out, "strong");
      }
      if (!node.href.empty()) {
        out.StartObject();
        write_type(out, "link");
        write_string(out, "attrs");
        out.StartObject();
        write_member(out, "href", node.href);
        out.EndObject();
        out.EndObject();
      }
      out.EndArray();
    }
    out.EndObject();
  }
  out.EndArray();
}

// The inline nodes of `text`, without hard breaks at either end.
std::vector<inline_node> inline_nodes(std::string_view text) {
  std::vector<inline_node> nodes = inline_parser{}.parse(text);
  while (!nodes.empty() && nodes.back().hard_break) nodes.pop_back();
  if (!nodes.empty() && nodes.front().hard_break) nodes.erase(nodes.begin());
  return nodes;
}

void write_paragraph(json_writer& out, const std::vector<inline_node>& nodes) {
  out.StartObject();
  write_type(out, "paragraph");
  write_inline(out, nodes);
  out.EndObject();
}

// The length of the opening code fence (3 or more backticks) `line` starts with, else 0.
std::size_t fence_length(std::string_view line) {
  const std::string_view trimmed = trim(line);
  const std::size_t run = run_length(trimmed, 0, '`');
  if (run < 3 || trimmed.find('`', run) != std::string_view::npos) return 0;
  return run;
}

// The text of a bullet list item ("- x", "* x", "-") `line` is, if it is one.
std::optional<std::string_view> list_item(std::string_view line) {
  const std::string_view trimmed = trim(line);
  if (trimmed == "-" || trimmed == "*") return std::string_view{};
  if (trimmed.size() >= 2 && (trimmed[0] == '-' || trimmed[0] == '*') && trimmed[1] == ' ') {
    return trim(trimmed.substr(2));
  }
  return std::nullopt;
}

// Writes the blocks of `markdown`'s lines.
class block_writer {
 public:
  block_writer(json_writer& out, std::string_view markdown) : out_(out) {
    for (std::size_t start = 0; start <= markdown.size();) {
      std::size_t end = markdown.find('\n', start);
      if (end == std::string_view::npos) end = markdown.size();
      std::string_view line = markdown.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      start = end + 1;
    }
  }

  void write() {
    while (next_ < lines_.size()) {
      const std::string_view line = lines_[next_];
      if (trim(line).empty()) {
        ++next_;
      } else if (fence_length(line) > 0) {
        write_code_block();
      } else if (list_item(line)) {
        write_list();
      } else {
        const std::string_view first = trim(lines_[next_++]);
        write_paragraph(out_, inline_nodes(paragraph_text(std::string(first))));
      }
    }
  }

 private:
  // Whether the line at `next_` ends the paragraph or list item before it.
  bool starts_block() const {
    const std::string_view line = lines_[next_];
    return trim(line).empty() || fence_length(line) > 0 || list_item(line).has_value();
  }

  // `text`, then the lines from `next_` up to the next block, trimmed, joined with line
  // breaks.
  std::string paragraph_text(std::string text) {
    for (; next_ < lines_.size() && !starts_block(); ++next_) {
      if (!text.empty()) text += '\n';
      text += trim(lines_[next_]);
    }
    return text;
  }

  void write_code_block() {
    const std::string_view opening = trim(lines_[next_]);
    const std::size_t fence = fence_length(opening);
    const std::string_view language = trim(opening.substr(fence));
    std::string code;
    for (++next_; next_ < lines_.size(); ++next_) {
      const std::string_view line = lines_[next_];
      const std::string_view trimmed = trim(line);
      if (!trimmed.empty() && run_length(trimmed, 0, '`') == trimmed.size() &&
          trimmed.size() >= fence) {
        ++next_;
        break;
      }
      code += line;
      code += '\n';
    }
    if (!code.empty()) code.pop_back();
    out_.StartObject();
    write_type(out_, "codeBlock");
    if (!language.empty()) {
      write_string(out_, "attrs");
      out_.StartObject();
      write_member(out_, "language", language);
      out_.EndObject();
    }
    if (!code.empty()) {
      write_string(out_, "content");
      out_.StartArray();
      out_.StartObject();
      write_type(out_, "text");
      write_member(out_, "text", code);
      out_.EndObject();
      out_.EndArray();
    }
    out_.EndObject();
  }

  void write_list() {
    out_.StartObject();
    write_type(out_, "bulletList");
    write_string(out_, "content");
    out_.StartArray();
    while (next_ < lines_.size()) {
      const std::optional<std::string_view> item = list_item(lines_[next_]);
      if (!item) break;
      ++next_;
      const std::string text = paragraph_text(std::string(*item));
      out_.StartObject();
      write_type(out_, "listItem");
      write_string(out_, "content");
      out_.StartArray();
      write_paragraph(out_, inline_nodes(text));
      out_.EndArray();
      out_.EndObject();
    }
    out_.EndArray();
    out_.EndObject();
  }

  json_writer& out_;
  std::vector<std::string_view> lines_;
  std::size_t next_ = 0;
};

}  // namespace

std::string markdown_to_adf(std::string_view markdown) {
  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_type(out, "doc");
  write_string(out, "version");
  out.Int(1);
  write_string(out, "content");
  out.StartArray();
  block_writer(out, markdown).write();
  out.EndArray();
  out.EndObject();
  return json_text(buffer);
}

}  // namespace warden::sink::detail
