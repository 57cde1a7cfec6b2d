# Finds cpp-httplib (Debian: libcpp-httplib-dev), built as a shared library whose
# pkg-config file carries the defines the header must be compiled with, and provides
# the imported target httplib::httplib.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CppHttplib QUIET IMPORTED_TARGET cpp-httplib)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CppHttplib REQUIRED_VARS CppHttplib_LIBRARIES
                                  VERSION_VAR CppHttplib_VERSION)

if(CppHttplib_FOUND AND NOT TARGET httplib::httplib)
  add_library(httplib::httplib INTERFACE IMPORTED)
  target_link_libraries(httplib::httplib INTERFACE PkgConfig::CppHttplib)
endif()
