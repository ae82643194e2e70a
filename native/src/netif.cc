// Interface lookups the recorder needs before and during capture: name <-> index and the ARPHRD type
// that decides the pcapng link type. Read through ioctl so they work inside network namespaces.
#include "netif.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"

namespace tcplens {

static int ArphrdOf(const char* name) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
  close(fd);
  return rc == 0 ? ifr.ifr_hwaddr.sa_family : -1;
}

static int MtuOf(const char* name) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFMTU, &ifr);
  close(fd);
  return rc == 0 ? ifr.ifr_mtu : -1;
}

static Napi::Object Describe(Napi::Env env, unsigned index, const char* name) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, index));
  o.Set("name", Napi::String::New(env, name));
  o.Set("arphrd", Napi::Number::New(env, ArphrdOf(name)));
  o.Set("mtu", Napi::Number::New(env, MtuOf(name)));
  return o;
}

// interfaceByName(name: string): { index: number; name: string; arphrd: number; mtu: number }
Napi::Value InterfaceByName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) throw NativeError(env, "if_nametoindex", ENODEV, "unknown interface: " + name);
  return Describe(env, index, name.c_str());
}

// interfaceByIndex(index: number): { index; name; arphrd } | null (the interface is gone)
Napi::Value InterfaceByIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned index = info[0].As<Napi::Number>().Uint32Value();
  char name[IF_NAMESIZE + 1] = {0};
  if (if_indextoname(index, name) == nullptr) return env.Null();
  return Describe(env, index, name);
}

}  // namespace tcplens
