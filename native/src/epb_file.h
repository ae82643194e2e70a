// The recorder's hot path, on the drain thread: ring records (bpf/snapshot.h) become pcapng EPBs
// (epb.h) with their final interface id and wall-clock time, and go to the current output file in large
// write()s. Nothing per packet crosses into JavaScript: the few decisions that need it (the IDB of an
// interface seen for the first time, a -C/-G rotation, the -c limit, a failed write) stop this thread at
// that packet, after everything before it is on disk, and wait for a Reply (see Capture::OnOutputEvent).
// JavaScript writes the other blocks (SHB, IDBs, ISBs) itself, at the offsets this writer reports.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

struct snapshot;

namespace tcplens {

// Where EPBs go: an open file descriptor, how many bytes it already holds (the next write's offset) and
// the wall-clock time at which the next packet starts a new file under -G (0: never).
struct OutputTarget {
  int fd = -1;
  uint64_t fileBytes = 0;
  uint64_t rotateAtNs = 0;
  // A pipe or terminal (-w -): written in order with write() (no offsets), each EPB as soon as it is made.
  bool sequential = false;
};

enum class OutputEventKind { kInterface, kRotate, kCount, kWriteError, kSynced };

struct OutputEvent {
  OutputEventKind kind;
  uint32_t key = 0;       // kInterface: ifindex * kEpbKeyLinks + link
  uint64_t tsNs = 0;      // kInterface, kRotate: the packet's wall-clock time
  uint64_t fileBytes = 0; // bytes in the current file: where JavaScript appends its blocks
  int error = 0;          // kWriteError: errno
};

struct OutputReply {
  bool stop = false;         // write nothing more (limit reached, last file done, or failure)
  int32_t interfaceId = -1;  // kInterface: the id of the IDB JavaScript appended
  bool newTarget = false;    // kRotate: continue in `target` (a new file)
  // kInterface: `target.fileBytes` is the file's size with the new IDB
  OutputTarget target;
};

inline OutputReply StopWriting() {
  OutputReply r;
  r.stop = true;
  return r;
}

using OutputEventHandler = std::function<OutputReply(const OutputEvent&)>;

class EpbFileWriter {
 public:
  // maxFileBytes: -C in bytes (0: none); maxPackets: -c (0: none).
  EpbFileWriter(uint64_t maxFileBytes, uint64_t maxPackets, OutputEventHandler onEvent);

  void Begin(const OutputTarget& target);
  // An interface whose IDB JavaScript wrote before capture started, with the next id. Before Append only.
  void AddKnownInterface(uint32_t key) { keys_.push_back(key); }
  // One ring record of `size` bytes. Drain thread only.
  void Append(const struct snapshot* rec, size_t size);
  // Writes what is buffered: at the end of every drain, so a kill loses at most the last drain's packets.
  void Flush();
  // Flush, then asks the kernel to put the file on disk (SIGUSR2), then tells JavaScript (kSynced, with
  // the bytes now on disk). Drain thread only.
  void Sync();
  // REALTIME - MONOTONIC in ns (clock.h); any thread may set it.
  void SetClockOffset(int64_t offsetNs) { clockOffsetNs_.store(offsetNs, std::memory_order_relaxed); }
  void SetTaiOffset(int64_t taiMinusRealtimeNs) { taiOffsetNs_.store(taiMinusRealtimeNs, std::memory_order_relaxed); }

  uint64_t captured() const { return captured_.load(std::memory_order_acquire); }
  // Bytes in the current file, buffered ones included.
  uint64_t fileBytes() const { return fileBytes_.load(std::memory_order_acquire); }
  bool finished() const { return finished_; }

 private:
  OutputReply Raise(OutputEvent event);
  int32_t InterfaceId(uint32_t key, uint64_t tsNs);
  bool ShouldRotate(uint64_t tsNs) const;
  void FailWrite(int err, uint64_t start, size_t done);

  const uint64_t maxFileBytes_;
  const uint64_t maxPackets_;
  OutputEventHandler onEvent_;
  OutputTarget target_;
  std::unique_ptr<uint8_t[]> buffer_;
  size_t used_ = 0;
  uint64_t written_ = 0;        // bytes of the current file already written (target_.fileBytes + ours)
  uint64_t packetsInFile_ = 0;
  std::vector<uint32_t> keys_;  // interface id -> key; ids are the order JavaScript added the IDBs in
  uint32_t lastKey_ = UINT32_MAX;
  int32_t lastId_ = -1;
  bool finished_ = false;
  std::atomic<int64_t> clockOffsetNs_{0};  // REALTIME - MONOTONIC
  std::atomic<int64_t> taiOffsetNs_{0};    // TAI - REALTIME
  std::atomic<uint64_t> captured_{0};
  std::atomic<uint64_t> fileBytes_{0};
};

}  // namespace tcplens
