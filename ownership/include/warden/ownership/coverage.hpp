// Ownership coverage: which owners are declared, which endpoints ran, which code ran
// unowned, as text for people and JSON for tools, plus a check for CI.
//
// Example (a test or a `--check-ownership` flag of the application):
//
//   const warden::coverage_report report = warden::collect_coverage();
//   warden::write_coverage_text(std::cout, report);
//   return warden::check_coverage(report, std::cerr);   // 1 if an endpoint has no owner
//
// The CMake helper warden_add_ownership_check() (cmake/WardenOwnershipCheck.cmake)
// registers such a run as a CTest test.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "warden/ownership/detail/utf8.hpp"
#include "warden/ownership/owner.hpp"
#include "warden/ownership/registry.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

/// One declared site: a module default, a function entering it, or an endpoint.
struct coverage_site {
  owner_kind kind;            ///< Module default, function (WARDEN_OWNED) or endpoint.
  source_site site;           ///< Where the macro is: file, line and name.
  std::string_view team;      ///< Empty for an endpoint without a team (a problem).
  std::string_view function;  ///< Empty for an endpoint without a function (a problem).
  std::string_view product;   ///< Empty when the owner is not product-specific.
  bool ran;                   ///< For functions and endpoints: the scope was entered at least once.
};

/// One WARDEN_EXPECT_OWNED() probe.
struct coverage_probe {
  source_site site;  ///< Where the probe is, named after its enclosing function.
  bool ran_unowned;  ///< The probe ran while no owner was active.
};

/// A snapshot of the registry, sorted by file and line, one entry per site.
struct coverage_report {
  std::vector<coverage_site> modules;  ///< WARDEN_MODULE_OWNER declarations.
  std::vector<coverage_site> sites;    ///< Functions (WARDEN_OWNED) and endpoints.
  std::vector<coverage_probe> probes;  ///< WARDEN_EXPECT_OWNED probes.
  std::vector<std::string> problems;   ///< What check_coverage() fails on.
};

namespace detail {

inline std::string_view kind_name(owner_kind kind) noexcept {
  switch (kind) {
    case owner_kind::module:
      return "module";
    case owner_kind::scope:
      return "scope";
    case owner_kind::endpoint:
      return "endpoint";
    case owner_kind::fallback:
      return "fallback";
  }
  return "unknown";
}

inline bool site_less(const source_site& a, const source_site& b) noexcept {
  return std::tie(a.file, a.line, a.name) < std::tie(b.file, b.line, b.name);
}

inline bool site_equal(const source_site& a, const source_site& b) noexcept {
  return a.file == b.file && a.line == b.line && a.name == b.name;
}

// Sorts by site and merges duplicates (a header's descriptor appears once per
// translation unit); `merge(kept, duplicate)` combines their run flags.
template <typename Entry, typename Merge>
void sort_and_merge(std::vector<Entry>& entries, Merge merge) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return site_less(a.site, b.site); });
  std::vector<Entry> merged;
  for (const Entry& entry : entries) {
    if (!merged.empty() && site_equal(merged.back().site, entry.site)) {
      merge(merged.back(), entry);
    } else {
      merged.push_back(entry);
    }
  }
  entries.swap(merged);
}

inline std::string owner_path(const coverage_site& site) {
  std::string path{site.team.empty() ? "?" : site.team};
  path.append("/").append(site.function.empty() ? "?" : site.function);
  if (!site.product.empty()) path.append("/").append(site.product);
  return path;
}

inline std::string where(const source_site& site) {
  std::string text{site.file};
  text.append(":").append(std::to_string(site.line));
  return text;
}

// Writes `text` as a JSON string: escapes quotes, backslashes and control characters,
// and replaces bytes that are not valid UTF-8 with U+FFFD, so strict parsers accept it.
inline void write_json_string(std::ostream& out, std::string_view text) {
  out << '"';
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out << "\\ufffd";
        ++i;
      } else {
        out << text.substr(i, length);
        i += length;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out << "\\\"";
        break;
      case '\\':
        out << "\\\\";
        break;
      case '\n':
        out << "\\n";
        break;
      case '\t':
        out << "\\t";
        break;
      case '\r':
        out << "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(byte));
          out << escaped;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

inline void write_json_site(std::ostream& out, const source_site& site) {
  out << "\"name\":";
  write_json_string(out, site.name);
  out << ",\"file\":";
  write_json_string(out, site.file);
  out << ",\"line\":" << std::to_string(site.line);  // immune to the stream's locale
}

}  // namespace detail

