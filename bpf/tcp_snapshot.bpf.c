// SPDX-License-Identifier: BSD-3-Clause
/*
 * Socket filter attached to AF_PACKET sockets: for every TCP segment that matches the filter config,
 * copy link + network + TCP headers (+ --payload bytes, capped by -s) into a ring buffer record
 * (bpf/snapshot.h). With a filter expression, the segment first goes through the expression's program
 * (built at run time by the addon from libpcap's code, tail-called through `progs`), which tail-calls
 * tcp_snapshot_emit when it matches: nothing it rejects reaches the ring. Always returns 0: nothing is
 * queued on the socket, the ring is the only data path.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "snapshot.h"

#define LOOPBACK_IFINDEX 1 /* lo is ifindex 1 in every network namespace */
#define MAX_VLAN_TAGS 2    /* 802.1Q and QinQ (802.1ad outer) */
#define MAX_IPV6_EXT 6     /* extension headers walked before giving up */

const volatile struct filter_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space (--ring-mb) before load */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* ifindex; SNAPSHOT_OTHER_IFINDEX when full */
	__type(value, struct snapshot_counters);
} counters SEC(".maps");

/* Per-CPU scratch where the record is assembled, so the ring holds exactly header + cap_len bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snapshot_scratch);
} scratch_map SEC(".maps");

/* The expression programs and tcp_snapshot_emit (slots in snapshot.h), filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SNAPSHOT_PROGS);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

static __always_inline struct snapshot_counters *counters_for(__u32 ifindex)
{
	struct snapshot_counters *c = bpf_map_lookup_elem(&counters, &ifindex);
	if (c)
		return c;
	struct snapshot_counters zero = {};
	bpf_map_update_elem(&counters, &ifindex, &zero, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&counters, &ifindex);
	if (c)
		return c;
	/* The map is full (a host with thousands of interfaces): count under key 0, which user space
	 * creates before attaching, rather than lose the packet. */
	__u32 other = SNAPSHOT_OTHER_IFINDEX;
	return bpf_map_lookup_elem(&counters, &other);
}

static __always_inline int is_vlan(__u16 proto_be)
{
	return proto_be == bpf_htons(ETH_P_8021Q) || proto_be == bpf_htons(ETH_P_8021AD);
}

static __always_inline int port_matches(__u16 sport, __u16 dport)
{
	if (cfg.nports == 0)
		return 1;
#pragma unroll
	for (int i = 0; i < SNAPSHOT_MAX_PORTS; i++) {
		if (i >= cfg.nports)
			break;
		if (cfg.ports[i] == sport || cfg.ports[i] == dport)
			return 1;
	}
	return 0;
}

static __always_inline int host4_matches(__u32 saddr, __u32 daddr)
{
#pragma unroll
	for (int i = 0; i < SNAPSHOT_MAX_HOSTS4; i++) {
		if (i >= cfg.nhosts4)
			break;
		if (cfg.hosts4[i] == saddr || cfg.hosts4[i] == daddr)
			return 1;
	}
	return 0;
}

static __always_inline int addr6_eq(const __u8 *a, const volatile __u8 *b)
{
	const __u64 *x = (const __u64 *)a;
	const volatile __u64 *y = (const volatile __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int host6_matches(const struct ipv6hdr *ip6)
{
#pragma unroll
	for (int i = 0; i < SNAPSHOT_MAX_HOSTS6; i++) {
		if (i >= cfg.nhosts6)
			break;
		if (addr6_eq((const __u8 *)&ip6->saddr, cfg.hosts6[i]) || addr6_eq((const __u8 *)&ip6->daddr, cfg.hosts6[i]))
			return 1;
	}
	return 0;
}

/*
 * Where the network header starts. AF_PACKET SOCK_RAW hands the filter the frame from its link header;
 * Ethernet-like devices (Ethernet, veth, lo) are told apart from raw-IP ones (tun, wireguard) by the
 * ethertype at offset 12 agreeing with skb->protocol.
 */
static __always_inline int link_header(struct __sk_buff *skb, __u8 *link, __u32 *net_off, __u16 *proto)
{
	struct ethhdr eth;
	__u16 skb_proto = (__u16)skb->protocol;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) == 0 &&
	    (eth.h_proto == skb_proto || is_vlan(eth.h_proto))) {
		__u32 off = sizeof(eth);
		__u16 p = eth.h_proto;
#pragma unroll
		for (int i = 0; i < MAX_VLAN_TAGS; i++) {
			if (!is_vlan(p))
				break;
			__u16 tag[2];
			if (bpf_skb_load_bytes(skb, off, tag, sizeof(tag)))
				return -1;
			p = tag[1];
			off += 4;
		}
		*link = SNAPSHOT_LINK_ETHER;
		*net_off = off;
		*proto = p;
		return 0;
	}
	__u8 first;
	if (bpf_skb_load_bytes(skb, 0, &first, 1))
		return -1;
	if (skb_proto == bpf_htons(ETH_P_IP) && (first >> 4) == 4) {
		*link = SNAPSHOT_LINK_RAW;
		*net_off = 0;
		*proto = skb_proto;
		return 0;
	}
	if (skb_proto == bpf_htons(ETH_P_IPV6) && (first >> 4) == 6) {
		*link = SNAPSHOT_LINK_RAW;
		*net_off = 0;
		*proto = skb_proto;
		return 0;
	}
	return -1;
}

