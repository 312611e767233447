#!/usr/bin/env python3
"""mtrk's own synthetic Postfix 3.x log, for parser benchmarks (bench/run_parse_bench.sh).

usage: gen_postfix_log.py MESSAGES [SEED] > mail.log

Every message has the lines a real Postfix logs for it: smtpd connect, client=, cleanup
message-id=, qmgr from=, one to three delivery records (mostly sent to a relay or a mailbox,
some deferred then sent, some bounced with a non-delivery notification), qmgr removed and
smtpd disconnect. About five lines per message. Queue ids are short (hex) or long
(enable_long_queue_ids) form; two hosts interleave.
"""
import random
import sys
import time

LONG_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def queue_id(rng):
    if rng.random() < 0.5:
        return "%010X" % rng.getrandbits(40)
    return "4" + "".join(rng.choice(LONG_ALPHABET) for _ in range(10)) + "z" + "".join(
        rng.choice(LONG_ALPHABET) for _ in range(5))


def stamp(t):
    tm = time.gmtime(t)
    return "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min,
                                       tm.tm_sec)


def main():
    messages = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    t = 1795392000.0  # 2026-11-23 00:00:00 UTC
    out = []
    write = out.append
    for n in range(messages):
        t += rng.uniform(0.001, 0.03)
        ts = stamp(t)
        host = "mx%d" % (n % 2 + 1)
        pid = 2000 + n % 30000
        qid = queue_id(rng)
        client = "h%d.clients.example[198.51.100.%d]" % (rng.randrange(5000), rng.randrange(1, 255))
        sender = "u%d@senders.example" % rng.randrange(100000)
        rcpts = ["r%d@dest%d.example" % (rng.randrange(100000), rng.randrange(50))
                 for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        write("%s %s postfix/smtpd[%d]: connect from %s\n" % (ts, host, pid, client))
        write("%s %s postfix/smtpd[%d]: %s: client=%s\n" % (ts, host, pid, qid, client))
        write("%s %s postfix/cleanup[%d]: %s: message-id=<%x.%d@senders.example>\n" %
              (ts, host, pid + 1, qid, rng.getrandbits(48), n))
        write("%s %s postfix/qmgr[99]: %s: from=<%s>, size=%d, nrcpt=%d (queue active)\n" %
              (ts, host, qid, sender, rng.randrange(500, 90000), len(rcpts)))
        for rcpt in rcpts:
            roll = rng.random()
            relay = "mx.%s[203.0.113.%d]:25" % (rcpt.split("@")[1], rng.randrange(1, 255))
            if roll < 0.06:
                write("%s %s postfix/smtp[%d]: %s: to=<%s>, relay=none, delay=0.2, "
                      "delays=0.1/0/0.1/0, dsn=4.4.1, status=deferred (connect to %s: "
                      "Connection refused)\n" % (ts, host, pid + 2, qid, rcpt, relay))
                write("%s %s postfix/qmgr[99]: %s: from=<%s>, size=900, nrcpt=1 (queue active)\n"
                      % (ts, host, qid, sender))
            if roll < 0.04:
                write("%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=0.4, "
                      "delays=0.1/0/0.1/0.2, dsn=5.1.1, status=bounced (host %s said: 550 5.1.1 "
                      "<%s>: Recipient address rejected: User unknown (in reply to RCPT TO "
                      "command))\n" % (ts, host, pid + 2, qid, rcpt, relay, relay, rcpt))
                ndr = queue_id(rng)
                write("%s %s postfix/cleanup[%d]: %s: message-id=<%s@%s.example>\n" %
                      (ts, host, pid + 1, ndr, ndr, host))
                write("%s %s postfix/bounce[%d]: %s: sender non-delivery notification: %s\n" %
                      (ts, host, pid + 3, qid, ndr))
                write("%s %s postfix/qmgr[99]: %s: from=<>, size=2400, nrcpt=1 (queue active)\n" %
                      (ts, host, ndr))
                write("%s %s postfix/virtual[%d]: %s: to=<%s>, relay=virtual, delay=0.01, "
                      "delays=0/0/0/0.01, dsn=2.0.0, status=sent (delivered to maildir)\n" %
                      (ts, host, pid + 4, ndr, sender))
                write("%s %s postfix/qmgr[99]: %s: removed\n" % (ts, host, ndr))
            elif roll < 0.2:
                write("%s %s postfix/virtual[%d]: %s: to=<%s>, relay=virtual, delay=0.02, "
                      "delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to maildir)\n" %
                      (ts, host, pid + 4, qid, rcpt))
            else:
                write("%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=0.3, "
                      "delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
                      "%s)\n" % (ts, host, pid + 2, qid, rcpt, relay, queue_id(rng)))
        write("%s %s postfix/qmgr[99]: %s: removed\n" % (ts, host, qid))
        write("%s %s postfix/smtpd[%d]: disconnect from %s ehlo=1 mail=1 rcpt=%d data=1 quit=1 "
              "commands=%d\n" % (ts, host, pid, client, len(rcpts), 4 + len(rcpts)))
        if len(out) > 4096:
            sys.stdout.write("".join(out))
            out.clear()
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
