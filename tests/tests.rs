//! imgsize's integration tests: one binary, modules by topic.

mod util;

mod amplification;
mod architecture;
mod categories;
mod check;
mod cli;
mod corpus;
mod deadlines;
mod diff;
mod dockerfile;
mod engine;
mod formats;
mod hostile;
mod html;
mod indexes;
mod limits;
mod packages;
mod projections;
mod registry;
mod rules;
mod sample;
mod schema;
mod secrets;
mod snapshots;
mod terminal;
mod tools;
