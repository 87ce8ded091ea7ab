//! Berkeley DB's hash file, as rpm's `Packages` (RHEL/UBI ≤ 8, Amazon Linux 2) is one,
//! read page by page without libdb: the metadata page (magic `0x061561`, page size,
//! last page, in the writer's byte order), the hash pages' key/data pairs, and the
//! overflow chains that hold nearly every header. Keys are header numbers; record 0
//! is rpm's own counter and skipped.

use std::collections::BTreeSet;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// The file's pages, in its byte order.
struct Pages<'a> {
    data: &'a [u8],
    size: usize,
    count: usize,
    swapped: bool,
}

impl<'a> Pages<'a> {
    /// `N` bytes at `at`, turned big-endian.
    fn field<const N: usize>(&self, b: &[u8], at: usize) -> Option<[u8; N]> {
        let mut s: [u8; N] = b.get(at..at.checked_add(N)?)?.try_into().ok()?;
        if !self.swapped {
            s.reverse();
        }
        Some(s)
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        self.field(b, at).map(u32::from_be_bytes)
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<usize> {
        self.field(b, at)
            .map(|s| usize::from(u16::from_be_bytes(s)))
    }

    fn page(&self, n: u32) -> Option<&'a [u8]> {
        let n = n as usize;
        (n > 0 && n < self.count).then(|| &self.data[n * self.size..(n + 1) * self.size])
    }

    /// An overflow item's bytes: `len` bytes along the chain from page `first`.
    fn overflow(&self, first: u32, len: usize) -> Result<Vec<u8>, String> {
        if len > self.data.len() {
            return Err(format!("an overflow item claims {len} bytes"));
        }
        let mut out = Vec::with_capacity(len);
        let mut next = first;
        let mut hops = 0;
        while out.len() < len {
            let page = self
                .page(next)
                .filter(|p| p[25] == P_OVERFLOW)
                .ok_or_else(|| format!("overflow page {next} is missing or not one"))?;
            let used = self.u16_at(page, 22).unwrap_or(0);
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER + used)
                .filter(|c| !c.is_empty() && out.len() + c.len() <= len)
                .ok_or_else(|| format!("overflow page {next} holds {used} bytes"))?;
            out.extend_from_slice(chunk);
            next = self.u32_at(page, 16).unwrap_or(0);
            hops += 1;
            if hops > self.count {
                return Err("an overflow chain loops".into());
            }
        }
        Ok(out)
    }

    /// One hash item (its type byte first).
    fn item(&self, page: &[u8], item: &[u8]) -> Result<Vec<u8>, String> {
        match item.first() {
            Some(&H_KEYDATA) => Ok(item[1..].to_vec()),
            Some(&H_OFFPAGE) if item.len() >= 12 => {
                let first = self.u32_at(item, 4).unwrap_or(0);
                let len = self.u32_at(item, 8).unwrap_or(0) as usize;
                self.overflow(first, len)
            }
            t => Err(format!(
                "hash page {} has an item of type {t:?}",
                self.u32_at(page, 8).unwrap_or(0)
            )),
        }
    }

    /// The key/data pairs of one hash page.
    fn pairs(&self, page: &[u8], out: &mut Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), String> {
        let n = self
            .u16_at(page, 20)
            .unwrap_or(0)
            .min((self.size - PAGE_HEADER) / 2);
        let offset = |i: usize| self.u16_at(page, PAGE_HEADER + 2 * i).unwrap_or(0);
        for k in (0..n.saturating_sub(1)).step_by(2) {
            let (koff, voff) = (offset(k), offset(k + 1));
            let kend = if k == 0 { self.size } else { offset(k - 1) };
            let bad = || format!("hash page has items out of order at {koff}");
            if !(PAGE_HEADER + 2 * n <= voff && voff < koff && koff < kend && kend <= self.size) {
                return Err(bad());
            }
            let key = self.item(page, &page[koff..kend])?;
            let value = self.item(page, &page[voff..koff])?;
            out.push((key, value));
        }
        Ok(())
    }
}

