// What the session exposes, for 'ghostpod status': secret by secret, where it appears in the
// ghost and which of the config's profiles get it (names only, never a value).
#include <algorithm>

#include "pod/formats/text.hpp"
#include "pod/session/holder_state.hpp"

namespace ghostpod {

nlohmann::json exposure_json(const SessionView& view, const std::map<std::string, std::vector<std::string>>& profiles) {
    nlohmann::json exposed = nlohmann::json::array();
    for (const auto& name : view.secrets) {
        nlohmann::json paths = nlohmann::json::array(), env = nlohmann::json::array(), who = nlohmann::json::array();
        for (const auto& p : view.placements)
            if (p.secret == name) paths.push_back(p.target);
        for (const auto& e : view.env)
            if (e.secret == name) env.push_back({{"name", e.name}, {"holds", e.value_from_file ? "value" : "path"}});
        for (const auto& [profile, allowed] : profiles)
            if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) who.push_back(profile);
        exposed.push_back({{"name", name}, {"file", view.ghost_dir + "/" + name}, {"paths", paths}, {"env", env}, {"profiles", who}});
    }
    return exposed;
}

Result<StatusScope> status_scope(const Holder& h, const Asker& who, const std::string& requested) {
    StatusScope scope;
    if (who.profile) {
        // A profile's process learns its own part only: no other profile's name, nor its secrets'.
        if (!requested.empty() && requested != who.profile->name)
            return make_error(ErrorCode::session, "status of another profile",
                              "refused: this process runs in profile " + who.profile->name + "'s view, which sees only its own secrets",
                              "ask from a shell of the full session, or outside the ghost");
        scope.profile = who.profile->name;
        scope.profiles = {{who.profile->name, who.profile->allowed}};
        scope.view = narrow_view(full_view(h), who.profile->allowed);
        return scope;
    }
    scope.profiles = h.config.profiles;
    scope.view = full_view(h);
    if (requested.empty()) return scope;
    auto it = h.config.profiles.find(requested);
    if (it == h.config.profiles.end()) {
        std::string known;
        for (const auto& [p, list] : h.config.profiles) known += (known.empty() ? "" : ", ") + p;
        return make_error(ErrorCode::usage, "status --profile " + printable(requested, 64), "no such profile in the session's config",
                          known.empty() ? "define profiles in the config; see ghostpod-config(5)" : "known profiles: " + known);
    }
    scope.profile = requested;
    scope.view = narrow_view(scope.view, it->second);
    return scope;
}

}  // namespace ghostpod
