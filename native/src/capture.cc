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

#include "clock.h"
#include "epb.h"
#include "errors.h"
#include "expression.h"
#include "snapshot.h"

namespace tcplens {

// The drain thread sleeps until the BPF program signals a quarter-full ring (high rates) or kDrainMs
// pass (low rates), then empties the ring into the output file. Each wake-up costs about as much as a
// thousand packets on the development VM (~75 us), so the interval is long; it bounds what a SIGKILL can
// lose (the last second, as the JavaScript writer's one-second flush did before), and a stop wakes the
// thread at once.
static constexpr int kDrainMs = 1000;
// -w - (a pipe read live): the reader sees packets within this many ms.
static constexpr int kStreamDrainMs = 100;
// REALTIME - MONOTONIC is sampled again this often (clock.h).
static constexpr int64_t kClockRefreshNs = 1000000000LL;

// A call from the drain thread into JavaScript: an output event, or (final) the end of the capture.
struct PendingCall {
  bool final = false;
  OutputEvent event{OutputEventKind::kCount};
  Capture* owner = nullptr;
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
                     {InstanceMethod<&Capture::Start>("start"), InstanceMethod<&Capture::Resume>("resume"),
                      InstanceMethod<&Capture::Feed>("feed"),
                      InstanceMethod<&Capture::Progress>("progress"), InstanceMethod<&Capture::Counters>("counters"),
                      InstanceMethod<&Capture::Stop>("stop"),
                      InstanceMethod<&Capture::TimestampSource>("timestampSource"), InstanceMethod<&Capture::Flush>("flush"), InstanceMethod<&Capture::Close>("close")});
}

static std::vector<uint8_t> BytesOf(const Napi::Value& v) {
  Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

// new Capture(objectPath | null, options, onEvent). Options are validated in TS before this call; here we
// only copy them into the BPF program's read-only config and the writer. Throws typed errors; on throw
// nothing is left open. The drain thread starts with start(), once JavaScript has opened the first file.
Capture::Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[1].As<Napi::Object>();
  Napi::Function onEvent = info[2].As<Napi::Function>();
  try {
    if (!info[0].IsNull()) OpenKernelPath(env, info[0].As<Napi::String>(), opts);
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epollFd_ < 0 || wakeFd_ < 0) throw NativeError(env, "epoll_create1", errno, DescribeErrno("epoll_create1", errno));
    struct epoll_event ev;
    std::memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u32 = 1;
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
    if (ring_.fd() >= 0) {
      ev.data.u32 = 0;
      epoll_ctl(epollFd_, EPOLL_CTL_ADD, ring_.fd(), &ev);
    }
  } catch (...) {
    Shutdown();
    throw;
  }
  auto number = [&](const char* key) {
    Napi::Value v = opts.Get(key);
    return v.IsNumber() ? static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue()) : 0;
  };
  writer_ = std::make_unique<EpbFileWriter>(number("maxFileBytes"), number("maxPackets"),
                                            [this](const OutputEvent& e) { return OnOutputEvent(e); });
  // A fixed offset makes a fed capture's timestamps exact (tests); a kernel capture samples its own.
  Napi::Value offset = opts.Get("clockOffsetNs");
  clockFixed_ = offset.IsBigInt();
  bool lossless = true;
  writer_->SetClockOffset(clockFixed_ ? offset.As<Napi::BigInt>().Int64Value(&lossless) : RealtimeMinusMonotonic());
  writer_->SetTaiOffset(TaiMinusRealtime());
  tsfn_ = Napi::ThreadSafeFunction::New(env, onEvent, "tcplens-output", 2, 1);
  // At process exit the environment goes away first: stop the thread and free the kernel objects then.
  if (napi_add_env_cleanup_hook(env, &Capture::AtEnvCleanup, this) == napi_ok) hookAdded_ = true;
}

