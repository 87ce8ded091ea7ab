//! The registry flags: credentials (never from the command line), a private CA, plain
//! http, and the time limits, turned into the library's `RegistryOptions`.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use imgsize::source::RegistryOptions;
use imgsize::source::registry::{Credential, Limits};

/// How to reach registries.
#[derive(Debug, Args)]
#[command(next_help_heading = "Registry")]
pub(super) struct RegistryArgs {
    /// The registry user name (the password comes from --password-stdin or
    /// IMGSIZE_REGISTRY_PASSWORD); default: docker's and podman's stored credentials.
    #[arg(long, value_name = "USER", env = "IMGSIZE_REGISTRY_USERNAME")]
    username: Option<String>,
    /// Read the registry password (or token) from the first line of standard input.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// A CA certificate (PEM) to trust besides the system's, for a registry with a
    /// private CA.
    #[arg(long, value_name = "FILE", env = "IMGSIZE_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Allow plain http to the registry (always allowed for localhost).
    #[arg(long)]
    insecure: bool,
    /// How long each registry request may take to connect, and then to answer with
    /// its headers (`30s`, `2m`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout, env = "IMGSIZE_REQUEST_TIMEOUT")]
    request_timeout: Duration,
    /// A download that brings less than --min-rate a second over this much waiting
    /// (or nothing for this long) has stalled: it is resumed where it stopped, at
    /// most 4 times.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout, env = "IMGSIZE_STALL_TIMEOUT")]
    stall_timeout: Duration,
    /// The slowest download that is not a stall, in bytes a second (`1kB`, `64KiB`).
    #[arg(long, value_name = "SIZE", default_value = "1kB", value_parser = imgsize::analyze::budget::parse_size, env = "IMGSIZE_MIN_RATE")]
    min_rate: u64,
    /// Everything one registry image needs (requests, retries, waits, downloads)
    /// ends by then, with an error (`10m`, `1h`; `0`: no deadline).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration, env = "IMGSIZE_DEADLINE")]
    deadline: Duration,
}

/// A duration flag: `30s`, `1m 30s`, `500ms`, or a bare number of seconds.
fn duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("`{text}`: {e}; a duration is like 30s, 10m, 1m30s or 500ms"))
}

/// A timeout: a duration above zero.
fn timeout(text: &str) -> std::result::Result<Duration, String> {
    let d = duration(text)?;
    if d.is_zero() {
        return Err(format!("`{text}`: a timeout must be longer than zero"));
    }
    Ok(d)
}

impl RegistryArgs {
    /// The library's registry options; the password is read from stdin or the
    /// environment, never from the command line.
    pub(super) fn options(&self, inputs: &[&str]) -> Result<RegistryOptions> {
        let password = if self.password_stdin {
            if inputs.contains(&"-") {
                anyhow::bail!(
                    "--password-stdin and an image on standard input (-) both need stdin"
                );
            }
            let mut line = String::new();
            io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            Some(line.trim_end_matches(['\n', '\r']).to_string())
        } else {
            std::env::var("IMGSIZE_REGISTRY_PASSWORD").ok()
        };
        let credential = match (&self.username, password) {
            (Some(username), Some(password)) => Some(Credential::Basic {
                username: username.clone(),
                password,
            }),
            (Some(_), None) => anyhow::bail!(
                "--username needs a password: --password-stdin or IMGSIZE_REGISTRY_PASSWORD"
            ),
            (None, _) => None,
        };
        Ok(RegistryOptions {
            credential,
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure,
            limits: Limits {
                request: self.request_timeout,
                stall: self.stall_timeout,
                min_rate: self.min_rate,
                deadline: Some(self.deadline).filter(|d| !d.is_zero()),
            },
        })
    }
}
