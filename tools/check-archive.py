#!/usr/bin/env python3
"""An independent checker of tillsync fiscal archives (format version 1).

Written from docs/fiscal-archive.md and docs/tickets.md alone, with the
Python standard library (and the `cryptography` package for Ed25519 when it
is installed; otherwise the pure-Python Ed25519 of RFC 8032 below). It checks
the zip's entries and CRC-32s, the manifest's keys and signature, each
part's SHA-256 and row count, the till's key history (each record signed by
the server key), every ticket, event and closing hash, number,
chain link and signature, and recomputes every day closing held from its
tickets and events.

Usage: check-archive.py ARCHIVE [--fingerprint HEX]
Prints "intact: ..." and exits 0, or "BROKEN: ..." and exits 1.
"""

import csv
import hashlib
import io
import json
import struct
import sys
import zipfile

PARTS = [
    "tickets.csv", "ticket_lines.csv", "ticket_payments.csv", "ticket_vat.csv",
    "events.csv", "closings.csv",
]
ENTRIES = PARTS + ["manifest.json", "signature.json"]
WITH_HISTORY = PARTS + ["key_history.json", "manifest.json", "signature.json"]
GENESIS = "0" * 64


class Broken(Exception):
    """The first thing that does not hold."""


# --- Ed25519 verification (RFC 8032, section 5.1.7), pure Python ---------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(a, b):
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def _verify_pure(public, msg, sig):
    a = _decompress(public)
    if a is None or len(sig) != 64:
        return False
    r = _decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if r is None or s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def ed25519_verify(public, msg, sig):
    """Whether `sig` is `public`'s Ed25519 signature of `msg` (bytes)."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return _verify_pure(public, msg, sig)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# --- canonical encodings (docs/tickets.md, docs/fiscal-archive.md) -------

def _s(v):
    b = v.encode("utf-8")
    return struct.pack(">Q", len(b)) + b


def _i(v):
    return struct.pack(">q", v)


def _u(v):
    return struct.pack(">Q", v)


def ticket_digest(till, t):
    """SHA-256 of a ticket's canonical encoding, version 1 or 2 (docs/tickets.md)."""
    v2 = t["encoding"] == 2
    opt_s = lambda v: b"\x00" if v is None else b"\x01" + _s(v)
    out = [b"tillsync-ticket", bytes([t["encoding"]]), _s(till), _u(t["number"]), _s(t["time"])]
    if v2:
        out += [b"\x00", opt_s(t["cashier"])]  # the fiscal chain: training false
    out.append(_u(len(t["lines"])))
    for ln in t["lines"]:
        q = ln["quantity_milli"]
        if v2:
            out += [_s(ln["item"]), _s(ln["label"]), _i(q), _i(ln["unit_price_cents"]),
                    _i(ln["vat_rate_bp"]), _i(ln["discount_cents"]), bytes([ln["voided"]]),
                    _i(ln["total_excl_cents"]), _i(ln["total_incl_cents"])]
        else:
            if q % 1000 or ln["discount_cents"] or ln["voided"]:
                raise Broken(f"ticket {t['number']}: a version-1 line holds whole units only")
            out += [_s(ln["item"]), _s(ln["label"]), _i(q // 1000), _i(ln["unit_price_cents"]),
                    _i(ln["vat_rate_bp"]), _i(ln["total_excl_cents"]), _i(ln["total_incl_cents"])]
    if v2:
        out.append(_i(t["discount_cents"]))
    out.append(_u(len(t["vat"])))
    for v in t["vat"]:
        if v2:
            out += [_i(v["rate_bp"]), _i(v["discount_cents"]), _i(v["base_cents"]),
                    _i(v["vat_cents"]), _i(v["total_cents"])]
        else:
            out += [_i(v["rate_bp"]), _i(v["base_cents"]), _i(v["vat_cents"]), _i(v["total_cents"])]
    out.append(_i(t["total_cents"]))
    out.append(_u(len(t["payments"])))
    for p in t["payments"]:
        out += [_s(p["method"]), _i(p["amount_cents"])]
    if v2:
        out.append(_i(t["change_cents"]))
    out.append(opt_s(t["customer"]))
    out.append(b"\x00" if t["corrects"] is None else b"\x01" + _u(t["corrects"]))
    out.append(_s(t["prev_hash"]))
    return hashlib.sha256(b"".join(out)).digest()


def record_digest(till, chain, r):
    data = (b"tillsync-record" + b"\x01" + _s(till) + _s(chain) + _u(r["seq"]) + _s(r["time"])
            + _s(r["kind"]) + _s(r["body"]) + _s(r["prev_hash"]))
    return hashlib.sha256(data).digest()


# --- reading ---------------------------------------------------------------

def rows_of(name, data, columns):
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, None)
    if header != columns:
        raise Broken(f"{name}: the header must be {','.join(columns)}")
    out = []
    for n, row in enumerate(reader, 1):
        if len(row) != len(columns):
            raise Broken(f"{name}: row {n} has {len(row)} fields, {len(columns)} expected")
        out.append(dict(zip(columns, row)))
    return out


