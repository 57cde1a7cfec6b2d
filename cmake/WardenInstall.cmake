# Install and export rules. find_package(Warden [COMPONENTS ...]) gives, per component:
#   ownership  warden::ownership and warden::throw_hook, plus warden_add_ownership_check()
#              (always installed; no dependencies)
#   rules      warden::rules (when built; finds RE2 again)
#   sdk        warden::sdk (when built). A static library: its export names its private
#              dependencies ($<LINK_ONLY:absl::...>, fmt, CURL, ZLIB), which
#              WardenConfig.cmake finds again in the consumer.
# Each component has its own export set and targets file, so that WardenConfig.cmake
# finds only the dependencies of the components asked for.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WARDEN_CONFIG_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/Warden")
set(WARDEN_INSTALLED_COMPONENTS ownership)

# warden_install_component(<export-name> <targets>...): one component's export set.
function(warden_install_component export_name)
  install(
    TARGETS ${ARGN}
    EXPORT ${export_name}
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    OBJECTS DESTINATION "${CMAKE_INSTALL_LIBDIR}/warden"
    INCLUDES
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(
    EXPORT ${export_name}
    NAMESPACE warden::
    DESTINATION "${WARDEN_CONFIG_DIR}")
endfunction()

warden_install_component(WardenOwnershipTargets warden_ownership warden_throw_hook)
if(WARDEN_BUILD_RULES)
  warden_install_component(WardenRulesTargets warden_rules)
  list(APPEND WARDEN_INSTALLED_COMPONENTS rules)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/ownership/include/"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  # Without the library its header would only fail at link time.
  install(
    DIRECTORY "${PROJECT_SOURCE_DIR}/ownership/include/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    PATTERN "rules.hpp" EXCLUDE)
endif()
if(WARDEN_BUILD_SDK)
  warden_install_component(WardenSdkTargets warden_sdk)
  list(APPEND WARDEN_INSTALLED_COMPONENTS sdk)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/sdk/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/WardenConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/WardenConfig.cmake" INSTALL_DESTINATION "${WARDEN_CONFIG_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/WardenConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/WardenConfig.cmake"
              "${PROJECT_BINARY_DIR}/WardenConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/WardenOwnershipCheck.cmake"
        DESTINATION "${WARDEN_CONFIG_DIR}")
if(WARDEN_BUILD_RULES)
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/FindRE2.cmake" DESTINATION "${WARDEN_CONFIG_DIR}")
endif()
