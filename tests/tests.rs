//! imgsize's integration tests: one binary, modules by topic, run by the harness in
//! `util::harness` so that a test that cannot run here is reported as ignored with its
//! reason (and fails under CI).

#[macro_use]
mod util;

mod amplification;
mod architecture;
mod binaries;
mod categories;
mod check;
mod ci_templates;
mod cli;
mod corpus;
mod deadlines;
mod diff;
mod dockerfile;
mod ecosystems;
mod engine;
mod fix;
mod fleet;
mod fleet_doc;
mod formats;
mod hostile;
mod html;
mod indexes;
mod limits;
mod packages;
mod podman;
mod projections;
mod reach;
mod readme;
mod redis_cache;
mod registry;
mod rpm;
mod rules;
mod sample;
mod scan;
mod scan_bounds;
mod schema;
mod secrets;
mod snapshots;
mod terminal;
mod tools;

fn main() {
    util::harness::quiet_skips();
    let args = libtest_mimic::Arguments::from_args();
    let trials: Vec<libtest_mimic::Trial> = [
        amplification::trials(),
        architecture::trials(),
        binaries::trials(),
        categories::trials(),
        check::trials(),
        ci_templates::trials(),
        cli::trials(),
        corpus::trials(),
        deadlines::trials(),
        diff::trials(),
        dockerfile::trials(),
        ecosystems::trials(),
        engine::trials(),
        fix::trials(),
        fleet::trials(),
        fleet_doc::trials(),
        formats::trials(),
        hostile::trials(),
        html::trials(),
        indexes::trials(),
        limits::trials(),
        packages::trials(),
        podman::trials(),
        projections::trials(),
        reach::trials(),
        readme::trials(),
        redis_cache::trials(),
        registry::trials(),
        rpm::trials(),
        rules::trials(),
        sample::trials(),
        scan::trials(),
        scan_bounds::trials(),
        schema::trials(),
        secrets::trials(),
        snapshots::trials(),
        terminal::trials(),
        tools::trials(),
    ]
    .into_iter()
    .flatten()
    .collect();
    libtest_mimic::run(&args, trials).exit();
}