def integer(name, row, col):
    try:
        return int(row[col])
    except ValueError:
        raise Broken(f"{name}: {col} {row[col]!r} is not an integer") from None


def key_bytes(info, what):
    pk = bytes.fromhex(info["public_key"])
    fp = hashlib.sha256(pk).hexdigest()
    if len(pk) != 32 or info["fingerprint"] != fp or info["key_id"] != fp[:16]:
        raise Broken(f"manifest: {what}: the fingerprint or key id is not the key's")
    return pk


def key_record_digest(r):
    """SHA-256 of a key record's canonical encoding (docs/till-keys.md)."""
    prev = r["previous_key_id"]
    data = (b"tillsync-key-record" + b"\x01" + _s(r["till"]) + _u(r["seq"]) + _s(r["key_id"])
            + _s(r["public_key"]) + _s(r["valid_from"]) + _s(r["recorded_at"])
            + (b"\x00" if prev is None else b"\x01" + _s(prev)) + _s(r["reason"]))
    return hashlib.sha256(data).digest()


def history_keys(m, data, till_key):
    """The keys of the archive's key history, each record checked with the
    server key: [(valid_from, key bytes)], oldest first."""
    server = key_bytes(m["server_key"], "server_key")
    h = json.loads(data)
    if h.get("server_public_key") != m["server_key"]["public_key"] or h.get("till") != m["till"]:
        raise Broken("archive part key_history.json: another server key or till than the manifest's")
    keys, prev = [], None
    for i, r in enumerate(h["records"], 1):
        pk = bytes.fromhex(r["public_key"])
        ok = (r["seq"] == i and r["till"] == m["till"] and r["previous_key_id"] == prev
              and r["key_id"] == hashlib.sha256(pk).hexdigest()[:16]
              and ed25519_verify(server, key_record_digest(r), bytes.fromhex(r["signature"])))
        if not ok:
            raise Broken(f"archive part key_history.json: record {i} does not check out")
        keys.append((r["valid_from"], pk))
        prev = r["key_id"]
    if not keys or till_key not in [k for _, k in keys]:
        raise Broken("manifest, field till_key: not a key of the till's key history")
    return keys


def check_chain(noun, items, anchor, keys, digest, number_of):
    prev = anchor["prev_hash"]
    expected = anchor["after"] + 1
    for it in items:
        n = number_of(it)
        if n != expected:
            raise Broken(f"{noun} {expected}: missing or out of order (found {n})")
        d = digest(it)
        if d.hex() != it["hash"]:
            raise Broken(f"{noun} {n}: its content does not match its hash (altered)")
        if it["prev_hash"] != prev:
            raise Broken(f"{noun} {n}, field prev_hash: chain broken")
        sig = bytes.fromhex(it["signature"])
        # The key valid at the record's time (the newest whose valid_from is
        # not after it), then any key of the till.
        valid = [k for frm, k in keys if frm <= it["time"]] or [keys[0][1]]
        if not any(ed25519_verify(k, d, sig) for k in [valid[-1]] + [k for _, k in keys]):
            raise Broken(f"{noun} {n}, field signature: not signed by the till's key")
        prev = it["hash"]
        expected += 1
    if expected - 1 != anchor["to"]:
        raise Broken(f"{noun}s end at {expected - 1}, the manifest says {anchor['to']}")


def local_date(time, zone):
    from datetime import datetime
    try:
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(zone)
    except Exception:  # no time-zone data on this machine: the name is not checked
        return None
    return datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=__import__("datetime").timezone.utc).astimezone(tz).date().isoformat()


