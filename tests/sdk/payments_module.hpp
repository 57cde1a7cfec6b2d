// A module owned by another team than the tests, for throw-site attribution across a
// translation-unit boundary.
#pragma once

namespace payments {
/// Throws std::runtime_error (a plain type: only the throw hook knows its owner) from an
/// owned scope three frames down.
[[noreturn]] void decline_card(int depth);
/// Throws std::runtime_error nested inside a std::logic_error ("checkout failed").
[[noreturn]] void fail_checkout();
}  // namespace payments
