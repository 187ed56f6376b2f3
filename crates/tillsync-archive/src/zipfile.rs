//! The archive's zip framing, written and checked by this module alone: a
//! canonical zip (PKWARE APPNOTE) whose entries are stored (no
//! compression), in a fixed order, with fixed header values (version 2.0,
//! no flags, time 00:00 on 1 January 1980, no extra fields, no comments),
//! no bytes between or after its parts. Any zip reader opens it; the
//! verifier rebuilds every header from the entries' names and contents and
//! compares, so that every byte of the file is checked: its contents by
//! their SHA-256, the rest by this framing.

use std::io::{Seek, SeekFrom, Write};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const VERSION: u16 = 20;
/// 1 January 1980, in MS-DOS date format.
const DATE: u16 = 0x0021;

/// An entry's header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHead {
    /// File name.
    pub name: String,
    /// CRC-32 of the content.
    pub crc: u32,
    /// Content size.
    pub size: u32,
    /// Offset of its local header.
    pub offset: u32,
}

fn local_header(e: &EntryHead) -> Vec<u8> {
    let mut h = Vec::with_capacity(30 + e.name.len());
    h.extend(LOCAL.to_le_bytes());
    for v in [VERSION, 0, 0, 0, DATE] {
        h.extend(v.to_le_bytes());
    }
    h.extend(e.crc.to_le_bytes());
    h.extend(e.size.to_le_bytes());
    h.extend(e.size.to_le_bytes());
    h.extend((e.name.len() as u16).to_le_bytes());
    h.extend(0u16.to_le_bytes());
    h.extend(e.name.as_bytes());
    h
}

