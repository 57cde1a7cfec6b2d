#include <warden/ownership.hpp>

WARDEN_MODULE_OWNER("payments", "backend");

#include "file_default_in_header.hpp"