// The kernel side: AF_PACKET sockets, the BPF object with the filter config, the attached program and
// the ring buffer reader.
void Capture::OpenKernelPath(Napi::Env env, const std::string& objPath, const Napi::Object& opts) {
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

  // The object that reads each packet's own timestamp first (bpf/tcp_snapshot.bpf.c, SNAPSHOT_SKB_TSTAMP);
  // where the kernel refuses it (before Linux 6.2, or without CAP_PERFMON), the one that stamps packets
  // as the filter runs.
  const std::string stamped = StampedObjectPath(objPath);
  int err = -ENOENT;
  std::string message;
  if (!stamped.empty() && access(stamped.c_str(), R_OK) == 0) err = LoadObject(env, stamped, opts, &message);
  packetStamps_ = err == 0;
  if (err != 0) err = LoadObject(env, objPath, opts, &message);
  if (err != 0) {
    int e = -err;
    if (e == EPERM || e == EACCES) throw NativeError(env, "bpf(BPF_PROG_LOAD)", e, DescribeErrno("bpf(BPF_PROG_LOAD)", e));
    throw NativeError(env, "bpf_object__load", e, "loading the BPF program failed: " + (message.empty() ? std::string(std::strerror(e)) : message));
  }
  struct bpf_program* prog = bpf_object__find_program_by_name(obj_, "tcp_snapshot");
  int progFd = prog ? bpf_program__fd(prog) : -1;
  countersFd_ = bpf_object__find_map_fd_by_name(obj_, "counters");
  if (progFd < 0 || countersFd_ < 0) throw NativeError(env, "bpf_object__load", ENOENT, "BPF object lacks tcp_snapshot/counters");
  LoadExpressions(env, opts);
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
    if (packetStamps_) {
      // Asking for receive timestamps turns on the kernel's packet stamping (net_enable_timestamp):
      // a received packet is stamped as it is queued (before any wait for softirq processing), and an
      // outgoing copy once for every tap. The program reads that stamp, as AF_PACKET does for tcpdump.
      int on = 1;
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    }
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

  if (!ring_.Open(bpf_object__find_map_fd_by_name(obj_, "ring")))
    throw NativeError(env, "mmap(ring buffer)", errno, DescribeErrno("mmap(ring buffer)", errno));
}

// "x.bpf.o" -> "x.stamp.bpf.o", the same program built with SNAPSHOT_SKB_TSTAMP (native/build.mjs).
std::string Capture::StampedObjectPath(const std::string& objPath) {
  static const std::string suffix = ".bpf.o";
  if (objPath.size() <= suffix.size() || objPath.compare(objPath.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
  return objPath.substr(0, objPath.size() - suffix.size()) + ".stamp" + suffix;
}

// Opens objPath into obj_, sets the filter config and the ring's size, and loads it: 0, or the
// negative errno of a load the kernel refused (obj_ then null, *message libbpf's first line). Errors
// that no other object would mend (a missing or mismatched file) throw.
int Capture::LoadObject(Napi::Env env, const std::string& objPath, const Napi::Object& opts, std::string* message) {
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
    cfg.expression = opts.Get("filterEther").IsBuffer() || opts.Get("filterRaw").IsBuffer() ? 1 : 0;
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
    if (err == 0) return 0;
    bpf_object__close(obj_);
    obj_ = nullptr;
    if (err == -EAGAIN && attempt < kLoadAttempts) continue;
    *message = firstLibbpfMessage;
    return err;
  }
}

// The filter expression's programs (expression.h), one per link type it was compiled for, and the emit
// program they end in, into the program array tcp_snapshot tail-calls.
void Capture::LoadExpressions(Napi::Env env, const Napi::Object& opts) {
  int progsFd = bpf_object__find_map_fd_by_name(obj_, "progs");
  int scratchFd = bpf_object__find_map_fd_by_name(obj_, "scratch_map");
  struct bpf_program* emit = bpf_object__find_program_by_name(obj_, "tcp_snapshot_emit");
  int emitFd = emit ? bpf_program__fd(emit) : -1;
  if (progsFd < 0 || scratchFd < 0 || emitFd < 0) throw NativeError(env, "bpf_object__load", ENOENT, "BPF object lacks progs/scratch_map/tcp_snapshot_emit; rebuild it");
  __u32 slot = SNAPSHOT_PROG_EMIT;
  if (bpf_map_update_elem(progsFd, &slot, &emitFd, BPF_ANY) != 0)
    throw NativeError(env, "bpf_map_update_elem(progs)", errno, DescribeErrno("bpf_map_update_elem(progs)", errno));
  const std::pair<const char*, __u32> filters[] = {{"filterEther", SNAPSHOT_PROG_FILTER_ETHER}, {"filterRaw", SNAPSHOT_PROG_FILTER_RAW}};
  for (const auto& [key, filterSlot] : filters) {
    Napi::Value v = opts.Get(key);
    if (!v.IsBuffer()) continue;
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    std::vector<ClassicInsn> classic(b.Length() / sizeof(ClassicInsn));
    std::memcpy(classic.data(), b.Data(), classic.size() * sizeof(ClassicInsn));
    std::vector<uint64_t> insns;
    std::string error;
    if (!TranslateExpression(classic, scratchFd, progsFd, &insns, &error)) throw NativeError(env, "filter expression", EINVAL, error);
    std::string log(64 * 1024, '\0');
    LIBBPF_OPTS(bpf_prog_load_opts, lopts, .log_level = 0);
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tcplens_expr", "Dual BSD/GPL", reinterpret_cast<const struct bpf_insn*>(insns.data()),
                           insns.size(), &lopts);
    if (fd < 0) {
      int e = errno;
      // Load again with the verifier's log, which says which instruction it refused.
      LIBBPF_OPTS(bpf_prog_load_opts, vopts, .log_level = 1, .log_size = static_cast<__u32>(log.size()), .log_buf = log.data());
      int again = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tcplens_expr", "Dual BSD/GPL", reinterpret_cast<const struct bpf_insn*>(insns.data()),
                                insns.size(), &vopts);
      if (again >= 0) close(again);
      // The verifier's reason is its last line before the statistics ("processed N insns ...").
      std::string last;
      size_t from = 0;
      const std::string text = log.c_str();
      while (from < text.size()) {
        size_t to = text.find('\n', from);
        if (to == std::string::npos) to = text.size();
        std::string line = text.substr(from, to - from);
        if (!line.empty() && line.rfind("processed ", 0) != 0 && line.rfind("verification time", 0) != 0 && line.rfind("stack depth", 0) != 0) last = line;
        from = to + 1;
      }
      if (e == EPERM || e == EACCES) throw NativeError(env, "bpf(BPF_PROG_LOAD)", e, DescribeErrno("bpf(BPF_PROG_LOAD)", e));
      throw NativeError(env, "bpf(BPF_PROG_LOAD)", e, "the kernel refused the filter expression's program: " + (last.empty() ? std::string(std::strerror(e)) : last));
    }
    expressionFds_.push_back(fd);
    if (bpf_map_update_elem(progsFd, &filterSlot, &fd, BPF_ANY) != 0)
      throw NativeError(env, "bpf_map_update_elem(progs)", errno, DescribeErrno("bpf_map_update_elem(progs)", errno));
  }
}

