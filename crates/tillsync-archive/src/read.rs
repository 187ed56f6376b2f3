//! An archive read back for the verifier: the zip's framing checked byte by byte, the manifest and
//! its signature checked, every part's SHA-256 and row count checked
//! (on every core), the CSV tables read into a
//! [`Ledger`]. What does not hold is the first [`Break`].

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use tillsync_core::fiscal::ledger::{Anchor, Anchors, Ends, Ledger, PeriodName};
use tillsync_core::fiscal::verify::keys::{fingerprint, key_id};
use tillsync_core::fiscal::verify::parallel::par_map;
use tillsync_core::fiscal::verify::report::{Break, Subject};

use crate::manifest::{
    FORMAT, KEY_HISTORY, KeyInfo, MANIFEST, Manifest, ManifestSignature, SIGNATURE, VERSION,
    manifest_digest,
};
use crate::tables::{
    CLOSINGS, EVENTS, LINES, PARTS, PAYMENTS, TICKETS, VAT, read_details, read_records,
    read_tickets,
};
use crate::zipfile::{ZipFault, read};
use tillsync_core::fiscal::verify::keys::TillKeys;
use tillsync_core::key_history::KeyHistory;
use tillsync_wire::keys::KeyHistoryFile;

/// An archive read: its manifest, the keys it names, and its ledger.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The manifest (its signature verified).
    pub manifest: Manifest,
    /// The key that signed the manifest.
    pub signer: VerifyingKey,
    /// The till's key.
    pub till_key: VerifyingKey,
    /// The keys the records may be signed with: the till key, or every key
    /// of its key history (checked with the server key).
    pub keys: TillKeys,
    /// The records.
    pub ledger: Ledger,
}

/// The names of the zip's entries, in their order (with the key history
/// when the till has one).
pub fn entry_names(key_history: bool) -> Vec<&'static str> {
    let mut names = PARTS.to_vec();
    if key_history {
        names.push(KEY_HISTORY);
    }
    names.extend([MANIFEST, SIGNATURE]);
    names
}

