// A small arena allocator in the style of leveldb's util/arena.h.
#ifndef SAMPLE_ARENA_H_
#define SAMPLE_ARENA_H_

#include <cstddef>

namespace sample {

class Arena {
 public:
  Arena();
  ~Arena();

  char* Allocate(std::size_t bytes);
  std::size_t MemoryUsage() const { return usage_; }

 private:
  char* AllocateFallback(std::size_t bytes);

  char* block_;
  std::size_t remaining_;
  std::size_t usage_;
};

}  // namespace sample

#endif  // SAMPLE_ARENA_H_
