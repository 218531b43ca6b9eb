// The text pass: split a UTF-8 byte stream into whitespace-separated tokens and lines, count
// distinct tokens in a string hash table, and map tokens to ids. Whitespace is what Python's
// str.split() splits on (gensim's rule): ASCII whitespace, U+001C-001F, and the Unicode spaces
// U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F and U+3000; only '\n'
// ends a line.
//
// Input arrives in chunks of any size (a token may straddle two chunks), so memory is bounded by
// the chunk plus the longest token whatever the file size. The stream is cut at ASCII whitespace
// first, and each piece at the other spaces when it holds one. Tokens are validated as UTF-8;
// since no whitespace byte occurs inside a valid multi-byte sequence, checking token by token is
// the same as checking the whole stream. Counting is O(tokens) with one hash probe per token;
// pruning (gensim's max_vocab_size rule) is O(table) and happens rarely.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>
#if !defined(_WIN32)
#include <sys/mman.h>
#endif

#include "common.hpp"
#include "simd.hpp"

namespace embedcore {
namespace text {

// The text pass is scalar byte work bound by memory latency (hash probes), compiled at baseline
// only: this is the level it reports (see simd.hpp).
constexpr unsigned kLevels = simd::kBaselineOnly;
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "text"); }

enum class Utf8Policy { Strict = 0, Replace = 1, Ignore = 2 };

// Raised for invalid UTF-8 under the strict policy; `offset` is the absolute byte offset.
class Utf8Error : public std::runtime_error {
public:
    Utf8Error(std::int64_t offset)
        : std::runtime_error("invalid UTF-8 at byte offset " + std::to_string(offset)), offset(offset) {}
    std::int64_t offset;
};

