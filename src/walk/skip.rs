//! The top of the reader stack the tar parser sees, and an error recorder under it.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;

use crate::bytes::compression::READ_BUF;

/// The most a tar entry's metadata (long name, PAX records) or a captured file may take.
pub const MAX_READ_RUN: u64 = 64 << 20;

/// Buffered, and "seekable" forward only, so the parser skips file content by consuming
/// the buffer in place instead of copying it out (the bytes below were already counted
/// and hashed).
///
/// It also bounds memory against crafted tars: the parser reads (rather than skips)
/// only headers, GNU long names, PAX records and captured files, all of which it holds
/// in memory, so a run of reads with no skip between them longer than
/// [`MAX_READ_RUN`] is refused.
pub struct Skipper<R> {
    inner: BufReader<R>,
    pos: u64,
    /// Bytes read since the last skip.
    run: u64,
    /// Set while file content is streamed through a bounded buffer: not held, so not
    /// counted in the run.
    pass: Pass,
}

impl<R: Read> Skipper<R> {
    pub fn new(inner: R) -> Self {
        Self::passing(inner, Pass::default())
    }

    /// A skipper whose run is not counted while `pass` streams content by.
    pub fn passing(inner: R, pass: Pass) -> Self {
        Skipper {
            inner: BufReader::with_capacity(READ_BUF, inner),
            pos: 0,
            run: 0,
            pass,
        }
    }

    /// The reader below. What the buffer held is lost; it was counted below already.
    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }
}

impl<R: Read> Read for Skipper<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        if !self.pass.0.get() {
            self.run += n as u64;
        }
        if self.run > MAX_READ_RUN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a long name or PAX header is larger than 64 MiB",
            ));
        }
        Ok(n)
    }
}

impl<R: Read> Seek for Skipper<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.run = 0;
        let mut left = match to {
            SeekFrom::Current(n) if n >= 0 => n as u64,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "layer streams only skip forward",
                ));
            }
        };
        while left > 0 {
            let available = self.inner.fill_buf()?.len();
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF during skip",
                ));
            }
            let step = available.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.inner.consume(step);
            left -= step as u64;
            self.pos += step as u64;
        }
        Ok(self.pos)
    }
}

/// Marks the reads of file content that go through a bounded buffer and are not held
/// (hashed, or passed over to the next window of an ELF file): the parser holds only
/// what it reads otherwise, so only that counts against [`MAX_READ_RUN`]. Shared
/// between the entry loop and the [`Skipper`] of one walk, on one thread.
#[derive(Clone, Default)]
pub struct Pass(Rc<Cell<bool>>);

impl Pass {
    /// Run `f`, its reads streamed by rather than held.
    pub fn streaming<T>(&self, f: impl FnOnce() -> T) -> T {
        let before = self.0.replace(true);
        let out = f();
        self.0.set(before);
        out
    }

    /// Read and drop `n` bytes of `r`.
    pub fn over<R: Read>(&self, r: &mut R, n: u64) -> io::Result<()> {
        let copied = self.streaming(|| io::copy(&mut r.take(n), &mut io::sink()))?;
        if copied < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// Records the first error a reader returned, so tar-level errors can be told apart
/// from decompression errors.
pub struct ErrTap<R> {
    pub inner: R,
    pub error: Option<(io::ErrorKind, String)>,
}

impl<R> ErrTap<R> {
    pub fn new(inner: R) -> Self {
        ErrTap { inner, error: None }
    }
}

impl<R: Read> Read for ErrTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some((e.kind(), e.to_string()));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_forward_and_refuses_to_go_back() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut s = Skipper::new(&data[..]);
        let mut two = [0u8; 2];
        s.read_exact(&mut two).expect("read");
        assert_eq!(s.seek(SeekFrom::Current(998)).expect("skip"), 1000);
        s.read_exact(&mut two).expect("read");
        assert_eq!(two, [data[1000], data[1001]]);
        assert!(s.seek(SeekFrom::Current(-1)).is_err());
        assert!(s.seek(SeekFrom::Start(0)).is_err());
        let past = s
            .seek(SeekFrom::Current(1 << 20))
            .expect_err("past the end");
        assert_eq!(past.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_long_run_of_reads_is_refused() {
        let mut s = Skipper::new(io::repeat(7).take(MAX_READ_RUN + 10));
        let e = io::copy(&mut s, &mut io::sink()).expect_err("bounded");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A skip resets the run.
        let mut s = Skipper::new(io::repeat(7).take(3 * MAX_READ_RUN / 2));
        let mut buf = vec![0; (MAX_READ_RUN - 1) as usize];
        s.read_exact(&mut buf).expect("under the bound");
        s.seek(SeekFrom::Current(1)).expect("skip");
        let mut more = vec![0; 4096];
        s.read_exact(&mut more).expect("a new run");
    }

    #[test]
    fn content_passed_over_is_not_held() {
        let pass = Pass::default();
        let mut s = Skipper::passing(io::repeat(7).take(3 * MAX_READ_RUN), pass.clone());
        pass.over(&mut s, 2 * MAX_READ_RUN).expect("streamed by");
        let mut buf = vec![0; 4096];
        s.read_exact(&mut buf).expect("a short run after it");
        let e = pass
            .over(&mut s, 2 * MAX_READ_RUN)
            .expect_err("past the end");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
