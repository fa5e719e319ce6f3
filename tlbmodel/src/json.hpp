// A minimal JSON writer: objects, arrays, strings, unsigned integers and finite numbers.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tlbm {

class Json {
 public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(const std::string& k) {
    comma();
    str_(k);
    out_ += ": ";
    after_key_ = true;
  }
  void value(uint64_t v) {
    comma();
    out_ += std::to_string(v);
  }
  void value(const std::string& s) {
    comma();
    str_(s);
  }
  void null() {
    comma();
    out_ += "null";
  }
  void value_num(double v) {  // a finite number, shortest form that reads back the same
    comma();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    for (int prec = 1; prec < 17; prec++) {
      char t[32];
      std::snprintf(t, sizeof t, "%.*g", prec, v);
      if (std::strtod(t, nullptr) == v) {
        std::snprintf(buf, sizeof buf, "%s", t);
        break;
      }
    }
    out_ += buf;
  }
  void str_value(const std::string& s) { value(s); }
  void kv_num(const std::string& k, double v) { key(k); value_num(v); }
  void kv(const std::string& k, uint64_t v) { key(k); value(v); }
  void kv(const std::string& k, const std::string& v) { key(k); value(v); }
  void kv(const std::string& k, const char* v) { key(k); value(std::string(v)); }
  void kv_hex(const std::string& k, uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    kv(k, std::string(buf));
  }
  const std::string& str() const { return out_; }

 private:
  void open(char c) {
    comma();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) newline();
    out_ += c;
  }
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
  void newline() {
    out_ += '\n';
    out_.append(first_.size() * 2, ' ');
  }
  void str_(const std::string& s) {
    out_ += '"';
    for (unsigned char ch : s) {
      if (ch == '"' || ch == '\\') {
        out_ += '\\';
        out_ += char(ch);
      } else if (ch < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", ch);
        out_ += buf;
      } else {
        out_ += char(ch);
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace tlbm
