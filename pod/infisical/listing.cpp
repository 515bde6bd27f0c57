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

// What decides which of a key's secrets wins, beside each one read: `group` is -1 for the
// folder's own, else the index of its import.
struct Rank {
    std::uint32_t answer = 0;    // which answer (path) it came from
    std::uint32_t position = 0;  // its place in that answer
    int group = -1;
    bool hidden = false;
};

struct ReadSecret {
    PulledSecret secret;
    Rank rank;
    bool has_key = false, has_value = false;
};

// Where the reader is in {"secrets": [{…}], "imports": [{"secrets": [{…}]}]}.
enum class At { root, own_list, own_secret, import_list, import_object, import_secrets, import_secret, other };

class ListingReader : public JsonEvents {
public:
    ListingReader(PulledSecrets& out, std::deque<Rank>& ranks) : out_(out), ranks_(ranks) {}

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
        if (at_secret_field() && key_ == "secretValueHidden") current_.rank.hidden = value;
        return scalar();
    }
    bool string(std::span<const std::uint8_t> text) override {
        if (at_secret_field()) {
            if (key_ == "secretKey") {
                current_.secret.key = as_text(text);
                current_.has_key = true;
            } else if (key_ == "secretValue") {
                // A duplicate field: the last one is the value, as a document would keep it.
                if (!out_.add_value(text, current_.secret.chunk, current_.secret.offset)) return fail("out of secret memory");
                current_.secret.length = static_cast<std::uint32_t>(text.size());
                current_.has_value = true;
            } else if (key_ == "secretPath") {
                current_.secret.folder = out_.folder_index({reinterpret_cast<const char*>(text.data()), text.size()});
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
            current_.rank.group = next == At::import_secret ? imports_seen_ - 1 : -1;
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
            current_.rank.answer = answer_;
            current_.rank.position = position_++;
            out_.secrets.push_back(std::move(current_.secret));
            ranks_.push_back(current_.rank);
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
    PulledSecrets& out_;
    std::deque<Rank>& ranks_;
    std::uint32_t answer_ = 0, position_ = 0;
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

std::uint32_t PulledSecrets::folder_index(std::string_view name) {
    if (folders[last_folder_] == name) return last_folder_;  // the usual case: the same as before
    std::string key(name);
    // Looked up by hash: a server naming a new folder for each of a million secrets is not a
    // quadratic scan.
    if (folder_lookup_.empty())
        for (std::size_t i = 0; i < folders.size(); ++i) folder_lookup_.emplace(folders[i], static_cast<std::uint32_t>(i));
    auto [at, added] = folder_lookup_.emplace(key, static_cast<std::uint32_t>(folders.size()));
    if (added) folders.push_back(std::move(key));
    return last_folder_ = at->second;
}

Status PulledSecrets::add_value(std::span<const std::uint8_t> bytes, std::uint32_t& chunk, std::uint32_t& offset) {
    if (values.empty() || bytes.size() > room_) {
        auto fresh = SecretBuffer::allocate(std::max(kValueChunk, bytes.size()));
        if (!fresh) return std::move(fresh).error();
        room_ = fresh->size();
        fresh->truncate(0);  // its capacity stays
        values.push_back(std::move(*fresh));
    }
    chunk = static_cast<std::uint32_t>(values.size() - 1);
    offset = static_cast<std::uint32_t>(values.back().size());
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
    PulledSecrets out;        // out.secrets: every secret read, until finish() keeps the winners
    std::deque<Rank> ranks;  // beside each of them (deques: never regrown by copying)
    ListingReader reader{out, ranks};
    JsonPushParser parser{reader};
    std::uint32_t answers = 0;  // complete ones
    std::size_t answer_start = 0;  // secrets.size() when the current answer began
    PulledSecrets::Mark mark;
};

ListingBuilder::ListingBuilder(std::string where) : state_(std::make_unique<State>()) { state_->where = std::move(where); }
ListingBuilder::~ListingBuilder() = default;

void ListingBuilder::restart() {
    State& s = *state_;
    s.out.secrets.resize(s.answer_start);
    s.ranks.resize(s.answer_start);
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
    for (std::size_t i = s.answer_start; i < s.out.secrets.size(); ++i)
        if (s.ranks[i].hidden)
            return make_error(ErrorCode::network, "read the secrets listed by " + s.where,
                              "the server hid the value of " + printable(s.out.secrets[i].key, 80),
                              "give the machine identity permission to read secret values");
    s.answers += 1;
    s.answer_start = s.out.secrets.size();
    s.mark = s.out.mark();
    return {};
}

Result<PulledSecrets> ListingBuilder::finish() {
    State& s = *state_;
    auto& read = s.out.secrets;
    const auto& ranks = s.ranks;
    // Which read secret wins a key: a later answer (path); in one answer the folder's own
    // (the last of duplicates), else the last import (the first of duplicates in it).
    auto beats = [&](const Rank& a, const Rank& b) {
        if (a.answer != b.answer) return a.answer > b.answer;
        bool a_own = a.group < 0, b_own = b.group < 0;
        if (a_own != b_own) return a_own;
        if (a_own) return a.position > b.position;
        if (a.group != b.group) return a.group > b.group;
        return a.position < b.position;
    };
    // Keys not usable as file names are reported in the order the merge used to meet them:
    // per answer, the own secrets, then the imports from the last to the first.
    std::vector<std::uint32_t> order(read.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
        const Rank& a = ranks[x];
        const Rank& b = ranks[y];
        if (a.answer != b.answer) return a.answer < b.answer;
        bool a_own = a.group < 0, b_own = b.group < 0;
        if (a_own != b_own) return a_own;
        return !a_own && a.group > b.group;
    });
    std::vector<std::uint32_t> usable;
    usable.reserve(order.size());
    for (std::uint32_t i : order) {
        if (usable_key(read[i].key)) usable.push_back(i);
        else s.out.skipped.push_back(printable(read[i].key, 80));
    }
    std::sort(usable.begin(), usable.end(), [&](std::uint32_t x, std::uint32_t y) {
        if (read[x].key != read[y].key) return read[x].key < read[y].key;
        return beats(ranks[x], ranks[y]);
    });
    // Sorted by key, the winner first: each key's first index is the one kept. The winners
    // are moved into place in the same list (no second list of 10,000), the rest cut off.
    std::vector<std::uint32_t>& permutation = order;  // reused: position -> the index that goes there
    std::vector<bool> placed(read.size());
    std::size_t winners = 0;
    for (std::size_t i = 0; i < usable.size(); ++i) {
        if (i > 0 && read[usable[i]].key == read[usable[i - 1]].key) continue;
        permutation[winners++] = usable[i];
        placed[usable[i]] = true;
    }
    std::vector<std::uint32_t>().swap(usable);
    for (std::size_t i = 0, next = winners; i < read.size(); ++i)
        if (!placed[i]) permutation[next++] = static_cast<std::uint32_t>(i);
    std::fill(placed.begin(), placed.end(), false);
    for (std::size_t start = 0; start < read.size(); ++start) {
        if (placed[start] || permutation[start] == start) continue;
        PulledSecret held = std::move(read[start]);
        std::size_t at = start;
        for (;;) {
            placed[at] = true;
            std::size_t from = permutation[at];
            if (from == start) {
                read[at] = std::move(held);
                break;
            }
            read[at] = std::move(read[from]);
            at = from;
        }
    }
    read.resize(winners);
    std::deque<Rank>().swap(s.ranks);
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
