#include "capture.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "epb.h"
#include "errors.h"
#include "snapshot.h"

namespace tcplens {

// One JS call per batch, never per packet: a batch is handed over when it reaches kBatchBytes, or after
// each drain. The drain thread sleeps until the BPF program signals a quarter-full ring (high rates) or
// kDrainMs pass (low rates): each wake-up of this thread and of Node's event loop costs about as much as
// a few hundred packets, so at 20,000 pps a 20 ms timer (50 wake-ups and JS calls a second) was most of
// the CPU. The wait bounds latency only: the writer flushes to disk once a second anyway, and a stop
// wakes the thread at once.
static constexpr size_t kBatchBytes = 512 * 1024;
static constexpr int kDrainMs = 250;
static constexpr size_t kMaxQueuedBatches = 16;  // thread-safe function queue: batches not yet called into JS
static constexpr uint32_t kMaxInFlight = 32;      // batches in JS, called or not, before the drain thread waits

// The most bytes one ring record turns into (an EPB of SNAPSHOT_MAX_DATA bytes).
static constexpr size_t kMaxEpb = EpbSize(SNAPSHOT_MAX_DATA);
static constexpr size_t kBatchCapacity = kBatchBytes + kMaxEpb;  // a batch is flushed once it passes kBatchBytes
static constexpr size_t kPoolSize = 4;

// The memory of one batch: pcapng EPBs back to back (native/src/epb.h). It is reused once JS has
// acknowledged the batch, so the drain thread writes into pages that are already mapped: a fresh
// 512 KiB allocation per batch cost one page fault (and the kernel zeroing a page) per 4 KiB, measured
// at about a fifth of the recorder's CPU at 200,000 pps. JS's Buffer over it holds a reference too, so
// the memory outlives the capture if JS keeps the Buffer; JS never reads a batch after ack().
struct BatchMemory {
  std::unique_ptr<uint8_t[]> data{new uint8_t[kBatchCapacity]};
  size_t size = 0;
};

struct Batch {
  std::shared_ptr<BatchMemory> mem;
  uint32_t count = 0;
  bool final = false;
  Capture* owner = nullptr;  // its delivery records the memory as unacknowledged; the final one resolves stop()
};

// libbpf reports through a print callback; native code never prints, so keep its lines for errors.
// The first warning is the cause ("prog ...: BPF program load failed: ..."); later ones are consequences.
static thread_local std::string firstLibbpfMessage;
static int CaptureLibbpfMessage(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  vsnprintf(line, sizeof(line), fmt, args);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (!s.empty() && firstLibbpfMessage.empty()) firstLibbpfMessage = s;
  return 0;
}

Napi::Function Capture::Define(Napi::Env env) {
  libbpf_set_print(CaptureLibbpfMessage);
  return DefineClass(env, "Capture",
                     {InstanceMethod<&Capture::Counters>("counters"), InstanceMethod<&Capture::Stop>("stop"),
                      InstanceMethod<&Capture::Ack>("ack"),
                      InstanceMethod<&Capture::Close>("close")});
}

static std::vector<uint8_t> BytesOf(const Napi::Value& v) {
  Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

// new Capture(objectPath, options, onBatch). Options are validated in TS before this call; here we only
// copy them into the BPF program's read-only config. Throws typed errors; on throw nothing is left open.
Capture::Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
  Napi::Env env = info.Env();
  std::string objPath = info[0].As<Napi::String>();
  Napi::Object opts = info[1].As<Napi::Object>();
  Napi::Function onBatch = info[2].As<Napi::Function>();

  try {
    // AF_PACKET first: without CAP_NET_RAW nothing else matters, and this error is the clearest one.
    Napi::Array ifindexes = opts.Get("ifindexes").As<Napi::Array>();
    uint32_t nsock = ifindexes.Length() == 0 ? 1 : ifindexes.Length();
    for (uint32_t i = 0; i < nsock; i++) {
      // Protocol 0: the socket receives nothing until bound, so no packet slips in before the filter.
      int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      if (fd < 0) throw NativeError(env, "socket(AF_PACKET)", errno, DescribeErrno("socket(AF_PACKET)", errno));
      sockets_.push_back(fd);
    }

    int probe = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
    if (probe < 0 && (-probe == EPERM || -probe == EACCES))
      throw NativeError(env, "bpf(BPF_MAP_CREATE)", -probe, DescribeErrno("bpf(BPF_MAP_CREATE)", -probe));
    if (probe == 0)
      throw NativeError(env, "bpf(BPF_MAP_CREATE)", EOPNOTSUPP, "kernel without BPF ring buffer (needs Linux 5.8 or later)");

    // The verifier gives up with EAGAIN when a signal arrives while it works (a profiler's SIGPROF, say),
    // and a loaded object cannot be loaded again: reopen and retry a few times.
    static constexpr int kLoadAttempts = 20;
    for (int attempt = 1;; attempt++) {
      obj_ = bpf_object__open_file(objPath.c_str(), nullptr);
      if (obj_ == nullptr) {
        int err = errno;
        obj_ = nullptr;
        throw NativeError(env, "bpf_object__open", err, "cannot open BPF object " + objPath + ": " + std::strerror(err));
      }

      struct filter_config cfg;
      std::memset(&cfg, 0, sizeof(cfg));
      cfg.snaplen = opts.Get("snaplen").As<Napi::Number>().Uint32Value();
      cfg.payload = opts.Get("payload").As<Napi::Number>().Uint32Value();
      cfg.direction = static_cast<__u8>(opts.Get("direction").As<Napi::Number>().Uint32Value());
      Napi::Array ports = opts.Get("ports").As<Napi::Array>();
      for (uint32_t i = 0; i < ports.Length() && i < SNAPSHOT_MAX_PORTS; i++, cfg.nports++)
        cfg.ports[i] = static_cast<__u16>(ports.Get(i).As<Napi::Number>().Uint32Value());
      Napi::Array hosts4 = opts.Get("hosts4").As<Napi::Array>();
      for (uint32_t i = 0; i < hosts4.Length() && i < SNAPSHOT_MAX_HOSTS4; i++, cfg.nhosts4++) {
        std::vector<uint8_t> a = BytesOf(hosts4.Get(i));
        if (a.size() == 4) std::memcpy(&cfg.hosts4[i], a.data(), 4);
      }
      Napi::Array hosts6 = opts.Get("hosts6").As<Napi::Array>();
      for (uint32_t i = 0; i < hosts6.Length() && i < SNAPSHOT_MAX_HOSTS6; i++, cfg.nhosts6++) {
        std::vector<uint8_t> a = BytesOf(hosts6.Get(i));
        if (a.size() == 16) std::memcpy(cfg.hosts6[i], a.data(), 16);
      }

      struct bpf_map* rodata = nullptr;
      struct bpf_map* ring = nullptr;
      struct bpf_map* map;
      bpf_object__for_each_map(map, obj_) {
        std::string name = bpf_map__name(map);
        if (bpf_map__is_internal(map) && name.size() >= 7 && name.compare(name.size() - 7, 7, ".rodata") == 0) rodata = map;
        if (name == "ring") ring = map;
      }
      size_t rodataSize = 0;
      const void* initial = rodata ? bpf_map__initial_value(rodata, &rodataSize) : nullptr;
      if (initial == nullptr || rodataSize < sizeof(cfg) || ring == nullptr)
        throw NativeError(env, "bpf_object__open", EINVAL, "BPF object " + objPath + " does not match bpf/snapshot.h; rebuild it");
      // cfg is the program's only read-only global, so it sits at offset 0 of .rodata.
      std::vector<uint8_t> image(static_cast<const uint8_t*>(initial), static_cast<const uint8_t*>(initial) + rodataSize);
      std::memcpy(image.data(), &cfg, sizeof(cfg));
      if (bpf_map__set_initial_value(rodata, image.data(), image.size()) != 0)
        throw NativeError(env, "bpf_map__set_initial_value", EINVAL, "cannot set the BPF filter config");

      uint32_t ringBytes = opts.Get("ringBytes").As<Napi::Number>().Uint32Value();
      if (bpf_map__set_max_entries(ring, ringBytes) != 0)
        throw NativeError(env, "bpf_map__set_max_entries", EINVAL, "ring buffer size must be a power of two");

      firstLibbpfMessage.clear();
      int err = bpf_object__load(obj_);
      if (err == -EAGAIN && attempt < kLoadAttempts) {
        bpf_object__close(obj_);
        obj_ = nullptr;
        continue;
      }
      if (err != 0) {
        int e = -err;
        if (e == EPERM || e == EACCES) throw NativeError(env, "bpf(BPF_PROG_LOAD)", e, DescribeErrno("bpf(BPF_PROG_LOAD)", e));
        throw NativeError(env, "bpf_object__load", e, "loading the BPF program failed: " + (firstLibbpfMessage.empty() ? std::string(std::strerror(e)) : firstLibbpfMessage));
      }
      break;
    }
    struct bpf_program* prog = bpf_object__find_program_by_name(obj_, "tcp_snapshot");
    int progFd = prog ? bpf_program__fd(prog) : -1;
    countersFd_ = bpf_object__find_map_fd_by_name(obj_, "counters");
    if (progFd < 0 || countersFd_ < 0) throw NativeError(env, "bpf_object__load", ENOENT, "BPF object lacks tcp_snapshot/counters");
    {
      // The overflow entry the program falls back to when the per-interface map is full.
      int ncpu = libbpf_num_possible_cpus();
      std::vector<struct snapshot_counters> zeros(ncpu > 0 ? ncpu : 1);
      std::memset(zeros.data(), 0, zeros.size() * sizeof(zeros[0]));
      __u32 other = SNAPSHOT_OTHER_IFINDEX;
      if (bpf_map_update_elem(countersFd_, &other, zeros.data(), BPF_ANY) != 0)
        throw NativeError(env, "bpf_map_update_elem", errno, DescribeErrno("bpf_map_update_elem", errno));
    }

    for (uint32_t i = 0; i < nsock; i++) {
      int fd = sockets_[i];
      if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof(progFd)) != 0)
        throw NativeError(env, "setsockopt(SO_ATTACH_BPF)", errno, DescribeErrno("setsockopt(SO_ATTACH_BPF)", errno));
      int small = 1;  // the filter returns 0, nothing is ever queued; keep the socket's footprint minimal
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
      struct sockaddr_ll sll;
      std::memset(&sll, 0, sizeof(sll));
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = ifindexes.Length() == 0 ? 0 : static_cast<int>(ifindexes.Get(i).As<Napi::Number>().Int32Value());
      if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) != 0) {
        int e = errno;
        if (e == ENODEV) throw NativeError(env, "bind(AF_PACKET)", e, "unknown interface index " + std::to_string(sll.sll_ifindex));
        throw NativeError(env, "bind(AF_PACKET)", e, DescribeErrno("bind(AF_PACKET)", e));
      }
    }

    rb_ = ring_buffer__new(bpf_object__find_map_fd_by_name(obj_, "ring"), &Capture::OnRecord, this, nullptr);
    if (rb_ == nullptr) throw NativeError(env, "ring_buffer__new", errno, DescribeErrno("ring_buffer__new", errno));
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epollFd_ < 0 || wakeFd_ < 0) throw NativeError(env, "epoll_create1", errno, DescribeErrno("epoll_create1", errno));
    struct epoll_event ev;
    std::memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u32 = 0;
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb_), &ev);
    ev.data.u32 = 1;
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  } catch (...) {
    Shutdown(true);
    throw;
  }

  batch_ = NewBatch();
  tsfn_ = Napi::ThreadSafeFunction::New(env, onBatch, "tcplens-ring-drain", kMaxQueuedBatches, 1);
  threadRunning_ = true;
  thread_ = std::thread([this] { Drain(); });
  // At process exit the environment goes away first: stop the thread and free the kernel objects then.
  if (napi_add_env_cleanup_hook(env, &Capture::AtEnvCleanup, this) == napi_ok) hookAdded_ = true;
}