void Capture::AtEnvCleanup(void* arg) {
  Capture* self = static_cast<Capture*>(arg);
  self->hookAdded_ = false;  // a hook that ran is gone; removing it again would be a double free
  self->Shutdown();
}

Capture::~Capture() {
  if (hookAdded_) napi_remove_env_cleanup_hook(Env(), &Capture::AtEnvCleanup, this);
  Shutdown();
}

// Ring records go straight to the writer; it does the per-packet work (epb_file.cc).
void Capture::OnRecord(void* ctx, const void* data, uint32_t size) {
  static_cast<Capture*>(ctx)->writer_->Append(static_cast<const struct snapshot*>(data), size);
}

// Records handed to feed(): whole records back to back, each padded to 8 bytes as in the ring.
void Capture::ConsumeFed() {
  for (;;) {
    std::vector<uint8_t> records;
    {
      std::lock_guard<std::mutex> lock(feedMutex_);
      if (fed_.empty()) return;
      records = std::move(fed_.front());
      fed_.pop_front();
    }
    size_t off = 0;
    while (off + sizeof(struct snapshot) <= records.size()) {
      const struct snapshot* rec = reinterpret_cast<const struct snapshot*>(records.data() + off);
      size_t size = sizeof(struct snapshot) + rec->cap_len;
      if (off + size > records.size()) break;
      writer_->Append(rec, size);
      off += (size + 7) & ~static_cast<size_t>(7);
    }
  }
}

// Drain thread: hands the event to JavaScript (onEvent) and waits for its resume(). Events are rare
// (a new interface, a rotation, the -c limit, a failed write), so the ring simply fills meanwhile.
OutputReply Capture::OnOutputEvent(const OutputEvent& event) {
  {
    std::lock_guard<std::mutex> lock(replyMutex_);
    replied_ = false;
  }
  PendingCall* call = new PendingCall;
  call->event = event;
  call->owner = this;
  if (!CallJs(call)) return StopWriting();
  std::unique_lock<std::mutex> lock(replyMutex_);
  replyCv_.wait(lock, [this] { return replied_ || aborting_; });
  if (!replied_) return StopWriting();
  return reply_;
}

