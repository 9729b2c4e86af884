#!/usr/bin/env python3
"""Network-device CLI emulator for password-rotation tests (SSH + telnet).

Families: ios, catos, asa, procurve, ilo, screenos, junos.  Each device keeps a
running / startup (and, for JunOS, candidate) configuration in a JSON state file.

    python3 netdev.py --family ios --ssh-port 2200 --telnet-port 2300 --count 3 \
        --state-dir /tmp/st --host-key /tmp/hk --user admin:secret:15 --enable-secret en

Prints READY once every listener is bound; exits cleanly on SIGTERM/SIGINT.
Passwords are never written to stdout/stderr; the per-device log replaces them with <pw>.
"""
from __future__ import annotations

import argparse
import codecs
import collections
import copy
import datetime
import hashlib
import json
import logging
import os
import queue
import re
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import warnings

import paramiko

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import crypt as _crypt  # only for JunOS encrypted-password verification
    except Exception:  # pragma: no cover
        _crypt = None


# ----------------------------------------------------------------------------
# Low-level session I/O
# ----------------------------------------------------------------------------

class Closed(Exception):
    """Peer went away (or we closed)."""


class Interrupt(Exception):
    """Ctrl-C typed."""


class CtrlZ(Exception):
    """Ctrl-Z typed (IOS: leave configuration mode)."""


class Drop(Exception):
    """Close the session abruptly (test knob)."""


class Conn:
    """Character stream from a client plus an output function.

    Input arrives from a reader thread via feed(); getch() returns one character,
    collapsing CR LF / CR NUL into a single CR.  Output uses '\n' internally and
    is translated to CR LF on the wire."""

    def __init__(self, send, close, abort):
        self._send, self._close, self._abort = send, close, abort
        self._q: queue.Queue = queue.Queue()
        self._pending: collections.deque = collections.deque()
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        self._after_cr = False
        self.closed = False

    def feed(self, data):
        if data is None:
            self._q.put(None)
        else:
            s = self._dec.decode(data)
            if s:
                self._q.put(s)

    def getch(self, timeout=None):
        while True:
            if self.closed:
                raise Closed()
            if self._pending:
                ch = self._pending.popleft()
            else:
                try:
                    item = self._q.get(timeout=timeout)
                except queue.Empty:
                    return None
                if item is None:
                    self.closed = True
                    raise Closed()
                self._pending.extend(item)
                continue
            if self._after_cr:
                self._after_cr = False
                if ch in "\n\0":
                    continue
            if ch == "\r":
                self._after_cr = True
            return ch

    def write(self, s: str):
        if not s:
            return
        data = s.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "replace")
        try:
            self._send(data)
        except Exception:
            self.closed = True
            raise Closed()

    def close(self):
        try:
            self._close()
        except Exception:
            pass

    def abort(self):
        try:
            self._abort()
        except Exception:
            pass


# ----------------------------------------------------------------------------
# Tiny command grammar (keyword prefixes, placeholders) with IOS-like semantics
# ----------------------------------------------------------------------------
# Pattern tokens: keyword | {alt1|alt2} (yields the chosen alt as an argument) |
# <WORD> | <NUM> | <LINE> (rest of the raw line, must be non-empty).

class Tok(tuple):
    text = property(lambda s: s[0])
    start = property(lambda s: s[1])
    quoted = property(lambda s: s[2])


def tokenize(line: str, quotes: bool):
    toks, i, n = [], 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        s = i
        if quotes and line[i] == '"':
            j = line.find('"', i + 1)
            if j < 0:
                text, i = line[i + 1:], n
            else:
                text, i = line[i + 1:j], j + 1
            toks.append(Tok((text, s, True)))
        else:
            while i < n and not line[i].isspace():
                i += 1
            toks.append(Tok((line[s:i], s, False)))
    return toks


class Match:
    def __init__(self, kind, handler=None, args=None, pos=0, index=0, word="", options=()):
        self.kind, self.handler, self.args = kind, handler, args or []
        self.pos, self.index, self.word, self.options = pos, index, word, list(options)


class Grammar:
    def __init__(self, rules, quotes=False):
        self.rules = [(p.split(), h) for p, h in rules]
        self.quotes = quotes

    @staticmethod
    def _tok_match(t, tok):
        """Return (ok, keyword_or_None, argvalue_or_None, exact)."""
        w, q = tok.text, tok.quoted
        if t == "<WORD>":
            return True, None, w, False
        if t == "<NUM>":
            return (w.isdigit(), None, int(w) if w.isdigit() else None, False)
        if q or not w:
            return False, None, None, False
        lw = w.lower()
        if t.startswith("{"):
            alts = t[1:-1].split("|")
            if lw in alts:
                return True, lw, lw, True
            hits = [a for a in alts if a.startswith(lw)]
            if len(hits) == 1:
                return True, hits[0], hits[0], False
            if hits:
                return True, tuple(hits), None, False
            return False, None, None, False
        if t == lw:
            return True, t, None, True
        if t.startswith(lw):
            return True, t, None, False
        return False, None, None, False

    def advance(self, line, toks):
        """Walk tokens; returns (live, line_done, failure Match or None)."""
        live = [(pat, h, []) for pat, h in self.rules]
        line_done = []
        for i, tok in enumerate(toks):
            nxt, kws, exact_kw, has_ph = [], set(), False, False
            for pat, h, args in live:
                if i >= len(pat):
                    continue
                t = pat[i]
                if t == "<LINE>":
                    line_done.append((h, args + [line[tok.start:].rstrip()]))
                    continue
                ok, kw, val, exact = self._tok_match(t, tok)
                if not ok:
                    continue
                if isinstance(kw, tuple):
                    kws.update(kw)
                    continue
                if kw is None:
                    has_ph = True
                else:
                    kws.add(kw)
                    exact_kw = exact_kw or exact
                nargs = args + ([val] if val is not None else [])
                nxt.append((pat, h, nargs, kw, exact))
            if exact_kw:
                nxt = [c for c in nxt if c[3] is None or c[4]]
            elif len(kws) > 1 and not has_ph:
                return [], [], Match("ambiguous", pos=tok.start, index=i, word=tok.text,
                                     options=sorted(kws))
            if not nxt:
                if line_done:
                    return [], line_done, None
                return [], [], Match("invalid", pos=tok.start, index=i, word=tok.text)
            live = [(p, h, a) for p, h, a, _k, _e in nxt]
        return live, line_done, None

    def match(self, line):
        toks = tokenize(line, self.quotes)
        live, line_done, fail = self.advance(line, toks)
        if fail:
            return fail
        for pat, h, args in live:
            if len(pat) == len(toks):
                return Match("ok", h, args)
        if line_done:
            return Match("ok", line_done[0][0], line_done[0][1])
        return Match("incomplete", pos=len(line), index=len(toks),
                     word=toks[-1].text if toks else "")

    def next_words(self, buf):
        """Context help: (partial, [(word, is_placeholder)], can_end)."""
        toks = tokenize(buf, self.quotes)
        partial = ""
        if toks and not buf[-1:].isspace():
            partial = toks[-1].text.lower()
            toks = toks[:-1]
        live, line_done, fail = self.advance(buf, toks)
        if fail:
            return partial, None, False
        n = len(toks)
        words, can_end = [], bool(line_done)
        for pat, _h, _a in live:
            if len(pat) == n:
                can_end = True
            elif len(pat) > n:
                t = pat[n]
                alts = t[1:-1].split("|") if t.startswith("{") else [t]
                for a in alts:
                    if a.startswith("<") or a.startswith(partial):
                        if (a, a.startswith("<")) not in words:
                            words.append((a, a.startswith("<")))
        return partial, words, can_end

    def complete(self, buf):
        """Unique keyword completion of the last partial word, or None."""
        if not buf or buf[-1].isspace():
            return None
        partial, words, _ = self.next_words(buf)
        if not words or not partial:
            return None
        kws = [w for w, ph in words if not ph]
        if len(kws) == 1 and len(words) == 1 and kws[0] != partial:
            return kws[0][len(partial):]
        return None


HELP = {
    "enable": "Turn on privileged commands", "disable": "Turn off privileged commands",
    "configure": "Enter configuration mode", "copy": "Copy from one file to another",
    "show": "Show running system information", "terminal": "Set terminal line parameters",
    "write": "Write running configuration to memory, network, or terminal",
    "exit": "Exit from the EXEC", "logout": "Exit from the EXEC", "quit": "Exit from the EXEC",
    "username": "Establish User Name Authentication", "hostname": "Set system's network name",
    "end": "Exit from configure mode", "secret": "Specify the secret for the user",
    "password": "Specify the password for the user", "privilege": "Set user privilege level",
    "running-config": "Current operating configuration",
    "startup-config": "Contents of startup configuration", "length": "Set number of lines on a screen",
    "width": "Set width of the display terminal", "memory": "Write to NV memory",
    "<LINE>": "The UNENCRYPTED (cleartext) user password", "<WORD>": "WORD",
    "<NUM>": "<0-15>",
}


# ----------------------------------------------------------------------------
# Device state
# ----------------------------------------------------------------------------

def empty_config():
    return {"users": {}, "enable_secret": None, "enable_password": None, "login_password": None}


