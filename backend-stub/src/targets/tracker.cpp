// The tracker_api of each tracker type.
#include "targets/tracker.hpp"

#include "targets/youtrack.hpp"

namespace warden::sink {

std::unique_ptr<tracker_api> make_tracker_api(const tracker_config& config) {
  switch (config.type) {
    case tracker_type::youtrack:
      return youtrack_tracker_api(config.youtrack);
    case tracker_type::github:
    case tracker_type::jira:
    case tracker_type::webhook:
      break;
  }
  return nullptr;
}

}  // namespace warden::sink
