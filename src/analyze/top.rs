//! Top-N tables: the biggest rows, then what was left out (rows and bytes), then the
//! total, so a cut table still adds up.

/// Rows left out of a [`TopN`] table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rest {
    pub rows: usize,
    pub bytes: u64,
}

/// A top-N table with its remainder and total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopN<R> {
    pub rows: Vec<R>,
    /// What `--top` left out.
    pub rest: Rest,
    /// Every row's bytes, shown or not.
    pub total_bytes: u64,
}

impl<R> TopN<R> {
    /// Keep the first `top` of `rows` (already sorted), summing the others.
    pub fn cut(mut rows: Vec<R>, top: usize, bytes: impl Fn(&R) -> u64) -> Self {
        let total_bytes = rows.iter().map(&bytes).sum();
        let rest: Vec<R> = if rows.len() > top {
            rows.split_off(top)
        } else {
            Vec::new()
        };
        TopN {
            rest: Rest {
                rows: rest.len(),
                bytes: rest.iter().map(&bytes).sum(),
            },
            total_bytes,
            rows,
        }
    }

    /// How many rows there are in all, shown or not.
    pub fn all_rows(&self) -> usize {
        self.rows.len() + self.rest.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_adds_up() {
        let t = TopN::cut(vec![50u64, 30, 15, 5], 2, |&b| b);
        assert_eq!(t.rows, vec![50, 30]);
        assert_eq!(t.rest, Rest { rows: 2, bytes: 20 });
        assert_eq!(t.total_bytes, 100);
        assert_eq!(t.all_rows(), 4);
        assert_eq!(
            t.rows.iter().sum::<u64>() + t.rest.bytes,
            t.total_bytes,
            "shown + rest = total"
        );
    }

    #[test]
    fn top_zero_keeps_only_the_remainder_and_a_short_list_has_none() {
        let none = TopN::cut(vec![3u64, 2], 0, |&b| b);
        assert!(none.rows.is_empty());
        assert_eq!(none.rest, Rest { rows: 2, bytes: 5 });
        let all = TopN::cut(vec![3u64, 2], 10, |&b| b);
        assert_eq!(all.rest, Rest::default());
        assert_eq!(all.total_bytes, 5);
        let empty = TopN::cut(Vec::<u64>::new(), 3, |&b| b);
        assert_eq!((empty.total_bytes, empty.all_rows()), (0, 0));
    }
}
