#include "sandbox/messages.hpp"

#include <csignal>

namespace ghostpod::sandbox {
namespace {

// An entry of $GHOSTPOD_DIR: relative, no empty, "." or ".." component.
bool plain_relative(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.back() == '/' || path.find('\0') != std::string::npos) return false;
    for (std::size_t start = 0;;) {
        std::size_t slash = path.find('/', start);
        std::string part = path.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        if (slash == std::string::npos) return true;
        start = slash + 1;
    }
}

bool absolute(const std::string& path) { return !path.empty() && path.front() == '/' && path.find('\0') == std::string::npos; }

}  // namespace

std::vector<std::uint8_t> encode_error(const Error& e) {
    wire::Writer w;
    w.error(e);
    return w.take();
}

bool decode_error(std::span<const std::uint8_t> payload, Error& e) {
    wire::Reader r(payload);
    return r.error(e) && r.done();
}

Status send_error(int socket, const Error& e) { return wire::send_frame(socket, kErrorKind, encode_error(e)); }

std::vector<std::uint8_t> encode(const GhostOnlyFiles& m) {
    wire::Writer w;
    w.strings(m.paths);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, GhostOnlyFiles& m) {
    wire::Reader r(payload);
    return r.strings(m.paths) && r.done();
}

std::vector<std::uint8_t> encode(const PlaceRequest& m) {
    wire::Writer w;
    w.str(m.source);
    w.str(m.target);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, PlaceRequest& m) {
    wire::Reader r(payload);
    return r.str(m.source) && r.str(m.target) && r.done() && absolute(m.source) && absolute(m.target);
}

std::vector<std::uint8_t> encode(const UnplaceRequest& m) {
    wire::Writer w;
    w.str(m.target);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, UnplaceRequest& m) {
    wire::Reader r(payload);
    return r.str(m.target) && r.done() && absolute(m.target);
}

std::vector<std::uint8_t> encode(const SpawnRequest& m) {
    wire::Writer w;
    w.str(m.view.dir);
    w.strings(m.view.keep);
    w.u32(static_cast<std::uint32_t>(m.view.placements.size()));
    for (const auto& p : m.view.placements) {
        w.str(p.entry);
        w.str(p.target);
    }
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, SpawnRequest& m) {
    wire::Reader r(payload);
    std::size_t n = 0;
    if (!r.str(m.view.dir) || !absolute(m.view.dir) || !r.strings(m.view.keep) || !r.count(n, 8)) return false;
    for (const auto& k : m.view.keep)
        if (!plain_relative(k)) return false;
    m.view.placements.clear();
    for (std::size_t i = 0; i < n; ++i) {
        ProfilePlacement p;
        if (!r.str(p.entry) || !r.str(p.target) || !plain_relative(p.entry) || !absolute(p.target)) return false;
        m.view.placements.push_back(std::move(p));
    }
    return r.done();
}

std::vector<std::uint8_t> encode(const CommandHeader& m) {
    wire::Writer w;
    w.strings(m.argv);
    w.str(m.cwd);
    w.u64(m.env_bytes);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, CommandHeader& m) {
    wire::Reader r(payload);
    if (!r.strings(m.argv) || !r.str(m.cwd) || !r.u64(m.env_bytes) || !r.done()) return false;
    if (m.argv.empty() || m.env_bytes > kMaxEnvironmentBytes) return false;
    for (const auto& a : m.argv)
        if (a.find('\0') != std::string::npos) return false;
    return m.cwd.find('\0') == std::string::npos;
}

std::vector<std::uint8_t> encode(const SignalMessage& m) {
    wire::Writer w;
    w.i32(m.signo);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, SignalMessage& m) {
    wire::Reader r(payload);
    return r.i32(m.signo) && r.done() && m.signo > 0 && m.signo < NSIG;
}

std::vector<std::uint8_t> encode(const ExitMessage& m) {
    wire::Writer w;
    w.i32(m.status);
    return w.take();
}

bool decode(std::span<const std::uint8_t> payload, ExitMessage& m) {
    wire::Reader r(payload);
    return r.i32(m.status) && r.done() && m.status >= 0 && m.status <= 255;
}

}  // namespace ghostpod::sandbox