void Capture::AtEnvCleanup(void* arg) {
  Capture* self = static_cast<Capture*>(arg);
  self->hookAdded_ = false;  // a hook that ran is gone; removing it again would be a double free
  self->Shutdown(true);
}

Capture::~Capture() {
  if (hookAdded_) napi_remove_env_cleanup_hook(Env(), &Capture::AtEnvCleanup, this);
  Shutdown(true);
}

static inline void PutU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }  // little-endian host (addon.cc)

// Turns one ring record into a complete EPB at the end of the batch: the per-packet work JavaScript
// used to do (block framing, lengths, direction flags, padding) happens here, in one pass over bytes
// that are already in cache. JavaScript still owns the two things only it knows: interface ids (IDBs
// are added as interfaces appear) and the wall clock (recorder/clock.ts).
int Capture::OnRecord(void* ctx, void* data, size_t size) {
  Capture* self = static_cast<Capture*>(ctx);
  if (size < sizeof(struct snapshot)) return 0;  // cannot happen: the program writes whole records
  const struct snapshot* rec = static_cast<const struct snapshot*>(data);
  uint32_t capLen = rec->cap_len;
  if (capLen > size - sizeof(struct snapshot)) capLen = static_cast<uint32_t>(size - sizeof(struct snapshot));
  uint32_t total = EpbSize(capLen);
  Batch& b = *self->batch_;
  BatchMemory& m = *b.mem;
  uint8_t* p = m.data.get() + m.size;  // room: flushed once past kBatchBytes, and capacity has one EPB more
  m.size += total;
  PutU32(p + kEpbOffType, kEpbBlockType);
  PutU32(p + kEpbOffLength, total);
  PutU32(p + kEpbOffInterfaceId, rec->ifindex * kEpbKeyLinks + rec->link);
  PutU32(p + kEpbOffTsHigh, static_cast<uint32_t>(rec->ts_ns >> 32));
  PutU32(p + kEpbOffTsLow, static_cast<uint32_t>(rec->ts_ns));
  PutU32(p + kEpbOffCapLen, capLen);
  PutU32(p + kEpbOffWireLen, rec->wire_len);
  std::memcpy(p + kEpbOffData, rec->data, capLen);
  uint8_t* q = p + kEpbOffData + capLen;
  while ((q - p) & 3) *q++ = 0;
  PutU32(q, kEpbFlagsOptionHeader);
  PutU32(q + 4, rec->pkt_type == PACKET_OUTGOING ? kEpbOutbound : kEpbInbound);
  PutU32(q + 8, 0);  // opt_endofopt
  PutU32(q + kEpbFlagsOptionSize, total);
  b.count++;
  if (m.size >= kBatchBytes) self->Flush(false);
  return 0;
}

