"""A delay line for tests (no netem on this kernel): reads the IPv4 packets the kernel routes into a TUN
device, holds each for a fixed time and sends it out of an Ethernet interface through an AF_PACKET socket.
Standard library only. Usage: delay-line.py TUN OUT_IF DST_MAC SRC_MAC DELAY_SECONDS
Prints "ready" once the TUN device exists; runs until killed."""
import collections
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

name, out_if, dst_mac, src_mac, delay = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
out.bind((out_if, 0))
header = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
held = collections.deque()
print("ready", flush=True)
while True:
    timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
    readable, _, _ = select.select([fd], [], [], timeout)
    if readable:
        packet = os.read(fd, 65536)
        if packet and packet[0] >> 4 == 4:
            held.append((time.monotonic() + delay, packet))
    now = time.monotonic()
    while held and held[0][0] <= now:
        out.send(header + held.popleft()[1])
