#include "pod/cli/suggest.hpp"

#include <algorithm>
#include <limits>

namespace ghostpod {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    // Optimal string alignment over three rows: two back are needed for a transposition.
    std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                current[j] = std::min(current[j], before[j - 2] + 1);
        }
        before = previous;
        previous = current;
    }
    return previous[b.size()];
}

std::vector<std::string> nearest_words(const std::string& typed, const std::vector<std::string>& candidates) {
    // Dashes are not letters the user mistyped: "--jsno" is one edit from "--json", "-json" one too.
    auto bare = [](const std::string& word) { return word.substr(std::min(word.find_first_not_of('-'), word.size())); };
    std::string core = bare(typed);
    std::size_t limit = core.size() <= 4 ? 1 : 2;
    std::size_t best = std::numeric_limits<std::size_t>::max();
    std::vector<std::string> nearest;
    for (const auto& candidate : candidates) {
        std::size_t d = edit_distance(core, bare(candidate));
        if (d > limit || d > best) continue;
        if (d < best) nearest.clear();
        best = d;
        if (std::find(nearest.begin(), nearest.end(), candidate) == nearest.end()) nearest.push_back(candidate);
    }
    if (!nearest.empty() || core.size() < 2) return nearest;
    for (const auto& candidate : candidates)
        if (bare(candidate).rfind(core, 0) == 0 && std::find(nearest.begin(), nearest.end(), candidate) == nearest.end())
            nearest.push_back(candidate);
    if (nearest.size() != 1) nearest.clear();
    return nearest;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
    auto nearest = nearest_words(typed, candidates);
    if (nearest.empty()) return "";
    std::string text = "did you mean ";
    for (std::size_t i = 0; i < nearest.size(); ++i)
        text += (i == 0 ? "" : i + 1 == nearest.size() ? " or " : ", ") + ("'" + nearest[i] + "'");
    return text + "?";
}

}  // namespace ghostpod
