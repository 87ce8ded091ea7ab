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

/// Bytes [`sniff`] reads ahead: enough for a zstd frame header or an xz stream header
/// and its first block header, so a refused stream can say what it asked for.
pub const SNIFF_LEN: usize = 64;

/// Read buffer of the decoding stacks.
pub const READ_BUF: usize = 256 * 1024;

/// The memory one decoder may use, by default: 128 MiB. zstd accepts windows up to
/// 128 MiB (window log 27, the largest `zstd --long` uses without `--long=N`), xz a
/// memory limit of 128 MiB (twice what `xz -9`, a 64 MiB dictionary, needs).
pub const DEFAULT_DECODER_MEMORY: u64 = 128 << 20;

/// The memory one decoder may use for its window (zstd) or dictionary (xz). gzip needs
/// 32 KiB whatever the stream says and is not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimit {
    pub max_memory: u64,
}

impl Default for DecoderLimit {
    fn default() -> Self {
        DecoderLimit {
            max_memory: DEFAULT_DECODER_MEMORY,
        }
    }
}

impl DecoderLimit {
    /// The largest zstd window log within the limit (zstd takes 10 to 31).
    pub fn zstd_window_log(self) -> u32 {
        let log = 63 - self.max_memory.max(1).leading_zeros();
        log.clamp(10, 31)
    }

    /// The error a decoder's refusal becomes: what the stream asks for, when its header
    /// said, and the limit.
    fn refused(self, compression: Compression, asks: Option<u64>) -> io::Error {
        let what = match compression {
            Compression::Xz => "dictionary",
            _ => "window",
        };
        let asked = match asks {
            Some(n) if n > self.max_memory => format!("a {what} of {n} bytes"),
            _ => format!("a {what}"),
        };
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!(
                "{} stream asks for {asked}, over the decoder memory limit of {} bytes",
                compression.name(),
                self.max_memory
            ),
        )
    }
}

/// The window a zstd frame header at the start of `head` declares, when `head` holds it.
pub fn zstd_window(head: &[u8]) -> Option<u64> {
    let [0x28, 0xb5, 0x2f, 0xfd, fhd, rest @ ..] = head else {
        return None;
    };
    if fhd & 0x20 == 0 {
        // Window_Descriptor: exponent and mantissa.
        let wd = *rest.first()?;
        let base = 1u64 << (10 + u32::from(wd >> 3));
        return Some(base + base / 8 * u64::from(wd & 7));
    }
    // A single segment: the window is the frame's content size.
    let dict_id = [0, 1, 2, 4][usize::from(fhd & 3)];
    let size_len = [1, 2, 4, 8][usize::from(fhd >> 6)];
    let field = rest.get(dict_id..dict_id + size_len)?;
    let size = field
        .iter()
        .rev()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b));
    Some(if size_len == 2 { size + 256 } else { size })
}

/// The LZMA2 dictionary the first block of an xz stream at the start of `head`
/// declares, when `head` holds its header.
pub fn xz_dictionary(head: &[u8]) -> Option<u64> {
    fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..9 {
            let byte = *b.get(*at)?;
            *at += 1;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    if !head.starts_with(b"\xfd7zXZ\x00") {
        return None;
    }
    let block = head.get(12..)?;
    let flags = *block.get(1)?;
    let mut at = 2;
    if flags & 0x40 != 0 {
        varint(block, &mut at)?;
    }
    if flags & 0x80 != 0 {
        varint(block, &mut at)?;
    }
    for _ in 0..=(flags & 3) {
        let id = varint(block, &mut at)?;
        let len = usize::try_from(varint(block, &mut at)?).ok()?;
        let props = block.get(at..at.checked_add(len)?)?;
        at += len;
        if id == 0x21 {
            let p = *props.first()?;
            return Some(match p {
                40 => u64::from(u32::MAX),
                0..=39 => (2 | u64::from(p & 1)) << (u32::from(p) / 2 + 11),
                _ => return None,
            });
        }
    }
    None
}

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
    let head = read_head(&mut r, SNIFF_LEN)?;
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
    Zstd(Box<zstd::stream::read::Decoder<'static, R>>, Bound),
    Xz(Box<liblzma::bufread::XzDecoder<R>>, Bound),
}

/// A decoder's memory limit and what the stream's first header asked for.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    limit: DecoderLimit,
    asks: Option<u64>,
}

