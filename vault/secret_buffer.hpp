// SecretBuffer: the only home for key material, passphrases, tokens and secret values.
// Guarded, locked memory (sodium_malloc, or memfd_secret for keys where the kernel has it),
// excluded from core dumps, wiped on free. Move-only, no conversion to std::string.
//
// Secrets cross processes only by explicit handoff (a pipe, a socket message), never by
// inheritance: a fork(2) or clone(2) child sees every buffer wiped (MADV_WIPEONFORK; a
// memfd_secret key is not mapped there at all, MADV_DONTFORK). A buffer built to be handed to a
// child that execs (a command's environment, built before fork + exec) says so when it is
// allocated: InChildren::inherited.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vault/result.hpp"

namespace ghostpod {

// sodium_init, once per process (thread-safe); false when it failed. Every SecretBuffer
// allocation calls it first.
bool ensure_sodium();

class SecretBuffer {
public:
    enum class Backing { none, sodium, secretmem };
    // What a child process forked while the buffer lives finds in it.
    enum class InChildren { wiped, inherited };

    SecretBuffer() = default;
    SecretBuffer(const SecretBuffer&) = delete;
    SecretBuffer& operator=(const SecretBuffer&) = delete;
    SecretBuffer(SecretBuffer&& other) noexcept;
    SecretBuffer& operator=(SecretBuffer&& other) noexcept;
    ~SecretBuffer();

    // `size` zeroed bytes in sodium_malloc'ed memory (wiped in children unless `children` says
    // inherited; the choice holds as the buffer grows).
    static Result<SecretBuffer> allocate(std::size_t size, InChildren children = InChildren::wiped);
    // For long-lived keys: memfd_secret(2) memory (unmapped from the kernel's direct map, so not
    // even the kernel reads it by accident), falling back to sodium_malloc where unavailable.
    static Result<SecretBuffer> allocate_key(std::size_t size);
    static Result<SecretBuffer> copy_of(std::span<const std::uint8_t> bytes);
    // Reads `fd` to EOF (or `max_bytes`, an error) straight into secret memory.
    static Result<SecretBuffer> read_fd(int fd, std::size_t max_bytes, const std::string& what);

    std::uint8_t* data() { return data_; }
    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::span<std::uint8_t> bytes() { return {data_, size_}; }
    std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
    // Only for passing to APIs that take char*; never to build a std::string.
    std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
    Backing backing() const { return backing_; }
    InChildren in_children() const { return children_; }

    Status append(std::span<const std::uint8_t> bytes);
    Status push_back(std::uint8_t byte) { return append({&byte, 1}); }
    // Shortens to `new_size` bytes, wiping the tail.
    void truncate(std::size_t new_size);
    // Constant-time comparison when sizes match.
    bool equals(std::span<const std::uint8_t> other) const;

private:
    Status reserve(std::size_t capacity);
    void release();

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::size_t mapped_ = 0;  // secretmem mapping length
    Backing backing_ = Backing::none;
    InChildren children_ = InChildren::wiped;
    pid_t owner_ = 0;  // the process that allocated it: a wiped buffer is not freed in a child
};

// Whether memfd_secret(2) works on this kernel (cached after the first probe).
bool memfd_secret_available();

}  // namespace ghostpod
