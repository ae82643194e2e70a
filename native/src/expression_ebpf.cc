// Classic BPF (libpcap's output) to eBPF, instruction by instruction (see expression.h).
//
// The classic program reads the frame tcp_snapshot has copied into the per-CPU scratch (bpf/snapshot.h
// struct snapshot_scratch: the frame as the kernel holds it, an offloaded VLAN tag not in it, and its
// length) instead of the socket buffer, so packet loads are plain bounds-checked memory loads the
// verifier can follow; `len` and the Linux ancillary values (the VLAN tag, the packet type) come from the
// socket buffer's context, as the kernel's own classic BPF gets them. A load past the frame rejects the
// packet, as in classic BPF. Registers:
//   r6 ctx (for the tail call)   r7 A   r8 X   r9 scratch value   r5 frame length   r1-r4 temporaries
//   M[0..15] on the stack at r10-8 .. r10-68 (zeroed first: the verifier refuses reads of unwritten stack)
// A and X are written only by 32-bit operations, so their upper halves stay zero, as classic BPF's 32-bit
// registers. Comparisons use BPF_JMP32. Jumps in classic BPF only go forward, so the result has no loop.
#include <linux/bpf.h>
#include <linux/filter.h>

#include <cstddef>
#include <cstring>

#include "expression.h"
#include "snapshot.h"

namespace tcplens {

namespace {

constexpr uint8_t kCtx = 6, kA = 7, kX = 8, kScratch = 9, kFrameLen = 5, kFp = 10;
constexpr int kMemSlots = 16;
constexpr int16_t kDataOff = SNAPSHOT_EXPR_FRAME;
constexpr int16_t kFrameLenOff = offsetof(struct snapshot_scratch, frame_len);
constexpr uint32_t kMaxFrame = SNAPSHOT_MAX_DATA - 4;  // the most frame bytes tcp_snapshot copies for an expression

inline int16_t MemOff(uint32_t k) { return static_cast<int16_t>(-8 - 4 * static_cast<int>(k)); }

enum class Target { kClassic, kReject, kAccept };

struct Fixup {
  size_t at;       // eBPF instruction whose off is a jump
  Target kind;
  size_t classic;  // kClassic: the classic instruction jumped to
};

class Emitter {
 public:
  std::vector<struct bpf_insn> insns;
  std::vector<Fixup> fixups;

  void Emit(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    struct bpf_insn i;
    std::memset(&i, 0, sizeof(i));
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    insns.push_back(i);
  }
  void Jump(uint8_t code, uint8_t dst, uint8_t src, int32_t imm, Target kind, size_t classic = 0) {
    fixups.push_back({insns.size(), kind, classic});
    Emit(code, dst, src, 0, imm);
  }
  void LoadMapFd(uint8_t dst, int fd) {
    Emit(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
    Emit(0, 0, 0, 0, 0);
  }
};

uint8_t SizeOf(uint16_t code, int* bytes) {
  switch (BPF_SIZE(code)) {
    case BPF_W: *bytes = 4; return BPF_W;
    case BPF_H: *bytes = 2; return BPF_H;
    default: *bytes = 1; return BPF_B;
  }
}

// dst = frame bytes [k, k+bytes) as a big-endian number, or reject when past the frame.
void LoadAbs(Emitter& e, uint8_t dst, uint32_t k, uint16_t code) {
  int bytes;
  uint8_t size = SizeOf(code, &bytes);
  if (k > kMaxFrame - bytes) {
    e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kReject);
    return;
  }
  e.Jump(BPF_JMP | BPF_JLT | BPF_K, kFrameLen, 0, static_cast<int32_t>(k + bytes), Target::kReject);
  e.Emit(BPF_LDX | BPF_MEM | size, dst, kScratch, static_cast<int16_t>(kDataOff + k), 0);
  if (bytes > 1) e.Emit(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bytes * 8);
}

// A = frame bytes [X+k, X+k+bytes), or reject when past the frame.
void LoadInd(Emitter& e, uint32_t k, uint16_t code) {
  int bytes;
  uint8_t size = SizeOf(code, &bytes);
  if (k > kMaxFrame) {
    e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kReject);
    return;
  }
  e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, 1, kX, 0, 0);           // r1 = X (upper half zero)
  e.Emit(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, static_cast<int32_t>(k));
  e.Jump(BPF_JMP | BPF_JGT | BPF_K, 1, 0, static_cast<int32_t>(kMaxFrame - bytes), Target::kReject);  // bounds the verifier sees
  e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0);
  e.Emit(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, bytes);
  e.Jump(BPF_JMP | BPF_JGT | BPF_X, 2, kFrameLen, 0, Target::kReject);  // past the frame
  e.Emit(BPF_ALU64 | BPF_ADD | BPF_X, 1, kScratch, 0, 0);
  e.Emit(BPF_LDX | BPF_MEM | size, kA, 1, kDataOff, 0);
  if (bytes > 1) e.Emit(BPF_ALU | BPF_END | BPF_TO_BE, kA, 0, 0, bytes * 8);
}