std::unique_ptr<Batch> Capture::NewBatch() {
  auto b = std::make_unique<Batch>();
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    if (!pool_.empty()) {
      b->mem = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!b->mem) b->mem = std::make_shared<BatchMemory>();
  b->mem->size = 0;
  return b;
}

// Runs on the drain thread. BlockingCall waits when kMaxQueuedBatches are pending: JS being slow then
// shows up as ring-full drops counted by the BPF program, never as unbounded memory here.
void Capture::Flush(bool final) {
  if ((batch_->count == 0 && !final) || tsfnClosing_.load()) {
    batch_->mem->size = 0;
    batch_->count = 0;
    return;
  }
  if (!final) {
    std::unique_lock<std::mutex> lock(ackMutex_);
    ackCv_.wait(lock, [this] { return inFlight_ < kMaxInFlight || aborting_; });
    if (aborting_) return;
    inFlight_++;
  }
  Batch* out = batch_.release();
  out->final = final;
  out->owner = this;
  batch_ = NewBatch();
  napi_status st = tsfn_.BlockingCall(out, [](Napi::Env env, Napi::Function fn, Batch* b) {
    std::unique_ptr<Batch> owned(b);
    if (env == nullptr) return;  // the environment is going away
    if (b->final) {
      fn.Call({env.Null(), Napi::Number::New(env, 0)});
      b->owner->ResolveStopped(env);
      return;
    }
    auto* keep = new std::shared_ptr<BatchMemory>(b->mem);
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, b->mem->data.get(), b->mem->size,
                                                           [](Napi::Env, uint8_t*, std::shared_ptr<BatchMemory>* k) { delete k; }, keep);
    b->owner->unacked_.push_back(b->mem);
    fn.Call({buf, Napi::Number::New(env, b->count)});
  });
  if (st != napi_ok) {
    delete out;
    tsfnClosing_.store(true);  // aborted: never call into the thread-safe function again
  }
}