static const char* EventName(OutputEventKind kind) {
  switch (kind) {
    case OutputEventKind::kInterface: return "interface";
    case OutputEventKind::kRotate: return "rotate";
    case OutputEventKind::kCount: return "count";
    case OutputEventKind::kWriteError: return "error";
    case OutputEventKind::kSynced: return "synced";
  }
  return "error";
}

// Drain thread. False when JavaScript can no longer be called (the environment is closing).
bool Capture::CallJs(PendingCall* call) {
  if (tsfnClosing_.load()) {
    delete call;
    return false;
  }
  napi_status st = tsfn_.BlockingCall(call, [](Napi::Env env, Napi::Function fn, PendingCall* c) {
    std::unique_ptr<PendingCall> owned(c);
    if (env == nullptr) return;  // the environment is going away
    if (c->final) {
      c->owner->ResolveStopped(env);
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", Napi::String::New(env, EventName(c->event.kind)));
    o.Set("key", Napi::Number::New(env, c->event.key));
    o.Set("tsNs", Napi::BigInt::New(env, c->event.tsNs));
    o.Set("fileBytes", Napi::Number::New(env, static_cast<double>(c->event.fileBytes)));
    o.Set("errno", Napi::Number::New(env, c->event.error));
    fn.Call({o});
  });
  if (st != napi_ok) {
    delete call;
    tsfnClosing_.store(true);  // aborted: never call into the thread-safe function again
    return false;
  }
  return true;
}

// Everything waiting (ring records, fed records) to the file.
void Capture::DrainOnce() {
  ring_.Consume(&Capture::OnRecord, this);
  ConsumeFed();
  writer_->Flush();
}

// Wakes the drain thread (a stop, fed records); a failed write is harmless, the kDrainMs timeout follows.
void Capture::Wake() {
  uint64_t one = 1;
  if (wakeFd_ >= 0 && write(wakeFd_, &one, sizeof(one)) < 0) { /* the timeout still comes */ }
}

// The BPF program does not wake us per record (see tcp_snapshot.bpf.c): we drain every kDrainMs, or
// sooner when it signals a quarter-full ring, and write what the drain produced.
void Capture::Drain() {
  pthread_setname_np(pthread_self(), "tcplens-drain");  // visible in top -H and /proc/PID/task/*/comm
  int64_t nextClockSampleNs = MonotonicNs() + kClockRefreshNs;
  while (!stopping_.load(std::memory_order_acquire)) {
    struct epoll_event evs[2];
    int n = epoll_wait(epollFd_, evs, 2, drainMs_);
    if (n < 0 && errno != EINTR) break;
    if (!clockFixed_ && MonotonicNs() >= nextClockSampleNs) {
      writer_->SetClockOffset(RealtimeMinusMonotonic());
      writer_->SetTaiOffset(TaiMinusRealtime());
      nextClockSampleNs = MonotonicNs() + kClockRefreshNs;
    }
    for (int i = 0; i < n; i++) {
      uint64_t count;
      if (evs[i].data.u32 == 1 && read(wakeFd_, &count, sizeof(count)) < 0) { /* already reset */ }
    }
    DrainOnce();
    if (syncRequested_.exchange(false)) writer_->Sync();
  }
  DrainOnce();  // sockets are already detached (Stop), so this empties the ring for good
  PendingCall* last = new PendingCall;
  last->final = true;
  last->owner = this;
  CallJs(last);
  std::lock_guard<std::mutex> lock(tsfnMutex_);
  if (!tsfnAborted_ && !tsfnClosing_.load()) tsfn_.Release();
  tsfnReleased_ = true;
}

// start({ fd, fileBytes, rotateAtNs }, knownKeys?): the first file is open, holds fileBytes bytes and the
// IDBs of knownKeys (ids in that order); start draining.
void Capture::Start(const Napi::CallbackInfo& info) {
  if (threadRunning_ || stopped_) return;
  Napi::Object t = info[0].As<Napi::Object>();
  OutputTarget target;
  bool lossless = true;
  target.fd = t.Get("fd").As<Napi::Number>().Int32Value();
  target.fileBytes = static_cast<uint64_t>(t.Get("fileBytes").As<Napi::Number>().DoubleValue());
  target.rotateAtNs = t.Get("rotateAtNs").As<Napi::BigInt>().Uint64Value(&lossless);
  target.sequential = t.Get("sequential").ToBoolean();
  // A pipe is read live (record -w - | tshark -r -): drain often rather than once a second.
  if (target.sequential) drainMs_ = kStreamDrainMs;
  writer_->Begin(target);
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array keys = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < keys.Length(); i++) writer_->AddKnownInterface(keys.Get(i).As<Napi::Number>().Uint32Value());
  }
  threadRunning_ = true;
  thread_ = std::thread([this] { Drain(); });
}

