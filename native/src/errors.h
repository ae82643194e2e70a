// Typed errors across the boundary (the better-sqlite3 pattern): JS registers its error class once with
// setErrorClass(); native code throws instances of it carrying the failing operation and errno.
#pragma once
#include <napi.h>
#include <string>

namespace tcplens {

void SetErrorClass(const Napi::CallbackInfo& info);

// Builds the registered error class (or a plain Error before registration) with .operation and .errno.
Napi::Error NativeError(Napi::Env env, const std::string& operation, int err, const std::string& message);

// The message for an errno from a privileged operation: the one line a user should see.
std::string DescribeErrno(const std::string& operation, int err);

}  // namespace tcplens