/* Walks IPv6 extension headers (bounded); returns the TCP header offset or 0 when not (first-fragment) TCP. */
static __always_inline __u32 ipv6_tcp_offset(struct __sk_buff *skb, __u32 off, __u8 nexthdr)
{
#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		__u8 ext[2];
		switch (nexthdr) {
		case IPPROTO_TCP:
			return off;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
				return 0;
			nexthdr = ext[0];
			off += ((__u32)ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
				return 0;
			nexthdr = ext[0];
			off += ((__u32)ext[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			struct frag_hdr {
				__u8 nexthdr;
				__u8 reserved;
				__u16 frag_off;
				__u32 id;
			} fh;
			if (bpf_skb_load_bytes(skb, off, &fh, sizeof(fh)))
				return 0;
			if (bpf_ntohs(fh.frag_off) & 0xfff8) /* not the first fragment: no TCP header here */
				return 0;
			nexthdr = fh.nexthdr;
			off += sizeof(fh);
			break;
		}
		default:
			return 0;
		}
	}
	return nexthdr == IPPROTO_TCP ? off : 0;
}

/* The packet passed every filter: count it kept, then copy the record into the ring (or count a drop). */
static __always_inline int emit(struct __sk_buff *skb, struct snapshot_counters *cnt, struct snapshot_scratch *s)
{
	cnt->kept++;
	__u32 layout = s->layout;
	if (layout == SNAPSHOT_AT_0_AFTER_TAG) {
		/* The expression saw the frame without its offloaded tag at SNAPSHOT_EXPR_FRAME: move the MACs
		 * down 4 bytes and put the tag after them, as libpcap writes it. */
		__u8 macs[12];
		__builtin_memcpy(macs, &s->bytes[SNAPSHOT_EXPR_FRAME], 12);
		__builtin_memcpy(&s->bytes[sizeof(struct snapshot)], macs, 12);
		__u16 tag[2] = {(__u16)skb->vlan_proto, bpf_htons((__u16)skb->vlan_tci)};
		__builtin_memcpy(&s->bytes[sizeof(struct snapshot) + 12], tag, sizeof(tag));
	}
	__u32 at = layout == SNAPSHOT_AT_4 ? 4 : 0;
	struct snapshot *rec = (struct snapshot *)&s->bytes[at];
	__u32 size = sizeof(struct snapshot) + rec->cap_len;
	if (size > sizeof(struct snapshot) + SNAPSHOT_MAX_DATA)
		return 0;
	/*
	 * Waking the reader for every record costs more than the record itself at high rates: the reader
	 * drains on a short timer instead, and is woken early only once the ring is a quarter full.
	 */
	__u64 wake = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) + size > bpf_ringbuf_query(&ring, BPF_RB_RING_SIZE) / 4
			     ? BPF_RB_FORCE_WAKEUP
			     : BPF_RB_NO_WAKEUP;
	long err = at ? bpf_ringbuf_output(&ring, &s->bytes[4], size, wake) : bpf_ringbuf_output(&ring, s->bytes, size, wake);
	if (err)
		cnt->dropped++;
	return 0;
}