/// The entries of the archive, every byte of its framing checked, in the
/// order of the format.
fn entries(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, Break> {
    let found = read(bytes).map_err(|f| match f {
        ZipFault::Framing { at, what } => Break::whole(
            Subject::Archive,
            format!("byte {at} is not what the format puts there ({what}): not an archive of this format, or altered"),
        ),
        ZipFault::Crc(name) => Break::whole(
            Subject::Part(name),
            "its content does not match its CRC-32 in the zip (altered or damaged)".to_string(),
        ),
    })?;
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    if names != entry_names(false) && names != entry_names(true) {
        return Err(Break::whole(
            Subject::Archive,
            format!(
                "its entries are {}, the format's {} (with {KEY_HISTORY} before the manifest when the till has a key history)",
                names.join(", "),
                entry_names(false).join(", ")
            ),
        ));
    }
    Ok(found)
}

/// The till's keys of the archive's key history, checked with the server
/// key the manifest names; the manifest's till key must be one of them.
fn history_keys(m: &Manifest, content: &[u8], till_key: &VerifyingKey) -> Result<TillKeys, Break> {
    let bad = |why: String| Break::whole(Subject::Part(KEY_HISTORY.into()), why);
    let server = m
        .server_key
        .as_ref()
        .ok_or_else(|| {
            Break::field(
                Subject::Manifest,
                "server_key",
                "a key history needs the server key that signs it",
            )
        })
        .and_then(|k| key_of(k, "server_key"))?;
    let file: KeyHistoryFile =
        serde_json::from_slice(content).map_err(|e| bad(format!("not a key history: {e}")))?;
    if file.server_public_key != m.server_key.as_ref().map_or("", |k| k.public_key.as_str()) {
        return Err(bad("it names another server key than the manifest".into()));
    }
    let history = KeyHistory::verify(&file.records, &server, Some(&m.till))
        .map_err(|e| bad(e.to_string()))?;
    if history.find_key(till_key).is_none() {
        return Err(Break::field(
            Subject::Manifest,
            "till_key",
            "the till key is not in the till's key history",
        ));
    }
    Ok(TillKeys::of_history(&history))
}

fn key_of(info: &KeyInfo, field: &str) -> Result<VerifyingKey, Break> {
    let bad = |why: String| Break::field(Subject::Manifest, field, why);
    let mut b = [0u8; 32];
    hex::decode_to_slice(&info.public_key, &mut b).map_err(|_| {
        bad(format!(
            "{:?} is not a public key (64 hex digits)",
            info.public_key
        ))
    })?;
    let k = VerifyingKey::from_bytes(&b).map_err(|_| bad("not an Ed25519 public key".into()))?;
    if info.fingerprint != fingerprint(&k) || info.key_id != key_id(&k) {
        return Err(bad("its fingerprint or key id is not the key's".into()));
    }
    Ok(k)
}

/// Check the manifest's format and signature; returns it with its keys.
fn manifest(raw: &[u8], sig_raw: &[u8]) -> Result<(Manifest, VerifyingKey, VerifyingKey), Break> {
    let m: Manifest = serde_json::from_slice(raw)
        .map_err(|e| Break::whole(Subject::Manifest, format!("not a valid manifest: {e}")))?;
    if m.format != FORMAT {
        return Err(Break::field(
            Subject::Manifest,
            "format",
            format!("{:?}, expected {FORMAT:?}", m.format),
        ));
    }
    if m.version != VERSION {
        return Err(Break::field(
            Subject::Manifest,
            "version",
            format!(
                "version {} of the format is not known to this verifier (it reads {VERSION})",
                m.version
            ),
        ));
    }
    let signer = key_of(&m.signer, "signer")?;
    let till_key = key_of(&m.till_key, "till_key")?;
    let sig: ManifestSignature = serde_json::from_slice(sig_raw).map_err(|e| {
        Break::whole(
            Subject::Part(SIGNATURE.into()),
            format!("not a valid signature file: {e}"),
        )
    })?;
    let mut sb = [0u8; 64];
    let parsed = hex::decode_to_slice(&sig.signature, &mut sb)
        .ok()
        .map(|()| Signature::from_bytes(&sb));
    let valid = sig.algorithm == "ed25519"
        && parsed.is_some_and(|s| signer.verify(&manifest_digest(raw), &s).is_ok());
    if !valid {
        return Err(Break::field(
            Subject::Manifest,
            "signature",
            format!(
                "the manifest's signature does not verify with the signer's key {}",
                m.signer.key_id
            ),
        ));
    }
    if m.made_by == crate::manifest::Role::Till && signer != till_key {
        return Err(Break::field(
            Subject::Manifest,
            "signer",
            "a till archive is signed by the till's key",
        ));
    }
    Ok((m, signer, till_key))
}

/// Open the archive `bytes`: manifest, signature, parts and their tables.
pub fn open(bytes: &[u8]) -> Result<Opened, Break> {
    let entries = entries(bytes)?;
    let n = entries.len();
    let (m, signer, till_key) = manifest(entries[n - 2].1, entries[n - 1].1)?;
    let keys = match (&m.key_history, n == PARTS.len() + 3) {
        (Some(part), true) => {
            let content = entries[PARTS.len()].1;
            let sha = hex::encode(Sha256::digest(content));
            if sha != part.sha256 || part.name != KEY_HISTORY {
                return Err(Break::field(
                    Subject::Part(KEY_HISTORY.into()),
                    "sha256",
                    format!("its SHA-256 is {sha}, the manifest says {}", part.sha256),
                ));
            }
            history_keys(&m, content, &till_key)?
        }
        (None, false) => TillKeys::one(till_key),
        _ => {
            return Err(Break::field(
                Subject::Manifest,
                "key_history",
                "the manifest and the zip disagree on the key history",
            ));
        }
    };
    let names: Vec<&str> = m.parts.iter().map(|p| p.name.as_str()).collect();
    if names != PARTS {
        return Err(Break::field(
            Subject::Manifest,
            "parts",
            format!("the parts must be {}", PARTS.join(", ")),
        ));
    }
    let shas = par_map(&entries[..PARTS.len()], |(_, content)| {
        hex::encode(Sha256::digest(content))
    });
    let mut data = Vec::with_capacity(PARTS.len());
    for ((part, (_, content)), sha) in m.parts.iter().zip(&entries).zip(shas) {
        if sha != part.sha256 {
            return Err(Break::field(
                Subject::Part(part.name.clone()),
                "sha256",
                format!("its SHA-256 is {sha}, the manifest says {}", part.sha256),
            ));
        }
        data.push(*content);
    }
    let rows_differ = |name: &str, got: u64| {
        let want = m.part(name).map_or(0, |p| p.rows);
        (got != want).then(|| {
            Break::field(
                Subject::Part(name.into()),
                "rows",
                format!("{got} rows, the manifest says {want}"),
            )
        })
    };
    let (mut tickets, n) = read_tickets(&m.till, data[0])?;
    let mut check = vec![(TICKETS, n)];
    for (i, part) in [(1, LINES), (2, PAYMENTS), (3, VAT)] {
        check.push((part, read_details(part, data[i], &mut tickets)?));
    }
    let events = read_records(EVENTS, &m.till, data[4])?;
    let closings = read_records(CLOSINGS, &m.till, data[5])?;
    check.push((EVENTS, events.len() as u64));
    check.push((CLOSINGS, closings.len() as u64));
    if let Some(b) = check.iter().find_map(|(p, n)| rows_differ(p, *n)) {
        return Err(b);
    }
    let period = PeriodName::parse(&m.period)
        .map_err(|e| Break::field(Subject::Manifest, "period", e.to_string()))?;
    let anchor = |r: &crate::manifest::ChainRange| Anchor {
        after: r.after,
        hash: r.prev_hash.clone(),
    };
    let ledger = Ledger {
        till: m.till.clone(),
        zone: m.time_zone.clone(),
        period: Some(period),
        anchors: Anchors {
            tickets: anchor(&m.tickets),
            events: anchor(&m.events),
            closings: anchor(&m.closings),
            day_before: m.day_before.clone(),
        },
        tickets,
        events,
        closings,
        ends: Ends {
            tickets: Some(m.tickets.to),
            events: Some(m.events.to),
            closings: Some(m.closings.to),
        },
    };
    Ok(Opened {
        keys,
        manifest: m,
        signer,
        till_key,
        ledger,
    })
}
