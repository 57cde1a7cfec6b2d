// The ownership example: runs a few requests through a small modular program and prints
// who owned each event, then the coverage report.
//
//   warden_ownership_example           run and print events and the coverage report
//   warden_ownership_example --json    print the coverage report as JSON instead
//   warden_ownership_example --check   exit 1 if an endpoint has no owner or code ran
//                                      unowned (it does here, on purpose)
#include <iostream>
#include <mutex>
#include <string_view>

#include <warden/ownership.hpp>
#include <warden/ownership/coverage.hpp>
#include <warden/ownership/rules.hpp>

#include "modules.hpp"

namespace example {

namespace {
std::mutex output_mutex;
}  // namespace

void report_event(const std::string& what) {
  const warden::owner& owner = warden::current_owner();
  const std::lock_guard<std::mutex> lock{output_mutex};
  std::cout << "  [" << owner.team() << '/' << owner.function();
  if (!owner.product().empty()) std::cout << '/' << owner.product();
  std::cout << "] " << what << '\n';
}

}  // namespace example

namespace {

// Monitors that cannot tag their alerts carry the owner in the alert name; the same
// rules attribute stack frames of code that runs with no scope.
constexpr std::string_view kRules = R"(
path:src/search/**   team=search function=backend
name~^\[team-(?P<team>[^\]]+)\]\[(?P<function>[^\]]+)\](\[(?P<product>[^\]]+)\])?
)";

void attribute_alert(const warden::ownership_rules& rules, std::string_view alert_name) {
  warden::rule_subject alert;
  alert.name = alert_name;
  const auto match = rules.match(alert);
  std::cout << "  alert \"" << alert_name << "\" -> "
            << (match ? match->owner.team + "/" + match->owner.function + "/" + match->owner.product
                      : std::string{"no owner"})
            << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  // With --json, stdout carries only the report: the narrative goes to stderr.
  std::streambuf* const stdout_buffer = std::cout.rdbuf();
  if (mode == "--json") std::cout.rdbuf(std::cerr.rdbuf());
  {
    std::cout << "Events, each with the owner of the code that produced it:\n";
    example::thread_pool pool{2};
    example::owner_propagating_pool<example::thread_pool> owned_pool{pool};

    example::handle_search("lamp");
    example::handle_checkout(owned_pool, 40);
    example::handle_checkout(owned_pool, 250);  // declined: payments throws
    example::refund(15);
    owned_pool.post([] { example::reindex(); });
    // A task handed to the pool without the adaptor: the query inside runs unowned.
    pool.post([] { example::run_query("DELETE FROM sessions WHERE expired"); });
  }

  std::cout << "\nAlerts from other monitors, attributed by naming convention:\n";
  const auto rules = warden::ownership_rules::parse(kRules);
  if (!rules.ok()) {
    for (const auto& error : rules.errors) std::cerr << "rules:" << error.to_string() << '\n';
    return 2;
  }
  attribute_alert(*rules.rules, "[team-payments][backend][checkout] High error rate");
  attribute_alert(*rules.rules, "Disk almost full on db-01");

  const warden::coverage_report report = warden::collect_coverage();
  if (mode == "--check") return warden::check_coverage(report, std::cout);
  std::cout << '\n';
  if (mode == "--json") {
    std::cout.rdbuf(stdout_buffer);
    warden::write_coverage_json(std::cout, report);
  } else {
    warden::write_coverage_text(std::cout, report);
  }
  return 0;
}