#ifdef SNAPSHOT_SKB_TSTAMP
/*
 * The packet's timestamp as an AF_PACKET socket reports it to tcpdump: skb->tstamp when it holds
 * wall-clock time (taken as the packet was queued for receive, or as a tap got an outgoing copy), else
 * the wall clock now. When softirq work waits for a CPU, the filter runs milliseconds after the packet
 * arrived; the stamp keeps the arrival time. "Now" is CLOCK_TAI, which moves with the wall clock when
 * it is stepped, where MONOTONIC plus an offset sampled every second would lag a step by up to a second.
 * Reading the kernel's sk_buff needs bpf_cast_to_kern_ctx (Linux 6.2+) and CAP_PERFMON; the addon
 * loads the object built without this where the kernel refuses it.
 */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct sk_buff {
	__s64 tstamp;
	__u8 tstamp_type : 2; /* Linux 6.11+: SKB_CLOCK_REALTIME 0, MONOTONIC 1, TAI 2 */
} __attribute__((preserve_access_index));

struct sk_buff___mono_bit {
	__u8 mono_delivery_time : 1; /* Linux 5.18-6.10: set when tstamp is a monotonic delivery time */
} __attribute__((preserve_access_index));

static __always_inline __u64 skb_wall_clock_stamp(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	__s64 ts = skb->tstamp;
	if (ts <= 0)
		return 0;
	if (bpf_core_field_exists(skb->tstamp_type)) {
		if (BPF_CORE_READ_BITFIELD(skb, tstamp_type) != 0)
			return 0;
	} else if (bpf_core_field_exists(((struct sk_buff___mono_bit *)skb)->mono_delivery_time)) {
		if (BPF_CORE_READ_BITFIELD((struct sk_buff___mono_bit *)skb, mono_delivery_time))
			return 0;
	}
	return ts;
}
#endif

static __always_inline void fill_header(struct snapshot *rec, struct __sk_buff *skb, __u8 link, __u16 proto, __u32 vlan)
{
	__u16 flags = vlan ? SNAPSHOT_F_VLAN_REINSERTED : 0;
#ifdef SNAPSHOT_SKB_TSTAMP
	__u64 wall = skb_wall_clock_stamp(skb);
	if (wall) {
		rec->ts_ns = wall;
		flags |= SNAPSHOT_F_TS_WALL_CLOCK;
	} else {
		rec->ts_ns = bpf_ktime_get_tai_ns();
		flags |= SNAPSHOT_F_TS_TAI;
	}
#else
	rec->ts_ns = bpf_ktime_get_ns();
#endif
	rec->ifindex = skb->ifindex;
	rec->wire_len = skb->len + vlan;
	rec->pkt_type = skb->pkt_type;
	rec->link = link;
	rec->protocol = proto;
	rec->flags = flags;
}

/*
 * With a filter expression: the whole frame, as the kernel holds it, at SNAPSHOT_EXPR_FRAME for the
 * expression to read; the header where tcp_snapshot_emit will need it (bpf/snapshot.h); then the
 * expression's program decides (a link type it was not compiled for has no program: nothing matches).
 * `len` is the record's frame length without the tag, `vlan` 4 when a tag is to be put back.
 */
static __always_inline int run_expression(struct __sk_buff *skb, struct snapshot_scratch *s, __u8 link, __u16 proto, __u32 len, __u32 vlan)
{
	__u32 copy = skb->len < SNAPSHOT_MAX_DATA - 4 ? skb->len : SNAPSHOT_MAX_DATA - 4;
	copy &= SNAPSHOT_MAX_DATA - 1; /* the verifier's bound */
	if (copy == 0 || copy > SNAPSHOT_MAX_DATA - 4)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, &s->bytes[SNAPSHOT_EXPR_FRAME], copy))
		return 0;
	s->frame_len = copy;
	if (len > copy)
		len = copy;
	struct snapshot *rec = (struct snapshot *)&s->bytes[vlan ? 0 : 4];
	fill_header(rec, skb, link, proto, vlan);
	rec->cap_len = len + vlan;
	s->layout = vlan ? SNAPSHOT_AT_0_AFTER_TAG : SNAPSHOT_AT_4;
	bpf_tail_call(skb, &progs, link == SNAPSHOT_LINK_ETHER ? SNAPSHOT_PROG_FILTER_ETHER : SNAPSHOT_PROG_FILTER_RAW);
	return 0;
}

