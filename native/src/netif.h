#pragma once
#include <napi.h>

namespace tcplens {
Napi::Value InterfaceByName(const Napi::CallbackInfo& info);
Napi::Value InterfaceByIndex(const Napi::CallbackInfo& info);
}  // namespace tcplens
