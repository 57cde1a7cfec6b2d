// The tracker_api of each tracker type.
#include "targets/tracker.hpp"

#include "targets/github.hpp"
#include "targets/jira.hpp"
#include "targets/webhook_tracker.hpp"
#include "targets/youtrack.hpp"

namespace warden::sink {

std::unique_ptr<tracker_api> make_tracker_api(const tracker_config& config) {
  switch (config.type) {
    case tracker_type::youtrack:
      return youtrack_tracker_api(config.youtrack);
    case tracker_type::github:
      return github_tracker_api(config.github);
    case tracker_type::jira:
      return jira_tracker_api(config.jira);
    case tracker_type::webhook:
      return webhook_tracker_api(config.webhook);
  }
  return youtrack_tracker_api(config.youtrack);
}

}  // namespace warden::sink
