// Operators, templates and a functor: the names C++ servers print differently from the text.
#ifndef SAMPLE_SLICE_H_
#define SAMPLE_SLICE_H_

#include <cstddef>
#include <cstring>

namespace sample {
namespace detail {

template <typename T>
T MaxOf(T a, T b) {
  return a < b ? b : a;
}

}  // namespace detail

class Slice {
 public:
  Slice(const char* data, std::size_t size) : data_(data), size_(size) {}
  ~Slice() = default;

  char operator[](std::size_t n) const { return data_[n]; }
  bool operator==(const Slice& other) const { return Compare(other) == 0; }
  bool operator!=(const Slice& other) const { return !(*this == other); }
  int Compare(const Slice& other) const;
  std::size_t size() const { return size_; }

 private:
  const char* data_;
  std::size_t size_;
};

template <typename Key>
class Counter {
 public:
  void operator()(const Key& key) { last_ = key; ++count_; }
  int count() const { return count_; }

 private:
  Key last_{};
  int count_ = 0;
};

}  // namespace sample

#endif  // SAMPLE_SLICE_H_
