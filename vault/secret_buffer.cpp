#include "vault/secret_buffer.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vault/unique_fd.hpp"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

namespace ghostpod {
namespace {

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// The pages holding [p, p + size) read as zeros in any child forked from now on. sodium_malloc
// maps each region privately and anonymously, which MADV_WIPEONFORK needs; the guard pages
// around it are left as they are.
Status wipe_in_children(void* p, std::size_t size) {
    auto start = reinterpret_cast<std::uintptr_t>(p) & ~(page_size() - 1);
    auto end = (reinterpret_cast<std::uintptr_t>(p) + size + page_size() - 1) & ~(page_size() - 1);
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_WIPEONFORK) != 0)
        return sys_error("madvise MADV_WIPEONFORK on secret memory");
    return {};
}

// Returns a mapping of `length` bytes backed by memfd_secret, or nullptr (errno set).
void* map_secretmem(std::size_t length) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_secret, O_CLOEXEC)));
    if (!fd.valid()) return nullptr;
    if (::ftruncate(fd.get(), static_cast<off_t>(length)) != 0) return nullptr;
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return nullptr;
    // A shared mapping cannot be wiped on fork; a child gets no mapping of it at all instead.
    if (::madvise(p, length, MADV_DONTFORK) != 0) {
        ::munmap(p, length);
        return nullptr;
    }
    // Touch the pages now: secretmem faults them in lazily and may fail with SIGBUS under memlock
    // pressure; failing here, inside a mapping we own, is clearer than later.
    std::memset(p, 0, length);
    return p;
}

}  // namespace

SecretBuffer::SecretBuffer(SecretBuffer&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_), mapped_(other.mapped_),
      backing_(other.backing_), children_(other.children_), owner_(other.owner_) {
    other.data_ = nullptr;
    other.size_ = other.capacity_ = other.mapped_ = 0;
    other.backing_ = Backing::none;
}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
    if (this != &other) {
        release();
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(capacity_, other.capacity_);
        std::swap(mapped_, other.mapped_);
        std::swap(backing_, other.backing_);
        std::swap(children_, other.children_);
        std::swap(owner_, other.owner_);
    }
    return *this;
}

SecretBuffer::~SecretBuffer() { release(); }

void SecretBuffer::release() {
    if (data_ == nullptr) return;
    if (children_ == InChildren::wiped && owner_ != ::getpid()) {
        // A copy in a forked child: its pages read as zeros here (a memfd_secret key is not
        // even mapped), and sodium_free would take the wiped canary for an overflow and abort.
        // Nothing is left to wipe; the mapping goes with this process or its exec. (A child
        // never shares its parent's pid, bar a parent that is pid 1 of its namespace cloning
        // into a new one; no ghostpod process that holds secrets does.)
        data_ = nullptr;
        size_ = capacity_ = mapped_ = 0;
        backing_ = Backing::none;
        return;
    }
    if (backing_ == Backing::secretmem) {
        sodium_memzero(data_, mapped_);
        ::munmap(data_, mapped_);
    } else {
        sodium_free(data_);  // wipes the whole region before unmapping
    }
    data_ = nullptr;
    size_ = capacity_ = mapped_ = 0;
    backing_ = Backing::none;
}

Result<SecretBuffer> SecretBuffer::allocate(std::size_t size, InChildren children) {
    SecretBuffer buffer;
    buffer.children_ = children;
    GP_TRY(buffer.reserve(size));
    buffer.size_ = size;
    return buffer;
}

Result<SecretBuffer> SecretBuffer::allocate_key(std::size_t size) {
    if (memfd_secret_available() && size > 0) {
        std::size_t page = page_size();
        std::size_t length = (size + page - 1) / page * page;
        if (void* p = map_secretmem(length)) {
            SecretBuffer buffer;
            buffer.data_ = static_cast<std::uint8_t*>(p);
            buffer.size_ = buffer.capacity_ = size;
            buffer.mapped_ = length;
            buffer.backing_ = Backing::secretmem;
            buffer.owner_ = ::getpid();
            return buffer;
        }
    }
    return allocate(size);
}