// resume({ stop?, interfaceId?, fd?, fileBytes?, rotateAtNs? }): JavaScript's answer to the pending event.
void Capture::Resume(const Napi::CallbackInfo& info) {
  Napi::Object r = info[0].As<Napi::Object>();
  OutputReply reply;
  reply.stop = r.Get("stop").ToBoolean();
  if (r.Get("interfaceId").IsNumber()) reply.interfaceId = r.Get("interfaceId").As<Napi::Number>().Int32Value();
  if (r.Get("fileBytes").IsNumber()) reply.target.fileBytes = static_cast<uint64_t>(r.Get("fileBytes").As<Napi::Number>().DoubleValue());
  if (r.Get("fd").IsNumber()) {
    reply.newTarget = true;
    reply.target.fd = r.Get("fd").As<Napi::Number>().Int32Value();
    bool lossless = true;
    if (r.Get("rotateAtNs").IsBigInt()) reply.target.rotateAtNs = r.Get("rotateAtNs").As<Napi::BigInt>().Uint64Value(&lossless);
  }
  {
    std::lock_guard<std::mutex> lock(replyMutex_);
    reply_ = reply;
    replied_ = true;
  }
  replyCv_.notify_one();
}

// feed(records: Buffer): for a capture made without a BPF object; the records are copied.
void Capture::Feed(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> b = info[0].As<Napi::Buffer<uint8_t>>();
  {
    std::lock_guard<std::mutex> lock(feedMutex_);
    fed_.emplace_back(b.Data(), b.Data() + b.Length());
  }
  Wake();
}

// progress(): { captured, fileBytes } so far (for --stats; exact once stop() has resolved).
Napi::Value Capture::Progress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("captured", Napi::Number::New(env, static_cast<double>(writer_->captured())));
  o.Set("fileBytes", Napi::Number::New(env, static_cast<double>(writer_->fileBytes())));
  return o;
}

// timestampSource(): "packet" when the loaded program reads each packet's own timestamp, "filter" when
// it stamps packets as it runs, "fed" for a capture fed from JavaScript.
Napi::Value Capture::TimestampSource(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), obj_ == nullptr ? "fed" : packetStamps_ ? "packet" : "filter");
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

// stop(): Promise<void>. Detaches, lets the thread drain and write what is left, then resolves; progress()
// is then final and JavaScript may append its last blocks (ISBs) at fileBytes. The BPF object stays until
// close() so counters stay readable.
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
  Wake();
  return stopped_->Promise();
}

// flush(): the drain thread writes what it holds and fdatasync()s the current file (SIGUSR2), at once.
void Capture::Flush(const Napi::CallbackInfo& info) {
  syncRequested_.store(true);
  Wake();
}

void Capture::ResolveStopped(Napi::Env env) {
  if (stopped_) stopped_->Resolve(env.Undefined());
}

// close(): frees everything now; after stop() has resolved this never discards a record.
void Capture::Close(const Napi::CallbackInfo& info) { Shutdown(); }

void Capture::Shutdown() {
  DetachSockets();
  if (threadRunning_) {
    stopping_.store(true, std::memory_order_release);
    Wake();
    {
      std::lock_guard<std::mutex> lock(replyMutex_);
      aborting_ = true;  // a drain thread waiting for resume() gives up
    }
    replyCv_.notify_all();
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
  } else if (tsfn_ && !tsfnAborted_ && !tsfnReleased_) {
    tsfn_.Release();  // never started: nothing else releases it, and it would keep the process alive
    tsfnReleased_ = true;
  }
  ring_.Close();
  for (int fd : expressionFds_) close(fd);
  expressionFds_.clear();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  countersFd_ = -1;
  if (epollFd_ >= 0) close(epollFd_);
  if (wakeFd_ >= 0) close(wakeFd_);
  epollFd_ = wakeFd_ = -1;
}

}  // namespace tcplens
