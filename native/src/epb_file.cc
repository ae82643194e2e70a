#include "epb_file.h"

#include <linux/if_packet.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "epb.h"
#include "snapshot.h"

namespace tcplens {

// EPBs are written when this many bytes are buffered, and at the end of every drain: a few hundred
// write()s a second at the highest rates. Measured at top speed (drain thread, 1,000,000 packets, median
// of 5): 64 KiB 0.057 s, 256 KiB 0.051 s, 512 KiB 0.050 s; 1 MiB was 0.025 s against 0.022 s for 128 KiB
// per 400,000 packets at 200,000 pps. 256 KiB sits in the flat part and stays in cache.
static constexpr size_t kWriteBytes = 256 << 10;
static constexpr size_t kBufferBytes = kWriteBytes + EpbSize(SNAPSHOT_MAX_DATA);

static inline void PutU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }  // little-endian host (addon.cc)

EpbFileWriter::EpbFileWriter(uint64_t maxFileBytes, uint64_t maxPackets, OutputEventHandler onEvent)
    : maxFileBytes_(maxFileBytes), maxPackets_(maxPackets), onEvent_(std::move(onEvent)), buffer_(new uint8_t[kBufferBytes]) {}

void EpbFileWriter::Begin(const OutputTarget& target) {
  target_ = target;
  written_ = target.fileBytes;
  used_ = 0;
  packetsInFile_ = 0;
  fileBytes_.store(written_, std::memory_order_release);
}

// Everything buffered goes out before JavaScript acts on the file, so its blocks land after these EPBs.
OutputReply EpbFileWriter::Raise(OutputEvent event) {
  Flush();
  if (finished_) return StopWriting();
  event.fileBytes = written_;
  OutputReply reply = onEvent_(event);
  if (reply.stop) finished_ = true;
  return reply;
}

