// The pcapng Enhanced Packet Block as the drain thread lays it out in each batch, so JavaScript only
// patches the interface id and the clock and appends the batch in one piece. recorder/pcapng/blocks.ts
// (EPB_LAYOUT) is the one definition of this layout; native/index.ts refuses an addon whose constants
// (exported by layout().epb) differ from it, so the two cannot drift apart silently.
#pragma once
#include <stdint.h>

namespace tcplens {

constexpr uint32_t kEpbBlockType = 6;           // BT_EPB
constexpr uint32_t kEpbOffType = 0;
constexpr uint32_t kEpbOffLength = 4;           // total block length, repeated in the last 4 bytes
constexpr uint32_t kEpbOffInterfaceId = 8;      // written as ifindex * 4 + link; JS puts the IDB's id here
constexpr uint32_t kEpbOffTsHigh = 12;          // written as CLOCK_MONOTONIC ns; JS turns it into wall time
constexpr uint32_t kEpbOffTsLow = 16;
constexpr uint32_t kEpbOffCapLen = 20;
constexpr uint32_t kEpbOffWireLen = 24;
constexpr uint32_t kEpbOffData = 28;
constexpr uint32_t kEpbFlagsOptionHeader = (4u << 16) | 2u;  // epb_flags: code 2, length 4 (one LE word)
constexpr uint32_t kEpbFlagsOptionSize = 12;    // option header, value, opt_endofopt
constexpr uint32_t kEpbTrailerSize = 4;
constexpr uint32_t kEpbInbound = 1;             // epb_flags direction bits
constexpr uint32_t kEpbOutbound = 2;
// The key in the interface id word is ifindex * kEpbKeyLinks + link.
constexpr uint32_t kEpbKeyLinks = 4;

constexpr uint32_t EpbSize(uint32_t capLen) { return kEpbOffData + ((capLen + 3) & ~3u) + kEpbFlagsOptionSize + kEpbTrailerSize; }

}  // namespace tcplens
