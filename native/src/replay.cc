// replay(ifindex, { data, lengths, timing? }, { pps, loops }): sends frames out of an interface through an
// AF_PACKET socket on a worker thread (never the main thread), in sendmmsg batches. Pacing: `pps` frames
// per second when > 0; else each frame at its capture time (timing: ns after the first frame) when
// given; else as fast as the device takes them (--topspeed). Resolves { sent, failed, failures: [{ index, loop, errno }] }.
#include "replay.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"

namespace tcplens {

static constexpr unsigned kBurst = 64;
static constexpr size_t kMaxFailuresKept = 1000;
static constexpr int kRetries = 2000;  // ENOBUFS: the device queue is full; wait for it rather than lose frames

static int64_t NowNs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

static void SleepUntil(int64_t ns) {
  struct timespec t;
  t.tv_sec = ns / 1000000000LL;
  t.tv_nsec = ns % 1000000000LL;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
  }
}

class ReplayWorker : public Napi::AsyncWorker {
 public:
  ReplayWorker(Napi::Env env, int fd, Napi::Buffer<uint8_t> data, Napi::Uint32Array lengths, std::vector<double> timing, double pps,
               uint32_t loops)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), pps_(pps), loops_(loops) {
    dataRef_ = Napi::Persistent(data.As<Napi::Object>());
    lengthsRef_ = Napi::Persistent(lengths.As<Napi::Object>());
    data_ = data.Data();
    dataLen_ = data.Length();
    lengths_.assign(lengths.Data(), lengths.Data() + lengths.ElementLength());
    timing_ = std::move(timing);
    if (timing_.size() != lengths_.size()) timing_.clear();
  }
  ~ReplayWorker() override { close(fd_); }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::vector<size_t> offsets(lengths_.size());
    size_t at = 0;
    for (size_t i = 0; i < lengths_.size(); i++) {
      offsets[i] = at;
      at += lengths_[i];
    }
    if (at > dataLen_) {
      SetError("frame lengths exceed the data");
      return;
    }
    const int64_t start = NowNs();
    const double interval = pps_ > 0 ? 1e9 / pps_ : 0;
    const bool timed = interval == 0 && !timing_.empty();
    // Due time of frame i of loop `loop`, ns after start: each loop follows the previous one's last frame.
    const double loopSpan = timed ? timing_.back() : 0;
    auto dueAt = [&](uint32_t loop, size_t i, uint64_t index) -> int64_t {
      if (timed) return start + static_cast<int64_t>(static_cast<double>(loop) * loopSpan + timing_[i]);
      return start + static_cast<int64_t>(static_cast<double>(index) * interval);
    };
    uint64_t index = 0;  // frames handed to the kernel so far, across loops: the pacing clock
    std::vector<struct mmsghdr> msgs(kBurst);
    std::vector<struct iovec> iovs(kBurst);
    for (uint32_t loop = 0; loop < loops_; loop++) {
      size_t i = 0;
      while (i < lengths_.size()) {
        unsigned n = 0;
        if (interval > 0 || timed) {
          // Send every frame whose time has come; sleep until the next one otherwise.
          int64_t due = dueAt(loop, i, index);
          int64_t now = NowNs();
          if (due > now) SleepUntil(due);
          now = NowNs();
          while (n < kBurst && i + n < lengths_.size() && dueAt(loop, i + n, index + n) <= now) n++;
          if (n == 0) n = 1;
        } else {
          n = static_cast<unsigned>(std::min<size_t>(kBurst, lengths_.size() - i));
        }
        for (unsigned k = 0; k < n; k++) {
          iovs[k].iov_base = const_cast<uint8_t*>(data_ + offsets[i + k]);
          iovs[k].iov_len = lengths_[i + k];
          std::memset(&msgs[k], 0, sizeof(msgs[k]));
          msgs[k].msg_hdr.msg_iov = &iovs[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        unsigned done = 0;
        int retries = 0;
        while (done < n) {
          int r = sendmmsg(fd_, msgs.data() + done, n - done, 0);
          if (r > 0) {
            done += static_cast<unsigned>(r);
            sent_ += static_cast<uint64_t>(r);
            retries = 0;
            continue;
          }
          if ((errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && retries++ < kRetries) {
            sched_yield();
            continue;
          }
          if (errno == EMSGSIZE || errno == ENOBUFS || errno == EAGAIN) {  // skip this frame, keep going
            failed_++;
            if (failures_.size() < kMaxFailuresKept) failures_.push_back({i + done, loop, errno});
            done++;
            retries = 0;
            continue;
          }
          SetError(std::string("sendmmsg: ") + std::strerror(errno));
          return;
        }
        i += n;
        index += n;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("sent", Napi::Number::New(env, static_cast<double>(sent_)));
    r.Set("failed", Napi::Number::New(env, static_cast<double>(failed_)));
    Napi::Array list = Napi::Array::New(env, failures_.size());
    for (size_t k = 0; k < failures_.size(); k++) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("index", Napi::Number::New(env, static_cast<double>(failures_[k].index)));
      f.Set("loop", Napi::Number::New(env, failures_[k].loop));
      f.Set("errno", Napi::Number::New(env, failures_[k].err));
      list.Set(k, f);
    }
    r.Set("failures", list);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(NativeError(Env(), "sendmmsg", EIO, e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference dataRef_, lengthsRef_;
  const uint8_t* data_ = nullptr;
  size_t dataLen_ = 0;
  std::vector<uint32_t> lengths_;
  std::vector<double> timing_;
  int fd_;
  double pps_;
  uint32_t loops_;
  uint64_t sent_ = 0, failed_ = 0;
  // Which frames were not sent and why (the first kMaxFailuresKept): the CLI names each one.
  struct Failure {
    size_t index;
    uint32_t loop;
    int err;
  };
  std::vector<Failure> failures_;
};

Napi::Value Replay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  Napi::Object frames = info[1].As<Napi::Object>();
  Napi::Object opts = info[2].As<Napi::Object>();
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: sends, never receives
  if (fd < 0) throw NativeError(env, "socket(AF_PACKET)", errno, DescribeErrno("socket(AF_PACKET)", errno));
  struct sockaddr_ll sll;
  std::memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) != 0) {
    int e = errno;
    close(fd);
    throw NativeError(env, "bind(AF_PACKET)", e, e == ENODEV ? "unknown interface index " + std::to_string(ifindex) : DescribeErrno("bind(AF_PACKET)", e));
  }
  std::vector<double> timing;
  if (frames.Has("timing") && frames.Get("timing").IsTypedArray()) {
    Napi::Float64Array t = frames.Get("timing").As<Napi::Float64Array>();
    timing.assign(t.Data(), t.Data() + t.ElementLength());
  }
  auto* worker = new ReplayWorker(env, fd, frames.Get("data").As<Napi::Buffer<uint8_t>>(), frames.Get("lengths").As<Napi::Uint32Array>(),
                                  std::move(timing), opts.Get("pps").As<Napi::Number>().DoubleValue(), opts.Get("loops").As<Napi::Number>().Uint32Value());
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

}  // namespace tcplens
