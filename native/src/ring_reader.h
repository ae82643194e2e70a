// Reads a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) mapped into this process, as libbpf's ring_buffer does,
// with one difference that matters at high rates: the consumer position, which the BPF program reads
// on every reservation, is published every kReleaseBytes instead of after every record. Each
// publication moves that cache line between the drain thread's CPU and the CPU running the program.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace tcplens {

class RingReader {
 public:
  using Callback = void (*)(void* ctx, const void* data, uint32_t size);

  // Maps the ring of `mapFd`; false with errno set when that fails.
  bool Open(int mapFd);
  // Hands every committed record to `cb`, in order; stops at a record still being written.
  void Consume(Callback cb, void* ctx);
  void Close();
  // The map's fd: poll()/epoll report EPOLLIN on it when the program has woken its consumer.
  int fd() const { return mapFd_; }
  ~RingReader() { Close(); }

 private:
  int mapFd_ = -1;
  size_t pageSize_ = 0;
  uint64_t mask_ = 0;
  void* consumerPage_ = nullptr;  // read-write: consumer_pos
  void* producerArea_ = nullptr;  // read-only: producer_pos, then the data pages mapped twice
  size_t producerAreaSize_ = 0;
};

}  // namespace tcplens
