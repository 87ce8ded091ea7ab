//! rpm's own "ndb" package file, `Packages.db` (SUSE, rpm ≥ 4.16): a 32-byte header
//! (`RpmP`, version 0, generation, slot pages, next package index), 16-byte slots
//! (`Slot`, package index, block offset, block count) filling the first pages, and
//! the blobs in 16-byte blocks (`BlbS`, package index, generation, length, the
//! header, then a tail of Adler-32, length and `BlbE`). All little-endian. Read from
//! the format's description in rpm's `lib/backend/ndb/rpmpkg.c`.

const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
const HEAD: usize = 32;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Adler-32 (RFC 1950), as the blob tails carry it.
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in bytes.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// The blob a slot points at, checked end to end.
fn blob(data: &[u8], pkgidx: u32, blkoff: u32, blkcnt: u32) -> Result<&[u8], String> {
    let start = blkoff as usize * BLOCK;
    let span = (blkcnt as usize)
        .checked_mul(BLOCK)
        .filter(|s| *s >= BLOB_HEAD + BLOB_TAIL)
        .ok_or_else(|| format!("package {pkgidx} has {blkcnt} blocks"))?;
    let whole = data
        .get(start..start.saturating_add(span))
        .ok_or_else(|| format!("package {pkgidx} lies past the end of the file"))?;
    let len = le32(whole, 12) as usize;
    let tail = span - BLOB_TAIL;
    if &whole[..4] != b"BlbS" || le32(whole, 4) != pkgidx || BLOB_HEAD + len > tail {
        return Err(format!("package {pkgidx}'s blob has a bad head"));
    }
    if &whole[tail + 8..] != b"BlbE"
        || le32(whole, tail + 4) as usize != len
        || le32(whole, tail) != adler32(&whole[..tail])
    {
        return Err(format!(
            "package {pkgidx}'s blob has a bad tail or checksum"
        ));
    }
    Ok(&whole[BLOB_HEAD..BLOB_HEAD + len])
}

/// The header blobs of a `Packages.db`, in slot order.
pub(super) fn blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if data.get(..4) != Some(b"RpmP") || le32(data, 4) != 0 {
        return Err("not an ndb package file (magic or version)".into());
    }
    let pages = le32(data, 12) as usize;
    let slots_end = pages
        .checked_mul(PAGE)
        .filter(|e| *e <= data.len() && *e >= PAGE)
        .ok_or_else(|| format!("{pages} slot pages"))?;
    let mut out = Vec::new();
    for at in (HEAD..slots_end).step_by(SLOT) {
        if &data[at..at + 4] != b"Slot" {
            return Err(format!("a bad slot at byte {at}"));
        }
        let (pkgidx, blkoff, blkcnt) =
            (le32(data, at + 4), le32(data, at + 8), le32(data, at + 12));
        if blkoff == 0 {
            continue;
        }
        if (blkoff as usize) < slots_end / BLOCK {
            return Err(format!("package {pkgidx} lies inside the slot pages"));
        }
        out.push(blob(data, pkgidx, blkoff, blkcnt)?.to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::rpm::header::tests::survives_damage;

    /// A `Packages.db` with one slot page holding `records`.
    fn file(records: &[&[u8]]) -> Vec<u8> {
        let mut data = vec![0u8; PAGE];
        data[..4].copy_from_slice(b"RpmP");
        data[12..16].copy_from_slice(&1u32.to_le_bytes());
        data[16..20].copy_from_slice(&(records.len() as u32 + 1).to_le_bytes());
        for at in (HEAD..PAGE).step_by(SLOT) {
            data[at..at + 4].copy_from_slice(b"Slot");
        }
        for (i, r) in records.iter().enumerate() {
            let blocks = (BLOB_HEAD + r.len() + BLOB_TAIL).div_ceil(BLOCK);
            let mut b = b"BlbS".to_vec();
            for v in [i as u32 + 1, 0, r.len() as u32] {
                b.extend(v.to_le_bytes());
            }
            b.extend(*r);
            b.resize(blocks * BLOCK - BLOB_TAIL, 0);
            let sum = adler32(&b);
            for v in [sum, r.len() as u32] {
                b.extend(v.to_le_bytes());
            }
            b.extend(b"BlbE");
            let slot = HEAD + i * SLOT;
            for (k, v) in [i as u32 + 1, (data.len() / BLOCK) as u32, blocks as u32]
                .iter()
                .enumerate()
            {
                data[slot + 4 + 4 * k..slot + 8 + 4 * k].copy_from_slice(&v.to_le_bytes());
            }
            data.extend(b);
        }
        data
    }

    #[test]
    fn slots_lead_to_blobs() {
        let f = file(&[b"one", &[7; 100]]);
        assert_eq!(
            blobs(&f).expect("reads"),
            vec![b"one".to_vec(), vec![7; 100]]
        );
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn hostile_files_are_errors_not_panics() {
        let f = file(&[b"one", &[7; 100]]);
        survives_damage(&f, 5, blobs);
        let mut g = f.clone();
        g[PAGE + 20] ^= 1;
        assert!(blobs(&g).is_err(), "a checksum mismatch");
        assert!(blobs(&f[..f.len() - 1]).is_err());
    }
}