/// The central directory and end record of `entries` placed at `offset`.
fn directory(entries: &[EntryHead], offset: u32) -> Vec<u8> {
    let mut d = Vec::new();
    for e in entries {
        d.extend(CENTRAL.to_le_bytes());
        for v in [VERSION, VERSION, 0, 0, 0, DATE] {
            d.extend(v.to_le_bytes());
        }
        d.extend(e.crc.to_le_bytes());
        d.extend(e.size.to_le_bytes());
        d.extend(e.size.to_le_bytes());
        d.extend((e.name.len() as u16).to_le_bytes());
        for v in [0u16, 0, 0, 0] {
            d.extend(v.to_le_bytes());
        }
        d.extend(0u32.to_le_bytes());
        d.extend(e.offset.to_le_bytes());
        d.extend(e.name.as_bytes());
    }
    let size = d.len() as u32;
    d.extend(END.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        d.extend(v.to_le_bytes());
    }
    d.extend(size.to_le_bytes());
    d.extend(offset.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d
}

/// A canonical zip being written to a file: one entry at a time, streamed
/// (its header is written again once its size and CRC are known).
pub struct ZipOut<W: Write + Seek> {
    out: W,
    entries: Vec<EntryHead>,
    at: u64,
}

/// A zip larger than its format allows (4 GiB).
fn too_large() -> std::io::Error {
    std::io::Error::other("the archive would exceed 4 GiB, the limit of its zip format")
}

impl<W: Write + Seek> ZipOut<W> {
    /// A zip written into `out` (at its start).
    pub fn new(out: W) -> Self {
        ZipOut {
            out,
            entries: Vec::new(),
            at: 0,
        }
    }

    /// Add entry `name` whose content `fill` writes (through the given
    /// writer, which also counts and checksums it); returns what `fill` returns.
    pub fn entry<R>(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<R>,
    ) -> std::io::Result<R> {
        let offset = u32::try_from(self.at).map_err(|_| too_large())?;
        let mut head = EntryHead {
            name: name.to_string(),
            crc: 0,
            size: 0,
            offset,
        };
        self.out.write_all(&local_header(&head))?;
        let mut w = Counting {
            out: &mut self.out,
            crc: crc32fast::Hasher::new(),
            n: 0,
        };
        let r = fill(&mut w)?;
        let (crc, n) = (w.crc.finalize(), w.n);
        head.crc = crc;
        head.size = u32::try_from(n).map_err(|_| too_large())?;
        let header = local_header(&head);
        self.out.seek(SeekFrom::Start(self.at))?;
        self.out.write_all(&header)?;
        self.at += header.len() as u64 + n;
        self.out.seek(SeekFrom::Start(self.at))?;
        self.entries.push(head);
        Ok(r)
    }

    /// Write the central directory; returns the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        let offset = u32::try_from(self.at).map_err(|_| too_large())?;
        self.out.write_all(&directory(&self.entries, offset))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

struct Counting<'a, W: Write> {
    out: &'a mut W,
    crc: crc32fast::Hasher,
    n: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let k = self.out.write(buf)?;
        self.crc.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Why a zip is not the canonical one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipFault {
    /// The file is not laid out as the format says (at a byte offset).
    Framing {
        /// The first byte that differs.
        at: usize,
        /// What was expected there.
        what: String,
    },
    /// An entry's content does not match its CRC-32.
    Crc(String),
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn first_difference(got: &[u8], want: &[u8], base: usize, what: &str) -> Result<(), ZipFault> {
    match got.iter().zip(want).position(|(a, b)| a != b) {
        Some(i) => Err(ZipFault::Framing {
            at: base + i,
            what: what.to_string(),
        }),
        None if got.len() < want.len() => Err(ZipFault::Framing {
            at: base + got.len(),
            what: format!("{what} (the file ends)"),
        }),
        None => Ok(()),
    }
}

/// The entries of the canonical zip `bytes`, in their order: each name
/// with its content. Every header is rebuilt from the names, sizes and
/// contents found and compared byte for byte.
pub fn read(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, ZipFault> {
    let mut at = 0usize;
    let mut heads = Vec::new();
    let mut out = Vec::new();
    while u32_at(bytes, at) == Some(LOCAL) {
        let framing = |what: &str| ZipFault::Framing {
            at,
            what: what.to_string(),
        };
        let name_len = bytes
            .get(at + 26..at + 28)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
            .ok_or_else(|| framing("a local header"))?;
        let size = u32_at(bytes, at + 18).ok_or_else(|| framing("a local header"))?;
        let start = at + 30 + name_len;
        let name = bytes
            .get(at + 30..start)
            .and_then(|n| std::str::from_utf8(n).ok())
            .ok_or_else(|| framing("an entry's name"))?
            .to_string();
        let what = format!("the local header of {name}");
        let end = start + size as usize;
        let data = bytes
            .get(start..end)
            .ok_or_else(|| framing(&format!("{what} (its size)")))?;
        let stored_crc = u32_at(bytes, at + 14).unwrap_or_default();
        let head = EntryHead {
            name: name.clone(),
            crc: crc32fast::hash(data),
            size,
            offset: at as u32,
        };
        let want = local_header(&head);
        let got = &bytes[at..start];
        if got[..14] == want[..14] && got[18..] == want[18..] && stored_crc != head.crc {
            return Err(ZipFault::Crc(name));
        }
        first_difference(got, &want, at, &what)?;
        out.push((name, data));
        heads.push(head);
        at = end;
    }
    let want = directory(&heads, at as u32);
    let got = &bytes[at..];
    first_difference(got, &want, at, "the central directory")?;
    if got.len() > want.len() {
        return Err(ZipFault::Framing {
            at: at + want.len(),
            what: "the end of the file".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canonical_zip_round_trips_and_any_byte_changed_is_found() {
        let mut z = ZipOut::new(std::io::Cursor::new(Vec::new()));
        z.entry("a.csv", |w| w.write_all(b"x,y\n1,2\n")).unwrap();
        z.entry("b.json", |w| w.write_all(b"{}\n")).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        let got = read(&bytes).unwrap();
        assert_eq!(got[0].1, b"x,y\n1,2\n");
        assert_eq!(got[1].1, b"{}\n");
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            if let Ok(e) = read(&bad)
                && e.iter().map(|x| x.0.as_str()).collect::<Vec<_>>() == ["a.csv", "b.json"]
            {
                // A content byte changed: the CRC is checked, and the
                // SHA-256 of the manifest after it.
                panic!(
                    "byte {i} changed and read back: {:?}",
                    e.iter().map(|x| x.1).collect::<Vec<_>>()
                );
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer).is_err());
    }
}
