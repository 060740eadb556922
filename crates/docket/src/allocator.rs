//! The binary's memory allocator: mimalloc, kept off transparent huge pages.
//!
//! mimalloc serves the server's many small, short-lived allocations (a request's parsing, a
//! commit's rows) from per-thread pages, where glibc's allocator spent about a fifth of the
//! request threads' time in its own locking and consolidation. It reserves its memory in large
//! aligned regions; on a host whose transparent-huge-page policy is `always`, the kernel backs
//! each touched 2 MiB of them with a huge page, and an idle server held 45 MiB instead of 27.
//! So the server turns huge pages off for itself (mimalloc is built not to ask for them, which
//! covers hosts whose policy is `madvise`). The setting is inherited by every process started
//! after it, so the step supervisor (`docket_process::supervise`) turns it back on: the programs
//! of steps get the host's own policy, as if started by anything else.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process (and its children). A kernel without the
/// setting leaves things as they were, which costs memory, never correctness.
pub(crate) fn keep_off_huge_pages() {
    let _ = nix::sys::prctl::set_thp_disable(true);
}
