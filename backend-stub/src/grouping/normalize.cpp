#include "grouping/normalize.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <string>

namespace warden::sink {
namespace {

// One kind of variable part: its placeholder, its RE2 pattern (no capturing groups) and
// a cheap test that every full match passes, used to skip most of the per-kind checks.
// Python's lookarounds, which RE2 lacks, become \b and \B: before a word character \b
// means "not preceded by a word character", before a non-word character \B does.
// Repetitions that could keep a match attempt alive across a long run of text are
// bounded, so that a scan never re-reads more than a few dozen bytes per match.
struct parameter {
  std::string_view placeholder;
  std::string pattern;
  bool (*may_match)(std::string_view span);
};

constexpr std::size_t kParameterCount = 11;
constexpr std::size_t kIpIndex = 2;  // parameters()[kIpIndex] is "<ip>"

constexpr std::string_view kOctet = R"((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))";
constexpr std::string_view kHexGroup = "[0-9a-fA-F]{1,4}";
constexpr std::string_view kWeekday = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
constexpr std::string_view kMonth = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";

std::string join(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (const std::string_view part : parts) joined.append(part);
  return joined;
}

// The alternatives as one pattern.
std::string either(std::initializer_list<std::string> alternatives) {
  std::string pattern;
  for (const std::string& alternative : alternatives) {
    if (!pattern.empty()) pattern += '|';
    pattern += alternative;
  }
  return pattern;
}

std::string ipv4() { return join({"(?:", kOctet, R"(\.){3})", kOctet}); }

std::string ip_pattern() {
  const std::string groups = join({kHexGroup, "(?::", kHexGroup, "){0,6}"});
  return either({
      join({R"(\b)", ipv4(), R"(\b)"}),
      // IPv6 in full, then with "::" in front, inside or at the end (and an IPv4 tail).
      join({R"(\b)", kHexGroup, "(?::", kHexGroup, R"(){7}\b)"}),
      join({R"((?:\b)", groups, R"(|\B)::(?:(?:)", kHexGroup, ":){0,5}(?:", ipv4(), "|", kHexGroup,
            R"()\b|\B))"}),
  });
}

std::string date_pattern() {
  const std::string time = R"([0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?)";
  return either({
      // ISO 8601 / RFC 3339: a date, optionally with a time and an offset.
      join({R"(\d{4}-[01]\d-[0-3]\d(?:[T\s])", time, R"((?:\s?(?:Z|[-+][0-2]\d:?[0-5]\d))?)?)"}),
      // RFC 822/1123 (HTTP): "Tue, 3 Jun 2008 11:05:30 GMT".
      join({kWeekday, R"(,\s\d{1,2}\s)", kMonth, R"(\s\d{2,4}\s)", time,
            R"(\s(?:[-+]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Z])\b)"}),
      // JavaScript's Date: "Mon Jan 02 2006 15:04:05 GMT-0700 (Mountain Standard Time)".
      join({kWeekday, R"(\s)", kMonth, R"(\s\d{2}\s\d{4}\s)", time,
            R"((?:\sGMT[-+]\d{4}(?:\s\([^)]{1,64}\))?)?)"}),
      // C's asctime and ctime: "Mon Jan  2 15:04:05 2006".
      join({kWeekday, R"(\s)", kMonth, R"(\s{1,2}\d{1,2}\s)", time, R"(\s\d{4})"}),
      // A time of day on its own: "23:59", "11:05:30.25", "9:30 pm".
      R"(\b(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?\b(?:\s?[aApP][mM]\b)?)",
  });
}

bool has(std::string_view span, std::string_view part) {
  return span.find(part) != std::string_view::npos;
}

// In the order Sentry tries them: where several match at one position, the first wins.
const std::array<parameter, kParameterCount>& parameters() {
  static const std::array<parameter, kParameterCount> kParameters{{
      // At most 64 bytes before the '@', as RFC 5321 allows.
      {"<email>", R"([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*)",
       [](std::string_view span) { return has(span, "@"); }},
      {"<url>", R"(\b(?:wss?|https?|ftp)://[^\s/$.?#]\S*)",
       [](std::string_view span) { return has(span, "://"); }},
      {"<ip>", ip_pattern(),
       [](std::string_view span) { return has(span, ".") || has(span, ":"); }},
      {"<uuid>",
       R"(\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
       [](std::string_view span) { return span.size() == 36; }},
      {"<sha1>", R"(\b[0-9a-fA-F]{40}\b)", [](std::string_view span) { return span.size() == 40; }},
      {"<md5>", R"(\b[0-9a-fA-F]{32}\b)", [](std::string_view span) { return span.size() == 32; }},
      {"<date>", date_pattern(),
       [](std::string_view span) { return has(span, ":") || has(span, "-"); }},
      {"<hex>", R"(\b0[xX][0-9a-fA-F]+\b)",
       [](std::string_view span) { return span.size() > 2 && (span[1] == 'x' || span[1] == 'X'); }},
      // A minus sign only when no word precedes it ("x=-1.5", not "order-12").
      {"<float>", R"(\B-\d+\.\d+\b|\b\d+\.\d+\b)",
       [](std::string_view span) { return has(span, "."); }},
      {"<int>", R"(\B-\d+\b|\b\d+\b)", [](std::string_view) { return true; }},
      // Only the value of key='value' or key="value"; the '=' is kept.
      {"=<quoted_str>", R"(='[^']+'|="[^"]+")",
       [](std::string_view span) { return span.front() == '='; }},
  }};
  return kParameters;
}

// The patterns, compiled once: all of them as one alternation that finds the next
// variable part, and each alone to tell which kind it is. (One alternation with a
// capturing group per kind would say it too, but RE2 extracts groups of a large
// pattern about ten times slower than it runs a few small anchored DFA matches.)
struct compiled_parameters {
  RE2 any;
  std::array<std::unique_ptr<const RE2>, kParameterCount> each;

