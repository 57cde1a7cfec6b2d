// A program that starts the SDK and then crashes in the way its first argument names,
// inside code owned by the inventory team. The crash tests run it as a child process.
//
//   warden_crash_child <segv|stack-overflow|abort|fpe|ill|bus|uncaught|chained-segv>
//                      <cache directory> <marker file for chained-segv>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "warden/ownership.hpp"
#include "warden/sdk.hpp"

WARDEN_MODULE_OWNER("inventory", "backend", "stock");

namespace {

const char* marker_path = nullptr;

// A handler the application had before the SDK: it must still run after the SDK's.
void application_handler(int) {
  const int fd = ::open(marker_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    static_cast<void>(::write(fd, "application handler ran\n", 24));
    ::close(fd);
  }
  ::_exit(42);
}

}  // namespace

namespace inventory {

volatile int zero = 0;
volatile int stock = 7;
volatile int* volatile nowhere = nullptr;

[[gnu::noinline]] void corrupt_stock_record() {
  WARDEN_OWNED();
  *nowhere = 1;
}

volatile bool keep_recursing = true;

[[gnu::noinline]] int recurse_forever(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (!keep_recursing) return frame[0];
  return recurse_forever(depth + 1) + frame[0];
}

[[gnu::noinline]] void divide_stock(const std::string& mode) {
  WARDEN_OWNED();
  if (mode == "fpe") std::printf("%d\n", stock / zero);
  if (mode == "ill") __builtin_trap();
  if (mode == "abort") std::abort();
  if (mode == "stack-overflow") std::printf("%d\n", recurse_forever(0));
  if (mode == "uncaught") throw std::runtime_error("stock record corrupted");
  if (mode == "bus") {
    // Reading a mapped page whose file was truncated away raises SIGBUS.
    const std::string path = std::string{marker_path} + ".bus";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::ftruncate(fd, 4096) != 0) std::exit(3);
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED || ::ftruncate(fd, 0) != 0) std::exit(3);
    std::printf("%d\n", *static_cast<volatile const char*>(page));
  }
}

}  // namespace inventory

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::string mode = argv[1];
  marker_path = argv[3];
  if (mode == "chained-segv") ::signal(SIGSEGV, &application_handler);

  warden::options options;
  options.dsn = "http://crashkey@127.0.0.1:9/7";  // never reached: reports go out next start
  options.release = "inventory@9.9.9";
  options.environment = "production";
  options.cache_directory = argv[2];
  auto sdk = warden::init(std::move(options));
  if (!sdk.ok()) return 4;

  if (mode == "segv" || mode == "chained-segv") inventory::corrupt_stock_record();
  inventory::divide_stock(mode);
  return 5;  // the crash did not happen
}