inline bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Bytes of the whitespace character starting at p that is_space does not cover (U+001C-001F and
// the multi-byte Unicode spaces), or 0 when there is none there.
inline int other_space_length(const unsigned char* p, std::size_t avail) {
    const unsigned char c = p[0];
    if (c >= 0x1C && c <= 0x1F) return 1;
    if (c == 0xC2) return avail >= 2 && (p[1] == 0x85 || p[1] == 0xA0) ? 2 : 0;
    if (avail < 3 || c < 0xE1 || c > 0xE3) return 0;
    if (c == 0xE1) return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;  // U+1680
    if (c == 0xE3) return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;  // U+3000
    if (p[1] == 0x80)  // U+2000-200A, U+2028, U+2029, U+202F
        return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
    return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;  // U+205F
}

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
//
// Each string lives in one record of a single arena: a 24-byte header (count, first, index,
// length) followed by its bytes, so a lookup touches two cache lines at most: the slot, which
// holds 32 bits of the hash beside the record's arena position (most mismatches end there), and
// the record. Records sit in insertion order, which is the order of first appearance.
class StringTable {
public:
    StringTable() { rehash(1024); }

    std::size_t size() const { return records_.size(); }
    std::int64_t count(std::size_t i) const { return header(records_[i])->count; }
    std::int64_t first(std::size_t i) const { return header(records_[i])->first; }
    std::size_t length(std::size_t i) const { return header(records_[i])->length; }
    const char* data(std::size_t i) const { return key(records_[i]); }

    // Starts loading the slot a string with hash h would probe first.
    void prefetch(std::uint64_t h) const { simd::prefetch(slots_.data() + (h & mask_)); }

    // Index of the string, or -1.
    std::int64_t find(const char* s, std::size_t n) const { return find(s, n, hash_bytes(s, n)); }
    std::int64_t find(const char* s, std::size_t n, std::uint64_t h) const {
        std::size_t pos = h & mask_;
        while (true) {
            const std::uint64_t slot = slots_[pos];
            if (slot == 0) return -1;
            if (matches(slot, h, s, n)) return header(slot_record(slot))->index;
            pos = (pos + 1) & mask_;
        }
    }

    // Adds `count` to the string's tally, inserting it first if absent; returns its index.
    std::int64_t add(const char* s, std::size_t n, std::int64_t count = 1) {
        return add(s, n, hash_bytes(s, n), count);
    }
    std::int64_t add(const char* s, std::size_t n, std::uint64_t h, std::int64_t count) {
        require(n < (1u << 31), "token longer than 2 GiB");
        std::size_t pos = h & mask_;
        while (true) {
            const std::uint64_t slot = slots_[pos];
            if (slot == 0) break;
            if (matches(slot, h, s, n)) {
                Header* hd = header(slot_record(slot));
                hd->count += count;
                return hd->index;
            }
            pos = (pos + 1) & mask_;
        }
        const auto index = static_cast<std::int64_t>(records_.size());
        const std::uint64_t record = append(s, n, count, next_first_++, index);
        slots_[pos] = make_slot(h, record);
        if (records_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
        return index;
    }

    // Removes every entry whose count is <= min_count (gensim's prune_vocab); keeps order.
    void prune(std::int64_t min_count) {
        std::vector<std::uint64_t> old_arena;
        old_arena.swap(arena_);
        std::vector<std::uint64_t> old_records;
        old_records.swap(records_);
        for (std::uint64_t r : old_records) {
            const auto* hd = reinterpret_cast<const Header*>(old_arena.data() + r);
            if (hd->count <= min_count) continue;
            append(reinterpret_cast<const char*>(hd + 1), hd->length, hd->count, hd->first,
                   static_cast<std::int64_t>(records_.size()));
        }
        std::size_t cap = 1024;
        while (cap < records_.size() * 2) cap *= 2;
        rehash(cap);
    }

private:
    struct Header {
        std::int64_t count;
        std::int64_t first;   // order of first appearance (ties in the final sort)
        std::uint32_t index;  // position in records_
        std::uint32_t length;
    };
    static_assert(sizeof(Header) == 24, "three 8-byte words");
    static constexpr std::size_t kHeaderWords = sizeof(Header) / 8;

    // A slot is 0 (empty) or (32 hash bits << 32) | (record position in 8-byte words + 1).
    static std::uint64_t make_slot(std::uint64_t hash, std::uint64_t record) {
        require(record + 1 < (std::uint64_t{1} << 32), "vocabulary table larger than 32 GiB");
        return (hash & 0xFFFFFFFF00000000ULL) | (record + 1);
    }
    static std::uint64_t slot_record(std::uint64_t slot) { return (slot & 0xFFFFFFFFULL) - 1; }

    Header* header(std::uint64_t record) { return reinterpret_cast<Header*>(arena_.data() + record); }
    const Header* header(std::uint64_t record) const {
        return reinterpret_cast<const Header*>(arena_.data() + record);
    }
    const char* key(std::uint64_t record) const { return reinterpret_cast<const char*>(header(record) + 1); }

    bool matches(std::uint64_t slot, std::uint64_t hash, const char* s, std::size_t n) const {
        if ((slot ^ hash) >> 32) return false;
        const std::uint64_t record = slot_record(slot);
        return header(record)->length == n && std::memcmp(key(record), s, n) == 0;
    }

    std::uint64_t append(const char* s, std::size_t n, std::int64_t count, std::int64_t first,
                         std::int64_t index) {
        const std::uint64_t record = arena_.size();
        arena_.resize(record + kHeaderWords + (n + 7) / 8);
        Header* hd = header(record);
        hd->count = count;
        hd->first = first;
        hd->index = static_cast<std::uint32_t>(index);
        hd->length = static_cast<std::uint32_t>(n);
        std::memcpy(hd + 1, s, n);
        records_.push_back(record);
        return record;
    }

    void rehash(std::size_t capacity) {
        slots_.assign(capacity, 0);
        mask_ = capacity - 1;
        for (std::uint64_t record : records_) {
            const std::uint64_t h = hash_bytes(key(record), header(record)->length);
            std::size_t pos = h & mask_;
            while (slots_[pos] != 0) pos = (pos + 1) & mask_;
            slots_[pos] = make_slot(h, record);
        }
    }

    std::vector<std::uint64_t> arena_;    // records, 8-byte aligned
    std::vector<std::uint64_t> records_;  // arena position of each record, in insertion order
    std::vector<std::uint64_t> slots_;
    std::size_t mask_ = 0;
    std::int64_t next_first_ = 0;
};

// Splits a chunked byte stream into tokens and non-empty lines; callers receive whole tokens
// even when a token straddles chunks.
class Tokenizer {
public:
    explicit Tokenizer(Utf8Policy policy) : policy_(policy) {}

    // Feeds one chunk; calls on_token(ptr, len, stable) per complete token and on_line() at the
    // end of each line that held a token. `stable` says the bytes lie in `buf` and stay valid
    // until this call returns; otherwise they are valid only during the on_token call.
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
            if (emit(carry_.data(), carry_.size(), carry_start_, false, on_token)) pending_line_ = true;
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
            if (j == n && !last) {
                carry_.assign(buf + i, j - i);
                carry_start_ = consumed_ + static_cast<std::int64_t>(i);
                break;
            }
            if (emit(buf + i, j - i, consumed_ + static_cast<std::int64_t>(i), true, on_token)) pending_line_ = true;
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
    // Emits the tokens of a piece cut at ASCII whitespace, cutting it again at the other
    // whitespace characters; returns whether any token was emitted.
    template <class OnToken>
    bool emit(const char* s, std::size_t n, std::int64_t start, bool stable, OnToken& on_token) {
        const auto* u = reinterpret_cast<const unsigned char*>(s);
        bool any = false;
        std::size_t from = 0;
        for (std::size_t k = 0; k < n;) {
            const unsigned char c = u[k];
            // only bytes 1C-1F, C2, E1, E2 and E3 can start one of the other spaces
            const int len = (c >= 0x1C && c <= 0x1F) || c >= 0xC2 ? other_space_length(u + k, n - k) : 0;
            if (len == 0) {
                ++k;
                continue;
            }
            if (k > from) any |= emit_token(s + from, k - from, start + static_cast<std::int64_t>(from), stable, on_token);
            k += static_cast<std::size_t>(len);
            from = k;
        }
        if (n > from) any |= emit_token(s + from, n - from, start + static_cast<std::int64_t>(from), stable, on_token);
        return any;
    }

    template <class OnToken>
    bool emit_token(const char* s, std::size_t n, std::int64_t start, bool stable, OnToken& on_token) {
        const std::int64_t bad = utf8_first_invalid(s, n);
        if (bad < 0) {
            on_token(s, n, stable);
            return true;
        }
        if (policy_ == Utf8Policy::Strict) throw Utf8Error(start + bad);
        const std::string fixed = utf8_repair(s, n, policy_ == Utf8Policy::Replace);
        if (fixed.empty()) return false;
        on_token(fixed.data(), fixed.size(), false);
        return true;
    }

    Utf8Policy policy_;
    std::string carry_;
    std::int64_t carry_start_ = 0;
    std::int64_t consumed_ = 0;
    bool pending_line_ = false;
};

// Tokens waiting for their table lookup. Lookups miss the cache for all but the most frequent
// words, so the slots of a batch are prefetched as tokens arrive and looked up together: the
// loads overlap instead of running one after another. A null token marks a sentence end.
class TokenBatch {
public:
    struct Token {
        const char* s;
        std::size_t n;
        std::uint64_t hash;
    };
    static constexpr std::size_t kSize = 16;

    bool push(const StringTable& table, const char* s, std::size_t n) {
        const std::uint64_t h = s ? hash_bytes(s, n) : 0;
        if (s) table.prefetch(h);
        tokens_[size_++] = Token{s, n, h};
        return size_ == kSize;
    }
    bool empty() const { return size_ == 0; }
    template <class F>
    void drain(F&& f) {
        for (std::size_t i = 0; i < size_; ++i) f(tokens_[i]);
        size_ = 0;
    }

private:
    Token tokens_[kSize];
    std::size_t size_ = 0;
};

// Counts tokens, pruning rare ones whenever the table grows past `prune_at` entries.
class VocabCounter {
public:
    VocabCounter(std::int64_t prune_at, Utf8Policy policy) : prune_at_(prune_at), tokenizer_(policy) {}

    void feed(const char* buf, std::size_t n, bool last) {
        tokenizer_.feed(
            buf, n, last,
            [this](const char* s, std::size_t len, bool stable) {
                if (!stable) {
                    flush();
                    add(s, len);
                } else if (batch_.push(table_, s, len)) {
                    flush();
                }
            },
            [this] { ++sentences_; });
        flush();
    }

    void add(const char* s, std::size_t n) { add(s, n, hash_bytes(s, n)); }

    void add(const char* s, std::size_t n, std::uint64_t h) {
        table_.add(s, n, h, 1);
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

    void flush() {
        batch_.drain([this](const TokenBatch::Token& t) { add(t.s, t.n, t.hash); });
    }
    std::int64_t sentences() const { return sentences_; }
    std::int64_t bytes_consumed() const { return tokenizer_.bytes_consumed(); }
    std::int64_t prunes() const { return min_reduce_ - 1; }

    // Indices of the entries with count >= min_count, sorted by descending count then first
    // appearance, at most max_size of them (max_size <= 0: no cap).
    std::vector<std::int64_t> sorted_vocabulary(std::int64_t min_count, std::int64_t max_size) const {
        std::vector<std::int64_t> order;
        for (std::size_t i = 0; i < table_.size(); ++i)
            if (table_.count(i) >= min_count) order.push_back(static_cast<std::int64_t>(i));
        std::sort(order.begin(), order.end(), [this](std::int64_t a, std::int64_t b) {
            const auto ia = static_cast<std::size_t>(a), ib = static_cast<std::size_t>(b);
            const std::int64_t ca = table_.count(ia), cb = table_.count(ib);
            return ca != cb ? ca > cb : table_.first(ia) < table_.first(ib);
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
    TokenBatch batch_;
};

// A fixed-size block of ids in pages of its own (mmap), so that freeing it returns the memory
// to the system at once (malloc would keep a block freed in the middle of its heap).
class IdBlock {
public:
    static constexpr std::size_t kCapacity = std::size_t{1} << 20;  // 4 MB of ids

    IdBlock() {
#if defined(_WIN32)
        data_ = new std::int32_t[kCapacity];
#else
        void* p = mmap(nullptr, kCapacity * sizeof(std::int32_t), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        data_ = static_cast<std::int32_t*>(p);
#endif
    }
    IdBlock(const IdBlock&) = delete;
    IdBlock& operator=(const IdBlock&) = delete;
    ~IdBlock() {
#if defined(_WIN32)
        delete[] data_;
#else
        munmap(data_, kCapacity * sizeof(std::int32_t));
#endif
    }
    bool full() const { return size_ == kCapacity; }
    void push(std::int32_t id) { data_[size_++] = id; }
    const std::int32_t* data() const { return data_; }
    std::size_t size() const { return size_; }

private:
    std::int32_t* data_ = nullptr;
    std::size_t size_ = 0;
};

// Maps tokens to ids (the order of insertion) and appends ids and sentence offsets;
// out-of-vocabulary tokens are dropped and sentences left empty are not recorded.
// The ids go to blocks, not one growing vector: a vector's doubling holds up to twice the ids,
// and three times while it moves; `take_ids` then copies the blocks into the caller's array,
// freeing each as it goes, so the peak is the output plus one block.
class Encoder {
public:
    explicit Encoder(Utf8Policy policy) : tokenizer_(policy) { offsets_.push_back(0); }

    void add_word(const char* s, std::size_t n) { table_.add(s, n, 0); }
    std::size_t vocab_size() const { return table_.size(); }

    void feed(const char* buf, std::size_t n, bool last) {
        tokenizer_.feed(
            buf, n, last,
            [this](const char* s, std::size_t len, bool stable) {
                if (!stable) {
                    flush();
                    add_token(s, len);
                } else if (batch_.push(table_, s, len)) {
                    flush();
                }
            },
            [this] {
                if (batch_.empty()) end_sentence();
                else if (batch_.push(table_, nullptr, 0)) flush();
            });
        flush();
    }
    void add_token(const char* s, std::size_t n) { add_token(s, n, hash_bytes(s, n)); }
    void add_token(const char* s, std::size_t n, std::uint64_t h) {
        const std::int64_t id = table_.find(s, n, h);
        if (id < 0) {
            ++dropped_;
            return;
        }
        if (blocks_.empty() || blocks_.back()->full()) blocks_.push_back(std::make_unique<IdBlock>());
        blocks_.back()->push(static_cast<std::int32_t>(id));
        ++n_ids_;
    }
    void flush() {
        batch_.drain([this](const TokenBatch::Token& t) {
            if (t.s) add_token(t.s, t.n, t.hash);
            else end_sentence();
        });
    }
    void end_sentence() {
        if (n_ids_ > offsets_.back()) offsets_.push_back(n_ids_);
    }
    void reset_stream(Utf8Policy policy) { tokenizer_ = Tokenizer(policy); }

    std::int64_t n_ids() const { return n_ids_; }
    // Copies the ids into out (n_ids() of them) and releases them.
    void take_ids(std::int32_t* out) {
        for (auto& block : blocks_) {
            std::copy(block->data(), block->data() + block->size(), out);
            out += block->size();
            block.reset();
        }
        blocks_.clear();
        n_ids_ = 0;
    }
    std::vector<std::int64_t>& offsets() { return offsets_; }
    std::int64_t dropped() const { return dropped_; }
    std::int64_t bytes_consumed() const { return tokenizer_.bytes_consumed(); }

private:
    StringTable table_;
    Tokenizer tokenizer_;
    TokenBatch batch_;
    std::vector<std::unique_ptr<IdBlock>> blocks_;
    std::int64_t n_ids_ = 0;
    std::vector<std::int64_t> offsets_;
    std::int64_t dropped_ = 0;
};

}  // namespace text
}  // namespace embedcore