void EpbFileWriter::Flush() {
  const uint64_t start = written_;
  size_t done = 0;
  while (done < used_ && !finished_) {
    ssize_t n = target_.sequential ? write(target_.fd, buffer_.get() + done, used_ - done)
                                   : pwrite(target_.fd, buffer_.get() + done, used_ - done, static_cast<off_t>(written_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // a non-blocking pipe (-w -) whose reader is behind: wait for room
      struct pollfd p = {target_.fd, POLLOUT, 0};
      if (poll(&p, 1, 60000) > 0) continue;
    }
    if (n <= 0) {
      FailWrite(n < 0 ? errno : EIO, start, done);
      return;
    }
    done += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  used_ = 0;
}

void EpbFileWriter::Sync() {
  Flush();
  if (finished_) return;
  if (!target_.sequential) fdatasync(target_.fd);
  OutputEvent event{OutputEventKind::kSynced};
  event.fileBytes = written_;
  onEvent_(event);
}

// A write failed (a full disk, say) after `done` bytes of the buffer reached the file at `start`: cut
// the file back to the last whole EPB, so it ends cleanly, and write nothing more.
void EpbFileWriter::FailWrite(int err, uint64_t start, size_t done) {
  size_t whole = 0;
  for (;;) {
    uint32_t len;
    std::memcpy(&len, buffer_.get() + whole + kEpbOffLength, 4);
    if (whole + len > done) break;
    whole += len;
  }
  if (whole < done && !target_.sequential && ftruncate(target_.fd, static_cast<off_t>(start + whole)) == 0) written_ = start + whole;
  used_ = 0;
  fileBytes_.store(written_, std::memory_order_release);
  OutputEvent event{OutputEventKind::kWriteError};
  event.error = err;
  event.fileBytes = written_;
  onEvent_(event);  // whatever JavaScript answers, nothing more is written
  finished_ = true;
}

bool EpbFileWriter::ShouldRotate(uint64_t tsNs) const {
  if (packetsInFile_ == 0) return false;  // never leave a file without a packet (recorder/rotate.ts)
  if (maxFileBytes_ != 0 && written_ + used_ >= maxFileBytes_) return true;
  return target_.rotateAtNs != 0 && tsNs >= target_.rotateAtNs;
}

int32_t EpbFileWriter::InterfaceId(uint32_t key, uint64_t tsNs) {
  if (key == lastKey_) return lastId_;
  for (size_t id = 0; id < keys_.size(); id++) {
    if (keys_[id] == key) {
      lastKey_ = key;
      lastId_ = static_cast<int32_t>(id);
      return lastId_;
    }
  }
  OutputEvent event{OutputEventKind::kInterface};
  event.key = key;
  event.tsNs = tsNs;
  OutputReply reply = Raise(event);
  if (reply.stop || reply.interfaceId != static_cast<int32_t>(keys_.size())) {
    finished_ = true;  // JavaScript numbers IDBs in the order it adds them; anything else is a bug
    return -1;
  }
  keys_.push_back(key);
  written_ = reply.target.fileBytes;  // the IDB JavaScript appended
  fileBytes_.store(written_, std::memory_order_release);
  lastKey_ = key;
  lastId_ = reply.interfaceId;
  return lastId_;
}

void EpbFileWriter::Append(const struct snapshot* rec, size_t size) {
  if (finished_ || size < sizeof(struct snapshot)) return;
  uint32_t capLen = rec->cap_len;
  if (capLen > size - sizeof(struct snapshot)) capLen = static_cast<uint32_t>(size - sizeof(struct snapshot));
  const uint32_t total = EpbSize(capLen);
  // Wall-clock time from the record's clock (clock.h).
  uint64_t tsNs = rec->ts_ns;
  if ((rec->flags & SNAPSHOT_F_TS_TAI) != 0)
    tsNs -= static_cast<uint64_t>(taiOffsetNs_.load(std::memory_order_relaxed));
  else if ((rec->flags & SNAPSHOT_F_TS_WALL_CLOCK) == 0)
    tsNs += static_cast<uint64_t>(clockOffsetNs_.load(std::memory_order_relaxed));

  if (ShouldRotate(tsNs)) {
    OutputEvent event{OutputEventKind::kRotate};
    event.tsNs = tsNs;
    OutputReply reply = Raise(event);
    if (finished_) return;
    if (!reply.newTarget) {
      finished_ = true;  // a rotation answered without the next file: nothing sensible to write into
      return;
    }
    Begin(reply.target);
  }
  int32_t id = InterfaceId(rec->ifindex * kEpbKeyLinks + rec->link, tsNs);
  if (id < 0) return;

  uint8_t* p = buffer_.get() + used_;  // room: written once past kWriteBytes, and the buffer has one EPB more
  PutU32(p + kEpbOffType, kEpbBlockType);
  PutU32(p + kEpbOffLength, total);
  PutU32(p + kEpbOffInterfaceId, static_cast<uint32_t>(id));
  PutU32(p + kEpbOffTsHigh, static_cast<uint32_t>(tsNs >> 32));
  PutU32(p + kEpbOffTsLow, static_cast<uint32_t>(tsNs));
  PutU32(p + kEpbOffCapLen, capLen);
  PutU32(p + kEpbOffWireLen, rec->wire_len);
  std::memcpy(p + kEpbOffData, rec->data, capLen);
  uint8_t* q = p + kEpbOffData + capLen;
  while ((q - p) & 3) *q++ = 0;
  PutU32(q, kEpbFlagsOptionHeader);
  PutU32(q + 4, rec->pkt_type == PACKET_OUTGOING ? kEpbOutbound : kEpbInbound);
  PutU32(q + 8, 0);  // opt_endofopt
  PutU32(q + kEpbFlagsOptionSize, total);
  used_ += total;
  packetsInFile_++;
  fileBytes_.store(written_ + used_, std::memory_order_release);
  uint64_t captured = captured_.load(std::memory_order_relaxed) + 1;
  captured_.store(captured, std::memory_order_release);

  if (maxPackets_ != 0 && captured >= maxPackets_) {
    Raise(OutputEvent{OutputEventKind::kCount});
    finished_ = true;
    return;
  }
  if (used_ >= kWriteBytes || target_.sequential) Flush();
}

}  // namespace tcplens
