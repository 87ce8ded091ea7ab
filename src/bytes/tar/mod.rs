//! Tar at the block level: telling a tar from other bytes by its first header, block
//! arithmetic, and what a failed read of a tar stream means; a header block's fields
//! ([`header`]), PAX records ([`pax`]) and the streaming reader of the layer walk
//! ([`reader`]). Entry semantics (paths, whiteouts, kinds, limits) are the walker's.

use std::io;

pub mod header;
pub mod pax;
pub mod reader;

pub use header::Header;
pub use pax::{Pax, Problem};
pub use reader::{Content, Reader};

/// The size of a tar block.
pub const BLOCK: u64 = 512;

/// Whether a 512-byte block is a tar header (checksum valid) or all zeros.
pub fn looks_like_tar(block: &[u8]) -> bool {
    if block.len() < BLOCK as usize {
        return false;
    }
    let Ok(block) = <&[u8; BLOCK as usize]>::try_from(&block[..BLOCK as usize]) else {
        return false;
    };
    if block.iter().all(|&b| b == 0) {
        return true;
    }
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(expected) = u32::from_str_radix(text, 8) else {
        return false;
    };
    header::checksum(block) == expected
}

/// Round a tar data length up to whole 512-byte blocks.
pub fn blocks(len: u64) -> u64 {
    len.div_ceil(BLOCK).saturating_mul(BLOCK)
}

/// Whether a tar read failed because the stream ended early. The tar crate reports a
/// stream cut inside content as "unexpected EOF" with another error kind, so the
/// message is the only sign; this is the one place that reads it.
pub fn is_truncation(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::UnexpectedEof || e.to_string().contains("unexpected EOF")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str) -> Vec<u8> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).expect("path");
        h.set_size(3);
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    #[test]
    fn a_header_with_a_good_checksum_is_a_tar() {
        assert!(looks_like_tar(&header("etc/hosts")));
        assert!(
            looks_like_tar(&[0u8; 512]),
            "an empty tar is two zero blocks"
        );
        let mut bad = header("etc/hosts");
        bad[0] ^= 1;
        assert!(!looks_like_tar(&bad), "one flipped bit breaks the checksum");
        assert!(!looks_like_tar(&header("x")[..511]), "short");
        assert!(!looks_like_tar(&[b'{'; 512]), "JSON is not a tar");
    }

    #[test]
    fn block_arithmetic() {
        assert_eq!(blocks(0), 0);
        assert_eq!(blocks(1), 512);
        assert_eq!(blocks(512), 512);
        assert_eq!(blocks(513), 1024);
        assert_eq!(blocks(u64::MAX), u64::MAX, "saturates, never wraps");
    }

    #[test]
    fn truncation_is_recognised_by_kind_or_message() {
        assert!(is_truncation(&io::Error::from(
            io::ErrorKind::UnexpectedEof
        )));
        assert!(is_truncation(&io::Error::other(
            "unexpected EOF during skip"
        )));
        assert!(!is_truncation(&io::Error::other("checksum mismatch")));
    }
}

#[cfg(test)]
mod reader_tests;
