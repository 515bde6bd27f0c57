// Small formatting helpers for what pod/ prints.
#pragma once

#include <cstdint>
#include <string>

namespace ghostpod {

std::string iso_time(std::uint64_t unix_seconds);  // "2026-11-23T15:20:00Z"
std::string octal_mode(std::uint16_t mode);        // "0400"
std::string human_size(std::uint64_t bytes);       // "1.5 KiB"
void print_stdout(const std::string& text);

}  // namespace ghostpod