// The BPF program does not wake us per record (see tcp_snapshot.bpf.c): we drain every kDrainMs, or
// sooner when it signals a quarter-full ring, and hand JS one batch per drain (or per kBatchBytes).
void Capture::Drain() {
  pthread_setname_np(pthread_self(), "tcplens-drain");  // visible in top -H and /proc/PID/task/*/comm
  while (!stopping_.load(std::memory_order_acquire)) {
    struct epoll_event evs[2];
    int n = epoll_wait(epollFd_, evs, 2, kDrainMs);
    if (n < 0 && errno != EINTR) break;
    ring_buffer__consume(rb_);
    Flush(false);
  }
  // Sockets are already detached (Stop), so this empties the ring for good.
  ring_buffer__consume(rb_);
  Flush(false);
  Flush(true);
  std::lock_guard<std::mutex> lock(tsfnMutex_);
  if (!tsfnAborted_ && !tsfnClosing_.load()) tsfn_.Release();
  tsfnReleased_ = true;
}

// counters(): Array<{ ifindex, seen, tcp, kept, dropped }>, summed over CPUs.
Napi::Value Capture::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (countersFd_ < 0) return out;
  int ncpu = libbpf_num_possible_cpus();
  std::vector<struct snapshot_counters> values(ncpu > 0 ? ncpu : 1);
  __u32 key = 0, next = 0;
  __u32* prev = nullptr;
  uint32_t i = 0;
  while (bpf_map_get_next_key(countersFd_, prev, &next) == 0 && i < 4096) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(countersFd_, &key, values.data()) != 0) continue;
    struct snapshot_counters sum = {0, 0, 0, 0};
    for (const auto& v : values) {
      sum.seen += v.seen;
      sum.tcp += v.tcp;
      sum.kept += v.kept;
      sum.dropped += v.dropped;
    }
    if (key == SNAPSHOT_OTHER_IFINDEX && sum.seen == 0) continue;  // the overflow entry, unused
    Napi::Object o = Napi::Object::New(env);
    o.Set("ifindex", Napi::Number::New(env, key));
    o.Set("seen", Napi::Number::New(env, static_cast<double>(sum.seen)));
    o.Set("tcp", Napi::Number::New(env, static_cast<double>(sum.tcp)));
    o.Set("kept", Napi::Number::New(env, static_cast<double>(sum.kept)));
    o.Set("dropped", Napi::Number::New(env, static_cast<double>(sum.dropped)));
    out.Set(i++, o);
  }
  return out;
}