impl<R: BufRead> Decoder<R> {
    /// The decoder for `compression`, within `limit`: zstd accepts windows up to the
    /// limit (rounded down to a power of two), xz streams whose decoder fits in it; a
    /// stream that asks for more fails to read with [`io::ErrorKind::OutOfMemory`],
    /// saying what it asked for and the limit. gzip and xz read every member or stream
    /// concatenated in the input.
    pub fn new(compression: Compression, mut input: R, limit: DecoderLimit) -> io::Result<Self> {
        Ok(match compression {
            Compression::Tar | Compression::Empty => Decoder::Plain(input),
            Compression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(input)))
            }
            Compression::Zstd => {
                let asks = zstd_window(input.fill_buf()?);
                let mut d = zstd::stream::read::Decoder::with_buffer(input)?;
                d.window_log_max(limit.zstd_window_log())?;
                Decoder::Zstd(Box::new(d), Bound { limit, asks })
            }
            Compression::Xz => {
                let asks = xz_dictionary(input.fill_buf()?);
                let stream = liblzma::stream::Stream::new_stream_decoder(
                    limit.max_memory,
                    liblzma::stream::CONCATENATED,
                )
                .map_err(io::Error::from)?;
                Decoder::Xz(
                    Box::new(liblzma::bufread::XzDecoder::new_stream(input, stream)),
                    Bound { limit, asks },
                )
            }
        })
    }

    /// The input reader.
    pub fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d, _) => d.finish(),
            Decoder::Xz(d, _) => d.into_inner(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d, bound) => d.read(buf).map_err(|e| {
                if e.to_string().contains("too much memory") {
                    bound.limit.refused(Compression::Zstd, bound.asks)
                } else {
                    e
                }
            }),
            Decoder::Xz(d, bound) => d.read(buf).map_err(|e| {
                let over = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
                    .is_some_and(|inner| matches!(inner, liblzma::stream::Error::MemLimit));
                if over {
                    bound.limit.refused(Compression::Xz, bound.asks)
                } else {
                    e
                }
            }),
        }
    }
}

/// Open a decompressing, buffered reader over a stream whose compression is detected
/// from its first bytes (whole archives: `docker save | gzip`).
pub fn decompressing<'a>(
    r: Box<dyn Read + Send + 'a>,
    limit: DecoderLimit,
) -> io::Result<(Compression, Box<dyn BufRead + Send + 'a>)> {
    let (compression, input) = sniff(r)?;
    let out: Box<dyn BufRead + Send + 'a> = match Decoder::new(compression, input, limit)? {
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
        // A decoder refused a window or dictionary over its memory limit.
        (_, io::ErrorKind::OutOfMemory) => LayerErrorKind::Limit(message.to_string()),
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
            let (c, mut r) =
                decompressing(Box::new(io::Cursor::new(blob)), DecoderLimit::default())
                    .expect("open");
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

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn headers_say_what_a_stream_asks_for() {
        // Window_Descriptor 0xa8: exponent 21, 2^31; 0x09: 2^11 + 1/8.
        assert_eq!(
            zstd_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x04, 0xa8]),
            Some(1 << 31)
        );
        assert_eq!(
            zstd_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x09]),
            Some(2048 + 256)
        );
        // A single segment with a 2-byte content size: size + 256.
        assert_eq!(
            zstd_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x00, 0x01]),
            Some(256 + 256)
        );
        assert_eq!(zstd_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x04]), None, "cut");
        assert_eq!(zstd_window(b"not zstd"), None);
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&b"some bytes"[..], 1)
            .read_to_end(&mut xz)
            .expect("xz");
        assert_eq!(xz_dictionary(&xz), Some(1 << 20), "preset 1");
        assert_eq!(xz_dictionary(&xz[..14]), None, "cut");
    }

    #[test]
    fn the_limit_sets_the_zstd_window_log() {
        let log = |max_memory| DecoderLimit { max_memory }.zstd_window_log();
        assert_eq!(DecoderLimit::default().zstd_window_log(), 27);
        assert_eq!(log((256 << 20) + 1), 28, "rounded down");
        assert_eq!(log(1), 10);
        assert_eq!(log(u64::MAX), 31);
    }
}
