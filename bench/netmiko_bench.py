#!/usr/bin/env python3
"""The netmiko side of bench/netdev.sh: on each of N emulated IOS devices (SSH ports BASE..BASE+N-1)
log in as admin, change user ops with send_config_set, save with save_config, disconnect; with
WORKERS threads. Prints "seconds succeeded". Usage: netmiko_bench.py BASE N WORKERS ADMIN_PASSWORD NEW_PREFIX"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
from netmiko import ConnectHandler

base, n, workers, admin_pw, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def change(i):
    try:
        c = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=base + i, username="admin", password=admin_pw,
                           secret=admin_pw)
        c.enable()
        c.send_config_set([f"username ops secret {prefix}{i}"])
        c.save_config()
        c.disconnect()
        return True
    except Exception as e:  # counted, reported as a failure
        print(f"device {i}: {type(e).__name__}", file=sys.stderr)
        return False

start = time.monotonic()
with ThreadPoolExecutor(max_workers=workers) as pool:
    ok = sum(pool.map(change, range(n)))
print(f"{time.monotonic() - start:.2f} {ok}")
