#include "ring_reader.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcplens {

// Published at least this often while a long run of records is read, so the program finds room again.
static constexpr uint64_t kReleaseBytes = 64 * 1024;

static inline uint64_t LoadAcquire(const void* p) { return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE); }
static inline uint32_t LoadAcquire32(const void* p) { return __atomic_load_n(static_cast<const uint32_t*>(p), __ATOMIC_ACQUIRE); }
static inline void StoreRelease(void* p, uint64_t v) { __atomic_store_n(static_cast<uint64_t*>(p), v, __ATOMIC_RELEASE); }

bool RingReader::Open(int mapFd) {
  struct bpf_map_info info;
  std::memset(&info, 0, sizeof(info));
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(mapFd, &info, &len) != 0) return false;
  if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 || (info.max_entries & (info.max_entries - 1)) != 0) {
    errno = EINVAL;
    return false;
  }
  pageSize_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  mask_ = info.max_entries - 1;
  // The kernel's layout (kernel/bpf/ringbuf.c): the consumer page at offset 0, writable by us; then the
  // producer page and the data, mapped twice in a row so a record that wraps around reads contiguously.
  consumerPage_ = mmap(nullptr, pageSize_, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
  if (consumerPage_ == MAP_FAILED) {
    consumerPage_ = nullptr;
    return false;
  }
  producerAreaSize_ = pageSize_ + 2 * static_cast<size_t>(info.max_entries);
  producerArea_ = mmap(nullptr, producerAreaSize_, PROT_READ, MAP_SHARED, mapFd, static_cast<off_t>(pageSize_));
  if (producerArea_ == MAP_FAILED) {
    producerArea_ = nullptr;
    int err = errno;
    Close();
    errno = err;
    return false;
  }
  mapFd_ = mapFd;
  return true;
}

void RingReader::Consume(Callback cb, void* ctx) {
  if (producerArea_ == nullptr) return;
  const uint8_t* data = static_cast<const uint8_t*>(producerArea_) + pageSize_;
  uint64_t cons = LoadAcquire(consumerPage_);
  uint64_t published = cons;
  for (;;) {
    const uint64_t prod = LoadAcquire(producerArea_);
    if (cons >= prod) break;
    while (cons < prod) {
      const uint8_t* header = data + (cons & mask_);
      const uint32_t word = LoadAcquire32(header);
      if (word & BPF_RINGBUF_BUSY_BIT) goto done;  // reserved, not yet committed: the next drain gets it
      const uint32_t size = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if ((word & BPF_RINGBUF_DISCARD_BIT) == 0) cb(ctx, header + BPF_RINGBUF_HDR_SZ, size);
      cons += (static_cast<uint64_t>(size) + BPF_RINGBUF_HDR_SZ + 7) & ~static_cast<uint64_t>(7);
      if (cons - published >= kReleaseBytes) {
        StoreRelease(consumerPage_, cons);
        published = cons;
      }
    }
  }
done:
  if (cons != published) StoreRelease(consumerPage_, cons);
}

void RingReader::Close() {
  if (producerArea_ != nullptr) munmap(producerArea_, producerAreaSize_);
  if (consumerPage_ != nullptr) munmap(consumerPage_, pageSize_);
  producerArea_ = nullptr;
  consumerPage_ = nullptr;
  mapFd_ = -1;
}

}  // namespace tcplens
