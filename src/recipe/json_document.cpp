// JSON text → LocatedValue with nlohmann/json's SAX parser. nlohmann reports no positions to a
// SAX handler, so the input iterator records the last character the lexer read; each event
// walks back from there to the start of its token.
#include <cctype>
#include <cstring>
#include <iterator>
#include <llmc/error.hpp>

#include "located_value.hpp"
#include "text_position.hpp"

namespace llmc::recipe_detail {
namespace {

using Json = nlohmann::ordered_json;

// A const char* that remembers, in *last_read, the last character dereferenced.
struct TrackingIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  const char* at = nullptr;
  const char** last_read = nullptr;

  reference operator*() const {
    *last_read = at;
    return *at;
  }
  TrackingIterator& operator++() {
    ++at;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator before = *this;
    ++at;
    return before;
  }
  bool operator==(const TrackingIterator& other) const { return at == other.at; }
  bool operator!=(const TrackingIterator& other) const { return at != other.at; }
};

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
}

class LocatingHandler : public nlohmann::json_sax<Json> {
 public:
  LocatingHandler(const SourceText& source, const char** last_read)
      : source_(source), positions_(source.text), last_read_(last_read) {}

  LocatedValue take_root() { return std::move(root_); }

  bool null() override { return scalar(nullptr, scalar_start()); }
  bool boolean(bool value) override { return scalar(value, scalar_start()); }
  bool number_integer(number_integer_t value) override { return scalar(value, scalar_start()); }
  bool number_unsigned(number_unsigned_t value) override { return scalar(value, scalar_start()); }
  bool number_float(number_float_t value, const string_t&) override {
    return scalar(value, scalar_start());
  }
  bool string(string_t& value) override { return scalar(value, string_start()); }
  bool binary(binary_t&) override { return false; }  // never produced by the JSON lexer

  bool start_object(std::size_t) override { return open(LocatedValue::Kind::map); }
  bool start_array(std::size_t) override { return open(LocatedValue::Kind::list); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& value) override {
    pending_key_ = value;
    pending_key_location_ = locate(string_start());
    return true;
  }

  bool parse_error(std::size_t byte, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 1, ...";
    // keep only its explanation, our location replaces its own.
    std::string what = e.what();
    const auto colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw Error(locate(byte > 0 ? byte - 1 : 0).to_string() + ": malformed JSON: " + what);
  }

 private:
  SourceLocation locate(std::size_t offset) const {
    return positions_.locate(offset, source_.file, source_.line_offset);
  }
  std::size_t read_offset() const {
    return *last_read_ ? static_cast<std::size_t>(*last_read_ - source_.text.data()) : 0;
  }
  // After a string token the lexer has read its closing quote: find the opening one.
  std::size_t string_start() const {
    std::size_t at = read_offset();
    while (at > 0) {
      --at;
      std::size_t backslashes = 0;
      while (at > backslashes && source_.text[at - 1 - backslashes] == '\\') ++backslashes;
      if (source_.text[at] == '"' && backslashes % 2 == 0) break;
    }
    return at;
  }
  // After a number the lexer has read one character past it; after true/false/null, none.
  std::size_t scalar_start() const {
    std::size_t at = read_offset();
    if (at > 0 && !is_token_char(source_.text[at])) --at;
    while (at > 0 && is_token_char(source_.text[at - 1])) --at;
    return at;
  }

  bool scalar(Json value, std::size_t offset) {
    LocatedValue node;
    node.scalar = std::move(value);
    node.location = locate(offset);
    attach(std::move(node));
    return true;
  }
  bool open(LocatedValue::Kind kind) {
    LocatedValue node;
    node.kind = kind;
    node.location = locate(read_offset());
    open_.push_back(Open{std::move(node), pending_key_, pending_key_location_});
    return true;
  }
  bool close() {
    Open done = std::move(open_.back());
    open_.pop_back();
    pending_key_ = done.key;
    pending_key_location_ = done.key_location;
    attach(std::move(done.value));
    return true;
  }
  void attach(LocatedValue node) {
    if (open_.empty()) {
      root_ = std::move(node);
    } else if (open_.back().value.is_map()) {
      add_unique_entry(open_.back().value,
                       LocatedEntry{pending_key_, pending_key_location_, std::move(node)});
    } else {
      open_.back().value.items.push_back(std::move(node));
    }
  }

  struct Open {  // a container being filled, and the key it will be stored under
    LocatedValue value;
    std::string key;
    SourceLocation key_location;
  };
  const SourceText& source_;
  TextPositions positions_;
  const char** last_read_;
  std::vector<Open> open_;
  std::string pending_key_;
  SourceLocation pending_key_location_;
  LocatedValue root_;
};

}  // namespace

LocatedValue parse_json(const SourceText& source) {
  const char* last_read = nullptr;
  const char* begin = source.text.data();
  LocatingHandler handler(source, &last_read);
  Json::sax_parse(TrackingIterator{begin, &last_read},
                  TrackingIterator{begin + source.text.size(), &last_read}, &handler);
  return handler.take_root();
}

}  // namespace llmc::recipe_detail
