{
  "targets": [
    {
      "target_name": "tcplens_native",
      "sources": ["src/addon.cc", "src/capture.cc", "src/clock.cc", "src/epb_file.cc", "src/errors.cc", "src/expression_compile.cc", "src/expression_ebpf.cc", "src/netif.cc", "src/replay.cc", "src/ring_reader.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../bpf"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpcap"]
    }
  ]
}
