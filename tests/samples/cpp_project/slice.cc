#include "slice.h"

namespace sample {

int Slice::Compare(const Slice& other) const {
  const std::size_t shortest = detail::MaxOf(size_, other.size_) == size_ ? other.size_ : size_;
  int r = std::memcmp(data_, other.data_, shortest);
  if (r == 0) r = size_ < other.size_ ? -1 : (size_ > other.size_ ? 1 : 0);
  return r;
}

}  // namespace sample
