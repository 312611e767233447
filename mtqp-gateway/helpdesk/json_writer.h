// A minimal streaming JSON writer (RFC 8259) for the helpdesk API: strings are escaped so any
// byte sequence yields valid JSON (non-ASCII and control bytes become \u00XX). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace mtrk::gateway::helpdesk {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(absl::string_view key) {
    Separator();
    AppendString(key);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(absl::string_view s) {
    Separator();
    AppendString(s);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Separator();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Separator();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Separator();
    out_ += "null";
    return *this;
  }
  // Shorthands for object members.
  JsonWriter& Field(absl::string_view k, absl::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(absl::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(absl::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(absl::string_view k, bool v) { return Key(k).Bool(v); }

  const std::string& str() const { return out_; }

 private:
  JsonWriter& Open(char c) {
    Separator();
    out_ += c;
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_ = false;
    return *this;
  }
  void Separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }
  void AppendString(absl::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += ch;
      } else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
        // <, > and & too: JSON embedded in HTML can then never close a <script> element.
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 15];
      } else {
        out_ += ch;
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace mtrk::gateway::helpdesk