Result<SecretBuffer> SecretBuffer::copy_of(std::span<const std::uint8_t> bytes) {
    auto buffer = allocate(bytes.size());
    if (!buffer) return buffer;
    if (!bytes.empty()) std::memcpy(buffer->data(), bytes.data(), bytes.size());
    return buffer;
}

Result<SecretBuffer> SecretBuffer::read_fd(int fd, std::size_t max_bytes, const std::string& what) {
    SecretBuffer buffer;
    GP_TRY(buffer.reserve(4096));
    for (;;) {
        if (buffer.size_ == buffer.capacity_) {
            if (buffer.capacity_ >= max_bytes + 1)
                return make_error(ErrorCode::usage, what, "larger than the limit of " + std::to_string(max_bytes) + " bytes");
            GP_TRY(buffer.reserve(std::min(buffer.capacity_ * 2, max_bytes + 1)));
        }
        ssize_t n = ::read(fd, buffer.data_ + buffer.size_, buffer.capacity_ - buffer.size_);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error(what);
        }
        if (n == 0) break;
        buffer.size_ += static_cast<std::size_t>(n);
    }
    if (buffer.size_ > max_bytes)
        return make_error(ErrorCode::usage, what, "larger than the limit of " + std::to_string(max_bytes) + " bytes");
    return buffer;
}

bool ensure_sodium() {
    static const bool ready = sodium_init() >= 0;  // thread-safe, once
    return ready;
}

Status SecretBuffer::reserve(std::size_t capacity) {
    if (capacity <= capacity_ && data_ != nullptr) return {};
    // sodium_malloc(0) is legal but returns a pointer we could not write to; keep one byte.
    std::size_t wanted = std::max<std::size_t>(capacity, 1);
    // sodium_malloc needs the page size and canary sodium_init sets (the front initialises
    // libsodium only when it first needs it, pod/cli/dispatch.cpp).
    if (!ensure_sodium()) return make_error(ErrorCode::runtime, "initialise libsodium", "sodium_init failed");
    auto* fresh = static_cast<std::uint8_t*>(sodium_malloc(wanted));
    if (fresh == nullptr) return sys_error("allocate " + std::to_string(wanted) + " bytes of locked memory", ENOMEM);
    if (children_ == InChildren::wiped) {
        if (auto wiped = wipe_in_children(fresh, wanted); !wiped) {
            sodium_free(fresh);
            return wiped;
        }
    }
    std::memset(fresh, 0, wanted);
    if (size_ > 0) std::memcpy(fresh, data_, size_);
    std::size_t keep = size_;
    release();
    data_ = fresh;
    size_ = keep;
    capacity_ = wanted;
    backing_ = Backing::sodium;
    owner_ = ::getpid();
    return {};
}

Status SecretBuffer::append(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return {};
    if (size_ + bytes.size() > capacity_ || data_ == nullptr) {
        std::size_t grown = std::max({size_ + bytes.size(), capacity_ * 2, std::size_t{64}});
        if (backing_ == Backing::secretmem) {
            // Keys never grow; re-home into sodium memory rather than fail.
            auto copy = SecretBuffer::allocate(0, children_);
            if (!copy) return std::move(copy).error();
            GP_TRY(copy->reserve(grown));
            std::memcpy(copy->data_, data_, size_);
            copy->size_ = size_;
            *this = std::move(*copy);
        } else {
            GP_TRY(reserve(grown));
        }
    }
    std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
    return {};
}

void SecretBuffer::truncate(std::size_t new_size) {
    if (new_size >= size_) return;
    sodium_memzero(data_ + new_size, size_ - new_size);
    size_ = new_size;
}

bool SecretBuffer::equals(std::span<const std::uint8_t> other) const {
    if (other.size() != size_) return false;
    if (size_ == 0) return true;
    return sodium_memcmp(data_, other.data(), size_) == 0;
}

bool memfd_secret_available() {
    static const bool available = [] {
        void* p = map_secretmem(page_size());
        if (p == nullptr) return false;
        ::munmap(p, page_size());
        return true;
    }();
    return available;
}

}  // namespace ghostpod
