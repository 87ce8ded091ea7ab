//! The fleet report as JSON (`imgsize fleet --format json`): the [`Fleet`] under the
//! document's version, kind and tool. Its fields are the model's (docs/json.md, "Fleet
//! report"; schema docs/imgsize-fleet.schema.json); a saved one is the `--baseline` of
//! the next.

use std::io::{self, Write};

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::shared::{TOOL, Tool};
use crate::model::fleet::Fleet;

#[derive(Serialize)]
pub(super) struct FleetDoc<'a> {
    schema_version: u32,
    kind: &'static str,
    tool: Tool,
    #[serde(flatten)]
    fleet: &'a Fleet,
}

/// The fleet document.
pub(super) fn fleet_doc(f: &Fleet) -> FleetDoc<'_> {
    FleetDoc {
        schema_version: SCHEMA_VERSION,
        kind: "fleet",
        tool: TOOL,
        fleet: f,
    }
}

/// The fleet document as compact JSON, for the HTML page.
pub fn fleet_compact(f: &Fleet, out: &mut dyn Write) -> io::Result<()> {
    super::safe::write_compact(out, &fleet_doc(f))
}