def check(path, fingerprint=None):
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise Broken(f"archive: not a readable zip file: {e}") from None
    if z.namelist() not in (ENTRIES, WITH_HISTORY):
        raise Broken(f"archive: the entries must be {', '.join(ENTRIES)} (key_history.json before the manifest)")
    data = {}
    for name in z.namelist():
        try:
            data[name] = z.read(name)
        except (zipfile.BadZipFile, OSError) as e:
            raise Broken(f"archive part {name}: damaged: {e}") from None
    m = json.loads(data["manifest.json"])
    if m.get("format") != "tillsync-fiscal-archive" or m.get("version") != 1:
        raise Broken("manifest: not a tillsync fiscal archive of version 1")
    signer = key_bytes(m["signer"], "signer")
    till_key = key_bytes(m["till_key"], "till_key")
    sig = json.loads(data["signature.json"])
    digest = hashlib.sha256(b"tillsync-archive-manifest" + b"\x01" + data["manifest.json"]).digest()
    if sig.get("algorithm") != "ed25519" or not ed25519_verify(signer, digest, bytes.fromhex(sig["signature"])):
        raise Broken("manifest, field signature: it does not verify with the signer's key")
    if m["made_by"] == "till" and signer != till_key:
        raise Broken("manifest, field signer: a till archive is signed by the till's key")
    if fingerprint:
        f = fingerprint.lower()
        known = [m["signer"]["fingerprint"], m["till_key"]["fingerprint"]]
        if m.get("server_key"):
            known.append(m["server_key"]["fingerprint"])
        if not any(k.startswith(f) for k in known):
            raise Broken(f"key: the archive is signed by {m['signer']['fingerprint']}, not {f}")
    if [p["name"] for p in m["parts"]] != PARTS:
        raise Broken("manifest, field parts: not the six tables in order")
    for p in m["parts"]:
        if hashlib.sha256(data[p["name"]]).hexdigest() != p["sha256"]:
            raise Broken(f"archive part {p['name']}, field sha256: does not match the manifest")
    keys = [("", till_key)]
    if ("key_history.json" in data) != (m.get("key_history") is not None):
        raise Broken("manifest, field key_history: the manifest and the zip disagree")
    if m.get("key_history"):
        if hashlib.sha256(data["key_history.json"]).hexdigest() != m["key_history"]["sha256"]:
            raise Broken("archive part key_history.json, field sha256: does not match the manifest")
        keys = history_keys(m, data["key_history.json"], till_key)

    till = m["till"]
    cols = {
        "tickets.csv": ["number", "encoding", "time", "cashier", "discount_cents", "total_cents",
                        "change_cents", "customer", "corrects", "prev_hash", "hash", "signature"],
        "ticket_lines.csv": ["number", "line_no", "item", "label", "quantity_milli",
                             "unit_price_cents", "vat_rate_bp", "discount_cents", "voided",
                             "total_excl_cents", "total_incl_cents"],
        "ticket_payments.csv": ["number", "seq", "method", "amount_cents"],
        "ticket_vat.csv": ["number", "rate_bp", "discount_cents", "base_cents", "vat_cents",
                           "total_cents"],
        "events.csv": ["seq", "time", "kind", "body", "prev_hash", "hash", "signature"],
        "closings.csv": ["seq", "time", "kind", "body", "prev_hash", "hash", "signature"],
    }
    rows = {name: rows_of(name, data[name], c) for name, c in cols.items()}
    for p in m["parts"]:
        if len(rows[p["name"]]) != p["rows"]:
            raise Broken(f"archive part {p['name']}, field rows: {len(rows[p['name']])}, the manifest says {p['rows']}")

    tickets = {}
    order = []
    for r in rows["tickets.csv"]:
        if r["encoding"] not in ("1", "2"):
            raise Broken(f"ticket {r['number']}: encoding {r['encoding']} is not known to this checker")
        n = integer("tickets.csv", r, "number")
        t = {"number": n, "encoding": int(r["encoding"]), "time": r["time"],
             "cashier": r["cashier"] or None,
             "discount_cents": integer("tickets.csv", r, "discount_cents"),
             "total_cents": integer("tickets.csv", r, "total_cents"),
             "change_cents": integer("tickets.csv", r, "change_cents"),
             "customer": r["customer"] or None,
             "corrects": int(r["corrects"]) if r["corrects"] else None,
             "prev_hash": r["prev_hash"], "hash": r["hash"], "signature": r["signature"],
             "lines": [], "vat": [], "payments": []}
        tickets[n] = t
        order.append(t)
    details = [("ticket_lines.csv", "lines", "line_no"), ("ticket_payments.csv", "payments", "seq"),
               ("ticket_vat.csv", "vat", None)]
    for name, field, seq in details:
        for r in rows[name]:
            n = integer(name, r, "number")
            if n not in tickets:
                raise Broken(f"{name}: ticket {n} is not in tickets.csv")
            t = tickets[n]
            if seq and integer(name, r, seq) != len(t[field]) + 1:
                raise Broken(f"{name}: ticket {n}: {seq} {r[seq]} out of order")
            item = {k: (v if k in ("item", "label", "method") else int(v)) for k, v in r.items()
                    if k not in ("number", "line_no", "seq")}
            if item.get("voided", 0) not in (0, 1):
                raise Broken(f"{name}: ticket {n}: voided must be 0 or 1")
            t[field].append(item)

    check_chain("ticket", order, m["tickets"], keys,
                lambda t: ticket_digest(till, t), lambda t: t["number"])
    events = [dict(r, seq=int(r["seq"])) for r in rows["events.csv"]]
    closings = [dict(r, seq=int(r["seq"])) for r in rows["closings.csv"]]
    check_chain("event", events, m["events"], keys,
                lambda r: record_digest(till, "event", r), lambda r: r["seq"])
    check_chain("closing", closings, m["closings"], keys,
                lambda r: record_digest(till, "closing", r), lambda r: r["seq"])

    # Day closings, recomputed from their tickets and events.
    period = m["period"]
    t0, t1 = m["tickets"]["after"], m["tickets"]["to"]
    e0, e1 = m["events"]["after"], m["events"]["to"]
    prev = m["day_before"]
    recomputed = 0
    for c in closings:
        b = json.loads(c["body"])
        if b["period"] != c["kind"]:
            raise Broken(f"closing {c['seq']}, field kind: the body is a {b['period']} closing")
        if b["period"] != "day":
            continue
        named = b["name"] == period or b["name"].startswith(period + "-")
        held = t0 <= b["after_number"] <= b["to_number"] <= t1 and e0 <= b["after_event"] <= b["to_event"] <= e1
        want = {"after_number": prev["to_number"], "after_event": prev["to_event"]}
        if held:
            ts = [tickets[n] for n in range(b["after_number"] + 1, b["to_number"] + 1)]
            vat, pay = {}, {}
            for t in ts:
                for v in t["vat"]:
                    a = vat.setdefault(v["rate_bp"], [0, 0, 0, 0])
                    a[0] += v["base_cents"]
                    a[1] += v["vat_cents"]
                    a[2] += v["total_cents"]
                    a[3] += v["discount_cents"]
                # What the till kept per method: the change is taken off cash.
                for p in t["payments"]:
                    pay[p["method"]] = pay.get(p["method"], 0) + p["amount_cents"]
                if t["change_cents"]:
                    pay["cash"] = pay.get("cash", 0) - t["change_cents"]
            total = sum(t["total_cents"] for t in ts)
            absolute = sum(abs(t["total_cents"]) for t in ts)
            evs = [e for e in events if b["after_event"] < e["seq"] <= b["to_event"]]
            want.update({
                "tickets": len(ts),
                "corrections": sum(1 for t in ts if t["corrects"] is not None),
                "reprints": sum(1 for e in evs if e["kind"] == "reprint"),
                "vat_totals": [{"rate_bp": r, "discount_cents": a[3], "base_cents": a[0],
                                "vat_cents": a[1], "total_cents": a[2]}
                               for r, a in sorted(vat.items())],
                "payments": [{"method": k, "amount_cents": v} for k, v in sorted(pay.items())],
                "total_cents": total,
                "total_abs_cents": absolute,
            })
            day = local_date(ts[0]["time"] if ts else c["time"], m["time_zone"])
            if day is not None:
                want["name"] = day
            recomputed += 1
        elif named:
            raise Broken(f"closing {c['seq']}, field to_number: its tickets are not all in the archive")
        want["perpetual_total_cents"] = prev["perpetual_total_cents"] + b["total_cents"]
        want["perpetual_abs_cents"] = prev["perpetual_abs_cents"] + b["total_abs_cents"]
        for field, value in want.items():
            if b[field] != value:
                raise Broken(f"closing {c['seq']}, field {field}: recorded {json.dumps(b[field])}, "
                             f"recomputed {json.dumps(value)}")
        prev = b
    return (f"intact: {path} (till {till}, period {period}): {len(order)} tickets, "
            f"{len(events)} events, {len(closings)} closings ({recomputed} day closings recomputed); "
            f"till key {m['till_key']['key_id']}, fingerprint {m['till_key']['fingerprint']}")


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--fingerprint"):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    try:
        print(check(argv[1], argv[3] if len(argv) == 4 else None))
        return 0
    except Broken as e:
        print(f"BROKEN: {argv[1]}: {e}")
        return 1
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as e:
        print(f"BROKEN: {argv[1]}: not readable as an archive of this format: {e!r}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
