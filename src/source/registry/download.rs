//! Blob bodies read under the time limits ([`Limits`]): a download that
//! drops is resumed with a `Range` request; one that stalls (less than the minimum
//! rate over a window of waiting) is resumed the same way; the image's deadline ends
//! everything. The rate counts only the time spent waiting on the network, so a
//! walker busy with another layer never makes a download look stalled.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::client::{Client, Failure};
use super::limits::{Limits, human};

/// A dropped or stalled download is resumed this many times.
const RESUMES: u32 = 4;

/// Bytes received over time spent waiting for them, in windows of `Limits::stall`.
#[derive(Default)]
struct Meter {
    waited: Duration,
    bytes: u64,
}

impl Meter {
    /// Count one read; `Some(bytes)` when a window ended under the minimum rate.
    fn count(&mut self, limits: &Limits, waited: Duration, bytes: usize) -> Option<u64> {
        self.waited += waited;
        self.bytes += bytes as u64;
        if self.waited < limits.stall {
            return None;
        }
        let wanted = limits.min_rate as f64 * self.waited.as_secs_f64();
        let slow = (self.bytes as f64) < wanted;
        let got = self.bytes;
        *self = Meter::default();
        slow.then_some(got)
    }
}

impl Client {
    /// A blob as a reader that resumes a dropped or stalled download where it stopped.
    pub fn blob(&self, digest: &str) -> io::Result<BlobReader<'_>> {
        let what = format!("blobs/{digest}");
        let resp = self.get(&what, &[]).map_err(|f| match f {
            Failure::NotFound(m) => io::Error::new(io::ErrorKind::NotFound, m),
            f => io::Error::other(f.message().to_string()),
        })?;
        Ok(BlobReader::new(
            self,
            what,
            Box::new(resp.into_body().into_reader()),
        ))
    }
}

/// Bytes of manifests and blob bodies this process received from registries.
static DOWNLOADED: AtomicU64 = AtomicU64::new(0);

/// Count `n` bytes received.
pub(super) fn count(n: u64) {
    DOWNLOADED.fetch_add(n, Ordering::Relaxed);
}

/// Bytes of manifests and blob bodies this process has received from registries so
/// far (resumed downloads count what was received again), for `imgsize scan`'s
/// progress.
pub fn downloaded_bytes() -> u64 {
    DOWNLOADED.load(Ordering::Relaxed)
}

/// A blob body being downloaded.
pub struct BlobReader<'a> {
    client: &'a Client,
    what: String,
    body: Option<Box<dyn Read + Send>>,
    pos: u64,
    resumes: u32,
    meter: Meter,
}

impl<'a> BlobReader<'a> {
    pub(super) fn new(client: &'a Client, what: String, body: Box<dyn Read + Send>) -> Self {
        BlobReader {
            client,
            what,
            body: Some(body),
            pos: 0,
            resumes: 0,
            meter: Meter::default(),
        }
    }

    fn broken(&self, message: String) -> io::Error {
        // Not the decoder's "stream ends early": the network, not the blob, failed.
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            self.client.scrub(&message),
        )
    }

    fn resume(&mut self, cause: &str) -> io::Result<()> {
        self.body = None;
        self.meter = Meter::default();
        if self.resumes >= RESUMES {
            return Err(self.broken(format!(
                "GET {}: the download broke off {} times, last at byte {}: {cause}",
                self.what,
                self.resumes + 1,
                self.pos
            )));
        }
        self.resumes += 1;
        self.client
            .wait(Client::backoff(self.resumes - 1))
            .map_err(|deadline| {
                self.broken(format!(
                    "GET {}: the download broke off at byte {} ({cause}), and {deadline}",
                    self.what, self.pos
                ))
            })?;
        let range = [("Range", format!("bytes={}-", self.pos))];
        let resp = self.client.get(&self.what, &range).map_err(|f| {
            self.broken(format!(
                "GET {}: the download broke off at byte {} ({cause}), and resuming it failed: {}",
                self.what,
                self.pos,
                f.message()
            ))
        })?;
        if resp.status().as_u16() != 206 {
            return Err(self.broken(format!(
                "GET {}: the download broke off at byte {} ({cause}) and the registry cannot resume it",
                self.what, self.pos
            )));
        }
        self.body = Some(Box::new(resp.into_body().into_reader()));
        Ok(())
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(body) = self.body.as_mut() else {
                return Err(self.broken(format!("GET {}: no body", self.what)));
            };
            let started = Instant::now();
            let read = body.read(buf);
            let limits = self.client.limits();
            match read {
                Ok(n) => {
                    self.pos += n as u64;
                    count(n as u64);
                    match self.meter.count(&limits, started.elapsed(), n) {
                        Some(got) if n > 0 => {
                            let cause = format!(
                                "it stalled: {got} bytes in {}, under {} bytes a second (--stall-timeout, --min-rate)",
                                human(limits.stall),
                                limits.min_rate
                            );
                            self.resume(&cause)?;
                            // What was read before the stall is still good.
                            return Ok(n);
                        }
                        _ => return Ok(n),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let (cause, resumable) = self.client.describe_io(&e);
                    if !resumable {
                        return Err(self
                            .broken(format!("GET {}: at byte {}: {cause}", self.what, self.pos)));
                    }
                    self.resume(&cause)?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_counts_waiting_only_in_windows() {
        let limits = Limits {
            stall: Duration::from_secs(10),
            min_rate: 100,
            ..Limits::default()
        };
        let mut m = Meter::default();
        // 999 bytes in 10 s of waiting: under 100 a second.
        assert_eq!(m.count(&limits, Duration::from_secs(5), 500), None);
        assert_eq!(m.count(&limits, Duration::from_secs(5), 499), Some(999));
        // A new window: 1000 bytes in 10 s is enough.
        assert_eq!(m.count(&limits, Duration::from_secs(9), 0), None);
        assert_eq!(m.count(&limits, Duration::from_secs(1), 1000), None);
    }
}