/// Reads the registry. Safe to call from any thread at any time; sites that register
/// later (a library loaded afterwards) appear in the next snapshot.
inline coverage_report collect_coverage() {
  coverage_report report;
  for_each_declared_owner([&report](const owner& declared) {
    const coverage_site site{declared.kind(),     declared.site(),    declared.team(),
                             declared.function(), declared.product(), declared.has_run()};
    (declared.kind() == owner_kind::module ? report.modules : report.sites).push_back(site);
  });
  for_each_unowned_probe([&report](const unowned_probe& probe) {
    report.probes.push_back({probe.site(), probe.ran_unowned()});
  });
  const auto merge_ran = [](auto& kept, const auto& duplicate) { kept.ran |= duplicate.ran; };
  detail::sort_and_merge(report.modules, merge_ran);
  detail::sort_and_merge(report.sites, merge_ran);
  detail::sort_and_merge(report.probes, [](coverage_probe& kept, const coverage_probe& other) {
    kept.ran_unowned |= other.ran_unowned;
  });

  for (const coverage_site& module : report.modules) {
    if (module.team.empty() || module.function.empty()) {
      report.problems.push_back("module at " + detail::where(module.site) + " has no " +
                                (module.team.empty() ? "team" : "function"));
    }
  }
  for (const coverage_site& site : report.sites) {
    if (site.team.empty() || site.function.empty()) {
      report.problems.push_back(std::string{detail::kind_name(site.kind)} + " \"" +
                                std::string{site.site.name} + "\" at " + detail::where(site.site) +
                                " has no " + (site.team.empty() ? "team" : "function"));
    }
  }
  for (const coverage_probe& probe : report.probes) {
    if (probe.ran_unowned) {
      report.problems.push_back("code at " + detail::where(probe.site) + " (" +
                                std::string{probe.site.name} + ") ran with no owner");
    }
  }
  return report;
}

/// Writes the report for people: modules, then every function and endpoint with whether
/// it ran, then probes that ran unowned, then problems.
inline void write_coverage_text(std::ostream& out, const coverage_report& report) {
  const auto ran = std::count_if(report.sites.begin(), report.sites.end(),
                                 [](const coverage_site& site) { return site.ran; });
  out << "Ownership coverage: " << report.modules.size() << " modules, " << report.sites.size()
      << " functions and endpoints (" << ran << " ran), " << report.problems.size()
      << " problems\n";
  out << "Modules:\n";
  for (const coverage_site& module : report.modules) {
    out << "  " << detail::owner_path(module) << "  " << detail::where(module.site) << '\n';
  }
  out << "Functions and endpoints:\n";
  for (const coverage_site& site : report.sites) {
    out << "  [" << (site.ran ? "ran" : "   ") << "] " << detail::kind_name(site.kind) << ' '
        << site.site.name << "  " << detail::owner_path(site) << "  " << detail::where(site.site)
        << '\n';
  }
  out << "Ran unowned:\n";
  for (const coverage_probe& probe : report.probes) {
    if (probe.ran_unowned) {
      out << "  " << probe.site.name << "  " << detail::where(probe.site) << '\n';
    }
  }
  out << "Problems:\n";
  for (const std::string& problem : report.problems) out << "  " << problem << '\n';
}

/// Writes the report as one JSON object with keys modules, sites, probes and problems.
inline void write_coverage_json(std::ostream& out, const coverage_report& report) {
  const auto write_owner = [&out](const coverage_site& site) {
    out << "{\"kind\":\"" << detail::kind_name(site.kind) << "\",";
    detail::write_json_site(out, site.site);
    out << ",\"team\":";
    detail::write_json_string(out, site.team);
    out << ",\"function\":";
    detail::write_json_string(out, site.function);
    out << ",\"product\":";
    detail::write_json_string(out, site.product);
  };
  out << "{\"modules\":[";
  for (std::size_t i = 0; i < report.modules.size(); ++i) {
    out << (i == 0 ? "" : ",");
    write_owner(report.modules[i]);
    out << '}';
  }
  out << "],\"sites\":[";
  for (std::size_t i = 0; i < report.sites.size(); ++i) {
    out << (i == 0 ? "" : ",");
    write_owner(report.sites[i]);
    out << ",\"ran\":" << (report.sites[i].ran ? "true" : "false") << '}';
  }
  out << "],\"probes\":[";
  for (std::size_t i = 0; i < report.probes.size(); ++i) {
    out << (i == 0 ? "{" : ",{");
    detail::write_json_site(out, report.probes[i].site);
    out << ",\"ran_unowned\":" << (report.probes[i].ran_unowned ? "true" : "false") << '}';
  }
  out << "],\"problems\":[";
  for (std::size_t i = 0; i < report.problems.size(); ++i) {
    out << (i == 0 ? "" : ",");
    detail::write_json_string(out, report.problems[i]);
  }
  out << "]}\n";
}

/// The CI check: prints every problem (a module or endpoint without team or function,
/// code that ran unowned) to `out` and returns 1 if there is any, else 0. Use it as an exit code.
inline int check_coverage(const coverage_report& report, std::ostream& out) {
  for (const std::string& problem : report.problems) out << "ownership: " << problem << '\n';
  if (report.problems.empty()) {
    out << "ownership: " << report.sites.size() << " functions and endpoints, all owned\n";
  }
  return report.problems.empty() ? 0 : 1;
}

WARDEN_DETAIL_END_NAMESPACE
