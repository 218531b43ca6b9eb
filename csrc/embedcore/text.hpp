// The text pass: split a UTF-8 byte stream into whitespace-separated tokens and lines, count
// distinct tokens in a string hash table, and map tokens to ids.
//
// Input arrives in chunks of any size (a token may straddle two chunks), so memory is bounded by
// the chunk plus the longest token whatever the file size. Tokens are validated as UTF-8; since
// ASCII whitespace never occurs inside a valid multi-byte sequence, checking token by token is
// the same as checking the whole stream. Counting is O(tokens) with one hash probe per token;
// pruning (gensim's max_vocab_size rule) is O(table) and happens rarely.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"

namespace embedcore {
namespace text {

enum class Utf8Policy { Strict = 0, Replace = 1, Ignore = 2 };

// Raised for invalid UTF-8 under the strict policy; `offset` is the absolute byte offset.
class Utf8Error : public std::runtime_error {
public:
    Utf8Error(std::int64_t offset)
        : std::runtime_error("invalid UTF-8 at byte offset " + std::to_string(offset)), offset(offset) {}
    std::int64_t offset;
};

inline bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Length of the valid UTF-8 sequence starting at p (1-4), or 0 if the bytes there are invalid.
inline int utf8_sequence_length(const unsigned char* p, std::size_t avail) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;   // no overlong forms
        if (c == 0xED) hi = 0x9F;   // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;   // nothing past U+10FFFF
    } else
        return 0;
    if (avail < static_cast<std::size_t>(len)) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < len; ++i)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

// Index of the first byte that starts an invalid sequence, or -1 when all of [p, p+n) is valid.
inline std::int64_t utf8_first_invalid(const char* s, std::size_t n) {
    const auto* p = reinterpret_cast<const unsigned char*>(s);
    std::size_t i = 0;
    while (i < n) {
        // fast path: 8 ASCII bytes at a time
        if (i + 8 <= n) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const int len = utf8_sequence_length(p + i, n - i);
        if (len == 0) return static_cast<std::int64_t>(i);
        i += static_cast<std::size_t>(len);
    }
    return -1;
}

// Copy of [p, p+n) with each maximal invalid subpart replaced by U+FFFD (or dropped).
inline std::string utf8_repair(const char* s, std::size_t n, bool replace) {
    const auto* p = reinterpret_cast<const unsigned char*>(s);
    std::string out;
    out.reserve(n + 8);
    std::size_t i = 0;
    while (i < n) {
        const int len = utf8_sequence_length(p + i, n - i);
        if (len > 0) {
            out.append(s + i, static_cast<std::size_t>(len));
            i += static_cast<std::size_t>(len);
        } else {
            if (replace) out.append("\xEF\xBF\xBD");
            ++i;
            while (i < n && p[i] >= 0x80 && p[i] <= 0xBF) ++i;  // skip the rest of the bad sequence
        }
    }
    return out;
}

inline std::uint64_t hash_bytes(const char* s, std::size_t n) {
    // 64-bit multiply-mix over 8-byte words; good spread for short keys, no external dependency
    const std::uint64_t m = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = 0x243F6A8885A308D3ULL ^ (n * m);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s + i, 8);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    if (i < n) {
        std::uint64_t w = 0;
        std::memcpy(&w, s + i, n - i);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h;
}

// Open-addressing table of distinct strings with a count and first-appearance rank each.
class StringTable {
public:
    struct Entry {
        std::uint64_t hash;
        std::int64_t offset;  // into the arena
        std::int64_t length;
        std::int64_t count;
        std::int64_t first;   // order of first appearance (ties in the final sort)
    };

    StringTable() { rehash(1024); }

    std::size_t size() const { return entries_.size(); }
    const Entry& entry(std::size_t i) const { return entries_[i]; }
    const char* data(const Entry& e) const { return arena_.data() + e.offset; }

    // Index of the string, or -1.
    std::int64_t find(const char* s, std::size_t n) const { return find(s, n, hash_bytes(s, n)); }

    std::int64_t find(const char* s, std::size_t n, std::uint64_t h) const {
        std::size_t pos = h & mask_;
        while (true) {
            const std::int64_t slot = slots_[pos];
            if (slot < 0) return -1;
            const Entry& e = entries_[static_cast<std::size_t>(slot)];
            if (e.hash == h && static_cast<std::size_t>(e.length) == n &&
                std::memcmp(arena_.data() + e.offset, s, n) == 0)
                return slot;
            pos = (pos + 1) & mask_;
        }
    }

