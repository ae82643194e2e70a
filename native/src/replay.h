#pragma once
#include <napi.h>

namespace tcplens {
Napi::Value Replay(const Napi::CallbackInfo& info);
}