SEC("socket")
int tcp_snapshot(struct __sk_buff *skb)
{
	/* An AF_PACKET socket sees each lo packet twice; keep the PACKET_HOST copy, as libpcap does. */
	if (skb->ifindex == LOOPBACK_IFINDEX && skb->pkt_type == PACKET_OUTGOING)
		return 0;

	struct snapshot_counters *cnt = counters_for(skb->ifindex);
	if (!cnt)
		return 0;
	cnt->seen++;

	if (cfg.direction == SNAPSHOT_DIR_IN && skb->pkt_type == PACKET_OUTGOING)
		return 0;
	if (cfg.direction == SNAPSHOT_DIR_OUT && skb->pkt_type != PACKET_OUTGOING)
		return 0;

	__u8 link;
	__u32 net_off;
	__u16 proto;
	if (link_header(skb, &link, &net_off, &proto))
		return 0;

	__u32 tcp_off = 0;
	int hosts_wanted = cfg.nhosts4 + cfg.nhosts6 > 0;
	int host_ok = !hosts_wanted;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, net_off, &ip, sizeof(ip)))
			return 0;
		if (ip.version != 4 || ip.ihl < 5 || ip.protocol != IPPROTO_TCP)
			return 0;
		if (bpf_ntohs(ip.frag_off) & 0x1fff) /* later fragment: no TCP header */
			return 0;
		tcp_off = net_off + ip.ihl * 4;
		if (hosts_wanted)
			host_ok = host4_matches(ip.saddr, ip.daddr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, net_off, &ip6, sizeof(ip6)))
			return 0;
		if (ip6.version != 6)
			return 0;
		tcp_off = ipv6_tcp_offset(skb, net_off + sizeof(ip6), ip6.nexthdr);
		if (!tcp_off)
			return 0;
		if (hosts_wanted)
			host_ok = host6_matches(&ip6);
	} else {
		return 0;
	}

	struct tcphdr tcp;
	if (bpf_skb_load_bytes(skb, tcp_off, &tcp, sizeof(tcp)))
		return 0;
	cnt->tcp++;
	if (!host_ok || !port_matches(bpf_ntohs(tcp.source), bpf_ntohs(tcp.dest)))
		return 0;

	__u32 zero = 0;
	struct snapshot_scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;

	/* Headers always; payload as configured; never beyond the frame, -s or the record's room. */
	__u32 want = tcp_off + tcp.doff * 4 + cfg.payload;
	__u32 len = skb->len;
	if (want < len)
		len = want;
	__u32 vlan = skb->vlan_present && link == SNAPSHOT_LINK_ETHER ? 4 : 0;
	__u32 cap = cfg.snaplen < SNAPSHOT_MAX_DATA ? cfg.snaplen : SNAPSHOT_MAX_DATA;
	if (len + vlan > cap)
		len = cap > vlan ? cap - vlan : 0;

	if (cfg.expression)
		return run_expression(skb, s, link, proto, len, vlan);

	struct snapshot *rec = (struct snapshot *)s->bytes;
	__u8 *data = s->bytes + sizeof(struct snapshot);
	fill_header(rec, skb, link, proto, vlan);
	__u32 copied = 0;
	if (vlan) {
		/* The tag was offloaded into skb metadata: put it back after the MACs, as libpcap does. */
		if (len < 12 || len > SNAPSHOT_MAX_DATA - 4)
			return 0;
		if (bpf_skb_load_bytes(skb, 0, data, 12))
			return 0;
		__u16 tag[2] = {(__u16)skb->vlan_proto, bpf_htons((__u16)skb->vlan_tci)};
		__builtin_memcpy(&data[12], tag, sizeof(tag));
		__u32 rest = len - 12;
		rest &= SNAPSHOT_MAX_DATA - 1;
		if (rest > 0 && rest <= SNAPSHOT_MAX_DATA - 16 && bpf_skb_load_bytes(skb, 12, &data[16], rest))
			return 0;
		copied = 16 + rest;
	} else {
		len &= SNAPSHOT_MAX_DATA - 1 + SNAPSHOT_MAX_DATA; /* keeps the verifier's bound: len <= 8191 */
		if (len == 0 || len > SNAPSHOT_MAX_DATA)
			return 0;
		if (bpf_skb_load_bytes(skb, 0, data, len))
			return 0;
		copied = len;
	}
	rec->cap_len = copied;
	s->layout = SNAPSHOT_AT_0;
	return emit(skb, cnt, s);
}

/* Reached by tail call from an expression program that accepted the packet assembled in the scratch. */
SEC("socket")
int tcp_snapshot_emit(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct snapshot_scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	struct snapshot_counters *cnt = counters_for(skb->ifindex);
	if (!s || !cnt)
		return 0;
	return emit(skb, cnt, s);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