// A = a Linux ancillary value (SKF_AD_*: libpcap asks for these on a live Linux handle, e.g. the VLAN tag
// the kernel took off the frame), read from the socket buffer's context as the kernel's classic BPF does.
// The kernel gives the whole value whatever the load size says; so do we. False for one the context does not offer.
bool LoadAncillary(Emitter& e, uint32_t k) {
  const int32_t what = static_cast<int32_t>(k) - SKF_AD_OFF;
  auto ctx = [&](int16_t off) { e.Emit(BPF_LDX | BPF_MEM | BPF_W, kA, kCtx, off, 0); };
  switch (what) {
    case SKF_AD_PROTOCOL:
      ctx(offsetof(struct __sk_buff, protocol));
      e.Emit(BPF_ALU | BPF_END | BPF_TO_BE, kA, 0, 0, 16);  // network order in the context
      return true;
    case SKF_AD_PKTTYPE: ctx(offsetof(struct __sk_buff, pkt_type)); return true;
    case SKF_AD_IFINDEX: ctx(offsetof(struct __sk_buff, ifindex)); return true;
    case SKF_AD_MARK: ctx(offsetof(struct __sk_buff, mark)); return true;
    case SKF_AD_QUEUE: ctx(offsetof(struct __sk_buff, queue_mapping)); return true;
    case SKF_AD_RXHASH: ctx(offsetof(struct __sk_buff, hash)); return true;
    case SKF_AD_VLAN_TAG: ctx(offsetof(struct __sk_buff, vlan_tci)); return true;
    case SKF_AD_VLAN_TAG_PRESENT: ctx(offsetof(struct __sk_buff, vlan_present)); return true;
    case SKF_AD_VLAN_TPID:
      ctx(offsetof(struct __sk_buff, vlan_proto));
      e.Emit(BPF_ALU | BPF_END | BPF_TO_BE, kA, 0, 0, 16);
      return true;
    default: return false;
  }
}

}  // namespace

