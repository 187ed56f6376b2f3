//! Ed25519 signatures checked many at a time: batches of [`BATCH`] on every
//! core (`ed25519_dalek::verify_batch`); when a batch fails, its signatures
//! one by one, to name the first that does not verify.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::fiscal::verify::parallel::par_chunks;

/// Signatures per batch.
pub const BATCH: usize = 256;

/// A signature to check: of the 32 bytes of a record's hash.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The hash signed.
    pub digest: [u8; 32],
    /// The signature.
    pub signature: Signature,
    /// The key it should verify with.
    pub key: &'a VerifyingKey,
}

fn first_in_batch(batch: &[Signed<'_>]) -> Option<usize> {
    let msgs: Vec<&[u8]> = batch.iter().map(|s| &s.digest[..]).collect();
    let sigs: Vec<Signature> = batch.iter().map(|s| s.signature).collect();
    let keys: Vec<VerifyingKey> = batch.iter().map(|s| *s.key).collect();
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return None;
    }
    batch
        .iter()
        .position(|s| s.key.verify(&s.digest, &s.signature).is_err())
}

/// The index of the first signature of `items` that does not verify.
pub fn first_invalid(items: &[Signed<'_>]) -> Option<usize> {
    par_chunks(items, |offset, chunk| {
        chunk
            .chunks(BATCH)
            .enumerate()
            .find_map(|(i, b)| first_in_batch(b).map(|k| offset + i * BATCH + k))
    })
    .into_iter()
    .flatten()
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn the_first_bad_signature_is_named() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let vk = key.verifying_key();
        let digests: Vec<[u8; 32]> = (0..1500u32)
            .map(|i| {
                let mut d = [0u8; 32];
                d[..4].copy_from_slice(&i.to_be_bytes());
                d
            })
            .collect();
        let mut items: Vec<Signed<'_>> = digests
            .iter()
            .map(|d| Signed {
                digest: *d,
                signature: key.sign(d),
                key: &vk,
            })
            .collect();
        assert_eq!(first_invalid(&items), None);
        items[1203].digest[31] ^= 1;
        items[1400].digest[31] ^= 1;
        assert_eq!(first_invalid(&items), Some(1203));
        items[7].signature = items[8].signature;
        assert_eq!(first_invalid(&items), Some(7));
    }
}