  compiled_parameters() : any{alternation()} {
    for (std::size_t i = 0; i < kParameterCount; ++i) {
      each[i] = std::make_unique<const RE2>(parameters()[i].pattern);
    }
  }

  static std::string alternation() {
    std::string all;
    for (const parameter& kind : parameters()) {
      all += all.empty() ? "(?:" : "|(?:";
      all += kind.pattern;
      all += ')';
    }
    return all;
  }
};

const compiled_parameters& compiled() {
  static const compiled_parameters kCompiled;
  return kCompiled;
}

// Which parameter produced the match [start, end) of the alternation: the first kind
// that matches exactly there, in context (\b sees the bytes around it). The kind that
// produced it always passes its own may_match, so the last candidate needs no check.
std::size_t kind_of(const re2::StringPiece& text, std::size_t start, std::size_t end) {
  const compiled_parameters& patterns = compiled();
  const std::string_view span{text.data() + start, end - start};
  std::size_t kind = kParameterCount;
  for (std::size_t i = kParameterCount; i-- > 0;) {
    if (parameters()[i].may_match(span)) {
      if (kind != kParameterCount &&
          !patterns.each[i]->Match(text, start, end, RE2::ANCHOR_BOTH, nullptr, 0)) {
        continue;
      }
      kind = i;
    }
  }
  return kind;
}

// "a::b" has the shape of an IPv6 address but is far likelier a C++ qualified name:
// only hex-and-colon runs that contain a digit count as addresses.
bool plausible_ip(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return true;
  return text.find_first_of("0123456789") != std::string_view::npos;
}

void append_normalized(std::string& out, std::string_view line) {
  const RE2& any = compiled().any;
  const re2::StringPiece text{line.data(), line.size()};
  re2::StringPiece found;
  std::size_t position = 0;
  // Every alternative consumes at least one byte, so each round moves forward.
  while (position < line.size() &&
         any.Match(text, position, line.size(), RE2::UNANCHORED, &found, 1)) {
    const auto start = static_cast<std::size_t>(found.data() - line.data());
    const std::size_t end = start + found.size();
    out.append(line.substr(position, start - position));
    const std::size_t kind = kind_of(text, start, end);
    const std::string_view match = line.substr(start, end - start);
    if (kind == kIpIndex && !plausible_ip(match)) {
      out.append(match);
    } else {
      out.append(parameters()[kind].placeholder);
    }
    position = end;
  }
  out.append(line.substr(position));
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// `line` cut to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view cut(std::string_view line, std::size_t max_bytes) {
  if (line.size() <= max_bytes) return line;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
  return line.substr(0, end);
}

}  // namespace

std::string normalize_message(std::string_view message) {
  std::string out;
  out.reserve(std::min(message.size(), 2 * kMaxNormalizedLineBytes) + 8);
  int kept = 0;
  bool trimmed = false;
  while (!message.empty()) {
    const std::size_t newline = message.find('\n');
    const std::string_view line = trim(message.substr(0, newline));
    message.remove_prefix(newline == std::string_view::npos ? message.size() : newline + 1);
    if (line.empty()) continue;
    if (kept == 2) {
      trimmed = true;
      break;
    }
    if (kept == 1) out += '\n';
    const std::string_view head = cut(line, kMaxNormalizedLineBytes);
    trimmed = trimmed || head.size() < line.size();
    append_normalized(out, head);
    ++kept;
  }
  if (trimmed) out += "...";
  return out;
}

}  // namespace warden::sink