bool TranslateExpression(const std::vector<ClassicInsn>& classic, int scratchMapFd, int progsFd, std::vector<uint64_t>* out, std::string* error) {
  Emitter e;
  // Prologue: keep ctx, find the scratch, zero A, X and M[].
  e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, kCtx, 1, 0, 0);
  e.Emit(BPF_ST | BPF_MEM | BPF_W, kFp, 0, -4, 0);
  e.LoadMapFd(1, scratchMapFd);
  e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, 2, kFp, 0, 0);
  e.Emit(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4);
  e.Emit(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
  e.Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, Target::kReject);
  e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, kScratch, 0, 0, 0);
  e.Emit(BPF_LDX | BPF_MEM | BPF_W, kFrameLen, kScratch, kFrameLenOff, 0);
  e.Emit(BPF_ALU | BPF_MOV | BPF_K, kA, 0, 0, 0);
  e.Emit(BPF_ALU | BPF_MOV | BPF_K, kX, 0, 0, 0);
  for (int m = 0; m < kMemSlots; m++) e.Emit(BPF_ST | BPF_MEM | BPF_W, kFp, 0, MemOff(m), 0);

  // The verifier refuses unreachable instructions: translate only what classic control flow reaches.
  std::vector<bool> reachable(classic.size() + 1, false);
  reachable[0] = true;
  for (size_t pc = 0; pc < classic.size(); pc++) {
    if (!reachable[pc]) continue;
    const ClassicInsn& c = classic[pc];
    auto mark = [&](size_t to) { reachable[to < classic.size() ? to : classic.size()] = true; };
    if (BPF_CLASS(c.code) == BPF_RET) continue;
    if (BPF_CLASS(c.code) == BPF_JMP && BPF_OP(c.code) == BPF_JA) {
      mark(pc + 1 + c.k);
    } else if (BPF_CLASS(c.code) == BPF_JMP) {
      mark(pc + 1 + c.jt);
      mark(pc + 1 + c.jf);
    } else {
      mark(pc + 1);
    }
  }

  std::vector<size_t> start(classic.size() + 1);
  for (size_t pc = 0; pc < classic.size(); pc++) {
    start[pc] = e.insns.size();
    if (!reachable[pc]) continue;
    const ClassicInsn& c = classic[pc];
    const uint16_t code = c.code;
    const uint32_t k = c.k;
    auto bad = [&](const char* what) {
      *error = std::string("classic BPF instruction ") + std::to_string(pc) + " (code 0x" + [](unsigned v) {
        char b[8];
        snprintf(b, sizeof(b), "%x", v);
        return std::string(b);
      }(code) + "): " + what;
      return false;
    };
    switch (BPF_CLASS(code)) {
      case BPF_LD:
      case BPF_LDX: {
        const bool toX = BPF_CLASS(code) == BPF_LDX;
        const uint8_t dst = toX ? kX : kA;
        switch (BPF_MODE(code)) {
          case BPF_IMM: e.Emit(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, static_cast<int32_t>(k)); break;
          case BPF_LEN: e.Emit(BPF_LDX | BPF_MEM | BPF_W, dst, kCtx, offsetof(struct __sk_buff, len), 0); break;  // skb->len, as the kernel's
          case BPF_MEM:
            if (k >= kMemSlots) return bad("scratch memory index out of range");
            e.Emit(BPF_LDX | BPF_MEM | BPF_W, dst, kFp, MemOff(k), 0);
            break;
          case BPF_ABS:
            if (toX) return bad("LDX ABS");
            if (k >= static_cast<uint32_t>(SKF_AD_OFF) && k < static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_MAX)) {
              if (!LoadAncillary(e, k)) return bad("a Linux ancillary load the eBPF context does not offer");
              break;
            }
            if (k >= 0x80000000u) return bad("a negative packet offset");
            LoadAbs(e, kA, k, code);
            break;
          case BPF_IND:
            if (toX) return bad("LDX IND");
            LoadInd(e, k, code);
            break;
          case BPF_MSH:  // X = 4 * (P[k] & 0xf): the IPv4 header length
            if (!toX) return bad("LD MSH");
            LoadAbs(e, kX, k, BPF_LDX | BPF_B | BPF_MSH);
            e.Emit(BPF_ALU | BPF_AND | BPF_K, kX, 0, 0, 0xf);
            e.Emit(BPF_ALU | BPF_LSH | BPF_K, kX, 0, 0, 2);
            break;
          default: return bad("unknown load mode");
        }
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (k >= kMemSlots) return bad("scratch memory index out of range");
        e.Emit(BPF_STX | BPF_MEM | BPF_W, kFp, BPF_CLASS(code) == BPF_ST ? kA : kX, MemOff(k), 0);
        break;
      case BPF_ALU: {
        const uint8_t op = BPF_OP(code);
        if (op == BPF_NEG) {
          e.Emit(BPF_ALU | BPF_NEG, kA, 0, 0, 0);
          break;
        }
        if (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL && op != BPF_DIV && op != BPF_OR && op != BPF_AND && op != BPF_LSH &&
            op != BPF_RSH && op != BPF_MOD && op != BPF_XOR)
          return bad("unknown ALU operation");
        if (BPF_SRC(code) == BPF_X) {
          // Classic BPF rejects the packet on a division by a zero X; eBPF would give 0 and go on.
          if (op == BPF_DIV || op == BPF_MOD) e.Jump(BPF_JMP32 | BPF_JEQ | BPF_K, kX, 0, 0, Target::kReject);
          e.Emit(BPF_ALU | op | BPF_X, kA, kX, 0, 0);
        } else if ((op == BPF_LSH || op == BPF_RSH) && k >= 32) {
          e.Emit(BPF_ALU | BPF_MOV | BPF_K, kA, 0, 0, 0);  // all bits shifted out (the verifier refuses the shift)
        } else if ((op == BPF_DIV || op == BPF_MOD) && k == 0) {
          return bad("division by the constant 0");
        } else {
          e.Emit(BPF_ALU | op | BPF_K, kA, 0, 0, static_cast<int32_t>(k));
        }
        break;
      }
      case BPF_JMP: {
        const uint8_t op = BPF_OP(code);
        if (op == BPF_JA) {
          e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kClassic, pc + 1 + k);
          break;
        }
        if (op != BPF_JEQ && op != BPF_JGT && op != BPF_JGE && op != BPF_JSET) return bad("unknown jump");
        const bool x = BPF_SRC(code) == BPF_X;
        e.Jump(BPF_JMP32 | op | (x ? BPF_X : BPF_K), kA, x ? kX : 0, x ? 0 : static_cast<int32_t>(k), Target::kClassic, pc + 1 + c.jt);
        if (c.jf != 0) e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kClassic, pc + 1 + c.jf);
        break;
      }
      case BPF_RET:
        if (BPF_RVAL(code) == BPF_K) {
          e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, k != 0 ? Target::kAccept : Target::kReject);
        } else if (BPF_RVAL(code) == BPF_A) {
          e.Jump(BPF_JMP32 | BPF_JEQ | BPF_K, kA, 0, 0, Target::kReject);
          e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kAccept);
        } else {
          return bad("RET X");
        }
        break;
      case BPF_MISC:
        if (BPF_MISCOP(code) == BPF_TAX) e.Emit(BPF_ALU | BPF_MOV | BPF_X, kX, kA, 0, 0);
        else if (BPF_MISCOP(code) == BPF_TXA) e.Emit(BPF_ALU | BPF_MOV | BPF_X, kA, kX, 0, 0);
        else return bad("unknown misc operation");
        break;
      default:
        return bad("unknown instruction class");
    }
  }
  start[classic.size()] = e.insns.size();
  if (reachable[classic.size()]) e.Jump(BPF_JMP | BPF_JA, 0, 0, 0, Target::kReject);  // ran off the end: reject

  // Accept (when some path accepts): tail-call tcp_snapshot_emit; should that fail, fall through to reject.
  const size_t accept = e.insns.size();
  bool accepts = false;
  for (const Fixup& f : e.fixups) accepts = accepts || f.kind == Target::kAccept;
  if (accepts) {
    e.Emit(BPF_ALU64 | BPF_MOV | BPF_X, 1, kCtx, 0, 0);
    e.LoadMapFd(2, progsFd);
    e.Emit(BPF_ALU | BPF_MOV | BPF_K, 3, 0, 0, SNAPSHOT_PROG_EMIT);
    e.Emit(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call);
  }
  const size_t reject = e.insns.size();
  e.Emit(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0);
  e.Emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

  for (const Fixup& f : e.fixups) {
    size_t target = f.kind == Target::kAccept ? accept : f.kind == Target::kReject ? reject : f.classic <= classic.size() ? start[f.classic] : reject;
    long off = static_cast<long>(target) - static_cast<long>(f.at) - 1;
    if (off < -32768 || off > 32767) {
      *error = "the filter expression is too large to translate (a jump beyond 32767 instructions)";
      return false;
    }
    e.insns[f.at].off = static_cast<int16_t>(off);
  }
  out->resize(e.insns.size());
  std::memcpy(out->data(), e.insns.data(), e.insns.size() * sizeof(struct bpf_insn));
  return true;
}

}  // namespace tcplens
