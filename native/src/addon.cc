// Node-API entry of the recorder's kernel path. Exports (TS signatures in native/index.ts):
//   setErrorClass(ctor), layout(), epbLayout(), clockSample(), interfaceByName(name), interfaceByIndex(index), replay(...),
//   compileFilter(expression, link, snaplen, device), Capture
#include <napi.h>

#include <stddef.h>

#include "capture.h"
#include "clock.h"
#include "epb.h"
#include "errors.h"
#include "expression.h"
#include "netif.h"
#include "replay.h"
#include "snapshot.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "snapshot.h records are read as little-endian by native/index.ts"
#endif

namespace tcplens {

// layout(): the record layout constants, so a test can hold the TS decoder to bpf/snapshot.h.
static Napi::Value Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  set("headerSize", sizeof(struct snapshot));
  set("tsNs", offsetof(struct snapshot, ts_ns));
  set("ifindex", offsetof(struct snapshot, ifindex));
  set("wireLen", offsetof(struct snapshot, wire_len));
  set("capLen", offsetof(struct snapshot, cap_len));
  set("pktType", offsetof(struct snapshot, pkt_type));
  set("link", offsetof(struct snapshot, link));
  set("protocol", offsetof(struct snapshot, protocol));
  set("flags", offsetof(struct snapshot, flags));
  set("data", offsetof(struct snapshot, data));
  set("recordAlign", 8);
  set("maxData", SNAPSHOT_MAX_DATA);
  set("linkEther", SNAPSHOT_LINK_ETHER);
  set("linkRaw", SNAPSHOT_LINK_RAW);
  set("maxPorts", SNAPSHOT_MAX_PORTS);
  set("maxHosts4", SNAPSHOT_MAX_HOSTS4);
  set("maxHosts6", SNAPSHOT_MAX_HOSTS6);
  return o;
}

// epbLayout(): the EPB layout the drain thread writes (epb.h), held to recorder/pcapng's EPB_LAYOUT when
// the addon is loaded (native/index.ts).
static Napi::Value EpbLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  set("blockType", kEpbBlockType);
  set("type", kEpbOffType);
  set("length", kEpbOffLength);
  set("interfaceId", kEpbOffInterfaceId);
  set("tsHigh", kEpbOffTsHigh);
  set("tsLow", kEpbOffTsLow);
  set("capLen", kEpbOffCapLen);
  set("wireLen", kEpbOffWireLen);
  set("data", kEpbOffData);
  set("flagsOptionHeader", kEpbFlagsOptionHeader);
  set("flagsOptionSize", kEpbFlagsOptionSize);
  set("trailerSize", kEpbTrailerSize);
  set("inbound", kEpbInbound);
  set("outbound", kEpbOutbound);
  set("keyLinks", kEpbKeyLinks);
  return o;
}

// clockSample(): { realtimeNs: bigint, monotonicNs: bigint, widthNs: number } (clock.h).
static Napi::Value ClockSample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ClockPair p = SampleClocks();
  Napi::Object o = Napi::Object::New(env);
  o.Set("realtimeNs", Napi::BigInt::New(env, p.realtimeNs));
  o.Set("monotonicNs", Napi::BigInt::New(env, p.monotonicNs));
  o.Set("widthNs", Napi::Number::New(env, static_cast<double>(p.widthNs)));
  return o;
}

// compileFilter(expression, link: 'ether' | 'raw', snaplen, device): Buffer of classic BPF instructions (8 bytes
// each), or a NativeError (operation "pcap_compile") carrying libpcap's own message.
static Napi::Value CompileFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expression = info[0].As<Napi::String>();
  std::string link = info[1].As<Napi::String>();
  int snaplen = info[2].As<Napi::Number>().Int32Value();
  std::string device = info[3].IsString() ? std::string(info[3].As<Napi::String>()) : std::string("lo");
  std::vector<ClassicInsn> insns;
  std::string error;
  if (!CompileExpression(expression, link == "raw" ? ExpressionLink::kRaw : ExpressionLink::kEthernet, device, snaplen, &insns, &error))
    throw NativeError(env, "pcap_compile", EINVAL, error);
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(insns.data()), insns.size() * sizeof(ClassicInsn));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("layout", Napi::Function::New(env, Layout, "layout"));
  exports.Set("epbLayout", Napi::Function::New(env, EpbLayout, "epbLayout"));
  exports.Set("clockSample", Napi::Function::New(env, ClockSample, "clockSample"));
  exports.Set("interfaceByName", Napi::Function::New(env, InterfaceByName, "interfaceByName"));
  exports.Set("interfaceByIndex", Napi::Function::New(env, InterfaceByIndex, "interfaceByIndex"));
  exports.Set("replay", Napi::Function::New(env, Replay, "replay"));
  exports.Set("compileFilter", Napi::Function::New(env, CompileFilter, "compileFilter"));
  exports.Set("Capture", Capture::Define(env));
  return exports;
}

}  // namespace tcplens

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tcplens::Init(env, exports); }
NODE_API_MODULE(tcplens_native, InitModule)