class Device:
    def __init__(self, index, family_cls, opts, host_key):
        self.index, self.family, self.opts, self.host_key = index, family_cls, opts, host_key
        self.lock = threading.RLock()
        self.path = os.path.join(opts.state_dir, "%d.json" % index) if opts.state_dir else None
        if self.path and os.path.exists(self.path):
            with open(self.path) as f:
                self.state = json.load(f)
            self.state.setdefault("log", [])
            self.state.setdefault("saves", 0)
            self.state.setdefault("startup", copy.deepcopy(self.state["running"]))
        else:
            run = empty_config()
            for spec in opts.user or []:
                name, _, rest = spec.partition(":")
                priv = 15
                m = re.match(r"^(.*):(\d+)$", rest, re.S)
                if m:
                    rest, priv = m.group(1), int(m.group(2))
                run["users"][name] = {"password": rest, "privilege": priv}
            if not opts.user and family_cls.DEFAULT_USER:
                run["users"]["admin"] = {"password": "admin", "privilege": 15}
            run["enable_secret"] = opts.enable_secret
            run["login_password"] = opts.login_password
            family_cls.init_config(run, opts)
            hostname = opts.hostname or family_cls.default_hostname(opts)
            self.state = {"family": family_cls.NAME, "hostname": hostname, "running": run,
                          "startup": copy.deepcopy(run), "saves": 0, "log": []}
            if family_cls.NAME == "junos":
                self.state["candidate"] = copy.deepcopy(run)
        self.persist()

    # -- state helpers (callers hold no lock; these take it) --
    @property
    def running(self):
        return self.state["running"]

    @property
    def hostname(self):
        return self.state["hostname"]

    def persist(self):
        if not self.path:
            return
        with self.lock:
            tmp = "%s.tmp.%d.%d" % (self.path, os.getpid(), threading.get_ident())
            with open(tmp, "w") as f:
                json.dump(self.state, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def changed(self):
        """Running configuration changed; auto-save families copy to startup."""
        with self.lock:
            if self.family.AUTOSAVE:
                self.state["startup"] = copy.deepcopy(self.state["running"])
                self.state["saves"] += 1
            self.persist()

    def save_startup(self):
        with self.lock:
            self.state["startup"] = copy.deepcopy(self.state["running"])
            self.state["saves"] += 1
            self.persist()

    def unsaved(self):
        with self.lock:
            return self.state["startup"] != self.state["running"]

    def log(self, line):
        with self.lock:
            self.state["log"].append(self.family.redact(line))
            del self.state["log"][:-2000]
            self.persist()

    def auth(self, username, password):
        with self.lock:
            return self.family.check_login(self, username, password)


# ----------------------------------------------------------------------------
# Family base: one instance per CLI session
# ----------------------------------------------------------------------------

def fake_hash(prefix, pw, n=22):
    h = hashlib.sha256(("emul:" + (pw or "")).encode()).digest()
    alpha = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return prefix + "".join(alpha[b % 64] for b in h)[:n]


def pw_classes(pw):
    return sum(bool(re.search(p, pw)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))


class Session:
    NAME = "base"
    DEFAULT_USER = True  # admin/admin privilege 15 when no --user is given
    AUTOSAVE = False
    NO_USERNAME_OK = True
    QMARK_HELP = False
    QUOTES = False
    REDACT = [r"(\b(?:password|secret|passwd|plaintext)\s+)(\"[^\"]*\"|\S+)"]
    PAGE_LEN = 24

    def __init__(self, dev: Device, io: Conn, transport: str, ssh_user=None):
        self.dev, self.io, self.transport = dev, io, transport
        self.opts = dev.opts
        self.user = ssh_user[0] if ssh_user else None
        self.priv = ssh_user[1] if ssh_user else 0
        self.paging = True
        self.page_len = self.PAGE_LEN
        self.mode = "exec"
        self.done = False
        self.drop_pending = False
        self.grammars = {m: Grammar(r, self.QUOTES) for m, r in self.rules().items()}

    # ---- family hooks ----
    @classmethod
    def default_hostname(cls, opts):
        return "device"

    @classmethod
    def init_config(cls, run, opts):
        pass

    @classmethod
    def redact(cls, line):
        for rx in cls.REDACT:
            line = re.sub(rx, lambda m: m.group(1) + "<pw>", line, flags=re.I)
        return line

    @classmethod
    def check_login(cls, dev, username, password):
        """Return privilege (int) or None.  Uses the RUNNING configuration."""
        run = dev.running
        if dev.opts.no_username and cls.NO_USERNAME_OK:
            lp = run.get("login_password")
            return 1 if lp is not None and password == lp else None
        u = run["users"].get(username)
        if u and u.get("password") is not None and u["password"] == password:
            return int(u.get("privilege", 1))
        return None

    def rules(self):
        return {}

    def prompt(self):
        return "> "

    def more_prompt(self, shown, total):
        return " --More-- "

    def more_erase(self, shown, total):
        n = len(self.more_prompt(shown, total))
        return "\b" * n + " " * n + "\b" * n

    def more_key(self, k):
        if k == " ":
            return "page"
        if k in "\r\n":
            return "line"
        if k in "qQ\x03":
            return "quit"
        return "page"

    def err_invalid(self, line, m):
        self.out("Invalid input\n")

    def err_incomplete(self, line, m):
        self.out("Incomplete command\n")

    def err_ambiguous(self, line, m):
        self.out("Ambiguous command\n")

    def telnet_login(self):
        return False

    def after_login(self):
        pass

    def on_interrupt(self):
        self.out("\n")

    def on_ctrlz(self):
        pass

    def on_exit_session(self):
        pass

    # ---- helpers ----
    def out(self, s):
        self.io.write(s)

    def prompt_col(self):
        return len(self.prompt().split("\n")[-1])

    def caret(self, pos):
        return " " * (self.prompt_col() + pos) + "^"

    def show_prompt(self):
        if self.opts.slow:
            time.sleep(self.opts.slow / 1000.0)
        self.out(self.prompt())

    def readline(self, echo=True, mask=None, help_fn=None, complete=None, space_complete=False,
                 ctrlz=False, redisplay=None):
        buf = ""
        while True:
            ch = self.io.getch()
            if ch in "\r\n":
                self.out("\n")
                return buf
            if ch == "\x03":
                raise Interrupt()
            if ch == "\x1a":
                if ctrlz:
                    raise CtrlZ()
                continue
            if ch in "\x08\x7f":
                if buf:
                    buf = buf[:-1]
                    if echo or mask:
                        self.out("\b \b")
                continue
            if ch == "\x15":  # Ctrl-U
                if echo or mask:
                    self.out("\b \b" * len(buf))
                buf = ""
                continue
            if ch == "\x1b":  # swallow ANSI escape sequences (arrow keys etc.)
                nx = self.io.getch()
                if nx in "[O":
                    while True:
                        nx = self.io.getch()
                        if nx.isalpha() or nx == "~":
                            break
                continue
            if ch == "\x16" and self.QMARK_HELP and echo:  # Ctrl-V: next char literally
                ch = self.io.getch()
                buf += ch
                self.out(ch)
                continue
            if ch == "?" and help_fn and echo:
                self.out("?\n")
                help_fn(buf)
                self.out((redisplay or self.prompt)() + buf)
                continue
            if ch == "\t" and complete and echo:
                rest = complete(buf)
                if rest is not None:
                    buf += rest + " "
                    self.out(rest + " ")
                continue
            if ch == " " and space_complete and complete and echo:
                rest = complete(buf)
                if rest:
                    buf += rest
                    self.out(rest)
            if ch < " ":
                continue
            buf += ch
            if echo:
                self.out(ch)
            elif mask:
                self.out(mask)

    def ask(self, text, echo=True, mask=None):
        self.out(text)
        return self.readline(echo=echo, mask=mask)

    def ask_secret(self, text):
        try:
            return self.ask(text, echo=False)
        except Interrupt:
            self.out("\n")
            return None

    def page_out(self, text):
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not self.paging or self.page_len <= 1:
            self.out("".join(l + "\n" for l in lines))
            return
        per = self.page_len - 1
        budget, i, total = per, 0, len(lines)
        while i < total:
            self.out(lines[i] + "\n")
            i += 1
            budget -= 1
            if budget <= 0 and i < total:
                self.out(self.more_prompt(i, total))
                k = self.io.getch()
                self.out(self.more_erase(i, total))
                act = self.more_key(k)
                if act == "quit":
                    return
                budget = 1 if act == "line" else per
        return

    def set_paging(self, n):
        if self.opts.paging_stays_on:
            return
        self.page_len = n
        self.paging = n != 0

    def password_changed(self):
        """Called after a password change has been applied to running config."""
        self.dev.changed()
        if self.opts.drop_after_change:
            self.drop_pending = True

    def show_motd(self):
        n = self.opts.motd_lines or 0
        if n > 0:
            self.page_out("".join("MOTD line %d of %d: authorized access only\n" % (i + 1, n)
                                  for i in range(n)))

    def help(self, buf):
        g = self.grammars.get(self.mode)
        if not g:
            return
        partial, words, can_end = g.next_words(buf)
        if words is None:
            self.out("% Unrecognized command\n")
            return
        if partial and not buf[-1:].isspace():
            self.out("  ".join(w for w, ph in words if not ph) + "  \n\n")
            return
        for w, ph in words:
            self.out("  %-18s %s\n" % ("WORD" if w == "<WORD>" else "LINE" if w == "<LINE>"
                                        else "<0-15>" if w == "<NUM>" else w, HELP.get(w, "")))
        if can_end:
            self.out("  <cr>\n")
        self.out("\n")

    def complete(self, buf):
        g = self.grammars.get(self.mode)
        return g.complete(buf) if g else None

    # ---- main loop ----
    def run(self):
        try:
            if self.transport == "telnet":
                if not self.telnet_login():
                    self.io.close()
                    return
            self.after_login()
            self.show_motd()
            while not self.done:
                self.show_prompt()
                try:
                    line = self.read_command()
                except Interrupt:
                    self.on_interrupt()
                    continue
                except CtrlZ:
                    self.on_ctrlz()
                    continue
                try:
                    self.handle_line(line)
                except Interrupt:
                    self.out("\n")
                if self.drop_pending:
                    raise Drop()
            self.io.close()
        except Drop:
            self.io.abort()
        except Closed:
            self.io.close()

    def read_command(self):
        return self.readline(help_fn=self.help if self.QMARK_HELP else None,
                             complete=self.complete, ctrlz=True)

    def handle_line(self, line):
        if not line.strip():
            return
        self.dev.log(line)
        stripped = line.lstrip()
        for pref in self.opts.reject or []:
            if stripped.startswith(pref):
                self.err_invalid(line, Match("invalid", pos=len(line) - len(stripped), index=0,
                                             word=stripped.split()[0] if stripped.split() else ""))
                return
        self.dispatch(line, self.mode)

    def dispatch(self, line, mode):
        g = self.grammars.get(mode)
        m = g.match(line)
        if m.kind == "ok":
            getattr(self, "do_" + m.handler)(*m.args)
        elif m.kind == "invalid":
            self.err_invalid(line, m)
        elif m.kind == "incomplete":
            self.err_incomplete(line, m)
        else:
            self.err_ambiguous(line, m)

    def login_loop(self, user_prompt, pass_prompt, fail_msg, final_msg="", tries=3,
                   ask_user=True):
        """Generic telnet login; returns True on success (sets user/priv)."""
        for _ in range(tries):
            try:
                name = self.ask(user_prompt).strip() if ask_user else ""
                pw = self.ask(pass_prompt, echo=False)
            except Interrupt:
                self.out("\n")
                continue
            priv = self.dev.auth(name, pw)
            if priv is not None:
                self.user, self.priv = name, priv
                return True
            if fail_msg:
                self.out(fail_msg)
        if final_msg:
            self.out(final_msg)
        return False


# ----------------------------------------------------------------------------
# Cisco IOS / IOS-XE
# ----------------------------------------------------------------------------

TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def type7_encode(pw, salt=2):
    return "%02d" % salt + "".join("%02X" % (ord(c) ^ ord(TYPE7_KEY[(salt + i) % len(TYPE7_KEY)]))
                                   for i, c in enumerate(pw))


def type7_decode(s):
    try:
        salt = int(s[:2])
        return "".join(chr(int(s[2 + 2 * i:4 + 2 * i], 16) ^ ord(TYPE7_KEY[(salt + i) % len(TYPE7_KEY)]))
                       for i in range((len(s) - 2) // 2))
    except Exception:
        return None


class IOS(Session):
    NAME = "ios"
    QMARK_HELP = True
    REDACT = [r"(\b(?:secret|password)\s+)(.+)$"]
    EXEC_COMMON = [
        ("enable", "enable"), ("enable <NUM>", "enable"), ("disable", "disable"),
        ("terminal length <NUM>", "term_len"), ("terminal width <NUM>", "term_width"),
        ("terminal monitor", "noop"), ("terminal no monitor", "noop"),
        ("exit", "logout"), ("logout", "logout"), ("quit", "logout"),
        ("show version", "show_version"), ("show clock", "show_clock"),
        ("show users", "show_users"), ("show privilege", "show_priv"),
        ("ping <WORD>", "noop"), ("traceroute <WORD>", "noop"), ("telnet <WORD>", "noop"),
        ("ssh <LINE>", "noop"), ("connect <WORD>", "noop"), ("clear <LINE>", "noop"),
        ("where", "noop"), ("systat", "show_users"),
    ]
    PRIV_ONLY = [
        ("configure", "configure_ask"), ("configure terminal", "configure"),
        ("configure memory", "noop"), ("configure network", "noop"),
        ("show running-config", "show_run"), ("show startup-config", "show_start"),
        ("write", "write_mem"), ("write memory", "write_mem"), ("write terminal", "show_run"),
        ("write erase", "noop"),
        ("copy {running-config|system:running-config} {startup-config|nvram:startup-config}", "copy_rs"),
        ("copy {startup-config|nvram:startup-config} {running-config|system:running-config}", "noop2"),
        ("copy running-config {flash:|tftp:|ftp:|scp:}", "noop1"),
        ("debug <LINE>", "noop"), ("reload", "noop"), ("dir", "noop"), ("verify <WORD>", "noop"),
        ("more <WORD>", "noop"),
    ]
    CONFIG = [
        ("hostname <WORD>", "hostname"),
        ("username <WORD> secret <LINE>", "user_secret"),
        ("username <WORD> password <LINE>", "user_password"),
        ("username <WORD> privilege <NUM> secret <LINE>", "user_priv_secret"),
        ("username <WORD> privilege <NUM> password <LINE>", "user_priv_password"),
        ("username <WORD> privilege <NUM>", "user_priv"),
        ("username <WORD> nopassword", "user_nopw"),
        ("username <WORD> privilege <NUM> nopassword", "user_priv_nopw"),
        ("no username <WORD>", "no_user"),
        ("enable secret <LINE>", "enable_secret"), ("enable password <LINE>", "enable_password"),
        ("no enable secret", "no_enable_secret"), ("no enable password", "no_enable_password"),
        ("service password-encryption", "noop"), ("no service password-encryption", "noop"),
        ("aaa new-model", "noop"), ("ip domain-name <WORD>", "noop"),
        ("line vty <NUM> <NUM>", "line"), ("line console <NUM>", "line1"),
        ("interface <LINE>", "noop"), ("end", "end"), ("exit", "config_exit"),
        ("do <LINE>", "do"),
    ]
    LINE_CFG = [
        ("password <LINE>", "line_password"), ("login", "noop"), ("login local", "noop"),
        ("no login", "noop"), ("transport input <LINE>", "noop"), ("exec-timeout <NUM> <NUM>", "noop2"),
        ("end", "end"), ("exit", "line_exit"), ("do <LINE>", "do"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "Branch-Office-Distribution-Router-01" if opts.long_hostname else "Router"

    def rules(self):
        return {"exec": self.EXEC_COMMON, "enable": self.EXEC_COMMON + self.PRIV_ONLY,
                "config": self.CONFIG, "config-line": self.LINE_CFG}

    def prompt(self):
        h = self.dev.hostname
        if self.mode == "exec":
            return h + ">"
        if self.mode == "enable":
            return h + "#"
        return "%s(%s)#" % (h[:20], self.mode)

    # -- login --
    def telnet_login(self):
        self.out("\n\nUser Access Verification\n\n")
        if self.opts.no_username:
            ok = self.login_loop("", "Password: ", "", "% Bad passwords\n\n", ask_user=False)
        else:
            ok = self.login_loop("Username: ", "Password: ", "\n% Login invalid\n\n", "\n% Login invalid\n\n")
        return ok

    def after_login(self):
        self.mode = "enable" if self.priv >= 15 else "exec"

    # -- errors --
    def err_invalid(self, line, m):
        self.out("%s\n%% Invalid input detected at '^' marker.\n\n" % self.caret(m.pos))

    def err_incomplete(self, line, m):
        self.out("% Incomplete command.\n\n")

    def err_ambiguous(self, line, m):
        self.out('%% Ambiguous command:  "%s"\n' % line.strip())

    def on_interrupt(self):
        self.out("\n")
        if self.mode.startswith("config"):
            self.mode = "enable"

    def on_ctrlz(self):
        if self.mode.startswith("config"):
            self.out("\n")
            self.mode = "enable"
        else:
            self.out("\n")

    # -- exec --
    def do_noop(self, *a):
        pass

    do_noop1 = do_noop2 = do_noop

    def do_logout(self):
        self.done = True

    def check_enable_pw(self, pw):
        run = self.dev.running
        if run.get("enable_secret") is not None:
            return pw == run["enable_secret"]
        return pw == run.get("enable_password")

    def do_enable(self, level=15):
        if self.mode != "exec":
            return
        run = self.dev.running
        if run.get("enable_secret") is None and run.get("enable_password") is None:
            self.out("% No password set\n")
            return
        for _ in range(3):
            pw = self.ask_secret("Password: ")
            if pw is None:
                return
            if self.check_enable_pw(pw):
                self.mode = "enable"
                return
        # "% Bad passwords" after a wrong enable password: Cisco Press, CCIE Security Exam
        # Certification Guide, Example 4-17; "% Bad secrets" kept for an enable secret.
        self.out("% Bad secrets\n\n" if run.get("enable_secret") is not None else "% Bad passwords\n\n")

    def do_disable(self):
        self.mode = "exec"

    def do_term_len(self, n):
        if n > 512:
            return self.err_invalid("", Match("invalid", pos=len("terminal length ")))
        self.set_paging(n)

    def do_term_width(self, n):
        pass

    def do_show_version(self):
        self.page_out("Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.2(4)M7, "
                      "RELEASE SOFTWARE (fc2)\nTechnical Support: http://www.cisco.com/techsupport\n"
                      "Copyright (c) 1986-2014 by Cisco Systems, Inc.\n\n%s uptime is 3 weeks, 2 days\n"
                      "Configuration register is 0x2102\n" % self.dev.hostname)

    def do_show_clock(self):
        self.out(datetime.datetime.utcnow().strftime("*%H:%M:%S.000 UTC %a %b %d %Y\n"))

    def do_show_users(self):
        self.out("    Line       User       Host(s)              Idle       Location\n"
                 "*  2 vty 0     %-10s idle                 00:00:00 127.0.0.1\n\n" % (self.user or ""))

    def do_show_priv(self):
        self.out("Current privilege level is %d\n" % (15 if self.mode == "enable" else 1))

    def config_text(self, cfg):
        lines = ["!", "! Last configuration change at 10:12:01 UTC Mon Mar 3 2025", "!",
                 "version 15.2", "service timestamps debug datetime msec",
                 "service timestamps log datetime msec", "service password-encryption", "!",
                 "hostname " + self.dev.hostname, "!", "boot-start-marker", "boot-end-marker", "!"]
        if cfg.get("enable_secret") is not None:
            lines.append("enable secret 5 " + fake_hash("$1$mERr$", cfg["enable_secret"]))
        if cfg.get("enable_password") is not None:
            lines.append("enable password 7 " + type7_encode(cfg["enable_password"]))
        lines += ["!", "aaa new-model", "!"]
        for name, u in sorted(cfg["users"].items()):
            p = "" if int(u.get("privilege", 1)) == 1 else " privilege %d" % int(u.get("privilege", 1))
            if u.get("password") is None:
                lines.append("username %s%s nopassword" % (name, p))
            elif u.get("type") == "password":
                lines.append("username %s%s password 7 %s" % (name, p, type7_encode(u["password"])))
            else:
                lines.append("username %s%s secret 9 %s" % (name, p, fake_hash("$9$", u["password"], 40)))
        lines += ["!", "ip domain name example.net", "ip ssh version 2", "!"]
        for i in range(24):
            lines += ["interface GigabitEthernet0/%d" % i, " description access port %d" % i,
                      " no ip address", " shutdown", "!"]
        lines += ["line con 0", " logging synchronous", "line vty 0 4"]
        if cfg.get("login_password") is not None:
            lines.append(" password 7 " + type7_encode(cfg["login_password"]))
        lines += [" login" if self.opts.no_username else " login local",
                  " transport input ssh telnet", "!", "end"]
        body = "\n".join(lines) + "\n"
        return body

    def do_show_run(self):
        body = self.config_text(self.dev.running)
        self.page_out("Building configuration...\n\nCurrent configuration : %d bytes\n%s"
                      % (len(body), body))

    def do_show_start(self):
        body = self.config_text(self.dev.state["startup"])
        self.page_out("Using %d out of 262136 bytes\n%s" % (len(body), body))

    def do_write_mem(self):
        self.out("Building configuration...\n")
        self.dev.save_startup()
        self.out("[OK]\n")

    def do_copy_rs(self, src, dst):
        ans = self.ask("Destination filename [startup-config]? ").strip()
        if ans not in ("", "startup-config", "nvram:startup-config"):
            self.out("%%Error opening nvram:%s (Permission denied)\n" % ans)
            return
        self.do_write_mem()

    def do_configure_ask(self):
        ans = self.ask("Configuring from terminal, memory, or network [terminal]? ").strip().lower()
        if ans in ("", "t", "te", "ter", "term", "termi", "termin", "termina", "terminal"):
            self.do_configure()
        else:
            self.out("?Must be \"terminal\", \"memory\" or \"network\"\n")

    def do_configure(self):
        self.out("Enter configuration commands, one per line.  End with CNTL/Z.\n")
        self.mode = "config"

    # -- config --
    def do_end(self):
        self.mode = "enable"

    def do_config_exit(self):
        self.mode = "enable"

    def do_line_exit(self):
        self.mode = "config"

    def do_line(self, a, b):
        self.mode = "config-line"

    def do_line1(self, a):
        self.mode = "config-line"

    def do_do(self, rest):
        saved = self.mode
        self.mode = "enable"
        try:
            self.dispatch(rest, "enable")
        finally:
            if self.mode == "enable" and not self.done:
                self.mode = saved

    def do_hostname(self, name):
        with self.dev.lock:
            self.dev.state["hostname"] = name
        self.dev.changed()

    def parse_pw(self, rest, kind):
        """IOS: the password is the rest of the line (embedded spaces allowed); an optional
        leading encryption-type digit (0 = cleartext, 7 = type 7 for 'password')."""
        m = re.match(r"^([0-9])\s+(.+)$", rest)
        if m:
            t, val = m.group(1), m.group(2)
            if t == "0":
                return val
            if t == "7" and kind == "password":
                dec = type7_decode(val)
                if dec is None:
                    self.out("Invalid encrypted password: %s\n" % "<pw>")
                return dec
            if t in "589" and kind == "secret":
                return {"hash": val}
            self.err_invalid("", Match("invalid", pos=0))
            return None
        return rest

    def set_user(self, name, rest, kind, priv=None):
        pw = self.parse_pw(rest, kind) if rest is not None else ""
        if pw is None:
            return
        if priv is not None and not 0 <= priv <= 15:
            self.out("%s\n%% Invalid input detected at '^' marker.\n\n" % self.caret(0))
            return
        with self.dev.lock:
            users = self.dev.running["users"]
            old = users.get(name, {})
            u = {"password": None if rest is None else pw if isinstance(pw, str) else None,
                 "privilege": priv if priv is not None else int(old.get("privilege", 1))}
            if isinstance(pw, dict):
                u["hash"] = pw["hash"]
            if kind == "password":
                u["type"] = "password"
            users[name] = u
        self.password_changed()

    def do_user_secret(self, name, rest):
        self.set_user(name, rest, "secret")

    def do_user_password(self, name, rest):
        self.set_user(name, rest, "password")

    def do_user_priv_secret(self, name, priv, rest):
        self.set_user(name, rest, "secret", priv)

    def do_user_priv_password(self, name, priv, rest):
        self.set_user(name, rest, "password", priv)

    def do_user_nopw(self, name):
        self.set_user(name, None, "secret")

    def do_user_priv_nopw(self, name, priv):
        self.set_user(name, None, "secret", priv)

    def do_user_priv(self, name, priv):
        with self.dev.lock:
            u = self.dev.running["users"].get(name)
            if u is None:
                self.out("% Incomplete command.\n\n")
                return
            u["privilege"] = priv
        self.dev.changed()

    def do_no_user(self, name):
        with self.dev.lock:
            self.dev.running["users"].pop(name, None)
        self.dev.changed()

    def do_enable_secret(self, rest):
        rest = re.sub(r"^level\s+\d+\s+", "", rest)
        pw = self.parse_pw(rest, "secret")
        if pw is None or isinstance(pw, dict):
            return
        if pw == self.dev.running.get("enable_password"):
            self.out("The enable secret you have chosen is the same as your enable password.\n"
                     "This is not recommended.  Re-enter the enable secret.\n\n")
            return
        with self.dev.lock:
            self.dev.running["enable_secret"] = pw
        self.password_changed()

    def do_enable_password(self, rest):
        rest = re.sub(r"^level\s+\d+\s+", "", rest)
        pw = self.parse_pw(rest, "password")
        if pw is None or isinstance(pw, dict):
            return
        if pw == self.dev.running.get("enable_secret"):
            self.out("The enable password you have chosen is the same as your enable secret.\n"
                     "This is not recommended.  Re-enter the enable password.\n\n")
            return
        with self.dev.lock:
            self.dev.running["enable_password"] = pw
        self.password_changed()

    def do_no_enable_secret(self):
        with self.dev.lock:
            self.dev.running["enable_secret"] = None
        self.dev.changed()

    def do_no_enable_password(self):
        with self.dev.lock:
            self.dev.running["enable_password"] = None
        self.dev.changed()

    def do_line_password(self, rest):
        pw = self.parse_pw(rest, "password")
        if pw is None or isinstance(pw, dict):
            return
        with self.dev.lock:
            self.dev.running["login_password"] = pw
        self.password_changed()


# ----------------------------------------------------------------------------
# Cisco ASA / PIX
# ----------------------------------------------------------------------------

class ASA(IOS):
    NAME = "asa"
    REDACT = [r"(\b(?:password|passwd|secret)\s+)(\S+)"]
    EXEC_COMMON = [
        ("enable", "enable"), ("disable", "disable"),
        ("terminal pager <NUM>", "term_len"), ("terminal pager lines <NUM>", "term_len"),
        ("terminal width <NUM>", "term_width"), ("exit", "logout"), ("logout", "logout"),
        ("quit", "logout"), ("show version", "show_version"), ("ping <WORD>", "noop"),
        ("traceroute <WORD>", "noop"), ("clear <LINE>", "noop"), ("show curpriv", "show_priv"),
    ]
    PRIV_ONLY = [
        ("configure terminal", "configure"), ("configure memory", "noop"),
        ("configure net <WORD>", "noop"), ("configure factory-default", "noop"),
        ("show running-config", "show_run"), ("show startup-config", "show_start"),
        ("write", "write_mem"), ("write memory", "write_mem"), ("write terminal", "show_run"),
        ("write erase", "noop"),
        ("copy {running-config|system:running-config} {startup-config|disk0:|flash:}", "copy_rs"),
        ("copy /noconfirm {running-config|system:running-config} {startup-config|disk0:|flash:}", "copy_rs_nc"),
        ("pager <NUM>", "term_len"), ("pager lines <NUM>", "term_len"),
        ("debug <LINE>", "noop"), ("reload", "noop"), ("dir", "noop"), ("capture <LINE>", "noop"),
    ]
    CONFIG = [
        ("hostname <WORD>", "hostname"),
        ("username <WORD> password <WORD>", "asa_user"),
        ("username <WORD> password <WORD> privilege <NUM>", "asa_user"),
        ("username <WORD> password <WORD> encrypted", "asa_user_enc"),
        ("username <WORD> password <WORD> encrypted privilege <NUM>", "asa_user_enc"),
        ("username <WORD> nopassword privilege <NUM>", "asa_user_nopw"),
        ("no username <WORD>", "no_user"),
        ("enable password <WORD>", "asa_enable"), ("enable password <WORD> level <NUM>", "asa_enable"),
        ("enable password <WORD> encrypted", "noop1"),
        ("passwd <WORD>", "asa_passwd"), ("password <WORD>", "asa_passwd"),
        ("passwd <WORD> encrypted", "noop1"),
        ("pager <NUM>", "term_len"), ("pager lines <NUM>", "term_len"), ("no pager", "no_pager"),
        ("terminal pager <NUM>", "term_len"), ("terminal pager lines <NUM>", "term_len"),
        ("aaa authentication {ssh|telnet|serial|enable|http} console <WORD>", "noop2"),
        ("ssh <LINE>", "noop"), ("telnet <LINE>", "noop"), ("interface <LINE>", "noop"),
        ("show running-config", "show_run"), ("show startup-config", "show_start"),
        ("write", "write_mem"), ("write memory", "write_mem"),
        ("copy {running-config|system:running-config} {startup-config|disk0:|flash:}", "copy_rs"),
        ("end", "end"), ("exit", "config_exit"), ("quit", "config_exit"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "ciscoasa"

    @classmethod
    def init_config(cls, run, opts):
        if run["enable_secret"] is not None:  # ASA has only "enable password"
            run["enable_password"], run["enable_secret"] = run["enable_secret"], None

    def rules(self):
        return {"exec": self.EXEC_COMMON, "enable": self.EXEC_COMMON + self.PRIV_ONLY,
                "config": self.CONFIG + self.EXEC_COMMON[1:]}

    def prompt(self):
        h = self.dev.hostname
        return {"exec": h + "> ", "enable": h + "# "}.get(self.mode, "%s(%s)# " % (h, self.mode))

    def more_prompt(self, shown, total):
        return "<--- More --->"

    def more_erase(self, shown, total):
        return "\r              \r"

    def more_key(self, k):
        if k == " ":
            return "page"
        if k in "\r\n":
            return "line"
        return "quit"

    def telnet_login(self):
        self.out("\n\nUser Access Verification\n\n")
        if self.opts.no_username:
            return self.login_loop("", "Password: ", "", "", ask_user=False)
        return self.login_loop("Username: ", "Password: ", "Login invalid\n", "")

    def after_login(self):
        self.out("Type help or '?' for a list of available commands.\n")
        self.mode = "exec"

    def err_invalid(self, line, m):
        self.out("%s\nERROR: %% Invalid input detected at '^' marker.\n" % self.caret(m.pos))

    def err_incomplete(self, line, m):
        self.out("ERROR: % Incomplete command\n")

    def err_ambiguous(self, line, m):
        self.out("ERROR: %% Ambiguous command:  \"%s\"\n" % line.strip())

    def do_term_len(self, n):
        if n > 512:
            return self.out("ERROR: % Invalid input detected at '^' marker.\n")
        self.set_paging(n)

    def do_no_pager(self):
        self.set_paging(0)

    def do_enable(self, level=15):
        if self.mode != "exec":
            return
        run = self.dev.running
        for i in range(3):
            try:
                pw = self.ask("Password: ", echo=False, mask="*")
            except Interrupt:
                self.out("\n")
                return
            want = run.get("enable_password")
            if (want is None and pw == "") or pw == want:
                self.mode = "enable"
                return
            self.out("Invalid password\n")
        self.out("Access denied.\n")

    def write_asa(self):
        self.out("Building configuration...\n")
        self.dev.save_startup()
        body = self.config_text(self.dev.running)
        self.out("Cryptochecksum: %s \n\n%d bytes copied in 0.260 secs\n"
                 % (" ".join(hashlib.md5(body.encode()).hexdigest()[i:i + 8] for i in range(0, 32, 8)),
                    len(body)))

    def do_write_mem(self):
        self.write_asa()
        self.out("[OK]\n")

    def do_copy_rs(self, src, dst):
        self.out("\n")
        ans = self.ask("Source filename [running-config]? ").strip()
        if ans not in ("", "running-config"):
            self.out("%%Error opening system:/%s (No such file or directory)\n" % ans)
            return
        self.write_asa()

    def do_copy_rs_nc(self, src, dst):
        self.write_asa()

    def config_text(self, cfg):
        lines = [": Saved", ":", "ASA Version 9.8(4)", "!", "hostname " + self.dev.hostname]
        if cfg.get("enable_password") is not None:
            lines.append("enable password %s encrypted" % fake_hash("", cfg["enable_password"], 16))
        if cfg.get("login_password") is not None:
            lines.append("passwd %s encrypted" % fake_hash("", cfg["login_password"], 16))
        lines += ["names", "!"]
        for i in range(8):
            lines += ["interface GigabitEthernet0/%d" % i, " nameif if%d" % i, " security-level 0",
                      " no ip address", "!"]
        for i in range(20):
            lines.append("access-list outside_in extended permit tcp any host 192.0.2.%d eq https" % (i + 1))
        lines.append("pager lines 24")
        for name, u in sorted(cfg["users"].items()):
            lines.append("username %s password %s encrypted privilege %d"
                         % (name, fake_hash("", u.get("password") or "", 16), int(u.get("privilege", 2))))
        lines += ["aaa authentication ssh console LOCAL", "ssh 0.0.0.0 0.0.0.0 inside",
                  "telnet 0.0.0.0 0.0.0.0 inside", ": end"]
        return "\n".join(lines) + "\n"

    def do_show_run(self):
        self.page_out(self.config_text(self.dev.running))

    def do_show_start(self):
        self.page_out(self.config_text(self.dev.state["startup"]))

    def do_configure(self):
        self.mode = "config"

    def do_asa_user(self, name, pw, priv=2):
        if not 0 <= priv <= 15:
            return self.out("ERROR: % Invalid input detected at '^' marker.\n")
        with self.dev.lock:
            self.dev.running["users"][name] = {"password": pw, "privilege": priv}
        self.password_changed()

    def do_asa_user_enc(self, name, pw, priv=2):
        with self.dev.lock:
            self.dev.running["users"][name] = {"password": None, "hash": pw, "privilege": priv}
        self.dev.changed()

    def do_asa_user_nopw(self, name, priv):
        with self.dev.lock:
            self.dev.running["users"][name] = {"password": "", "privilege": priv}
        self.dev.changed()

    def do_asa_enable(self, pw, level=15):
        with self.dev.lock:
            self.dev.running["enable_password"] = pw
        self.password_changed()

    def do_asa_passwd(self, pw):
        with self.dev.lock:
            self.dev.running["login_password"] = pw
        self.password_changed()

    def check_enable_pw(self, pw):
        return pw == self.dev.running.get("enable_password")


# ----------------------------------------------------------------------------
# Cisco CatOS
# ----------------------------------------------------------------------------

class CatOS(Session):
    NAME = "catos"
    DEFAULT_USER = False
    AUTOSAVE = True
    REDACT = [r"(\bpassword\s+)(\S+)"]
    NORMAL = [
        ("enable", "enable"), ("exit", "logout"), ("quit", "logout"), ("logout", "logout"),
        ("help", "help_cmd"), ("set length <NUM>", "set_length"), ("set length <NUM> default", "set_length"),
        ("show version", "show_version"), ("show users", "noop"), ("ping <WORD>", "noop"),
        ("history", "noop"), ("show system", "noop"),
    ]
    PRIV = [
        ("disable", "disable"), ("set password", "set_password"), ("set enablepass", "set_enablepass"),
        ("set localuser user <WORD> password <WORD>", "localuser"),
        ("set localuser user <WORD> password <WORD> privilege <NUM>", "localuser"),
        ("set localuser authentication {enable|disable}", "localauth"),
        ("clear localuser <WORD>", "clear_localuser"),
        ("set system name <WORD>", "sysname"), ("set prompt <WORD>", "sysname"),
        ("show config", "show_config"), ("show config all", "show_config"),
        ("show localuser", "show_localuser"), ("write terminal", "show_config"),
        ("copy config <WORD>", "noop1"), ("reset <WORD>", "noop1"), ("clear <LINE>", "noop"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "Console"

    @classmethod
    def init_config(cls, run, opts):
        run["local_auth"] = bool(opts.user) and not opts.no_username
        if run["login_password"] is None:
            run["login_password"] = ""
        if run["enable_secret"] is not None:
            run["enable_password"], run["enable_secret"] = run["enable_secret"], None
        if run["enable_password"] is None:
            run["enable_password"] = ""

    @classmethod
    def check_login(cls, dev, username, password):
        run = dev.running
        if run.get("local_auth") and not dev.opts.no_username:
            u = run["users"].get(username)
            return int(u.get("privilege", 1)) if u and u.get("password") == password else None
        return 1 if password == (run.get("login_password") or "") else None

    def rules(self):
        return {"exec": self.NORMAL, "enable": self.NORMAL + self.PRIV}

    def prompt(self):
        return self.dev.hostname + ("> (enable) " if self.mode == "enable" else "> ")

    def more_prompt(self, shown, total):
        return "--More--"

    def telnet_login(self):
        self.out("\n\nCisco Systems Console\n\n\n\n")
        if self.dev.running.get("local_auth") and not self.opts.no_username:
            return self.login_loop("Username: ", "Password: ", "Login incorrect\n\n")
        return self.login_loop("", "Enter password: ", "", ask_user=False)

    def after_login(self):
        self.mode = "exec"

    def unknown(self, word):
        self.out('Unknown command "%s".  Use \'help\' for more info.\n' % word)

    def err_invalid(self, line, m):
        self.unknown(line.strip() if m.index > 0 else m.word)

    def err_incomplete(self, line, m):
        self.out("Usage: %s ...\n" % line.strip())

    def err_ambiguous(self, line, m):
        self.unknown(m.word)

    def do_noop(self, *a):
        pass

    do_noop1 = do_noop

    def do_help_cmd(self):
        self.page_out("Commands:\n----------------------------------------\n"
                      "enable       Enable privileged mode\nexit         Exit from the Admin session\n"
                      "help         Show this help screen\nset          Set commands, use 'set help' for more info\n"
                      "show         Show commands, use 'show help' for more info\n")

    def do_logout(self):
        self.done = True

    def do_enable(self):
        if self.mode == "enable":
            return
        pw = self.ask_secret("\nEnter password: ")
        if pw is None:
            return
        if pw == (self.dev.running.get("enable_password") or ""):
            self.mode = "enable"
        else:
            self.out("Sorry password incorrect.\n")

    def do_disable(self):
        self.mode = "exec"

    def do_set_length(self, n, *a):
        self.set_paging(n)
        self.out("Screen length for this session set to %d.\n" % n if n else
                 "Screen length for this session set to 0.\n")

    def do_show_version(self):
        self.page_out("WS-C6506 Software, Version NmpSW: 8.4(5)\nCopyright (c) 1995-2006 by Cisco Systems\n"
                      "NMP S/W compiled on Mar 10 2006, 14:08:35\n\nSystem Bootstrap Version: 7.1(1)\n")

    def change_dialog(self, key, ok_msg):
        old = self.ask_secret("Enter old password: ")
        if old is None:
            return
        if old != (self.dev.running.get(key) or ""):
            self.out("Sorry password incorrect.\n")
            return
        new = self.ask_secret("Enter new password: ")
        if new is None:
            return
        again = self.ask_secret("Retype new password: ")
        if again is None:
            return
        if new != again:
            self.out("Sorry password incorrect.\n")
            return
        with self.dev.lock:
            self.dev.running[key] = new
        self.out(ok_msg)
        self.password_changed()

    def do_set_password(self):
        self.change_dialog("login_password", "Password changed.\n")

    def do_set_enablepass(self):
        self.change_dialog("enable_password", "Password changed.\n")

    def do_localuser(self, name, pw, priv=0):
        if priv not in (0, 15):
            return self.out("Usage: set localuser user <username> password <password> [privilege <level>]\n"
                            "       (level = 0 or 15)\n")
        with self.dev.lock:
            existed = name in self.dev.running["users"]
            self.dev.running["users"][name] = {"password": pw, "privilege": priv}
        self.out("Local user %s %s.\n" % (name, "modified" if existed else "added"))
        self.password_changed()

    def do_localauth(self, v):
        with self.dev.lock:
            self.dev.running["local_auth"] = (v == "enable")
        self.out("Local authentication %sd.\n" % v)
        self.dev.changed()

    def do_clear_localuser(self, name):
        with self.dev.lock:
            self.dev.running["users"].pop(name, None)
        self.dev.changed()

    def do_sysname(self, name):
        with self.dev.lock:
            self.dev.state["hostname"] = name
        self.out("System name set.\n")
        self.dev.changed()

    def do_show_localuser(self):
        self.out("Local User Authentication: %s\n\nUsername                         Privilege Level\n"
                 "--------                         ---------------\n"
                 % ("enabled" if self.dev.running.get("local_auth") else "disabled"))
        for n, u in sorted(self.dev.running["users"].items()):
            self.out("%-32s %d\n" % (n, int(u.get("privilege", 0))))

    def do_show_config(self, *a):
        cfg = self.dev.running
        lines = ["This command shows non-default configurations only.",
                 "Use 'show config all' to show both default and non-default configurations.", "",
                 "begin", "!", "# ***** NON-DEFAULT CONFIGURATION *****", "!", "#system",
                 "set system name  %s" % self.dev.hostname, "!", "#password",
                 "set password $2$FMFQ$%s" % fake_hash("", cfg.get("login_password"), 22),
                 "set enablepass $2$KB.k$%s" % fake_hash("", cfg.get("enable_password"), 22), "!"]
        for n, u in sorted(cfg["users"].items()):
            lines.append("set localuser user %s password $3$%s privilege %d"
                         % (n, fake_hash("", u.get("password"), 22), int(u.get("privilege", 0))))
        lines.append("set localuser authentication %s" % ("enable" if cfg.get("local_auth") else "disable"))
        for m in range(1, 4):
            for p in range(1, 17):
                lines.append("set port name %d/%d access-%d-%d" % (m, p, m, p))
        lines.append("end")
        self.page_out("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------
# HP ProCurve / ArubaOS-Switch
# ----------------------------------------------------------------------------

class ProCurve(Session):
    NAME = "procurve"
    QMARK_HELP = True
    QUOTES = True
    REDACT = [r"(\bplaintext\s+)(\"[^\"]*\"|\S+)"]
    OPERATOR = [
        ("enable", "enable"), ("exit", "exit"), ("logout", "logout"),
        ("show version", "show_version"), ("show system", "show_version"), ("ping <WORD>", "noop"),
        ("traceroute <WORD>", "noop"), ("terminal width <NUM>", "noop"), ("terminal length <NUM>", "term_len"),
        ("menu", "noop"), ("show interfaces", "noop"),
    ]
    MANAGER = [
        ("configure", "configure"), ("configure terminal", "configure"), ("no page", "no_page"),
        ("page", "page"), ("show running-config", "show_run"), ("show config", "show_start"),
        ("write memory", "write_mem"), ("write terminal", "show_run"), ("end", "noop"),
        ("copy <LINE>", "noop"), ("reload", "noop"), ("boot", "noop"),
    ]
    CONFIG = [
        ("password {manager|operator} user-name <WORD> plaintext <WORD>", "password"),
        ("password {manager|operator} user-name <WORD> {sha1|sha256} <WORD>", "password_hash"),
        ("no password {manager|operator|all}", "no_password"),
        ("hostname <WORD>", "hostname"), ("include-credentials", "noop"),
        ("interface <LINE>", "noop"), ("vlan <LINE>", "noop"),
        ("end", "end"), ("exit", "cfg_exit"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "ProCurve Switch 2510-24"

    # HP's Access Security Guide: a switch has exactly two local credentials, the Manager and the
    # Operator pair, each an optional user name and a password, set independently by
    # `password manager|operator [user-name N] plaintext P`. At login "the level of access ... will
    # be determined by which password is entered"; "if you configure only an Operator password,
    # entering the Operator password enables full manager privileges", and with neither anyone gets
    # manager access. `enable` from the operator level asks for the Manager pair.
    # State: running["levels"] = {"manager": {"name", "password"}, "operator": {...}} is the truth;
    # running["users"] is a view by name (privilege 15 / 1) for the tests' generic helpers.
    @classmethod
    def init_config(cls, run, opts):
        levels = {}
        for n, u in run["users"].items():
            which = "manager" if int(u.get("privilege", 15)) >= 15 else "operator"
            levels.setdefault(which, {"name": n, "password": u.get("password")})
        run["levels"] = levels
        cls.sync_users(run)

    @staticmethod
    def sync_users(run):
        users = {}
        for which, priv in (("operator", 1), ("manager", 15)):  # the manager wins a shared name
            slot = run["levels"].get(which)
            if slot:
                users[slot.get("name") or which] = {"password": slot.get("password"), "privilege": priv}
        run["users"] = users

    @staticmethod
    def has_password(slot):
        return bool(slot and (slot.get("password") or slot.get("hash")))

    @classmethod
    def check_login(cls, dev, username, password):
        levels = dev.running.get("levels", {})
        mgr, op = levels.get("manager"), levels.get("operator")
        if not cls.has_password(mgr) and not cls.has_password(op):
            return 15
        for slot, priv in ((mgr, 15), (op, 1)):
            if not slot or slot.get("password") is None or slot["password"] != password:
                continue
            if not dev.opts.no_username and (slot.get("name") or "") != username:
                continue
            # Only an operator password set: the operator gets manager privileges.
            return 15 if priv == 1 and not cls.has_password(mgr) else priv
        return None

    def rules(self):
        return {"exec": self.OPERATOR, "enable": self.OPERATOR + self.MANAGER,
                "config": self.CONFIG + self.OPERATOR[1:] + self.MANAGER[2:]}

    def prompt(self):
        h = self.dev.hostname
        return {"exec": h + "> ", "enable": h + "# "}.get(self.mode, "%s(%s)# " % (h, self.mode))

    def more_prompt(self, shown, total):
        return "-- MORE --, next page: Space, next line: Enter, quit: Control-C"

    def more_erase(self, shown, total):
        return "\x1b[2K\r"

    def more_key(self, k):
        if k == "\x03" or k in "qQ":
            return "quit"
        return "line" if k in "\r\n" else "page"

    def telnet_login(self):
        if self.opts.no_username:
            return self.login_loop("", "Password: ", "Invalid password\n\n", ask_user=False)
        return self.login_loop("Username: ", "Password: ", "Invalid password\n\n")

    def after_login(self):
        self.out("\x1b[?6l\x1b[1;24r\x1b[?7h\x1b[2J\x1b[1;1H\x1b[1920;1920H\x1b[6n\x1b[1;1H"
                 "HP ProCurve J9019B Switch 2510B-24\nSoftware revision Q.11.17\n\n"
                 "Copyright (C) 1991-2008 Hewlett-Packard Co.  All Rights Reserved.\n\n"
                 "                           RESTRICTED RIGHTS LEGEND\n\n"
                 " Use, duplication, or disclosure by the Government is subject to restrictions\n"
                 " as set forth in subdivision (b) (3) (ii) of the Rights in Technical Data and\n"
                 " Computer Software clause at 52.252.227-7013.\n\n"
                 "         HEWLETT-PACKARD COMPANY, 3000 Hanover St., Palo Alto, CA 94303\n\n"
                 "We'd like to keep you up to date about:\n  * Software feature updates\n"
                 "  * New product announcements\n  * Special events\n\n"
                 "Please register your products now at:  www.ProCurve.com\n\n\n\n"
                 "Press any key to continue")
        self.io.getch()
        self.out("\x1b[2J\x1b[?7l\x1b[3;23r\x1b[?6l\x1b[1;1H\x1b[?25h\n")
        self.mode = "enable" if self.priv >= 15 else "exec"
        self.via_enable = False

    def err_invalid(self, line, m):
        self.out("Invalid input: %s\n" % m.word)

    def err_incomplete(self, line, m):
        self.out("Incomplete input: %s\n" % m.word)

    def err_ambiguous(self, line, m):
        self.out("Ambiguous input: %s\n" % m.word)

    def do_noop(self, *a):
        pass

    def do_enable(self):
        if self.mode != "exec":
            return
        mgr = self.dev.running.get("levels", {}).get("manager")
        if not self.has_password(mgr):
            self.mode, self.via_enable = "enable", True
            return
        for _ in range(3):
            try:
                name = self.ask("Username: ").strip() if mgr.get("name") and not self.opts.no_username else mgr.get("name")
                pw = self.ask("Password: ", echo=False)
            except Interrupt:
                self.out("\n")
                return
            if name == mgr.get("name") and pw == mgr.get("password"):
                self.mode, self.via_enable = "enable", True
                return
            self.out("Invalid password\n")

    def do_term_len(self, n):
        self.set_paging(n)

    def do_no_page(self):
        if self.opts.paging_stays_on:
            return
        self.paging = False

    def do_page(self):
        self.paging = True

    def do_configure(self):
        self.mode = "config"

    def do_end(self):
        self.mode = "enable"

    def do_cfg_exit(self):
        self.mode = "enable"

    def do_exit(self):
        if self.mode == "enable" and self.via_enable:
            self.mode = "exec"
            return
        self.do_logout()

    def do_logout(self):
        while True:
            a = self.ask("Do you want to log out [y/n]? ").strip().lower()
            if a in ("y", "yes"):
                break
            if a in ("n", "no"):
                return
        if self.dev.unsaved():
            while True:
                a = self.ask("Do you want to save current configuration [y/n/^C]? ").strip().lower()
                if a in ("y", "yes"):
                    self.dev.save_startup()
                    break
                if a in ("n", "no"):
                    break
        self.done = True

    def on_interrupt(self):
        self.out("\n")

    def do_show_version(self):
        self.page_out("Image stamp:    /sw/code/build/btm(t3a)\n               Jul 13 2010 13:40:34\n"
                      "               Q.11.17\n               1223\nBoot Image:     Primary\n")

    def config_text(self, cfg):
        lines = ["; J9019B Configuration Editor; Created on release #Q.11.17", ";", "",
                 'hostname "%s"' % self.dev.hostname, 'snmp-server community "public" Unrestricted',
                 "vlan 1", '   name "DEFAULT_VLAN"', "   untagged 1-28", "   ip address dhcp-bootp",
                 "   exit"]
        for i in range(1, 25):
            lines += ["interface %d" % i, '   name "port-%02d"' % i, "   exit"]
        lines += ["spanning-tree", "password manager", "password operator"]
        return "\n".join(lines) + "\n"

    def do_show_run(self):
        self.page_out("\nRunning configuration:\n\n" + self.config_text(self.dev.running))

    def do_show_start(self):
        self.page_out("\nStartup configuration:\n\n" + self.config_text(self.dev.state["startup"]))

    def do_write_mem(self):
        self.dev.save_startup()

    def do_hostname(self, name):
        with self.dev.lock:
            self.dev.state["hostname"] = name
        self.dev.changed()

    def set_account(self, which, name, entry):
        # Sets that level's pair only: the other level keeps its own name and password.
        with self.dev.lock:
            entry["name"] = name
            self.dev.running.setdefault("levels", {})[which] = entry
            self.sync_users(self.dev.running)

    def do_password(self, which, name, pw):
        self.set_account(which, name, {"password": pw})
        self.password_changed()

    def do_password_hash(self, which, name, alg, h):
        self.set_account(which, name, {"password": None, "hash": h})
        self.dev.changed()

    def do_no_password(self, which):
        with self.dev.lock:
            levels = self.dev.running.setdefault("levels", {})
            for w in ("manager", "operator"):
                if which in ("all", w):
                    levels.pop(w, None)
            self.sync_users(self.dev.running)
        self.dev.changed()


# ----------------------------------------------------------------------------
# HP iLO SMASH CLP
# ----------------------------------------------------------------------------

class ILO(Session):
    NAME = "ilo"
    AUTOSAVE = True
    NO_USERNAME_OK = False
    REDACT = [r"(\bpassword=)(\"[^\"]*\"|\S+)"]
    VERBS = ("cd", "show", "set", "create", "delete", "exit", "help", "version", "start", "stop",
             "reset", "oemhp_loadsshkey", "oemhp_deletesshkey")

    @classmethod
    def default_hostname(cls, opts):
        return "ILOMXQ12345AB"

    def prompt(self):
        return "</>hpiLO-> "

    def more_prompt(self, shown, total):
        return "-- More --"

    def telnet_login(self):
        self.out("\nLights-Out 100 Management\nCopyright 2005-2016 Hewlett Packard Enterprise Development LP\n\n")
        return self.login_loop("Login Name:  ", "Password:  ", "Invalid login.\n\n")

    def after_login(self):
        self.paging = False
        self.out("\nUser:%s logged-in to %s.(127.0.0.1 / FE80::9A4B:E1FF:FE5A:1F2C)\n\n"
                 "iLO 4 Advanced 2.55 at  Aug 16 2017\nServer Name: %s\nServer Power: On\n\n"
                 % (self.user, self.dev.hostname, self.dev.hostname.lower()))

    def status(self, code=0, error=None, extra=""):
        now = datetime.datetime.utcnow().strftime("%a %b %d %H:%M:%S %Y")
        if code == 0:
            self.out("status=0\nstatus_tag=COMMAND COMPLETED\n%s\n\n%s\n\n" % (now, extra))
        else:
            self.out("status=%d\nstatus_tag=COMMAND PROCESSING FAILED\nerror_tag=%s\n%s\n\n%s\n\n"
                     % (code, error, now, extra))

    def err_invalid(self, line, m):
        self.status(2, "COMMAND NOT RECOGNIZED")

    def read_command(self):
        return self.readline()

    def dispatch(self, line, mode):
        toks = tokenize(line, True)
        verb = toks[0].text.lower()
        if verb not in self.VERBS:
            return self.status(2, "COMMAND NOT RECOGNIZED")
        target, props = None, {}
        for t in toks[1:]:
            raw = t.text
            if t.quoted or "=" not in raw:
                if target is None and not t.quoted:
                    target = raw
                continue
            k, v = raw.split("=", 1)
            props[k.lower()] = v
        # quoted values: key="a b" tokenizes as key=... ; re-parse from the raw line
        for m in re.finditer(r'(\w+)="([^"]*)"', line):
            props[m.group(1).lower()] = m.group(2)
        users = self.dev.running["users"]
        tgt = (target or "/").rstrip("/") or "/"
        if tgt.lower().startswith("/map1/accounts1"):
            sub = tgt[len("/map1/accounts1"):].lstrip("/")
        else:
            sub = None
        if verb == "exit":
            self.done = True
            return
        if verb in ("help", "version"):
            return self.status(0, extra="SM-CLP Version 1.0" if verb == "version" else
                               "Verbs: cd show set create delete exit help version start stop reset")
        if verb == "cd":
            return self.status(0, extra="/%s" % (target or "").strip("/"))
        if verb == "show":
            if tgt in ("/", "/map1"):
                return self.status(0, extra="%s\n  Targets\n    accounts1\n    enetport1\n    firmware1\n"
                                             "  Properties\n  Verbs\n    cd version exit show set" % tgt)
            if sub == "":
                names = "\n".join("    " + n for n in users)
                return self.status(0, extra="/map1/accounts1\n  Targets\n%s\n  Properties\n  Verbs\n"
                                            "    cd version exit show create delete set" % names)
            if sub and sub in users:
                u = users[sub]
                return self.status(0, extra="/map1/accounts1/%s\n  Targets\n  Properties\n    username=%s\n"
                                            "    password=******\n    name=%s\n    group=%s\n  Verbs\n"
                                            "    cd version exit show set delete"
                                   % (sub, sub, sub, "admin,config,oemhp_vm,oemhp_rc,oemhp_power"
                                      if int(u.get("privilege", 15)) >= 15 else "oemhp_vm"))
            return self.status(2, "INVALID TARGET")
        if verb == "set":
            if not sub or sub not in users:
                return self.status(2, "INVALID TARGET" if sub is None or sub not in users else
                                   "COMMAND ERROR-UNSPECIFIED")
            if not props:
                return self.status(2, "COMMAND ERROR-UNSPECIFIED", extra="No property specified.")
            bad = [k for k in props if k not in ("password", "name", "username", "group")]
            if bad:
                return self.status(2, "INVALID OPTION", extra="Unknown property: %s" % bad[0])
            with self.dev.lock:
                u = users[sub]
                if "password" in props:
                    u["password"] = props["password"]
                if "group" in props:
                    u["privilege"] = 15 if "admin" in props["group"] else 1
                if "username" in props and props["username"] != sub:
                    users[props["username"]] = users.pop(sub)
            self.status(0)
            if "password" in props:
                self.password_changed()
            else:
                self.dev.changed()
            return
        if verb == "create":
            if sub != "" or "username" not in props or "password" not in props:
                return self.status(2, "COMMAND ERROR-UNSPECIFIED")
            with self.dev.lock:
                users[props["username"]] = {"password": props["password"],
                                            "privilege": 15 if "admin" in props.get("group", "") else 1}
            self.status(0)
            return self.password_changed()
        if verb == "delete":
            if not sub or sub not in users:
                return self.status(2, "INVALID TARGET")
            with self.dev.lock:
                del users[sub]
            self.status(0)
            return self.dev.changed()
        return self.status(2, "COMMAND ERROR-UNSPECIFIED")


# ----------------------------------------------------------------------------
# Juniper ScreenOS
# ----------------------------------------------------------------------------

class ScreenOS(Session):
    NAME = "screenos"
    QUOTES = True
    NO_USERNAME_OK = False
    REDACT = [r"(\bpassword\s+)(\"[^\"]*\"|\S+)"]
    PAGE_LEN = 22
    RULES = [
        ("set console page <NUM>", "page"),
        ("set admin password <WORD>", "admin_password"),
        ("set admin name <WORD>", "admin_name"),
        ("set admin user <WORD> password <WORD>", "admin_user"),
        ("set admin user <WORD> password <WORD> privilege {all|read-only}", "admin_user"),
        ("unset admin user <WORD>", "unset_user"),
        ("set hostname <WORD>", "hostname"),
        ("set interface <LINE>", "noop"), ("set policy <LINE>", "noop"), ("set route <LINE>", "noop"),
        ("save", "save"), ("save config", "save"), ("save config to flash", "save"),
        ("get config", "get_config"), ("get system", "get_system"), ("get admin", "get_admin"),
        ("get admin user", "get_admin"), ("exit", "exit"), ("unset console page", "unset_page"),
        ("reset", "noop"), ("ping <WORD>", "noop"), ("clear <LINE>", "noop"), ("exec <LINE>", "noop"),
        ("delete <LINE>", "noop"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "ssg5"

    @classmethod
    def init_config(cls, run, opts):
        for i, n in enumerate(run["users"]):
            run["users"][n]["root"] = (i == 0)

    def rules(self):
        return {"exec": self.RULES}

    def prompt(self):
        return self.dev.hostname + "-> "

    def more_prompt(self, shown, total):
        return "--- more --- "

    def more_key(self, k):
        if k in "qQ\x03":
            return "quit"
        return "line" if k in "\r\n" else "page"

    def telnet_login(self):
        self.out("Remote Management Console\n")
        return self.login_loop("login: ", "password: ", "### Login failed\n")

    def after_login(self):
        self.mode = "exec"

    def err_invalid(self, line, m):
        self.out("%s-----unknown keyword %s\n" % (self.caret(m.pos), m.word))

    def err_incomplete(self, line, m):
        self.out("%s-----incomplete command\n" % self.caret(m.pos))

    def err_ambiguous(self, line, m):
        self.out("%s-----ambiguous keyword %s\n" % (self.caret(m.pos), m.word))

    def do_noop(self, *a):
        pass

    def do_page(self, n):
        self.set_paging(n)

    def do_unset_page(self):
        pass

    def root(self):
        users = self.dev.running["users"]
        for n, u in users.items():
            if u.get("root"):
                return n
        return next(iter(users), None)

    def do_admin_password(self, pw):
        with self.dev.lock:
            r = self.root()
            if r is None:
                r = "netscreen"
                self.dev.running["users"][r] = {"privilege": 15, "root": True}
            self.dev.running["users"][r]["password"] = pw
        self.password_changed()

    def do_admin_name(self, name):
        with self.dev.lock:
            users = self.dev.running["users"]
            r = self.root()
            entry = users.pop(r) if r else {"password": "netscreen", "privilege": 15}
            entry["root"] = True
            users[name] = entry
        self.dev.changed()

    def do_admin_user(self, name, pw, priv="all"):
        with self.dev.lock:
            users = self.dev.running["users"]
            if users.get(name, {}).get("root"):
                self.out("Name already in use by root admin\n")
                return
            users[name] = {"password": pw, "privilege": 15 if priv == "all" else 1, "root": False}
        self.password_changed()

    def do_unset_user(self, name):
        with self.dev.lock:
            u = self.dev.running["users"].get(name)
            if u and not u.get("root"):
                del self.dev.running["users"][name]
        self.dev.changed()

    def do_hostname(self, name):
        with self.dev.lock:
            self.dev.state["hostname"] = name
        self.dev.changed()

    def do_save(self):
        self.dev.save_startup()

    def do_get_system(self):
        self.page_out("Product Name: SSG5-Serial\nSerial Number: 0168102006001234, Control Number: 00000000\n"
                      "Hardware Version: 0710(0)-(00), FPGA checksum: 00000000, VLAN1 IP (0.0.0.0)\n"
                      "Software Version: 6.3.0r12.0, Type: Firewall+VPN\n")

    def do_get_admin(self):
        self.out("Administrator: %s\n" % ", ".join(self.dev.running["users"]))

    def do_get_config(self):
        cfg = self.dev.running
        lines = ["set clock timezone 0", "set vrouter trust-vr sharable", 'set vrouter "untrust-vr"',
                 "exit", 'set vrouter "trust-vr"', "unset auto-route-export", "exit",
                 "set alg appleichat enable", "set auth-server \"Local\" id 0",
                 "set auth-server \"Local\" server-name \"Local\"", "set auth default auth server \"Local\"",
                 'set admin name "%s"' % (self.root() or "netscreen"),
                 'set admin password "%s"' % fake_hash("n", (cfg["users"].get(self.root() or "") or {})
                                                       .get("password"), 29)]
        for n, u in cfg["users"].items():
            if not u.get("root"):
                lines.append('set admin user "%s" password "%s" privilege "%s"'
                             % (n, fake_hash("n", u.get("password"), 29),
                                "all" if int(u.get("privilege", 15)) >= 15 else "read-only"))
        lines.append('set hostname %s' % self.dev.hostname)
        for i in range(30):
            lines.append('set address "Trust" "host-%d" 10.0.0.%d 255.255.255.255' % (i, i + 1))
        lines.append("set policy id 1 from \"Trust\" to \"Untrust\"  \"Any\" \"Any\" \"ANY\" permit")
        body = "\n".join(lines) + "\n"
        self.page_out("Total Config size %d:\n%s" % (len(body), body))

    def do_exit(self):
        if self.dev.unsaved():
            while True:
                a = self.ask("Configuration modified, save? [y]/n ").strip().lower()
                if a in ("", "y", "yes"):
                    self.dev.save_startup()
                    break
                if a in ("n", "no"):
                    break
        self.done = True


# ----------------------------------------------------------------------------
# Juniper JunOS
# ----------------------------------------------------------------------------

class JunOS(Session):
    NAME = "junos"
    QUOTES = True
    NO_USERNAME_OK = False
    REDACT = [r"(\bencrypted-password\s+)(\"[^\"]*\"|\S+)"]
    OPER = [
        ("configure", "configure"), ("configure private", "configure"), ("configure exclusive", "configure"),
        ("set cli screen-length <NUM>", "screen_length"), ("set cli screen-width <NUM>", "screen_width"),
        ("set cli complete-on-space {on|off}", "complete_on_space"),
        ("set cli terminal <WORD>", "noop"), ("set cli timestamp", "noop"),
        ("show configuration", "show_configuration"), ("show configuration system login", "show_configuration"),
        ("show version", "show_version"), ("show system users", "show_users"), ("show cli", "noop"),
        ("show interfaces terse", "noop"), ("show chassis hardware", "noop"),
        ("exit", "logout"), ("quit", "logout"), ("ping <WORD>", "noop"), ("traceroute <WORD>", "noop"),
        ("request <LINE>", "noop"), ("clear <LINE>", "noop"), ("file <LINE>", "noop"),
        ("help <LINE>", "noop"), ("monitor <LINE>", "noop"), ("start shell", "noop"),
    ]
    CONF = [
        ("set system login user <WORD> authentication plain-text-password", "plain_text"),
        ("set system login user <WORD> authentication encrypted-password <WORD>", "encrypted"),
        ("set system login user <WORD> class <WORD>", "user_class"),
        ("set system login user <WORD> uid <NUM>", "noop2"),
        ("set system login user <WORD> full-name <WORD>", "noop2"),
        ("set system host-name <WORD>", "host_name"),
        ("set system root-authentication plain-text-password", "root_plain_text"),
        ("set interfaces <LINE>", "noop"), ("set protocols <LINE>", "noop"),
        ("delete system login user <WORD>", "delete_user"),
        ("delete system login user <WORD> authentication", "delete_auth"),
        ("commit", "commit"), ("commit check", "commit_check"), ("commit and-quit", "commit_quit"),
        ("commit confirmed", "commit_confirmed"), ("commit confirmed <NUM>", "commit_confirmed"),
        ("commit comment <WORD>", "commit1"), ("commit synchronize", "commit"),
        ("rollback", "rollback"), ("rollback <NUM>", "rollback"),
        ("show", "show_candidate"), ("show system login", "show_candidate"),
        ("show | compare", "compare"), ("show | display set", "display_set"),
        ("exit", "exit_config"), ("exit configuration-mode", "exit_config"), ("quit", "exit_config"),
        ("top", "noop"), ("up", "noop"), ("edit <LINE>", "noop"), ("status", "noop"),
        ("run <LINE>", "run"),
    ]

    @classmethod
    def default_hostname(cls, opts):
        return "router"

    @classmethod
    def init_config(cls, run, opts):
        for u in run["users"].values():
            u["class"] = "super-user" if int(u.get("privilege", 15)) >= 15 else "read-only"

    @classmethod
    def check_login(cls, dev, username, password):
        if username == "root" and "root" not in dev.running["users"]:
            rp = dev.running.get("root_password")
            return 15 if rp is not None and rp == password else None
        u = dev.running["users"].get(username)
        if not u:
            return None
        if u.get("password") is not None:
            ok = u["password"] == password
        elif u.get("hash") and _crypt:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok = _crypt.crypt(password, u["hash"]) == u["hash"]
        else:
            ok = False
        return int(u.get("privilege", 1)) if ok else None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.complete_on_space = True
        self.confirm_timer = None

    def rules(self):
        return {"exec": self.OPER, "config": self.CONF}

    def prompt(self):
        if self.mode == "config":
            return "\n[edit]\n%s@%s# " % (self.user, self.dev.hostname)
        return "\n%s@%s> " % (self.user, self.dev.hostname)

    def more_prompt(self, shown, total):
        if shown * 100 // total >= 100:
            return "---(more)---"
        return "---(more %d%%)---" % (shown * 100 // total)

    def more_erase(self, shown, total):
        return "\r" + " " * len(self.more_prompt(shown, total)) + "\r"

    def telnet_login(self):
        self.out("\n\n%s (ttyp0)\n\n" % self.dev.hostname)
        return self.login_loop("login: ", "Password:", "Login incorrect\n")

    def after_login(self):
        self.out("--- JUNOS 12.3R12.4 built 2016-01-20 05:02:58 UTC\n")
        self.mode = "exec"

    def read_command(self):
        return self.readline(complete=self.complete, space_complete=self.complete_on_space)

    def err_invalid(self, line, m):
        if self.mode == "exec" and m.index == 0:
            self.out("%s\nunknown command.\n" % self.caret(m.pos))
        else:
            self.out("%s\nsyntax error.\n" % self.caret(m.pos))

    def err_incomplete(self, line, m):
        self.out("%s\nsyntax error, expecting <command>.\n" % self.caret(m.pos))

    def err_ambiguous(self, line, m):
        self.out("%s\n'%s' is ambiguous.\nPossible completions:\n%s"
                 % (self.caret(m.pos), m.word, "".join("  %-20s\n" % o for o in m.options)))

    def do_noop(self, *a):
        pass

    do_noop2 = do_noop

    def do_logout(self):
        self.done = True

    def do_screen_length(self, n):
        self.set_paging(n)
        self.out("Screen length set to %d\n" % n)

    def do_screen_width(self, n):
        self.out("Screen width set to %d\n" % n)

    def do_complete_on_space(self, v):
        self.complete_on_space = (v == "on")
        self.out("Enabling complete-on-space\n" if v == "on" else "Disabling complete-on-space\n")

    def do_show_version(self):
        self.page_out("Hostname: %s\nModel: mx480\nJUNOS Base OS boot [12.3R12.4]\n" % self.dev.hostname)

    def do_show_users(self):
        self.out("USER     TTY      FROM                              LOGIN@  IDLE WHAT\n"
                 "%-8s pts/0    127.0.0.1                         10:00AM     - -cli (cli)\n" % self.user)

    def config_text(self, cfg):
        lines = ["## Last commit: 2025-03-03 10:00:00 UTC by %s" % self.user, "version 12.3R12.4;",
                 "system {", "    host-name %s;" % self.dev.hostname, "    login {"]
        for n, u in sorted(cfg["users"].items()):
            lines += ["        user %s {" % n, "            uid %d;" % (2000 + len(n)),
                      "            class %s;" % u.get("class", "unauthorized"), "            authentication {",
                      '                encrypted-password "%s"; ## SECRET-DATA' % self.hash_of(u),
                      "            }", "        }"]
        lines += ["    }", "    services {", "        ssh;", "        telnet;", "    }", "}", "interfaces {"]
        for i in range(12):
            lines += ["    ge-0/0/%d {" % i, "        unit 0 {", "            family inet {",
                      "                address 10.%d.0.1/24;" % i, "            }", "        }", "    }"]
        lines.append("}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def hash_of(u):
        return u.get("hash") or fake_hash("$6$emu$", u.get("password"), 86)

    def do_show_configuration(self):
        self.page_out(self.config_text(self.dev.running))

    def candidate(self):
        return self.dev.state.setdefault("candidate", copy.deepcopy(self.dev.running))

    def do_configure(self):
        self.out("Entering configuration mode\n")
        if self.candidate() != self.dev.running:
            self.out("The configuration has been changed but not committed\n")
        self.mode = "config"

    def cand_changed(self):
        self.dev.persist()

    def do_root_plain_text(self):
        # JunOS keeps root's password apart from the login users (`system root-authentication`),
        # set at the same New/Retype prompts.
        self.do_plain_text(None)

    def do_plain_text(self, name):
        try:
            p1 = self.ask("New password:", echo=False)
            if len(p1) < 6:
                self.out("error: minimum password length is 6\n")
                return
            if pw_classes(p1) < 2:
                self.out("error: require change of case, digits or punctuation\n")
                return
            p2 = self.ask("Retype new password:", echo=False)
        except Interrupt:
            self.out("\n")
            return
        if p1 != p2:
            self.out("error: Passwords are not equal; aborting\n")
            return
        with self.dev.lock:
            if name is None:
                self.candidate()["root_password"] = p1
            else:
                u = self.candidate()["users"].setdefault(name, {"privilege": 1})
                u["password"] = p1
                u.pop("hash", None)
        self.cand_changed()

    def do_encrypted(self, name, h):
        with self.dev.lock:
            u = self.candidate()["users"].setdefault(name, {"privilege": 1})
            u["password"], u["hash"] = None, h
        self.cand_changed()

    def do_user_class(self, name, cls):
        with self.dev.lock:
            u = self.candidate()["users"].setdefault(name, {"password": None})
            u["class"] = cls
            u["privilege"] = 15 if cls == "super-user" else 1
        self.cand_changed()

    def do_host_name(self, name):
        with self.dev.lock:
            self.candidate()["host_name"] = name
        self.cand_changed()

    def do_delete_user(self, name):
        with self.dev.lock:
            if self.candidate()["users"].pop(name, None) is None:
                self.out("warning: statement not found\n")
        self.cand_changed()

    def do_delete_auth(self, name):
        with self.dev.lock:
            u = self.candidate()["users"].get(name)
            if u:
                u["password"] = None
                u.pop("hash", None)
        self.cand_changed()

    def check_candidate(self):
        for n, u in sorted(self.candidate()["users"].items()):
            if not u.get("class"):
                self.out("[edit system login user %s]\n  'class'\n    Missing mandatory statement: 'class'\n"
                         "error: configuration check-out failed: (missing mandatory statements)\n" % n)
                return False
        return True

    def do_commit_check(self):
        if self.check_candidate():
            self.out("configuration check succeeds\n")

    def do_commit1(self, *a):
        self.do_commit()

    def do_commit(self, quiet=False):
        if not self.check_candidate():
            return False
        if self.confirm_timer:
            self.confirm_timer.cancel()
            self.confirm_timer = None
        with self.dev.lock:
            cand = self.candidate()
            pw_change = any(cand["users"].get(n, {}).get("password") != u.get("password") or
                            cand["users"].get(n, {}).get("hash") != u.get("hash")
                            for n, u in self.dev.running["users"].items()) or \
                set(cand["users"]) != set(self.dev.running["users"]) or \
                cand.get("root_password") != self.dev.running.get("root_password")
            if cand.get("host_name"):
                self.dev.state["hostname"] = cand["host_name"]
            self.dev.state["running"] = copy.deepcopy(cand)
            self.dev.state["startup"] = copy.deepcopy(cand)
            self.dev.state["saves"] += 1
        self.out("commit complete\n")
        if pw_change:
            self.password_changed()
        else:
            self.dev.persist()
        return True

    def do_commit_confirmed(self, minutes=10):
        with self.dev.lock:
            previous = copy.deepcopy(self.dev.running)
        if not self.check_candidate():
            return
        self.out("configuration check succeeds\n")
        self.do_commit()
        self.out("commit confirmed will be automatically rolled back in %d minutes unless confirmed\n"
                 % minutes)

        def rollback():
            with self.dev.lock:
                self.dev.state["running"] = copy.deepcopy(previous)
                self.dev.state["startup"] = copy.deepcopy(previous)
                self.dev.state["candidate"] = copy.deepcopy(previous)
                self.dev.persist()
        self.confirm_timer = threading.Timer(minutes * 60, rollback)
        self.confirm_timer.daemon = True
        self.confirm_timer.start()

    def do_commit_quit(self):
        if self.do_commit():
            self.out("Exiting configuration mode\n")
            self.mode = "exec"

    def do_rollback(self, n=0):
        if n != 0:
            self.out("error: Cannot find rollback %d\n" % n if n > 49 else "load complete\n")
            if n > 49:
                return
        with self.dev.lock:
            self.dev.state["candidate"] = copy.deepcopy(self.dev.running)
        self.cand_changed()
        if n == 0:
            self.out("load complete\n")

    def do_show_candidate(self):
        self.page_out(self.config_text(self.candidate()))

    def do_display_set(self):
        out = []
        for n, u in sorted(self.candidate()["users"].items()):
            out.append("set system login user %s class %s" % (n, u.get("class", "unauthorized")))
            out.append('set system login user %s authentication encrypted-password "%s"' % (n, self.hash_of(u)))
        self.page_out("\n".join(out) + "\n")

    def do_compare(self):
        old, new = self.dev.running["users"], self.candidate()["users"]
        out = []
        for n in sorted(set(old) | set(new)):
            a, b = old.get(n), new.get(n)
            if a == b:
                continue
            if a is None:
                out += ["[edit system login]", "+    user %s {" % n,
                        "+        class %s;" % b.get("class", "unauthorized"),
                        "+        authentication {",
                        '+            encrypted-password "%s"; ## SECRET-DATA' % self.hash_of(b),
                        "+        }", "+    }"]
            elif b is None:
                out += ["[edit system login]", "-    user %s {" % n, "-        class %s;" % a.get("class"),
                        "-    }"]
            else:
                if a.get("class") != b.get("class"):
                    out += ["[edit system login user %s]" % n, "-    class %s;" % a.get("class"),
                            "+    class %s;" % b.get("class")]
                if self.hash_of(a) != self.hash_of(b):
                    out += ["[edit system login user %s authentication]" % n,
                            '-    encrypted-password "%s"; ## SECRET-DATA' % self.hash_of(a),
                            '+    encrypted-password "%s"; ## SECRET-DATA' % self.hash_of(b)]
        if out:
            self.page_out("\n".join(out) + "\n")

    def do_exit_config(self):
        if self.candidate() != self.dev.running:
            self.out("The configuration has been changed but not committed\n")
            while True:
                a = self.ask("Exit with uncommitted changes? [yes,no] (yes) ").strip().lower()
                if a in ("", "y", "ye", "yes"):
                    break
                if a in ("n", "no"):
                    return
        self.out("Exiting configuration mode\n")
        self.mode = "exec"

    def do_run(self, rest):
        self.dispatch(rest, "exec")

    def on_interrupt(self):
        self.out("\n")


FAMILIES = {c.NAME: c for c in (IOS, CatOS, ASA, ProCurve, ILO, ScreenOS, JunOS)}


# ----------------------------------------------------------------------------
# Transports
# ----------------------------------------------------------------------------

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
OPT_ECHO, OPT_SGA = 1, 3


class TelnetFilter:
    """Strips telnet negotiation from the input stream; refuses options we don't do."""

    def __init__(self, raw_send):
        self.state, self.raw_send, self.replied = 0, raw_send, set()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            st = self.state
            if st == 0:
                if b == IAC:
                    self.state = 1
                else:
                    out.append(b)
            elif st == 1:
                if b == IAC:
                    out.append(IAC)
                    self.state = 0
                elif b in (DO, DONT, WILL, WONT):
                    self.cmd, self.state = b, 2
                elif b == SB:
                    self.state = 3
                else:
                    self.state = 0  # NOP, GA, AYT, ... swallowed
            elif st == 2:
                self.state = 0
                key = (self.cmd, b)
                if key not in self.replied:
                    self.replied.add(key)
                    try:
                        if self.cmd == DO and b not in (OPT_ECHO, OPT_SGA):
                            self.raw_send(bytes([IAC, WONT, b]))
                        elif self.cmd == WILL and b != OPT_SGA:
                            self.raw_send(bytes([IAC, DONT, b]))
                    except OSError:
                        pass
            elif st == 3:
                if b == IAC:
                    self.state = 4
            elif st == 4:
                self.state = 0 if b == SE else 3
        return bytes(out)


def abort_socket(sock):
    """Abrupt close: linger 0 (RST); shutdown first so a blocked reader thread wakes up."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def serve_telnet(sock, dev):
    lock = threading.Lock()

    def raw_send(b):
        with lock:
            sock.sendall(b)

    def send(b):
        raw_send(b.replace(b"\xff", b"\xff\xff"))

    def close():
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    conn = Conn(send, close, lambda: abort_socket(sock))
    filt = TelnetFilter(raw_send)

    def reader():
        try:
            while True:
                data = sock.recv(4096)
                if not data:
                    break
                clean = filt.feed(data)
                if clean:
                    conn.feed(clean)
        except OSError:
            pass
        conn.feed(None)

    try:
        raw_send(bytes([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA]))
    except OSError:
        return
    threading.Thread(target=reader, daemon=True).start()
    run_session(dev, conn, "telnet")


def run_session(dev, conn, transport, ssh_user=None):
    try:
        dev.family(dev, conn, transport, ssh_user).run()
    except Exception as e:  # never leak details (could include secrets)
        sys.stderr.write("netdev: device %d %s session error: %s\n" % (dev.index, transport, type(e).__name__))
        conn.close()


class SSHServer(paramiko.ServerInterface):
    def __init__(self, dev):
        self.dev, self.user, self.kbd_user = dev, None, None
        self.shell = threading.Event()

    def get_allowed_auths(self, username):
        return "password,keyboard-interactive"

    def check_auth_none(self, username):
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        priv = self.dev.auth(username, password)
        if priv is None:
            return paramiko.AUTH_FAILED
        self.user = (username, priv)
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_interactive(self, username, submethods):
        self.kbd_user = username
        q = paramiko.InteractiveQuery("", "")
        q.add_prompt("Password: ", False)
        return q

    def check_auth_interactive_response(self, responses):
        if len(responses) != 1:
            return paramiko.AUTH_FAILED
        return self.check_auth_password(self.kbd_user, responses[0])

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *a):
        return True

    def check_channel_shell_request(self, channel):
        self.shell.set()
        return True

    def check_channel_window_change_request(self, *a):
        return True

    def check_channel_env_request(self, *a):
        return True


def serve_ssh(sock, dev):
    t = paramiko.Transport(sock)
    try:
        t.add_server_key(dev.host_key)
        server = SSHServer(dev)
        try:
            t.start_server(server=server)
        except (paramiko.SSHException, EOFError, OSError):
            return
        chan = t.accept(60)
        if chan is None:
            return
        if not server.shell.wait(30):
            chan.close()
            return

        def close():
            try:
                chan.send_exit_status(0)
            except Exception:
                pass
            chan.close()

        def abort():
            t.close()
            abort_socket(sock)

        conn = Conn(chan.sendall, close, abort)

        def reader():
            try:
                while True:
                    data = chan.recv(4096)
                    if not data:
                        break
                    conn.feed(data)
            except Exception:
                pass
            conn.feed(None)

        threading.Thread(target=reader, daemon=True).start()
        run_session(dev, conn, "ssh", server.user)
        time.sleep(0.05)
    finally:
        t.close()


def load_host_key(path):
    if path and os.path.exists(path):
        return paramiko.ECDSAKey.from_private_key_file(path)
    key = paramiko.ECDSAKey.generate(bits=256)
    if path:
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        tmp = path + ".tmp.%d" % os.getpid()
        key.write_private_key_file(tmp)
        os.replace(tmp, path)
    return key


def main(argv=None):
    ap = argparse.ArgumentParser(description="Network device CLI emulator (SSH + telnet)")
    ap.add_argument("--family", required=True, choices=sorted(FAMILIES))
    ap.add_argument("--ssh-port", type=int, default=2222, help="first SSH port (0 = disabled)")
    ap.add_argument("--telnet-port", type=int, default=0, help="first telnet port (0 = disabled)")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--state-dir")
    ap.add_argument("--host-key", help="ECDSA P-256 host key file (generated if missing)")
    ap.add_argument("--user", action="append", help="NAME:PASSWORD[:PRIV] (repeatable)")
    ap.add_argument("--enable-secret")
    ap.add_argument("--login-password")
    ap.add_argument("--hostname")
    ap.add_argument("--long-hostname", action="store_true",
                    help="ios: default hostname longer than 20 chars (config prompt truncation)")
    ap.add_argument("--no-username", action="store_true")
    ap.add_argument("--paging-stays-on", action="store_true")
    ap.add_argument("--motd-lines", type=int, default=0)
    ap.add_argument("--drop-after-change", action="store_true")
    ap.add_argument("--reject", action="append", metavar="PREFIX")
    ap.add_argument("--slow", type=int, default=0, metavar="MS")
    opts = ap.parse_args(argv)
    plog = logging.getLogger("paramiko")  # keep paramiko's socket chatter off stderr
    plog.addHandler(logging.NullHandler())
    plog.propagate = False

    if opts.state_dir:
        os.makedirs(opts.state_dir, exist_ok=True)
    host_key = load_host_key(opts.host_key) if opts.ssh_port else None
    fam = FAMILIES[opts.family]
    devices = [Device(i, fam, opts, host_key) for i in range(opts.count)]

    sel = selectors.DefaultSelector()
    listeners = []
    for i, dev in enumerate(devices):
        for base, kind in ((opts.ssh_port, "ssh"), (opts.telnet_port, "telnet")):
            if not base:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((opts.bind, base + i))
            s.listen(64)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, (dev, kind))
            listeners.append(s)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stdout.write("READY\n")
    sys.stdout.flush()

    while not stop.is_set():
        for key, _ev in sel.select(timeout=0.2):
            try:
                conn, _addr = key.fileobj.accept()
            except (BlockingIOError, OSError):
                continue
            conn.setblocking(True)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            dev, kind = key.data
            target = serve_ssh if kind == "ssh" else serve_telnet
            threading.Thread(target=target, args=(conn, dev), daemon=True).start()
    for s in listeners:
        s.close()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
