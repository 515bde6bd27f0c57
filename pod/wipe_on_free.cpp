// Every heap block this process frees is zeroed first. libcurl, OpenSSL and the JSON parser
// copy what passes through them (request lines with the token, TLS records, parsed values) into
// ordinary heap memory we cannot reach; interposing free() and realloc() makes sure none of
// those copies outlives its use. Linked into the two ghostpod executables only; sanitizer builds
// keep their own allocator (GCC says so with __SANITIZE_ADDRESS__, clang before 15 only
// through __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define GHOSTPOD_ASAN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GHOSTPOD_ASAN_ALLOCATOR 1
#endif
#endif

#if !defined(GHOSTPOD_ASAN_ALLOCATOR)

#include <malloc.h>
#include <sodium.h>

#include <cstring>

// The static front cannot define free() and realloc() beside libc.a's own: it links with
// --wrap=free,--wrap=realloc, and every call of theirs (ours, libstdc++'s) comes here instead.
#if defined(GHOSTPOD_WRAP_FREE)
#define free __wrap_free
#define realloc __wrap_realloc
#endif

extern "C" {
void __libc_free(void* block);
void* __libc_malloc(std::size_t size);

void free(void* block) {
    if (block == nullptr) return;
    sodium_memzero(block, malloc_usable_size(block));
    __libc_free(block);
}

// glibc's realloc may move a block and free the old one internally, unwiped: move it here.
void* realloc(void* block, std::size_t size) {
    if (block == nullptr) return __libc_malloc(size);
    if (size == 0) {
        free(block);
        return nullptr;
    }
    std::size_t usable = malloc_usable_size(block);
    if (size <= usable) return block;
    void* moved = __libc_malloc(size);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, block, usable);
    free(block);
    return moved;
}
}

#endif
