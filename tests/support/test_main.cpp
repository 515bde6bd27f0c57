#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstdio>

// libsodium must be initialised before any test that allocates secret memory, whichever test
// ctest runs alone.
int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    return Catch::Session().run(argc, argv);
}
