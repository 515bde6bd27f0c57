#include "tests/support/leak_scan.hpp"

#include <fstream>
#include <iterator>

#include "tests/support/temp_dir.hpp"

namespace ghostpod::test {

namespace fs = std::filesystem;

std::vector<std::string> files_containing(const fs::path& root, const std::vector<std::string>& needles,
                                          const std::vector<fs::path>& excluded) {
    std::vector<std::string> hits;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        std::error_code fec;
        if (!it->is_regular_file(fec) || it->file_size(fec) > (64u << 20)) continue;
        bool skip = false;
        for (const auto& ex : excluded) skip = skip || fs::equivalent(it->path(), ex, fec);
        if (skip) continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& needle : needles)
            if (!needle.empty() && content.find(needle) != std::string::npos) hits.push_back(it->path().string());
    }
    return hits;
}

std::vector<std::string> processes_holding(const std::vector<std::string>& needles) {
    std::vector<std::string> hits;
    for (auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        for (const char* file : {"cmdline", "environ"}) {
            std::string content = read_bytes(entry.path() / file);
            for (const auto& n : needles)
                if (!n.empty() && content.find(n) != std::string::npos) hits.push_back(name + "/" + file);
        }
    }
    return hits;
}

}  // namespace ghostpod::test
