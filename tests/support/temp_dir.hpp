// A scratch directory removed with everything in it when the test ends.
#pragma once

#include <string>

namespace ghostpod::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

std::string read_text(const std::string& path);
// A file's bytes, or "" when it cannot be read; safe for /proc files of processes that exit
// meanwhile (libstdc++'s filebuf throws from an istreambuf_iterator when read() fails).
std::string read_bytes(const std::string& path);
void write_text(const std::string& path, const std::string& text);
// Random printable text, for values that must be recognisable wherever they leak.
std::string random_marker(const std::string& prefix);

}  // namespace ghostpod::test
