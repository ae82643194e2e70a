// Filter expressions: tcpdump's pcap-filter(7) language, compiled by libpcap into classic BPF
// (expression_compile.cc, the only file that includes pcap.h: its struct bpf_insn would clash with
// linux/bpf.h's), then translated into an eBPF socket-filter program that runs in the kernel between
// tcp_snapshot and tcp_snapshot_emit (expression_ebpf.cc; slots in bpf/snapshot.h).
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

namespace tcplens {

// One classic BPF instruction, laid out as struct sock_filter / libpcap's struct bpf_insn.
struct ClassicInsn {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
static_assert(sizeof(ClassicInsn) == 8, "classic BPF instructions are 8 bytes");

enum class ExpressionLink { kEthernet, kRaw };

// Compiles `expression` for frames of `link` (optimized, netmask unknown), for Ethernet on a live handle of
// `device` (an Ethernet-like device of the namespace) as tcpdump compiles it. On failure returns false and
// sets *error to libpcap's own message.
bool CompileExpression(const std::string& expression, ExpressionLink link, const std::string& device, int snaplen, std::vector<ClassicInsn>* out,
                       std::string* error);

// Translates a classic program into eBPF instructions (8 bytes each, struct bpf_insn of linux/bpf.h) that
// read the frame from the scratch map and tail-call the emit slot of `progsFd` when the classic program
// accepts. Returns false with *error set on an instruction it cannot translate.
bool TranslateExpression(const std::vector<ClassicInsn>& classic, int scratchMapFd, int progsFd, std::vector<uint64_t>* out, std::string* error);

}  // namespace tcplens
