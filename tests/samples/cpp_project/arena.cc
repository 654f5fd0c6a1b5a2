#include "arena.h"

namespace sample {

static const std::size_t kBlockSize = 4096;

Arena::Arena() : block_(nullptr), remaining_(0), usage_(0) {}

Arena::~Arena() { delete[] block_; }

char* Arena::Allocate(std::size_t bytes) {
  if (bytes <= remaining_) {
    char* result = block_ + (kBlockSize - remaining_);
    remaining_ -= bytes;
    return result;
  }
  return AllocateFallback(bytes);
}

char* Arena::AllocateFallback(std::size_t bytes) {
  delete[] block_;
  block_ = new char[kBlockSize];
  usage_ += kBlockSize;
  remaining_ = kBlockSize - bytes;
  return block_;
}

}  // namespace sample
