// A function from a file built with ownership enabled, called from disabled files.
#pragma once

#include <string>

/// Enters that file's module owner and returns its team ("mixed").
std::string enabled_file_team();
