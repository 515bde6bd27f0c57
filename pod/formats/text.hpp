// Text helpers with no I/O: times, modes, sizes, and outside text made safe to print.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ghostpod {

std::string iso_time(std::uint64_t unix_seconds);  // "2026-11-23T15:20:00Z"
std::string octal_mode(std::uint16_t mode);        // "0400"
std::string human_size(std::uint64_t bytes);       // "1.5 KiB"
std::string dir_of(const std::string& path);       // "/a/b" of "/a/b/c", "." of "c", "/" of "/c"

// Text that came from outside (a server, a file name, an archive) made safe for a terminal:
// bytes outside printable ASCII become '?' (or "\xNN" with hex = true); more than `max`
// bytes are cut and marked with "...".
std::string printable(std::string_view text, std::size_t max = std::string_view::npos, bool hex = false);

}  // namespace ghostpod
