// One capture: the loaded BPF object, its AF_PACKET sockets and the thread that drains the ring buffer
// into the output file (epb_file.h). Without a BPF object path it is a "fed" capture: records come from
// feed() instead of the kernel, through the same drain thread and writer (tests replay captures so).
#pragma once
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "epb_file.h"
#include "ring_reader.h"

struct bpf_object;

namespace tcplens {

struct PendingCall;

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Capture(const Napi::CallbackInfo& info);
  ~Capture() override;

  void ResolveStopped(Napi::Env env);  // main thread, after the drain thread's last write

 private:
  // JS methods (signatures in native/index.ts).
  void Start(const Napi::CallbackInfo& info);
  void Resume(const Napi::CallbackInfo& info);
  void Feed(const Napi::CallbackInfo& info);
  Napi::Value Progress(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value TimestampSource(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  void Flush(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void OpenKernelPath(Napi::Env env, const std::string& objPath, const Napi::Object& opts);
  static std::string StampedObjectPath(const std::string& objPath);
  int LoadObject(Napi::Env env, const std::string& objPath, const Napi::Object& opts, std::string* message);
  void LoadExpressions(Napi::Env env, const Napi::Object& opts);
  void Drain();  // the drain thread's body
  void ConsumeFed();
  void DrainOnce();
  void Wake();
  static void OnRecord(void* ctx, const void* data, uint32_t size);
  OutputReply OnOutputEvent(const OutputEvent& event);  // drain thread: asks JS and waits for resume()
  bool CallJs(PendingCall* call);
  void DetachSockets();
  static void AtEnvCleanup(void* arg);
  void Shutdown();  // stop the thread and free everything; idempotent

  struct bpf_object* obj_ = nullptr;
  RingReader ring_;
  int countersFd_ = -1;
  int epollFd_ = -1;
  int wakeFd_ = -1;
  std::vector<int> sockets_;
  std::vector<int> expressionFds_;  // the filter expression's programs (also held by the progs map)
  std::unique_ptr<EpbFileWriter> writer_;
  bool clockFixed_ = false;  // fed captures keep the offset they were given
  bool packetStamps_ = false;  // the loaded program reads each packet's own timestamp (skb->tstamp)
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> syncRequested_{false};  // flush(): SIGUSR2
  int drainMs_ = 1000;
  bool threadRunning_ = false;
  bool hookAdded_ = false;
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<Napi::Promise::Deferred> stopped_;
  // The thread-safe function must not be touched after Abort (main) or after napi_closing (thread);
  // this mutex orders the thread's final Release against an Abort from Shutdown.
  std::mutex tsfnMutex_;
  bool tsfnAborted_ = false;
  bool tsfnReleased_ = false;
  std::atomic<bool> tsfnClosing_{false};
  // An output event waits here for JavaScript's resume(); Shutdown sets aborting_ to release it.
  std::mutex replyMutex_;
  std::condition_variable replyCv_;
  bool replied_ = false;
  bool aborting_ = false;
  OutputReply reply_;
  // Records handed to feed(), each buffer holding whole records padded to 8 bytes; guarded by feedMutex_.
  std::mutex feedMutex_;
  std::deque<std::vector<uint8_t>> fed_;
};

}  // namespace tcplens
