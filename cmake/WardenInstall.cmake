# Install and export rules: find_package(Warden) then gives warden::ownership,
# warden::throw_hook, warden::rules and warden::sdk (each of the last two when built),
# plus warden_add_ownership_check(). warden::sdk is a static library: its export names
# its private dependencies ($<LINK_ONLY:absl::...>, fmt, CURL, ZLIB), which
# WardenConfig.cmake finds again in the consumer.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WARDEN_CONFIG_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/Warden")
set(warden_installed_targets warden_ownership warden_throw_hook)
if(WARDEN_BUILD_RULES)
  list(APPEND warden_installed_targets warden_rules)
endif()
if(WARDEN_BUILD_SDK)
  list(APPEND warden_installed_targets warden_sdk)
endif()

install(
  TARGETS ${warden_installed_targets}
  EXPORT WardenTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  OBJECTS DESTINATION "${CMAKE_INSTALL_LIBDIR}/warden"
  INCLUDES
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/ownership/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
if(WARDEN_BUILD_SDK)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/sdk/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
install(
  EXPORT WardenTargets
  NAMESPACE warden::
  DESTINATION "${WARDEN_CONFIG_DIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/WardenConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/WardenConfig.cmake" INSTALL_DESTINATION "${WARDEN_CONFIG_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/WardenConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/WardenConfig.cmake"
              "${PROJECT_BINARY_DIR}/WardenConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindRE2.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/WardenOwnershipCheck.cmake"
        DESTINATION "${WARDEN_CONFIG_DIR}")
