//! The process's heap, for the soak (`samizdat relay --heap-log FILE`):
//! a thread writes one CSV line every few seconds with what the allocator
//! holds for the program (glibc's `mallinfo2`: bytes in use, bytes free
//! inside its arenas, bytes in large blocks of their own) beside the
//! kernel's view (`RssAnon`). A heap in use that stays flat while `RssAnon`
//! grows is the allocator keeping freed memory; a heap in use that grows is
//! the program holding it (a leak or a cache).
//!
//! Built with `--features heap-profile`, the allocator is dhat's and
//! `SAMIZDAT_DHAT=FILE` writes its profile (every allocation site, with the
//! bytes still live at the end) when the process exits; the CSV then also
//! has dhat's own count of live bytes.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

#[cfg(feature = "heap-profile")]
#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// The dhat profiler while it runs (its file is written when this drops).
pub struct Profiler {
    #[cfg(feature = "heap-profile")]
    _running: Option<dhat::Profiler>,
}

/// Starts dhat when built with `heap-profile` and `SAMIZDAT_DHAT` names a file.
pub fn profiler() -> Profiler {
    Profiler {
        #[cfg(feature = "heap-profile")]
        _running: std::env::var_os("SAMIZDAT_DHAT")
            .map(|file| dhat::Profiler::builder().file_name(file).build()),
    }
}

/// How often a line is written.
const EVERY: Duration = Duration::from_secs(5);

/// Starts the sampler thread, appending to `path` (a header first).
pub fn start_log(path: &Path) -> anyhow::Result<()> {
    let mut file = std::fs::File::create(path)
        .map_err(|e| anyhow::anyhow!("creating the heap log {}: {e}", path.display()))?;
    writeln!(
        file,
        "secs,malloc_in_use,malloc_free_in_arenas,malloc_own_blocks,rss_anon,dhat_live"
    )?;
    let started = Instant::now();
    std::thread::Builder::new()
        .name("heap-log".into())
        .spawn(move || loop {
            let (in_use, free, own) = malloc_info();
            let rss_anon = (crate::commands::bench::proc_status_mib("RssAnon") * 1048576.0) as u64;
            let line = format!(
                "{},{in_use},{free},{own},{rss_anon},{}",
                started.elapsed().as_secs(),
                dhat_live().map(|b| b.to_string()).unwrap_or_default()
            );
            if writeln!(file, "{line}")
                .and_then(|()| file.flush())
                .is_err()
            {
                return;
            }
            std::thread::sleep(EVERY);
        })?;
    Ok(())
}

/// glibc's counts: (in use, free in arenas, in blocks mapped on their own).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn malloc_info() -> (u64, u64, u64) {
    // SAFETY: mallinfo2 only reads the allocator's statistics and returns
    // them by value.
    let info = unsafe { libc::mallinfo2() };
    (
        (info.uordblks + info.hblkhd) as u64,
        info.fordblks as u64,
        info.hblkhd as u64,
    )
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn malloc_info() -> (u64, u64, u64) {
    (0, 0, 0)
}

#[cfg(feature = "heap-profile")]
fn dhat_live() -> Option<u64> {
    Some(dhat::HeapStats::get().curr_bytes as u64)
}

#[cfg(not(feature = "heap-profile"))]
fn dhat_live() -> Option<u64> {
    None
}