/// The header blobs of a `Packages` hash file, by header number (record 0 skipped).
pub(super) fn blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let magic = data
        .get(12..16)
        .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]))
        .ok_or("shorter than a Berkeley DB metadata page")?;
    let swapped = match magic {
        HASH_MAGIC => false,
        m if m.swap_bytes() == HASH_MAGIC => true,
        m => return Err(format!("not a Berkeley DB hash file (magic {m:#x})")),
    };
    let mut pages = Pages {
        data,
        size: 0,
        count: 0,
        swapped,
    };
    let size = pages.u32_at(data, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&size) || !size.is_power_of_two() {
        return Err(format!("a page size of {size}"));
    }
    let last = pages.u32_at(data, 32).unwrap_or(0) as usize;
    if data.len() / size <= last {
        return Err(format!(
            "{} bytes, short of its {} pages of {size}",
            data.len(),
            last.saturating_add(1)
        ));
    }
    pages.size = size;
    pages.count = last + 1;
    let mut pairs = Vec::new();
    for n in 1..pages.count {
        let page = &data[n * size..(n + 1) * size];
        if matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            pages.pairs(page, &mut pairs)?;
        }
    }
    let mut seen = BTreeSet::new();
    pairs.sort_by_key(|(k, _)| pages.u32_at(k, 0));
    Ok(pairs
        .into_iter()
        .filter(|(k, _)| k.len() == 4 && k != &[0; 4] && seen.insert(k.clone()))
        .map(|(_, v)| v)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::rpm::header::tests::survives_damage;

    /// A hash file of 512-byte pages: one hash page holding `records` (the second
    /// as an overflow item over two pages), in little- or big-endian.
    fn file(records: &[&[u8]], big: bool) -> Vec<u8> {
        let size = 512usize;
        let w32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut data = vec![0u8; size * 4];
        data[12..16].copy_from_slice(&w32(HASH_MAGIC));
        data[20..24].copy_from_slice(&w32(size as u32));
        data[32..36].copy_from_slice(&w32(3));
        let p1 = size;
        data[p1 + 8..p1 + 12].copy_from_slice(&w32(1));
        data[p1 + 25] = P_HASH;
        let mut top = 2 * size;
        let mut index = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let mut key = vec![H_KEYDATA];
            key.extend(w32(i as u32 + 1));
            let value = if i == 1 {
                let mut v = vec![H_OFFPAGE, 0, 0, 0];
                v.extend(w32(2));
                v.extend(w32(r.len() as u32));
                let (a, b) = r.split_at(r.len() / 2);
                for (pg, (chunk, next)) in [(2usize, (a, 3u32)), (3, (b, 0))] {
                    let at = pg * size;
                    data[at + 8..at + 12].copy_from_slice(&w32(pg as u32));
                    data[at + 16..at + 20].copy_from_slice(&w32(next));
                    data[at + 22..at + 24].copy_from_slice(&w16(chunk.len() as u16));
                    data[at + 25] = P_OVERFLOW;
                    data[at + 26..at + 26 + chunk.len()].copy_from_slice(chunk);
                }
                v
            } else {
                [&[H_KEYDATA][..], r].concat()
            };
            for item in [key, value] {
                top -= item.len();
                data[top..top + item.len()].copy_from_slice(&item);
                index.push((top - p1) as u16);
            }
        }
        data[p1 + 20..p1 + 22].copy_from_slice(&w16(index.len() as u16));
        for (i, o) in index.iter().enumerate() {
            data[p1 + 26 + 2 * i..p1 + 28 + 2 * i].copy_from_slice(&w16(*o));
        }
        data
    }

    #[test]
    fn inline_and_overflow_records_in_both_byte_orders() {
        let big: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        for order in [false, true] {
            let f = file(&[b"first", &big, b"third"], order);
            let got = blobs(&f).expect("reads");
            assert_eq!(got, vec![b"first".to_vec(), big.clone(), b"third".to_vec()]);
        }
    }

    #[test]
    fn hostile_files_are_errors_not_panics() {
        let big: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let f = file(&[b"first", &big], false);
        assert!(blobs(&f[..100]).is_err());
        survives_damage(&f, 7, blobs);
        // An overflow chain that loops back to itself.
        let mut g = f.clone();
        g[3 * 512 + 16..3 * 512 + 20].copy_from_slice(&2u32.to_le_bytes());
        g[3 * 512 + 22..3 * 512 + 24].copy_from_slice(&1u16.to_le_bytes());
        g[2 * 512 + 22..2 * 512 + 24].copy_from_slice(&1u16.to_le_bytes());
        assert!(blobs(&g).is_err());
    }
}
