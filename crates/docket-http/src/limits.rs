//! How many connections this process can hold open: its limit on open files, less a reserve for
//! what else it opens (the database, step processes' pipes, outbound connections).

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Connections the process's open-file limit leaves room for: the soft limit less a quarter of
/// it (at least 16, at most 256) kept for everything else.
pub fn connection_budget() -> usize {
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    budget_for(soft)
}

fn budget_for(soft: u64) -> usize {
    let reserve = (soft / 4).clamp(16, 256);
    usize::try_from(soft.saturating_sub(reserve).max(1)).unwrap_or(usize::MAX)
}

/// Raises the soft limit on open files to the hard limit (as most servers do at start-up) and
/// returns the limit in force.
pub fn raise_fd_limit() -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return 1024 };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return hard;
    }
    soft
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_is_kept_for_everything_else() {
        assert_eq!(budget_for(64), 48);
        assert_eq!(budget_for(256), 192);
        assert_eq!(budget_for(1024), 768);
        assert_eq!(budget_for(65_536), 65_280);
        assert_eq!(budget_for(0), 1);
    }
}
