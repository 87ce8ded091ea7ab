//! Compression by magic bytes, never by name or media type, and the one decoder
//! builder used for layer blobs and for whole archives (`docker save | gzip`).

use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};

use crate::error::LayerErrorKind;

/// How a blob or an archive is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Uncompressed (a tar, for layers and archives).
    Tar,
    Gzip,
    Zstd,
    Xz,
    /// A zero-byte blob: an empty layer.
    Empty,
}

/// Bytes [`Compression::detect`] needs to see.
pub const MAGIC_LEN: usize = 8;

/// Read buffer of the decoding stacks.
pub const READ_BUF: usize = 256 * 1024;

impl Compression {
    /// Detect from the first bytes of a blob.
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [] => Compression::Empty,
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            // zstd skippable frames (zstd:chunked may start with one).
            [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => Compression::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            _ => Compression::Tar,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Tar => "tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Empty => "empty",
        }
    }

    /// A stable one-byte code for encodings that outlive the process (the layer cache).
    /// Codes are never reused or renumbered; 0 is left free to mean "none".
    pub fn code(self) -> u8 {
        match self {
            Compression::Tar => 1,
            Compression::Gzip => 2,
            Compression::Zstd => 3,
            Compression::Xz => 4,
            Compression::Empty => 5,
        }
    }

    /// The compression a [`Compression::code`] stands for; `None` for any other byte.
    pub fn from_code(code: u8) -> Option<Compression> {
        Some(match code {
            1 => Compression::Tar,
            2 => Compression::Gzip,
            3 => Compression::Zstd,
            4 => Compression::Xz,
            5 => Compression::Empty,
            _ => return None,
        })
    }

    /// Whether the bytes need a decoder.
    pub fn is_compressed(self) -> bool {
        matches!(
            self,
            Compression::Gzip | Compression::Zstd | Compression::Xz
        )
    }
}

/// Read up to `n` bytes (fewer only at end of stream).
pub fn read_head<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A reader whose first bytes were read to sniff it, put back in front.
pub type Sniffed<R> = BufReader<Chain<Cursor<Vec<u8>>, R>>;

/// Read the first bytes of `r`, detect its compression, and give back a buffered reader
/// that still starts at the first byte.
pub fn sniff<R: Read>(mut r: R) -> io::Result<(Compression, Sniffed<R>)> {
    let head = read_head(&mut r, MAGIC_LEN)?;
    let compression = Compression::detect(&head);
    Ok((
        compression,
        BufReader::with_capacity(READ_BUF, Cursor::new(head).chain(r)),
    ))
}

/// A decompressing reader over buffered input; [`Decoder::into_inner`] gives the input
/// back, positioned after the compressed stream (so trailing bytes can still be counted).
pub enum Decoder<R: BufRead> {
    /// Uncompressed (or empty) input, passed through.
    Plain(R),
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, R>>),
    Xz(Box<liblzma::bufread::XzDecoder<R>>),
}

impl<R: BufRead> Decoder<R> {
    /// The decoder for `compression`. zstd accepts windows up to 2 GiB (`--long`
    /// layers); gzip and xz read every member or stream concatenated in the input.
    pub fn new(compression: Compression, input: R) -> io::Result<Self> {
        Ok(match compression {
            Compression::Tar | Compression::Empty => Decoder::Plain(input),
            Compression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(input)))
            }
            Compression::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(input)?;
                d.window_log_max(31)?;
                Decoder::Zstd(Box::new(d))
            }
            Compression::Xz => Decoder::Xz(Box::new(
                liblzma::bufread::XzDecoder::new_multi_decoder(input),
            )),
        })
    }

    /// The input reader.
    pub fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Xz(d) => d.into_inner(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
        }
    }
}

/// Open a decompressing, buffered reader over a stream whose compression is detected
/// from its first bytes (whole archives: `docker save | gzip`).
pub fn decompressing<'a>(
    r: Box<dyn Read + Send + 'a>,
) -> io::Result<(Compression, Box<dyn BufRead + Send + 'a>)> {
    let (compression, input) = sniff(r)?;
    let out: Box<dyn BufRead + Send + 'a> = match Decoder::new(compression, input)? {
        Decoder::Plain(input) => Box::new(input),
        decoder => Box::new(BufReader::with_capacity(READ_BUF, decoder)),
    };
    Ok((compression, out))
}

