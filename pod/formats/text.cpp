#include "pod/formats/text.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <span>

#include "vault/unique_fd.hpp"

namespace ghostpod {

std::string iso_time(std::uint64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm {};
    gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

std::string octal_mode(std::uint16_t mode) {
    char out[8];
    std::snprintf(out, sizeof out, "%04o", mode);
    return out;
}

std::string human_size(std::uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 3) {
        value /= 1024;
        ++unit;
    }
    char out[32];
    if (unit == 0) {
        std::snprintf(out, sizeof out, "%llu B", static_cast<unsigned long long>(bytes));
    } else {
        std::snprintf(out, sizeof out, "%.1f %s", value, units[unit]);
    }
    return out;
}

std::string printable(std::string_view text, std::size_t max, bool hex) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (char ch : text.substr(0, max)) {
        auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(ch);
        } else if (hex) {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        } else {
            out.push_back('?');
        }
    }
    if (text.size() > max) out += "...";
    return out;
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace ghostpod
