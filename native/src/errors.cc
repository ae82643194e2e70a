#include "errors.h"

#include <cerrno>
#include <cstring>

namespace tcplens {

static Napi::FunctionReference* errorClass = nullptr;

void SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass expects a constructor");
  if (errorClass == nullptr) {
    errorClass = new Napi::FunctionReference();
    info.Env().AddCleanupHook([] { delete errorClass; errorClass = nullptr; });
  }
  *errorClass = Napi::Persistent(info[0].As<Napi::Function>());
}

std::string DescribeErrno(const std::string& operation, int err) {
  if (err == EPERM || err == EACCES) return "needs root or CAP_BPF, CAP_PERFMON and CAP_NET_RAW (" + operation + ": " + std::strerror(err) + ")";
  return operation + ": " + std::strerror(err);
}

Napi::Error NativeError(Napi::Env env, const std::string& operation, int err, const std::string& message) {
  if (errorClass != nullptr && !errorClass->IsEmpty()) {
    Napi::Object obj = errorClass->New({Napi::String::New(env, message), Napi::String::New(env, operation), Napi::Number::New(env, err)});
    return Napi::Error(env, obj);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("operation", Napi::String::New(env, operation));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace tcplens
