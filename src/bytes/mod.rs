//! The ground floor: byte-level pieces every stage may use and that know nothing of
//! images, layers or reports. Compression detection and the one decoder builder
//! ([`compression`]), tar block sniffing ([`tar`]), content digests and the counting,
//! hashing reader tap ([`digest`]), and the progress hook ([`progress`]).
//!
//! It imports nothing from the rooms above it (model, source, walk, analyze, render),
//! only [`crate::error`] for the layer error vocabulary.

pub mod compression;
pub mod digest;
pub mod parallel;
pub mod progress;
pub mod tar;

pub use compression::{Compression, Decoder, DecoderLimit};
pub use digest::{Algorithm, Hasher, Tap, VerifyPolicy};
pub use progress::{NoProgress, Progress};
