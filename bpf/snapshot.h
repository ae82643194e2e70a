/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one record layout shared by the socket filter (bpf/tcp_snapshot.bpf.c), the addon (native/src)
 * and, through constants the addon exports, the TypeScript decoder (native/index.ts). Change a field
 * here and the layout test (test/recorder/layout.test.ts) fails until the TS side agrees.
 *
 * Byte order: every integer field of the header is in the HOST's byte order (the BPF program and the
 * reader run on the same machine; the addon refuses to build for a big-endian host). `protocol` is
 * the exception: it is the ethertype exactly as in the frame, network byte order. `data` holds frame
 * bytes as on the wire.
 */
#ifndef TCPLENS_SNAPSHOT_H
#define TCPLENS_SNAPSHOT_H

#include <linux/types.h>

#ifdef __cplusplus
#define SNAPSHOT_STATIC_ASSERT static_assert
#else
#define SNAPSHOT_STATIC_ASSERT _Static_assert
#endif

/* Most frame bytes one record carries: link + network + TCP headers + --payload, capped by -s. */
#define SNAPSHOT_MAX_DATA 4096

/* snapshot.link: how the frame in data starts. */
#define SNAPSHOT_LINK_ETHER 1 /* Ethernet header (also lo and veth): LINKTYPE_ETHERNET */
#define SNAPSHOT_LINK_RAW 2   /* starts with the IP header (tun, wireguard): LINKTYPE_RAW */

/* snapshot.flags */
#define SNAPSHOT_F_VLAN_REINSERTED 1 /* an offloaded 802.1Q tag was put back into data, as libpcap does */
#define SNAPSHOT_F_TS_WALL_CLOCK 2   /* ts_ns is the packet's own CLOCK_REALTIME stamp (skb->tstamp) */
#define SNAPSHOT_F_TS_TAI 4          /* ts_ns is CLOCK_TAI (bpf_ktime_get_tai_ns): REALTIME plus whole seconds */

/* filter_config.direction */
#define SNAPSHOT_DIR_BOTH 0
#define SNAPSHOT_DIR_IN 1
#define SNAPSHOT_DIR_OUT 2

#define SNAPSHOT_MAX_PORTS 16
#define SNAPSHOT_MAX_HOSTS4 16
#define SNAPSHOT_MAX_HOSTS6 8

struct snapshot {
	__u64 ts_ns;    /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) unless flags say otherwise; user space
			   turns it into wall-clock time (native/src/clock.h) */
	__u32 ifindex;  /* interface the packet was seen on */
	__u32 wire_len; /* frame length on the wire (plus 4 when a VLAN tag was reinserted) */
	__u16 cap_len;  /* bytes of data that follow */
	__u8 pkt_type;  /* PACKET_HOST, PACKET_OUTGOING, ... (linux/if_packet.h) */
	__u8 link;      /* SNAPSHOT_LINK_* */
	__u16 protocol; /* ethertype, network byte order */
	__u16 flags;    /* SNAPSHOT_F_* */
	__u8 data[];    /* cap_len frame bytes */
};

/* Counters key used once the per-interface map is full (0 is never an ifindex). */
#define SNAPSHOT_OTHER_IFINDEX 0

/* Per interface, per CPU; the addon sums the CPUs. */
struct snapshot_counters {
	__u64 seen;    /* packets the filter ran on (lo's outgoing copies excluded) */
	__u64 tcp;     /* of those, TCP (first fragment or unfragmented) */
	__u64 kept;    /* of those, matching the filter config */
	__u64 dropped; /* of those, lost because the ring buffer was full */
};

/*
 * A filter expression (pcap-filter(7), compiled by libpcap, translated to eBPF by the addon) runs as its own
 * program, tail-called by tcp_snapshot once the frame is in the scratch buffer, before anything is put in
 * the ring; it tail-calls tcp_snapshot_emit when it accepts. Slots of the `progs` program array:
 */
#define SNAPSHOT_PROG_FILTER_ETHER 0 /* the expression compiled for LINKTYPE_ETHERNET frames */
#define SNAPSHOT_PROG_FILTER_RAW 1   /* ... for LINKTYPE_RAW frames (tun, wireguard) */
#define SNAPSHOT_PROG_EMIT 2         /* tcp_snapshot_emit: counts the packet kept, copies it to the ring */
#define SNAPSHOT_PROGS 3

/*
 * Per-CPU scratch where a record is assembled: the header, then the frame.
 * Without an expression the frame is copied as recorded (an offloaded VLAN tag put back, as libpcap does)
 * and the record starts at byte 0 (layout SNAPSHOT_AT_0).
 * With an expression, the expression must see the frame as the kernel holds it, as tcpdump's kernel
 * filter does (an offloaded tag is not in the bytes; libpcap reads it from the skb): the frame is copied
 * whole (up to SNAPSHOT_MAX_DATA - 4 bytes, frame_len) at SNAPSHOT_EXPR_FRAME, and only once the
 * expression has accepted it does tcp_snapshot_emit lay the record out: with a tag, the MACs move down
 * 4 bytes and the tag goes after them (SNAPSHOT_AT_0_AFTER_TAG); without, the header is written right
 * before the frame and the record starts at byte 4 (SNAPSHOT_AT_4).
 */
#define SNAPSHOT_EXPR_FRAME (24 + 4)
#define SNAPSHOT_AT_0 0
#define SNAPSHOT_AT_0_AFTER_TAG 1
#define SNAPSHOT_AT_4 2
struct snapshot_scratch {
	__u8 bytes[24 + SNAPSHOT_MAX_DATA]; /* struct snapshot + data */
	__u32 frame_len;                    /* with an expression: bytes of the frame at SNAPSHOT_EXPR_FRAME */
	__u32 layout;                       /* SNAPSHOT_AT_* */
};

/* Set by user space between open and load (read-only data). Addresses in network byte order. */
struct filter_config {
	__u32 snaplen;    /* cap on bytes per record (-s) */
	__u32 payload;    /* TCP payload bytes to keep (--payload) */
	__u8 direction;   /* SNAPSHOT_DIR_* */
	__u8 nports;
	__u8 nhosts4;
	__u8 nhosts6;
	__u8 expression;  /* 1: a filter expression runs (tail call to SNAPSHOT_PROG_FILTER_*) */
	__u8 unused[3];
	__u16 ports[SNAPSHOT_MAX_PORTS]; /* host byte order */
	__u32 hosts4[SNAPSHOT_MAX_HOSTS4];
	__u8 hosts6[SNAPSHOT_MAX_HOSTS6][16];
};

SNAPSHOT_STATIC_ASSERT(sizeof(struct snapshot) == 24, "struct snapshot is 24 bytes; update native/index.ts");
SNAPSHOT_STATIC_ASSERT(sizeof(struct snapshot_counters) == 32, "struct snapshot_counters is 32 bytes");
SNAPSHOT_STATIC_ASSERT(sizeof(struct snapshot_scratch) == sizeof(struct snapshot) + SNAPSHOT_MAX_DATA + 8, "snapshot_scratch has no padding");
SNAPSHOT_STATIC_ASSERT(sizeof(struct filter_config) == 16 + 2 * SNAPSHOT_MAX_PORTS + 4 * SNAPSHOT_MAX_HOSTS4 + 16 * SNAPSHOT_MAX_HOSTS6,
	       "filter_config has no padding");

#endif
