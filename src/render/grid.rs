//! The comfy-table setup every text table shares: the style, the width and the right
//! alignment of figure columns, and rows that never wrap.

use comfy_table::{self as ct, Cell, CellAlignment, ContentArrangement, Row, presets};

/// A table `width` columns wide with this header; `right` marks right-aligned columns.
pub(super) fn new_table(width: u16, header: &[&str], right: &[usize]) -> ct::Table {
    let mut t = ct::Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED.with_rounded_corners())
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.to_vec());
    for &c in right {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// A row that never wraps: long text is cut by the table at the column width.
pub(super) fn one_line(cells: Vec<Cell>) -> Row {
    let mut row = Row::from(cells);
    row.max_height(1);
    row
}
