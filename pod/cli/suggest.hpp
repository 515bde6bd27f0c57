// "Did you mean": the nearest known words to a mistyped command, subcommand or option.
#pragma once

#include <string>
#include <vector>

namespace ghostpod {

// Edit distance with adjacent transpositions counted as one edit ("stauts" → "status": 1).
std::size_t edit_distance(const std::string& a, const std::string& b);
// The candidates nearest to `typed`: those within 1 edit for words up to 4 characters and 2 for
// longer ones, or, with none, the one candidate `typed` is a prefix of (at least 2 characters).
// Ties are all returned, in the candidates' order.
std::vector<std::string> nearest_words(const std::string& typed, const std::vector<std::string>& candidates);
// "did you mean 'status'?" or "did you mean 'get' or 'generate'?"; empty when nothing is near.
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace ghostpod
