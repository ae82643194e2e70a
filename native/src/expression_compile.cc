// libpcap's compiler for a filter expression (see expression.h), for the frames the expression program
// sees: Ethernet frames as the kernel holds them, or IP packets (tun, wireguard).
//
// For Ethernet it compiles on a live Linux handle of the device, as tcpdump does: libpcap then reads
// VLAN tags the kernel took off the frame through the Linux ancillary loads (SKF_AD_VLAN_TAG_PRESENT ...)
// and 'inbound'/'outbound' through the packet type, so an expression means on a tcplens recording what it
// means on tcpdump's. Activating the handle needs CAP_NET_RAW, which recording needs anyway; without it
// (or for raw IP, where nothing Linux-specific applies) pcap_open_dead compiles the portable code.
#include <pcap/pcap.h>

#include <cstring>

#include "expression.h"

namespace tcplens {

// A live handle on `device` whose link type is Ethernet, or null.
static pcap_t* LiveEthernetHandle(const std::string& device, int snaplen) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_create(device.c_str(), err);
  if (p == nullptr) return nullptr;
  pcap_set_snaplen(p, snaplen);
  pcap_set_buffer_size(p, 1 << 18);  // never read: keep the ring libpcap maps small
  if (pcap_activate(p) < 0 || pcap_datalink(p) != DLT_EN10MB) {
    pcap_close(p);
    return nullptr;
  }
  return p;
}

bool CompileExpression(const std::string& expression, ExpressionLink link, const std::string& device, int snaplen, std::vector<ClassicInsn>* out,
                       std::string* error) {
  pcap_t* p = link == ExpressionLink::kEthernet ? LiveEthernetHandle(device, snaplen) : nullptr;
  if (p == nullptr) p = pcap_open_dead(link == ExpressionLink::kEthernet ? DLT_EN10MB : DLT_RAW, snaplen);
  if (p == nullptr) {
    *error = "pcap_open_dead failed";
    return false;
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    *error = pcap_geterr(p);
    pcap_close(p);
    return false;
  }
  out->resize(prog.bf_len);
  static_assert(sizeof(struct bpf_insn) == sizeof(ClassicInsn), "libpcap's bpf_insn is 8 bytes");
  std::memcpy(out->data(), prog.bf_insns, prog.bf_len * sizeof(ClassicInsn));
  pcap_freecode(&prog);
  pcap_close(p);
  return true;
}

}  // namespace tcplens
