#include "arena.h"
#include "slice.h"

int main() {
  sample::Arena arena;
  char* buffer = arena.Allocate(16);
  sample::Slice a(buffer, 4), b("abcd", 4);
  sample::Counter<int> counter;
  counter(static_cast<int>(arena.MemoryUsage()));
  unsigned mask = ~0u;
  return (a == b || a[0] != b[0]) ? counter.count() : static_cast<int>(mask & 1u);
}