    // Adds `count` to the string's tally, inserting it first if absent; returns its index.
    std::int64_t add(const char* s, std::size_t n, std::int64_t count = 1) {
        const std::uint64_t h = hash_bytes(s, n);
        std::size_t pos = h & mask_;
        while (true) {
            const std::int64_t slot = slots_[pos];
            if (slot < 0) break;
            Entry& e = entries_[static_cast<std::size_t>(slot)];
            if (e.hash == h && static_cast<std::size_t>(e.length) == n &&
                std::memcmp(arena_.data() + e.offset, s, n) == 0) {
                e.count += count;
                return slot;
            }
            pos = (pos + 1) & mask_;
        }
        const auto index = static_cast<std::int64_t>(entries_.size());
        entries_.push_back(Entry{h, static_cast<std::int64_t>(arena_.size()), static_cast<std::int64_t>(n),
                                 count, next_first_++});
        arena_.insert(arena_.end(), s, s + n);
        slots_[pos] = index;
        if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
        return index;
    }

    // Removes every entry whose count is <= min_count (gensim's prune_vocab); keeps order.
    void prune(std::int64_t min_count) {
        std::vector<Entry> kept;
        std::vector<char> arena;
        for (const Entry& e : entries_) {
            if (e.count <= min_count) continue;
            Entry k = e;
            k.offset = static_cast<std::int64_t>(arena.size());
            arena.insert(arena.end(), arena_.begin() + e.offset, arena_.begin() + e.offset + e.length);
            kept.push_back(k);
        }
        entries_.swap(kept);
        arena_.swap(arena);
        std::size_t cap = 1024;
        while (cap < entries_.size() * 2) cap *= 2;
        rehash(cap);
    }

    std::int64_t memory_bytes() const {
        return static_cast<std::int64_t>(entries_.capacity() * sizeof(Entry) + arena_.capacity() +
                                         slots_.capacity() * sizeof(std::int64_t));
    }

private:
    void rehash(std::size_t capacity) {
        slots_.assign(capacity, -1);
        mask_ = capacity - 1;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            std::size_t pos = entries_[i].hash & mask_;
            while (slots_[pos] >= 0) pos = (pos + 1) & mask_;
            slots_[pos] = static_cast<std::int64_t>(i);
        }
    }

    std::vector<Entry> entries_;
    std::vector<char> arena_;
    std::vector<std::int64_t> slots_;
    std::size_t mask_ = 0;
    std::int64_t next_first_ = 0;
};

// Splits a chunked byte stream into tokens and non-empty lines; callers receive whole tokens
// even when a token straddles chunks.
class Tokenizer {
public:
    explicit Tokenizer(Utf8Policy policy) : policy_(policy) {}

    // Feeds one chunk; calls on_token(ptr, len) per complete token and on_line() at the end of
    // each line that held a token.
    // `last` marks the end of the stream: a pending token and line are flushed.
    template <class OnToken, class OnLine>
    void feed(const char* buf, std::size_t n, bool last, OnToken&& on_token, OnLine&& on_line) {
        std::size_t i = 0;
        if (!carry_.empty()) {
            // finish the token that began in an earlier chunk
            std::size_t j = 0;
            while (j < n && !is_space(static_cast<unsigned char>(buf[j]))) ++j;
            carry_.append(buf, j);
            if (j == n && !last) {
                consumed_ += static_cast<std::int64_t>(n);
                return;
            }
            emit(carry_.data(), carry_.size(), carry_start_, on_token);
            carry_.clear();
            i = j;
        }
        while (i < n) {
            const auto c = static_cast<unsigned char>(buf[i]);
            if (is_space(c)) {
                if (c == '\n') {
                    if (pending_line_) on_line();
                    pending_line_ = false;
                }
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < n && !is_space(static_cast<unsigned char>(buf[j]))) ++j;
            pending_line_ = true;
            if (j == n && !last) {
                carry_.assign(buf + i, j - i);
                carry_start_ = consumed_ + static_cast<std::int64_t>(i);
                break;
            }
            emit(buf + i, j - i, consumed_ + static_cast<std::int64_t>(i), on_token);
            i = j;
        }
        consumed_ += static_cast<std::int64_t>(n);
        if (last && pending_line_) {
            on_line();
            pending_line_ = false;
        }
    }

    std::int64_t bytes_consumed() const { return consumed_; }

private:
    template <class OnToken>
    void emit(const char* s, std::size_t n, std::int64_t start, OnToken& on_token) {
        const std::int64_t bad = utf8_first_invalid(s, n);
        if (bad < 0) {
            on_token(s, n);
            return;
        }
        if (policy_ == Utf8Policy::Strict) throw Utf8Error(start + bad);
        const std::string fixed = utf8_repair(s, n, policy_ == Utf8Policy::Replace);
        if (!fixed.empty()) on_token(fixed.data(), fixed.size());
    }

