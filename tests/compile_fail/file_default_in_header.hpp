// An inline function in a header that enters "the module default": whichever file
// includes it would supply its own WARDEN_MODULE_OWNER. Must not compile.
#pragma once

inline void header_function() { WARDEN_OWNED(); }
