//! Memory this process may still use, and the refusal of work that would not fit
//! ([`Error::Limits`]) before an allocation fails half-way. Used by image decoding and by the
//! pipeline's estimates (`pipeline::budget`).

use crate::error::{Error, Result};

/// Bytes the process may still allocate: the smaller of what its address-space limit
/// (`ulimit -v`, `RLIMIT_AS`) leaves and the memory the system has available. `None` when
/// neither is known.
pub fn available() -> Option<u64> {
    #[cfg(target_os = "linux")]
    let best = linux_available();
    #[cfg(not(target_os = "linux"))]
    let best: Option<u64> = None;
    // Blocks the allocator keeps for reuse are this process's, but free for the next request.
    best.map(|b| b.saturating_add(crate::allocator::kept_bytes()))
}

/// [`available`] on Linux, before the allocator's kept blocks.
#[cfg(target_os = "linux")]
fn linux_available() -> Option<u64> {
    let mut best: Option<u64> = None;
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } == 0 && lim.rlim_cur != libc::RLIM_INFINITY {
        let used = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |pages| pages * page_size());
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every target
        let cur = lim.rlim_cur as u64;
        best = Some(cur.saturating_sub(used));
    }
    let avail = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    });
    if let Some(a) = avail {
        best = Some(best.map_or(a, |b| b.min(a)));
    }
    best
}

#[cfg(target_os = "linux")]
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Refuses `what` when `need` bytes exceed what the process may still allocate.
pub fn check(what: &str, need: u64) -> Result<()> {
    match available() {
        Some(avail) if need > avail => Err(Error::Limits {
            what: what.to_string(),
            reason: format!(
                "needs about {} MiB of memory, more than the {} MiB this process may still use; use a smaller image, fewer masks or a smaller tile size",
                need >> 20,
                avail >> 20
            ),
        }),
        _ => Ok(()),
    }
}
