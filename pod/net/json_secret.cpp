#include "pod/net/json_secret.hpp"

#include <sodium.h>

#include <cstdio>

#include "vault/unique_fd.hpp"

namespace ghostpod {

void wipe_strings(nlohmann::json& j) {
    if (j.is_string()) {
        auto& s = j.get_ref<std::string&>();
        sodium_memzero(s.data(), s.size());
    } else if (j.is_structured()) {
        for (auto& item : j) wipe_strings(item);
    }
}

bool nests_deeper_than(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

nlohmann::json parse_json_object(std::string_view text) {
    if (nests_deeper_than(text, kMaxJsonNesting)) return nlohmann::json(nlohmann::json::value_t::discarded);
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!j.is_discarded() && !j.is_object()) {
        wipe_strings(j);
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    return j;
}

}  // namespace ghostpod
