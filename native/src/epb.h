// The pcapng Enhanced Packet Block as the drain thread writes it (epb_file.cc) into files whose other
// blocks JavaScript writes (recorder/sink.ts). recorder/pcapng/blocks.ts
// (EPB_LAYOUT) is the one definition of this layout; native/index.ts refuses an addon whose constants
// (exported by layout().epb) differ from it, so the two cannot drift apart silently.
#pragma once
#include <stdint.h>

namespace tcplens {

constexpr uint32_t kEpbBlockType = 6;           // BT_EPB
constexpr uint32_t kEpbOffType = 0;
constexpr uint32_t kEpbOffLength = 4;           // total block length, repeated in the last 4 bytes
constexpr uint32_t kEpbOffInterfaceId = 8;      // the id of the interface's IDB (the order JS added them in)
constexpr uint32_t kEpbOffTsHigh = 12;          // wall-clock ns (clock.h)
constexpr uint32_t kEpbOffTsLow = 16;
constexpr uint32_t kEpbOffCapLen = 20;
constexpr uint32_t kEpbOffWireLen = 24;
constexpr uint32_t kEpbOffData = 28;
constexpr uint32_t kEpbFlagsOptionHeader = (4u << 16) | 2u;  // epb_flags: code 2, length 4 (one LE word)
constexpr uint32_t kEpbFlagsOptionSize = 12;    // option header, value, opt_endofopt
constexpr uint32_t kEpbTrailerSize = 4;
constexpr uint32_t kEpbInbound = 1;             // epb_flags direction bits
constexpr uint32_t kEpbOutbound = 2;
// An interface is named by the key ifindex * kEpbKeyLinks + link until JavaScript gives it an IDB id.
constexpr uint32_t kEpbKeyLinks = 4;

constexpr uint32_t EpbSize(uint32_t capLen) { return kEpbOffData + ((capLen + 3) & ~3u) + kEpbFlagsOptionSize + kEpbTrailerSize; }

}  // namespace tcplens