    Utf8Policy policy_;
    std::string carry_;
    std::int64_t carry_start_ = 0;
    std::int64_t consumed_ = 0;
    bool pending_line_ = false;
};

// Counts tokens, pruning rare ones whenever the table grows past `prune_at` entries.
class VocabCounter {
public:
    VocabCounter(std::int64_t prune_at, Utf8Policy policy) : prune_at_(prune_at), tokenizer_(policy) {}

    void feed(const char* buf, std::size_t n, bool last) {
        tokenizer_.feed(buf, n, last, [this](const char* s, std::size_t len) { add(s, len); },
                        [this] { ++sentences_; });
    }

    void add(const char* s, std::size_t n) {
        table_.add(s, n);
        ++total_;
        if (prune_at_ > 0 && static_cast<std::int64_t>(table_.size()) > prune_at_) {
            table_.prune(min_reduce_);
            ++min_reduce_;
        }
    }
    void end_sentence() { ++sentences_; }

    // Starts a new input stream (a new file): byte offsets and partial tokens reset.
    void reset_stream(Utf8Policy policy) { tokenizer_ = Tokenizer(policy); }

    const StringTable& table() const { return table_; }
    std::int64_t total_words() const { return total_; }
    std::int64_t sentences() const { return sentences_; }
    std::int64_t bytes_consumed() const { return tokenizer_.bytes_consumed(); }
    std::int64_t prunes() const { return min_reduce_ - 1; }

    // Indices of the entries with count >= min_count, sorted by descending count then first
    // appearance, at most max_size of them (max_size <= 0: no cap).
    std::vector<std::int64_t> sorted_vocabulary(std::int64_t min_count, std::int64_t max_size) const {
        std::vector<std::int64_t> order;
        for (std::size_t i = 0; i < table_.size(); ++i)
            if (table_.entry(i).count >= min_count) order.push_back(static_cast<std::int64_t>(i));
        std::sort(order.begin(), order.end(), [this](std::int64_t a, std::int64_t b) {
            const auto& ea = table_.entry(static_cast<std::size_t>(a));
            const auto& eb = table_.entry(static_cast<std::size_t>(b));
            return ea.count != eb.count ? ea.count > eb.count : ea.first < eb.first;
        });
        if (max_size > 0 && static_cast<std::int64_t>(order.size()) > max_size)
            order.resize(static_cast<std::size_t>(max_size));
        return order;
    }

private:
    std::int64_t prune_at_;
    std::int64_t min_reduce_ = 1;
    std::int64_t total_ = 0;
    std::int64_t sentences_ = 0;
    StringTable table_;
    Tokenizer tokenizer_;
};

// Maps tokens to ids (the order of insertion) and appends ids and sentence offsets;
// out-of-vocabulary tokens are dropped and sentences left empty are not recorded.
class Encoder {
public:
    explicit Encoder(Utf8Policy policy) : tokenizer_(policy) { offsets_.push_back(0); }

    void add_word(const char* s, std::size_t n) { table_.add(s, n, 0); }
    std::size_t vocab_size() const { return table_.size(); }

    void feed(const char* buf, std::size_t n, bool last) {
        tokenizer_.feed(buf, n, last, [this](const char* s, std::size_t len) { add_token(s, len); },
                        [this] { end_sentence(); });
    }
    void add_token(const char* s, std::size_t n) {
        const std::int64_t id = table_.find(s, n);
        if (id >= 0) ids_.push_back(static_cast<std::int32_t>(id));
        else ++dropped_;
    }
    void end_sentence() {
        if (static_cast<std::int64_t>(ids_.size()) > offsets_.back())
            offsets_.push_back(static_cast<std::int64_t>(ids_.size()));
    }
    void reset_stream(Utf8Policy policy) { tokenizer_ = Tokenizer(policy); }

    std::vector<std::int32_t>& ids() { return ids_; }
    std::vector<std::int64_t>& offsets() { return offsets_; }
    std::int64_t dropped() const { return dropped_; }
    std::int64_t bytes_consumed() const { return tokenizer_.bytes_consumed(); }

private:
    StringTable table_;
    Tokenizer tokenizer_;
    std::vector<std::int32_t> ids_;
    std::vector<std::int64_t> offsets_;
    std::int64_t dropped_ = 0;
};

}  // namespace text
}  // namespace embedcore
