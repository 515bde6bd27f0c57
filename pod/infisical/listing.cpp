// Reading a secrets listing: a push parser (pod/net/json_stream.hpp) over the answer as it
// arrives, whose events copy each value straight into secret memory and never build a document
// tree, then the official precedence over the folder's own secrets and its imports.
#include <sodium.h>

#include <algorithm>
#include <numeric>

#include "pod/formats/text.hpp"
#include "pod/infisical/listing.hpp"
#include "pod/net/json_stream.hpp"
#include "vault/payload.hpp"
#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

constexpr std::size_t kValueChunk = 64u << 10;  // the most a listing wastes at its end

std::string as_text(std::span<const std::uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

// One secret as read: `group` is -1 for the folder's own, else the index of its import.
struct ReadSecret {
    std::string key;
    std::uint32_t folder = 0;  // index into the reader's folder names
    std::uint32_t answer = 0;  // which answer (path) it came from
    std::uint32_t position = 0;  // its place in that answer
    int group = -1;
    std::uint32_t chunk = 0;   // where its value is in PulledSecrets::values
    std::size_t offset = 0, length = 0;
    bool has_key = false, has_value = false, hidden = false;
};

// Where the reader is in {"secrets": [{…}], "imports": [{"secrets": [{…}]}]}.
enum class At { root, own_list, own_secret, import_list, import_object, import_secrets, import_secret, other };

class ListingReader : public JsonEvents {
public:
    ListingReader(PulledSecrets& values, std::deque<ReadSecret>& secrets, std::vector<std::string>& folders)
        : values_(values), secrets_(secrets), folders_(folders) {}

    void start(std::uint32_t answer) {
        answer_ = answer;
        position_ = 0;
        problem.clear();
        saw_secrets = false;
        stack_.clear();
        secret_depth_ = 0;
        in_secret_ = false;
        imports_seen_ = 0;
        import_has_secrets_ = false;
        key_.clear();
        current_ = ReadSecret{};
    }

    std::string problem;  // set when the shape is wrong
    bool saw_secrets = false;

    bool null() override { return wants_list() && key_ == "imports" ? true : scalar(); }
    bool boolean(bool value) override {
        if (at_secret_field() && key_ == "secretValueHidden") current_.hidden = value;
        return scalar();
    }
    bool string(std::span<const std::uint8_t> text) override {
        if (at_secret_field()) {
            if (key_ == "secretKey") {
                current_.key = as_text(text);
                current_.has_key = true;
            } else if (key_ == "secretValue") {
                // A duplicate field: the last one is the value, as a document would keep it.
                if (!values_.add_value(text, current_.chunk, current_.offset)) return fail("out of secret memory");
                current_.length = text.size();
                current_.has_value = true;
            } else if (key_ == "secretPath") {
                current_.folder = folder_index(text);
            }
        }
        return scalar();
    }
    bool key(std::span<const std::uint8_t> text) override {
        key_.assign(text.begin(), text.end());
        return true;
    }
    bool start_object() override {
        At next = At::other;
        if (stack_.empty()) next = At::root;
        else if (wants_list()) return fail("\"" + key_ + "\" is not a list");
        else if (expecting_element()) next = top() == At::own_list ? At::own_secret : top() == At::import_list ? At::import_object : At::import_secret;
        if (next == At::own_secret || next == At::import_secret) {
            current_ = ReadSecret{};
            current_.group = next == At::import_secret ? imports_seen_ - 1 : -1;
            in_secret_ = true;
            secret_depth_ = stack_.size() + 1;
        }
        if (next == At::import_object) {
            ++imports_seen_;
            import_has_secrets_ = false;
        }
        stack_.push_back(next);
        return true;
    }
    bool end_object() override {
        At closing = top();
        stack_.pop_back();
        if (closing == At::own_secret || closing == At::import_secret) {
            in_secret_ = false;
            if (!current_.has_key || !current_.has_value) return fail("a secret lacks secretKey or secretValue");
            current_.answer = answer_;
            current_.position = position_++;
            secrets_.push_back(std::move(current_));
        }
        if (closing == At::import_object && !import_has_secrets_) return fail("an import has no \"secrets\"");
        return true;
    }
    bool start_array() override {
        At next = At::other;
        if (stack_.empty()) return fail("the answer is not a JSON object");
        if (expecting_element()) return fail(element_problem());
        if (wants_list()) {
            next = top() == At::root ? (key_ == "secrets" ? At::own_list : At::import_list) : At::import_secrets;
            if (next == At::own_list) saw_secrets = true;
            if (next == At::import_secrets) import_has_secrets_ = true;
        }
        stack_.push_back(next);
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool scalar() override {
        if (stack_.empty()) return fail("the answer is not a JSON object");
        if (wants_list()) return fail("\"" + key_ + "\" is not a list");
        if (expecting_element()) return fail(element_problem());
        return true;
    }

private:
    At top() const { return stack_.empty() ? At::other : stack_.back(); }
    // The value about to come belongs to a list the reader needs: "secrets" or "imports" of the
    // answer, or "secrets" of an import.
    bool wants_list() const {
        return (top() == At::root && (key_ == "secrets" || key_ == "imports")) || (top() == At::import_object && key_ == "secrets");
    }
    // The value about to come is an element of one of those lists (and must be an object).
    bool expecting_element() const { return top() == At::own_list || top() == At::import_list || top() == At::import_secrets; }
    std::string element_problem() const { return top() == At::import_list ? "an import is not an object" : "a secret is not an object"; }
    bool at_secret_field() const { return in_secret_ && stack_.size() == secret_depth_; }
    bool fail(const std::string& why) {
        if (problem.empty()) problem = why;
        return false;
    }
    // Folders repeat (usually one for all): each name is kept once.
    std::uint32_t folder_index(std::span<const std::uint8_t> name) {
        std::string_view text(reinterpret_cast<const char*>(name.data()), name.size());
        if (folders_[last_folder_] == text) return last_folder_;
        for (std::uint32_t i = 0; i < folders_.size(); ++i)
            if (folders_[i] == text) return last_folder_ = i;
        folders_.emplace_back(text);
        return last_folder_ = static_cast<std::uint32_t>(folders_.size() - 1);
    }

    PulledSecrets& values_;
    std::deque<ReadSecret>& secrets_;
    std::vector<std::string>& folders_;
    std::uint32_t answer_ = 0, position_ = 0, last_folder_ = 0;
    std::vector<At> stack_;
    std::size_t secret_depth_ = 0;  // stack size while directly inside the current secret
    bool in_secret_ = false;
    int imports_seen_ = 0;
    bool import_has_secrets_ = false;
    std::string key_;
    ReadSecret current_;
};

bool usable_key(const std::string& key) {
    return !key.empty() && key.find('/') == std::string::npos && validate_entry_name(key);
}

Error listing_error(const std::string& where, const std::string& why) {
    return make_error(ErrorCode::network, "read the secrets listed by " + where, why,
                      "the server does not answer like Infisical; check infisical.host");
}

}  // namespace

Status PulledSecrets::add_value(std::span<const std::uint8_t> bytes, std::uint32_t& chunk, std::size_t& offset) {
    if (values.empty() || bytes.size() > room_) {
        auto fresh = SecretBuffer::allocate(std::max(kValueChunk, bytes.size()));
        if (!fresh) return std::move(fresh).error();
        room_ = fresh->size();
        fresh->truncate(0);  // its capacity stays
        values.push_back(std::move(*fresh));
    }
    chunk = static_cast<std::uint32_t>(values.size() - 1);
    offset = values.back().size();
    GP_TRY(values.back().append(bytes));
    room_ -= bytes.size();
    return {};
}

void PulledSecrets::roll_back(const Mark& m) {
    while (values.size() > m.chunks) values.pop_back();
    if (!values.empty()) values.back().truncate(m.last_size);
    room_ = 0;  // the next value starts a fresh chunk: the capacity of this one is not tracked
}

struct ListingBuilder::State {
    std::string where;
    PulledSecrets out;
    std::deque<ReadSecret> secrets;
    std::vector<std::string> folders{"/"};
    ListingReader reader{out, secrets, folders};
    JsonPushParser parser{reader};
    std::uint32_t answers = 0;  // complete ones
    std::size_t answer_start = 0;  // secrets.size() when the current answer began
    PulledSecrets::Mark mark;
};

ListingBuilder::ListingBuilder(std::string where) : state_(std::make_unique<State>()) { state_->where = std::move(where); }
ListingBuilder::~ListingBuilder() = default;

void ListingBuilder::restart() {
    State& s = *state_;
    s.secrets.resize(s.answer_start);
    s.out.roll_back(s.mark);
    s.parser.reset();
    s.reader.start(s.answers);
}

bool ListingBuilder::consume(std::span<const std::uint8_t> bytes) { return state_->parser.feed(bytes); }

Status ListingBuilder::end_answer() {
    State& s = *state_;
    bool parsed = s.parser.finish();
    if (!parsed || !s.reader.problem.empty() || !s.reader.saw_secrets) {
        std::string why = !s.reader.problem.empty()        ? s.reader.problem
                          : s.parser.out_of_memory()       ? "out of secret memory"
                          : s.parser.nests_too_deep()      ? "the server's answer nests absurdly deep"
                          : parsed                         ? "the answer has no \"secrets\""
                                                           : "the answer is not a JSON object";
        return listing_error(s.where, why);
    }
    for (std::size_t i = s.answer_start; i < s.secrets.size(); ++i)
        if (s.secrets[i].hidden)
            return make_error(ErrorCode::network, "read the secrets listed by " + s.where,
                              "the server hid the value of " + printable(s.secrets[i].key, 80),
                              "give the machine identity permission to read secret values");
    s.answers += 1;
    s.answer_start = s.secrets.size();
    s.mark = s.out.mark();
    return {};
}

Result<PulledSecrets> ListingBuilder::finish() {
    State& s = *state_;
    // Which read secret wins a key: a later answer (path); in one answer the folder's own
    // (the last of duplicates), else the last import (the first of duplicates in it).
    auto beats = [&](const ReadSecret& a, const ReadSecret& b) {
        if (a.answer != b.answer) return a.answer > b.answer;
        bool a_own = a.group < 0, b_own = b.group < 0;
        if (a_own != b_own) return a_own;
        if (a_own) return a.position > b.position;
        if (a.group != b.group) return a.group > b.group;
        return a.position < b.position;
    };
    // Keys not usable as file names are reported in the order the merge used to meet them:
    // per answer, the own secrets, then the imports from the last to the first.
    std::vector<std::uint32_t> order(s.secrets.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
        const ReadSecret& a = s.secrets[x];
        const ReadSecret& b = s.secrets[y];
        if (a.answer != b.answer) return a.answer < b.answer;
        bool a_own = a.group < 0, b_own = b.group < 0;
        if (a_own != b_own) return a_own;
        return !a_own && a.group > b.group;
    });
    std::vector<std::uint32_t> usable;
    usable.reserve(order.size());
    for (std::uint32_t i : order) {
        if (usable_key(s.secrets[i].key)) usable.push_back(i);
        else s.out.skipped.push_back(printable(s.secrets[i].key, 80));
    }
    std::vector<std::uint32_t>().swap(order);
    std::sort(usable.begin(), usable.end(), [&](std::uint32_t x, std::uint32_t y) {
        const ReadSecret& a = s.secrets[x];
        const ReadSecret& b = s.secrets[y];
        if (a.key != b.key) return a.key < b.key;
        return beats(a, b);
    });
    // Sorted by key, the winner first: each key's first index is the one kept.
    std::size_t winners = 0;
    for (std::size_t i = 0; i < usable.size(); ++i)
        if (i == 0 || s.secrets[usable[i]].key != s.secrets[usable[i - 1]].key) ++winners;
    s.out.secrets.reserve(winners);
    for (std::uint32_t i : usable) {
        ReadSecret& r = s.secrets[i];
        if (!s.out.secrets.empty() && s.out.secrets.back().key == r.key) continue;
        s.out.secrets.push_back({std::move(r.key), s.folders[r.folder], r.offset, r.length, r.chunk});
    }
    s.secrets.clear();
    return std::move(s.out);
}

Result<PulledSecrets> merge_listings(const std::vector<const SecretBuffer*>& bodies, const std::string& where) {
    ListingBuilder builder(where);
    for (const SecretBuffer* body : bodies) {
        builder.restart();
        (void)builder.consume(body->bytes());
        GP_TRY(builder.end_answer());
    }
    return builder.finish();
}

}  // namespace ghostpod