void Capture::DetachSockets() {
  for (int fd : sockets_) close(fd);  // closing detaches the filter; no new records after this
  sockets_.clear();
}

// stop(): Promise<void>. Detaches, lets the thread drain what is left (delivered as normal batches),
// then resolves after the final batch callback. The BPF object stays until close() so counters stay readable.
Napi::Value Capture::Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (stopped_) return stopped_->Promise();
  stopped_ = std::make_unique<Napi::Promise::Deferred>(env);
  DetachSockets();
  if (!threadRunning_) {
    stopped_->Resolve(env.Undefined());
    return stopped_->Promise();
  }
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof(one)) < 0) { /* the kDrainMs poll timeout still notices */ }
  return stopped_->Promise();
}

// ack(): JS has written one batch (see kMaxInFlight).
void Capture::Ack(const Napi::CallbackInfo& info) {
  if (!unacked_.empty()) {
    std::shared_ptr<BatchMemory> done = std::move(unacked_.front());
    unacked_.pop_front();
    std::lock_guard<std::mutex> lock(poolMutex_);
    if (pool_.size() < kPoolSize) pool_.push_back(std::move(done));
  }
  {
    std::lock_guard<std::mutex> lock(ackMutex_);
    if (inFlight_ > 0) inFlight_--;
  }
  ackCv_.notify_one();
}

void Capture::ResolveStopped(Napi::Env env) {
  if (stopped_) stopped_->Resolve(env.Undefined());
}

// close(): frees everything now; after stop() has resolved this never discards a record.
void Capture::Close(const Napi::CallbackInfo& info) { Shutdown(false); }

void Capture::Shutdown(bool abort) {
  DetachSockets();
  if (threadRunning_) {
    stopping_.store(true, std::memory_order_release);
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      if (write(wakeFd_, &one, sizeof(one)) < 0) { /* timeout fallback */ }
    }
    {
      std::lock_guard<std::mutex> lock(ackMutex_);
      aborting_ = true;  // a drain thread waiting for acknowledgements gives up
    }
    ackCv_.notify_all();
    {
      // The thread may be waiting in BlockingCall for JS, which cannot run while we join: abort the
      // queue so that call returns. Only if the thread has not released the function already.
      std::lock_guard<std::mutex> lock(tsfnMutex_);
      if (!tsfnReleased_) {
        tsfn_.Abort();
        tsfnAborted_ = true;
      }
    }
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
      else thread_.join();
    }
    threadRunning_ = false;
  }
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  countersFd_ = -1;
  if (epollFd_ >= 0) close(epollFd_);
  if (wakeFd_ >= 0) close(wakeFd_);
  epollFd_ = wakeFd_ = -1;
}

}  // namespace tcplens
