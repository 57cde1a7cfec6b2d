// The owner descriptor: which team, function and product own a piece of code.
//
// Descriptors are `static constexpr` objects made at compile time by the ownership
// macros (see <warden/ownership/macros.hpp>); the running program only moves pointers
// to them. A descriptor's address is its identity, so descriptors cannot be copied.
//
// Example:
//
//   // A fallback for code that runs with no owner, e.g. the platform team.
//   static constexpr warden::owner kPlatform{warden::owner_kind::fallback,
//                                            {__FILE__, __LINE__, "platform"},
//                                            "platform", "infra"};
//   warden::set_fallback_owner(kPlatform);
#pragma once

#include <atomic>
#include <string_view>
#include <type_traits>

#include "warden/ownership/detail/config.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

namespace detail {
template <typename Site>
class registry_list;
}  // namespace detail

/// Where a descriptor was declared, for reports and for events.
struct source_site {
  std::string_view file;  ///< __FILE__ of the declaring macro.
  int line = 0;           ///< __LINE__ of the declaring macro.
  std::string_view name;  ///< Endpoint name, enclosing function, or empty for a module.
};

/// What declared a descriptor; reports group by it.
enum class owner_kind : unsigned char {
  module,    ///< Default owner of a translation unit or namespace (WARDEN_MODULE_OWNER).
  scope,     ///< A function entering its module default (WARDEN_OWNED).
  endpoint,  ///< An API endpoint or block with its own owner (WARDEN_ENDPOINT, WARDEN_OWNED_BY).
  fallback,  ///< Reported when no scope is active (set_fallback_owner).
};

/// One field of an owner given at an endpoint, overriding the module default's value.
/// Made by warden::team(), warden::function() and warden::product().
struct owner_field {
  /// Which field the value replaces.
  enum class slot : unsigned char { team, function, product };
  slot which;              ///< The field of the module default to replace.
  std::string_view value;  ///< Its new value; a literal, as descriptors keep only views.
};

/// Overrides the owning team, e.g. `WARDEN_ENDPOINT("POST /refunds", warden::team("refunds"))`.
constexpr owner_field team(std::string_view value) noexcept {
  return {owner_field::slot::team, value};
}
/// Overrides the function (backend, frontend, data, infra, ...).
constexpr owner_field function(std::string_view value) noexcept {
  return {owner_field::slot::function, value};
}
/// Overrides the product.
constexpr owner_field product(std::string_view value) noexcept {
  return {owner_field::slot::product, value};
}

/// Who owns a piece of code: team, function and optional product, plus where that was
/// declared. Built at compile time; the run-time state is one "ran" flag (for coverage)
/// and the registry link, each written at most once per descriptor.
class WARDEN_DETAIL_VISIBLE owner final {
 public:
  /// A descriptor with every field given.
  constexpr owner(owner_kind kind, source_site site, std::string_view team,
                  std::string_view function, std::string_view product = {}) noexcept
      : site_(site), team_(team), function_(function), product_(product), kind_(kind) {}

  /// A descriptor that inherits every field of `base` except those listed in `fields`.
  /// Used by the endpoint macros so that overrides are resolved at compile time.
  template <typename... Fields,
            typename = std::enable_if_t<(std::is_same_v<Fields, owner_field> && ...)>>
  constexpr owner(owner_kind kind, source_site site, const owner& base, Fields... fields) noexcept
      : owner(kind, site, base.team_, base.function_, base.product_) {
    (apply(fields), ...);
  }

  /// As above, naming the descriptor (an endpoint such as "POST /refunds") instead of
  /// taking the name from `site`.
  template <typename... Fields,
            typename = std::enable_if_t<(std::is_same_v<Fields, owner_field> && ...)>>
  constexpr owner(owner_kind kind, source_site site, const owner& base, std::string_view name,
                  Fields... fields) noexcept
      : owner(kind, source_site{site.file, site.line, name}, base, fields...) {}

  owner(const owner&) = delete;
  owner& operator=(const owner&) = delete;

  /// The owning team, e.g. "payments". Empty only for a misdeclared endpoint.
  constexpr std::string_view team() const noexcept { return team_; }
  /// The team's function, e.g. "backend".
  constexpr std::string_view function() const noexcept { return function_; }
  /// The product, or empty when the owner is not product-specific.
  constexpr std::string_view product() const noexcept { return product_; }
  /// Where the descriptor was declared.
  constexpr const source_site& site() const noexcept { return site_; }
  /// What kind of declaration made it.
  constexpr owner_kind kind() const noexcept { return kind_; }

  /// True once a scope entered this descriptor through a macro (coverage).
  bool has_run() const noexcept { return ran_.load(std::memory_order_relaxed); }
  /// Records that the declaring site ran. Written once: later calls only read the flag,
  /// so a hot endpoint does not bounce the cache line between cores.
  void mark_ran() const noexcept {
    if (!ran_.load(std::memory_order_relaxed)) ran_.store(true, std::memory_order_relaxed);
  }

 private:
  friend class detail::registry_list<owner>;

  constexpr void apply(owner_field field) noexcept {
    switch (field.which) {
      case owner_field::slot::team:
        team_ = field.value;
        break;
      case owner_field::slot::function:
        function_ = field.value;
        break;
      case owner_field::slot::product:
        product_ = field.value;
        break;
    }
  }

  source_site site_;
  std::string_view team_;
  std::string_view function_;
  std::string_view product_;
  owner_kind kind_;
  mutable std::atomic<bool> ran_{false};
  mutable std::atomic<bool> linked_{false};
  mutable const owner* next_registered_ = nullptr;
};

/// The owner reported when no scope is active, unless set_fallback_owner() chose another.
WARDEN_DETAIL_VISIBLE inline constexpr owner unowned{
    owner_kind::fallback, {"", 0, "unowned"}, "unowned", "unowned"};

namespace detail {
WARDEN_DETAIL_VISIBLE inline std::atomic<const owner*> fallback_owner{&unowned};
}  // namespace detail

/// Chooses the owner that current_owner() reports when no scope is active. `fallback`
/// must outlive every thread that reads it (use a static descriptor).
inline void set_fallback_owner(const owner& fallback) noexcept {
  detail::fallback_owner.store(&fallback, std::memory_order_release);
}
/// A temporary would dangle: pass a static descriptor.
void set_fallback_owner(const owner&&) = delete;

/// The owner reported when no scope is active.
inline const owner& fallback_owner() noexcept {
  return *detail::fallback_owner.load(std::memory_order_acquire);
}

WARDEN_DETAIL_END_NAMESPACE
