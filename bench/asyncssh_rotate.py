#!/usr/bin/env python3
"""The peer of bench/shared.sh: what a plain asyncssh script does for each account at the same
concurrency: log in as the sudo account, `sudo -k passwd USER` on a PTY (sudo's password, the new
one twice, the exit code), close; then verify on a fresh login as USER with the new password.
Prints "seconds succeeded". Usage: asyncssh_rotate.py PORT LOGIN LOGIN_PASSWORD CONCURRENCY USER:NEW..."""
import asyncio, sys, time
import asyncssh

port, login, login_pw, conc = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
jobs = [a.split(":", 1) for a in sys.argv[5:]]
opts = dict(port=port, known_hosts=None, password=None, client_keys=None, preferred_auth="password,keyboard-interactive")


async def expect(proc, buf, *needles):
    while not any(n in buf[0] for n in needles):
        chunk = await asyncio.wait_for(proc.stdout.read(4096), 15)
        if not chunk:
            raise RuntimeError(f"closed waiting for {needles}")
        buf[0] += chunk
    hit = min((buf[0].index(n), n) for n in needles if n in buf[0])
    buf[0] = buf[0][hit[0] + len(hit[1]):]
    return hit[1]


async def change(user, new):
    async with asyncssh.connect("127.0.0.1", username=login, **{**opts, "password": login_pw}) as c:
        proc = await c.create_process(f"sudo -k -p 'SUDO_PROMPT: ' passwd {user}; echo RC=$?", term_type="xterm")
        buf = [""]
        await expect(proc, buf, "SUDO_PROMPT: ")
        proc.stdin.write(login_pw + "\n")
        for _ in range(2):
            await expect(proc, buf, "password: ", "Password: ")
            proc.stdin.write(new + "\n")
        await expect(proc, buf, "RC=")
        rest = buf[0]
        while "\n" not in rest:
            rest += await asyncio.wait_for(proc.stdout.read(64), 15)
        if rest.strip().split()[0] != "0":
            raise RuntimeError(f"passwd failed for {user}: {rest!r}")
        proc.close()
    async with asyncssh.connect("127.0.0.1", username=user, **{**opts, "password": new}):
        pass


async def main():
    sem = asyncio.Semaphore(conc)
    ok = 0

    async def one(user, new):
        nonlocal ok
        async with sem:
            try:
                await change(user, new)
                ok += 1
            except Exception as e:  # counted, shown
                print(f"{user}: {type(e).__name__}: {e}", file=sys.stderr)

    start = time.monotonic()
    await asyncio.gather(*(one(u, n) for u, n in jobs))
    print(f"{time.monotonic() - start:.3f} {ok}")


asyncio.run(main())
