//! `portfolio_rank(posts_search, title_weight, content_weight)`: an FTS5
//! ranking function like the built-in `bm25()`, but whose cost is the row
//! it scores, never the size of the index. Higher is better.
//!
//! Why not `bm25()`: it weighs each word by its rarity over the whole table
//! (inverse document frequency), and to know how many rows hold a word it
//! reads that word's entire list of rows once per query. For a word in
//! 830,000 of 1,000,000 posts that alone took 16 ms of an 18 ms search,
//! while finding the newest 1,000 matches took 0.6 ms (docs/PERFORMANCE.md).
//! This is the same formula with every word weighing the same: a search
//! only offers posts that hold every word it was given, so what is lost is
//! only the nudge a rare word's repetitions got over a common one's.
//!
//! SQLite's C API for this has no safe Rust wrapper in the crates we use
//! (rusqlite's `functions` do not reach FTS5's auxiliary functions), hence
//! the few `unsafe` calls here, each against the documented signature.

use std::ffi::{c_int, c_void};

use libsqlite3_sys as ffi;

/// The name SQL calls it by.
pub const NAME: &std::ffi::CStr = c"portfolio_rank";

/// BM25's usual constants, as FTS5's own `bm25()` has them: how soon more
/// hits of a word stop adding much (k1), how much a long post is
/// discounted (b).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The score of one row, from what FTS5 knows of that row alone: the hits of
/// each phrase (each weighed by its column's weight, the function's
/// arguments in column order; 1.0 where none is given), the row's length
/// in tokens, and the average length (kept by FTS5 as a running total).
fn score(hits: &[(usize, usize)], weights: &[f64], phrases: usize, tokens: f64, avg: f64) -> f64 {
    let mut frequency = vec![0.0; phrases];
    for &(phrase, column) in hits {
        if let Some(f) = frequency.get_mut(phrase) {
            *f += weights.get(column).copied().unwrap_or(1.0);
        }
    }
    let length = 1.0 - B + B * tokens / avg.max(1.0);
    frequency
        .iter()
        .map(|f| f * (K1 + 1.0) / (f + K1 * length))
        .sum()
}

/// What FTS5 calls for each row: gathers the row's figures through `api`.
unsafe extern "C" fn rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_values: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes a valid API table and context for this call, and
    // `values` holds `n_values` arguments.
    let result = unsafe { figures(&*api, fts, n_values, values) };
    // SAFETY: `ctx` is this call's result context.
    unsafe {
        match result {
            Ok(score) => ffi::sqlite3_result_double(ctx, score),
            Err(code) => ffi::sqlite3_result_error_code(ctx, code),
        }
    }
}

/// # Safety
/// `api` and `fts` as FTS5 hands them to an auxiliary function, `values`
/// an array of `n_values` SQL values.
unsafe fn figures(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_values: c_int,
    values: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    fn ok(code: c_int) -> Result<(), c_int> {
        if code == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(code)
        }
    }
    let missing = ffi::SQLITE_MISUSE;
    let (Some(phrase_count), Some(inst_count), Some(inst), Some(column_size)) =
        (api.xPhraseCount, api.xInstCount, api.xInst, api.xColumnSize)
    else {
        return Err(missing);
    };
    let (Some(row_count), Some(total_size)) = (api.xRowCount, api.xColumnTotalSize) else {
        return Err(missing);
    };
    // SAFETY (for the calls below): each is an FTS5 API function called with
    // this call's context and pointers to locals of the documented types.
    unsafe {
        let weights: Vec<f64> = (0..n_values.max(0) as usize)
            .map(|i| ffi::sqlite3_value_double(*values.add(i)))
            .collect();
        let phrases = usize::try_from(phrase_count(fts)).unwrap_or(0);
        let mut instances: c_int = 0;
        ok(inst_count(fts, &mut instances))?;
        let mut hits = Vec::with_capacity(usize::try_from(instances).unwrap_or(0));
        for i in 0..instances {
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            ok(inst(fts, i, &mut phrase, &mut column, &mut offset))?;
            hits.push((phrase as usize, column as usize));
        }
        let mut tokens: c_int = 0;
        ok(column_size(fts, -1, &mut tokens))?;
        let (mut rows, mut all_tokens): (ffi::sqlite3_int64, ffi::sqlite3_int64) = (0, 0);
        ok(row_count(fts, &mut rows))?;
        ok(total_size(fts, -1, &mut all_tokens))?;
        let avg = if rows > 0 {
            all_tokens as f64 / rows as f64
        } else {
            1.0
        };
        Ok(score(&hits, &weights, phrases, f64::from(tokens), avg))
    }
}

/// Adds the function to the connection `db` (on every connection we open,
/// with the time budget's progress handler: see `sqlite::on_open`).
///
/// # Safety
/// `db` must be an open connection, used by no other thread meanwhile.
pub(super) unsafe fn register(db: *mut ffi::sqlite3) -> c_int {
    // FTS5 hands out its API through `SELECT fts5(?1)` with a pointer bound
    // to ?1 (https://sqlite.org/fts5.html#extending_fts5).
    let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
    let mut statement: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is open; `statement` and `api` outlive their use here,
    // and the statement is finalized before `api` is read.
    unsafe {
        let code = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut statement,
            std::ptr::null_mut(),
        );
        if code != ffi::SQLITE_OK {
            return code;
        }
        ffi::sqlite3_bind_pointer(
            statement,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(statement);
        ffi::sqlite3_finalize(statement);
        if api.is_null() {
            return ffi::SQLITE_ERROR;
        }
        match (*api).xCreateFunction {
            Some(create) => create(api, NAME.as_ptr(), std::ptr::null_mut(), Some(rank), None),
            None => ffi::SQLITE_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn more_hits_and_title_hits_score_higher_and_long_posts_lower() {
        let weights = [10.0, 1.0];
        let once = score(&[(0, 1)], &weights, 1, 100.0, 100.0);
        let twice = score(&[(0, 1), (0, 1)], &weights, 1, 100.0, 100.0);
        let in_title = score(&[(0, 0)], &weights, 1, 100.0, 100.0);
        let once_in_long = score(&[(0, 1)], &weights, 1, 1000.0, 100.0);
        assert!(twice > once, "{twice} > {once}");
        assert!(in_title > twice, "{in_title} > {twice}");
        assert!(once_in_long < once, "{once_in_long} < {once}");
        // Each phrase adds its own part, and none is worth more than k1 + 1.
        let two_words = score(&[(0, 1), (1, 1)], &weights, 2, 100.0, 100.0);
        assert!((two_words - 2.0 * once).abs() < 1e-9);
        assert!(score(&[(0, 0); 50], &weights, 1, 100.0, 100.0) < 2.2);
        // An empty table or a phrase number out of range cannot panic.
        assert_eq!(score(&[(3, 0)], &weights, 1, 0.0, 0.0), 0.0);
    }
}
