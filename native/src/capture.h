// One capture: the loaded BPF object, its AF_PACKET sockets and the thread that drains the ring buffer.
#pragma once
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct bpf_object;
struct ring_buffer;

namespace tcplens {

struct Batch;
struct BatchMemory;

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Capture(const Napi::CallbackInfo& info);
  ~Capture() override;

 private:
  // JS methods (signatures in native/index.ts).
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  void Ack(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void Drain();                       // the drain thread's body
  static int OnRecord(void* ctx, void* data, size_t size);
  void Flush(bool final);
 public:
  void ResolveStopped(Napi::Env env);  // main thread, when the final batch has been delivered
 private:             // hands the current batch to JS (blocks when JS is behind)
  void DetachSockets();
  static void AtEnvCleanup(void* arg);
  void Shutdown(bool abort);          // stop the thread and free everything; idempotent

  struct bpf_object* obj_ = nullptr;
  struct ring_buffer* rb_ = nullptr;
  int countersFd_ = -1;
  int epollFd_ = -1;
  int wakeFd_ = -1;
  std::vector<int> sockets_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool threadRunning_ = false;
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<Batch> batch_;
  std::unique_ptr<Batch> NewBatch();  // drain thread: memory from the pool when there is some
  // Batch memory JS has acknowledged, ready for reuse (pages already mapped); guarded by poolMutex_.
  std::mutex poolMutex_;
  std::vector<std::shared_ptr<BatchMemory>> pool_;
  // Main thread only: memory of batches handed to JS, oldest first; ack() moves the oldest to pool_.
  std::deque<std::shared_ptr<BatchMemory>> unacked_;
  std::unique_ptr<Napi::Promise::Deferred> stopped_;
  // The thread-safe function must not be touched after Abort (main) or after napi_closing (thread);
  // this mutex orders the thread's final Release against an Abort from Shutdown.
  std::mutex tsfnMutex_;
  bool tsfnAborted_ = false;
  bool tsfnReleased_ = false;
  std::atomic<bool> tsfnClosing_{false};
  bool hookAdded_ = false;
  // Batches handed to JS and not yet acknowledged (ack()): the drain thread waits at kMaxInFlight, so a
  // slow disk turns into ring-full drops counted in the kernel, never into unbounded memory in JS.
  std::mutex ackMutex_;
  std::condition_variable ackCv_;
  uint32_t inFlight_ = 0;
  bool aborting_ = false;
};

}  // namespace tcplens