/// What a failed read of a (possibly compressed) layer stream means.
pub fn decode_error(
    compression: Compression,
    kind: io::ErrorKind,
    message: &str,
) -> LayerErrorKind {
    match (compression, kind) {
        // The source failed (a download that broke off), not the stream's content.
        (
            _,
            io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::TimedOut
            | io::ErrorKind::NotConnected,
        ) => LayerErrorKind::Read(message.to_string()),
        (_, io::ErrorKind::UnexpectedEof) => {
            LayerErrorKind::Truncated(format!("{} stream ends early", compression.name()))
        }
        (Compression::Tar | Compression::Empty, _) => LayerErrorKind::Open(message.to_string()),
        (c, _) => LayerErrorKind::Corrupt {
            compression: c.name(),
            message: if message.contains(c.name()) {
                message.to_string()
            } else {
                format!("corrupt {} stream: {message}", c.name())
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        assert_eq!(Compression::detect(b""), Compression::Empty);
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0x04]),
            Compression::Zstd
        );
        // A zstd skippable frame (zstd:chunked starts with one).
        assert_eq!(
            Compression::detect(&[0x5e, 0x2a, 0x4d, 0x18, 0, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"\xfd7zXZ\x00\x00"), Compression::Xz);
        // A lone gzip magic byte, or a tar that starts with a name, is not compressed.
        assert_eq!(Compression::detect(&[0x1f]), Compression::Tar);
        assert_eq!(Compression::detect(b"etc/passwd\0"), Compression::Tar);
        assert!(!Compression::Tar.is_compressed());
        assert!(Compression::Xz.is_compressed());
    }

    #[test]
    fn codes_are_stable_and_round_trip() {
        let all = [
            Compression::Tar,
            Compression::Gzip,
            Compression::Zstd,
            Compression::Xz,
            Compression::Empty,
        ];
        let codes: Vec<u8> = all.iter().map(|c| c.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5], "codes are on disk: never renumber");
        for c in all {
            assert_eq!(Compression::from_code(c.code()), Some(c));
        }
        assert_eq!(Compression::from_code(0), None);
        assert_eq!(Compression::from_code(6), None);
        assert_eq!(Compression::from_code(u8::MAX), None);
    }

    #[test]
    fn sniffing_puts_the_head_back() {
        let (c, mut r) = sniff(&b"plain bytes, longer than the head"[..]).expect("sniff");
        assert_eq!(c, Compression::Tar);
        let mut all = String::new();
        r.read_to_string(&mut all).expect("read");
        assert_eq!(all, "plain bytes, longer than the head");
    }

    #[test]
    fn one_builder_decodes_every_kind() {
        let text = b"the same bytes, whatever wraps them".repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &text).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let zst = zstd::encode_all(&text[..], 3).expect("zstd");
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&text[..], 1)
            .read_to_end(&mut xz)
            .expect("xz");
        for (blob, want) in [
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
            (xz, Compression::Xz),
            (text.clone(), Compression::Tar),
        ] {
            let (c, mut r) = decompressing(Box::new(io::Cursor::new(blob))).expect("open");
            assert_eq!(c, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).expect("decode");
            assert_eq!(out, text, "{want:?}");
        }
    }

    #[test]
    fn decode_errors_say_what_broke() {
        let eof = decode_error(Compression::Gzip, io::ErrorKind::UnexpectedEof, "x");
        assert_eq!(eof.to_string(), "truncated: gzip stream ends early");
        let cut = decode_error(
            Compression::Gzip,
            io::ErrorKind::ConnectionAborted,
            "GET blobs/x: the download broke off",
        );
        assert_eq!(
            cut.to_string(),
            "cannot read: GET blobs/x: the download broke off"
        );
        let bad = decode_error(Compression::Zstd, io::ErrorKind::Other, "Unknown frame");
        assert_eq!(bad.to_string(), "corrupt zstd stream: Unknown frame");
        let plain = decode_error(Compression::Tar, io::ErrorKind::Other, "disk on fire");
        assert_eq!(plain.to_string(), "cannot open: disk on fire");
    }
}
